import type { DeliveryQueue } from './delivery-message.js';
import { deliveryMessage } from './delivery-message.js';
import { ConflictError } from '../domain/errors.js';
import { getEndpoint, type EndpointStore, type WebhookEndpoint } from './endpoints.js';
import { testEvent, type SendTestEventInput } from './events.js';
import { isChannel } from '../notifications/channels.js';
import { testNotification } from '../notifications/notification.js';
import { redriveDeadDeliveries, type DeadDeliveries, type RedriveInput } from './redrive.js';

/**
 * "Test Webhook": a test event through the real queue, signing and log (API and settings page).
 * A draft.rejected unless a draft.approved sample is asked for, so the default never executes anything.
 */
export async function sendTestEvent(store: EndpointStore, queue: DeliveryQueue, endpointId: string, input: SendTestEventInput = {}) {
  const endpoint = enabled(await getEndpoint(store, endpointId), 'send it a test event');
  const event = testEvent({ event: input.event });
  if (isChannel(endpoint)) {
    // A channel's test is a sample waiting draft, rendered for Slack or email like a real one.
    const body = JSON.stringify(testNotification(event.draftId ?? event.id, new Date(), undefined));
    await queue.send([{ ...deliveryMessage(event, endpoint), eventType: 'draft.created', body }]);
    return { endpointId: endpoint.id, eventId: event.id, draftId: event.draftId, eventType: 'draft.created' as const };
  }
  await queue.send([deliveryMessage(event, endpoint.id)]);
  return { endpointId: endpoint.id, eventId: event.id, draftId: event.draftId, eventType: event.type };
}

/**
 * Redrive one existing endpoint's dead deliveries (API and settings page); with `since`, only
 * those that died at or after that time (what it missed during an outage). Bounded per call:
 * `complete: false` means call again for the rest.
 */
export async function redriveEndpoint(store: EndpointStore, dead: DeadDeliveries, queue: DeliveryQueue, endpointId: string, input: RedriveInput = {}) {
  const endpoint = enabled(await getEndpoint(store, endpointId), 'redrive its deliveries');
  return { endpointId: endpoint.id, ...(await redriveDeadDeliveries(endpoint.id, dead, queue, { since: input.since })) };
}

/** A disabled endpoint receives nothing, so sending it anything is refused rather than quietly parked. */
function enabled(endpoint: WebhookEndpoint, toDo: string): WebhookEndpoint {
  if (!endpoint.enabled)
    throw new ConflictError('endpoint_disabled', `Webhook endpoint ${endpoint.id} is disabled; enable it (PATCH {"enabled": true}) to ${toDo}`, {
      id: endpoint.id,
    });
  return endpoint;
}
