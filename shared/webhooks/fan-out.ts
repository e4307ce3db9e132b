import type { Draft } from '../domain/draft.js';
import { messageFor } from '../notifications/channels.js';
import type { EndpointStore } from './endpoints.js';
import { subscribes } from './subscriptions.js';
import { createdEvent, decisionEvent, type WebhookEvent } from './events.js';
import type { DeliveryMessage, DeliveryQueue } from './delivery-message.js';
import { queuedState, type DeliveryStateStore } from './delivery-state.js';

/** The endpoints, read once per batch of decisions rather than once per decision. */
export type EndpointSnapshot = () => Promise<Awaited<ReturnType<EndpointStore['listAll']>>>;

export function endpointSnapshot(store: EndpointStore): EndpointSnapshot {
  let loaded: ReturnType<EndpointStore['listAll']> | undefined;
  return () => (loaded ??= store.listAll());
}

/**
 * One message per subscribed endpoint: each endpoint gets its own copy, retried on its own. Each
 * delivery's state is recorded (waiting) before its message is queued, so no delivery exists only
 * as a queue message: the local runtime re-queues waiting ones after a --persist restart. Event
 * ids are derived from the decision, so a repeated fan-out finds its states already there.
 */
export async function fanOutDecision(
  draft: Draft,
  endpoints: EndpointSnapshot,
  queue: DeliveryQueue,
  states: DeliveryStateStore,
  now: () => Date = () => new Date(),
  /** Where reviewers open drafts, for the links notification channels show; undefined leaves them out. */
  baseUrl: () => string | undefined = () => undefined,
): Promise<DeliveryMessage[]> {
  return fanOutEvent(decisionEvent(draft), draft, baseUrl, endpoints, queue, states, now);
}

/**
 * draft.created for a new pending draft. `baseUrl` (where reviewers open the review page) is asked
 * for only when an endpoint subscribes, so a stack without subscribers never needs it.
 */
export async function fanOutCreated(
  draft: Draft,
  baseUrl: () => string,
  endpoints: EndpointSnapshot,
  queue: DeliveryQueue,
  states: DeliveryStateStore,
  now: () => Date = () => new Date(),
): Promise<DeliveryMessage[]> {
  if (!(await endpoints()).some((e) => subscribes(e, 'draft.created'))) return [];
  return fanOutEvent(createdEvent(draft, baseUrl()), draft, baseUrl, endpoints, queue, states, now);
}

/** One event to every endpoint subscribed to its type: webhooks get the event, channels a notification (if their filter matches). */
async function fanOutEvent(
  event: WebhookEvent,
  draft: Draft,
  baseUrl: () => string | undefined,
  endpoints: EndpointSnapshot,
  queue: DeliveryQueue,
  states: DeliveryStateStore,
  now: () => Date = () => new Date(),
): Promise<DeliveryMessage[]> {
  const messages = (await endpoints()).flatMap((e) => (subscribes(e, event.type) ? (messageFor(e, event, draft, baseUrl) ?? []) : []));
  if (messages.length === 0) return messages;
  // A refused write means the state exists (an earlier fan-out of this decision): it is left as it is.
  await Promise.all(messages.map((m) => states.save(queuedState(m, now()), undefined)));
  await queue.send(messages);
  return messages;
}
