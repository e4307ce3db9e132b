import type { Draft } from '../domain/draft.js';
import { isChannel, messageFor } from '../notifications/channels.js';
import { HELD_FOR_DISABLED, unsentAttempt, type DeliveryLogStore } from './delivery-log.js';
import type { EndpointStore, WebhookEndpoint } from './endpoints.js';
import { subscribes } from './subscriptions.js';
import { createdEvent, decisionEvent, type WebhookEvent } from './events.js';
import type { DeliveryMessage, DeliveryQueue } from './delivery-message.js';
import { DISABLED_REASON, deadState, queuedState, readStates, stateId, type DeliveryStateStore } from './delivery-state.js';

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
  /** Where a delivery held for a disabled endpoint is logged (the endpoint's deliveries list shows it); absent, it is only recorded dead. */
  log?: DeliveryLogStore,
): Promise<DeliveryMessage[]> {
  return fanOutEvent(decisionEvent(draft), draft, baseUrl, endpoints, queue, states, now, log);
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
  log?: DeliveryLogStore,
): Promise<DeliveryMessage[]> {
  if (!(await endpoints()).some((e) => subscribes(e, 'draft.created') || holdsFor(e, 'draft.created'))) return [];
  return fanOutEvent(createdEvent(draft, baseUrl()), draft, baseUrl, endpoints, queue, states, now, log);
}

/**
 * A disabled webhook endpoint subscribed to the event: it is not sent, but held (recorded dead,
 * "endpoint disabled"), so enabling it and redriving (with `since`) sends what it missed, as for
 * the retries that were queued when it was disabled. A channel's notifications are not held: a
 * late "waiting for review" about drafts decided since would only mislead.
 */
const holdsFor = (endpoint: WebhookEndpoint, type: WebhookEvent['type']): boolean =>
  !endpoint.enabled && !isChannel(endpoint) && endpoint.events.includes(type);

/** One event to every endpoint subscribed to its type: webhooks get the event, channels a notification (if their filter matches). */
async function fanOutEvent(
  event: WebhookEvent,
  draft: Draft,
  baseUrl: () => string | undefined,
  endpoints: EndpointSnapshot,
  queue: DeliveryQueue,
  states: DeliveryStateStore,
  now: () => Date = () => new Date(),
  log?: DeliveryLogStore,
): Promise<DeliveryMessage[]> {
  const all = await endpoints();
  await hold(
    all.flatMap((e) => (holdsFor(e, event.type) ? (messageFor(e, event, draft, baseUrl) ?? []) : [])),
    states,
    now,
    log,
  );
  const messages = all.flatMap((e) => (subscribes(e, event.type) ? (messageFor(e, event, draft, baseUrl) ?? []) : []));
  if (messages.length === 0) return messages;
  // A refused write means the state exists (an earlier fan-out of this decision): it is left as it is.
  const created = await Promise.all(messages.map((m) => states.save(queuedState(m, now()), undefined)));
  const again = created.every(Boolean)
    ? new Set<string>()
    : await worthQueueingAgain(
        states,
        messages.filter((_, i) => !created[i]),
      );
  const toQueue = messages.filter((m, i) => created[i] || again.has(stateId(m)));
  if (toQueue.length > 0) await queue.send(toQueue);
  return messages;
}

/**
 * Which deliveries a repeated fan-out queues again. The stream retries a batch from its first failed
 * record on, so decisions that went out are fanned out again. A delivery that was already attempted
 * (waiting for its retry, delivered, dead) or redriven since is not: its copy was received, and a
 * second would be attempted beside its retry. One not attempted yet is: the earlier run may have
 * stopped between recording it and queueing it (then its copy may arrive twice, a duplicate the
 * receiver recognises by its webhook-id).
 */
async function worthQueueingAgain(states: DeliveryStateStore, repeats: DeliveryMessage[]): Promise<Set<string>> {
  const found = await readStates(states, repeats);
  return new Set(
    repeats
      .filter((m) => {
        const state = found.get(stateId(m));
        return state !== undefined && state.generation === 0 && state.attempts === 0 && state.status === 'waiting';
      })
      .map(stateId),
  );
}

/**
 * Records held deliveries dead, once, and logs them. A repeat (the stream retrying the record,
 * perhaps because this log write failed) finds the state there and logs it again at the time the
 * state records: the same log key, so the entry is written once however often it is repeated.
 */
async function hold(messages: DeliveryMessage[], states: DeliveryStateStore, now: () => Date, log: DeliveryLogStore | undefined): Promise<void> {
  if (messages.length === 0) return;
  const at = now().toISOString();
  const created = await Promise.all(messages.map((m) => states.save(deadState(m, 0, at, DISABLED_REASON), undefined)));
  if (!log) return;
  const repeats = messages.filter((_, i) => !created[i]);
  const stored = repeats.length === 0 ? new Map() : await readStates(states, repeats);
  const held = messages.flatMap((m, i) => {
    if (created[i]) return [unsentAttempt(m, 1, at, HELD_FOR_DISABLED)];
    const state = stored.get(stateId(m));
    const stillHeld = state?.status === 'dead' && state.deadReason === DISABLED_REASON && state.generation === 0 && state.attempts === 0 && state.diedAt;
    return stillHeld ? [unsentAttempt(m, 1, state.diedAt!, HELD_FOR_DISABLED)] : [];
  });
  if (held.length > 0) await log.record(held);
}
