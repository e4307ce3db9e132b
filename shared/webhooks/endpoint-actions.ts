import type { DeliveryQueue } from './delivery-message.js';
import { deliveryMessage } from './delivery-message.js';
import { getEndpoint, type EndpointStore } from './endpoints.js';
import { testEvent, type SendTestEventInput } from './events.js';
import { redriveDeadDeliveries, type DeadDeliveries, type RedriveInput } from './redrive.js';

/**
 * "Test Webhook": a test event through the real queue, signing and log (API and settings page).
 * A draft.rejected unless a draft.approved sample is asked for, so the default never executes anything.
 */
export async function sendTestEvent(store: EndpointStore, queue: DeliveryQueue, endpointId: string, input: SendTestEventInput = {}) {
  const endpoint = await getEndpoint(store, endpointId);
  const event = testEvent({ event: input.event });
  await queue.send([deliveryMessage(event, endpoint.id)]);
  return { endpointId: endpoint.id, eventId: event.id, draftId: event.draftId, eventType: event.type };
}

/**
 * Redrive one existing endpoint's dead deliveries (API and settings page); with `since`, only
 * those that died at or after that time (what it missed during an outage). Bounded per call:
 * `complete: false` means call again for the rest.
 */
export async function redriveEndpoint(store: EndpointStore, dead: DeadDeliveries, queue: DeliveryQueue, endpointId: string, input: RedriveInput = {}) {
  const endpoint = await getEndpoint(store, endpointId);
  return { endpointId: endpoint.id, ...(await redriveDeadDeliveries(endpoint.id, dead, queue, { since: input.since })) };
}
