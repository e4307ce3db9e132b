import { createHash } from 'node:crypto';
import { deliveryMessage, type DeliveryMessage, type DeliveryQueue } from './delivery-message.js';
import { queuedState, type DeliveryStateStore } from './delivery-state.js';
import type { DisabledReason, WebhookEndpoint } from './endpoints.js';
import { subscribes } from './subscriptions.js';
import { isOperationalEvent, type EventType, type OperationalEventType, type WebhookEvent } from './events.js';

/**
 * Operational events: what the delivery system itself did, for operators and for receivers that
 * opt in. Each goes to the operator (the alarm topic on AWS; the log and an outbox file locally)
 * and, as a signed webhook retried like any other, to every endpoint subscribed to its type.
 */
export interface EndpointDisabledPayload {
  event: 'endpoint.disabled';
  endpoint: { id: string; url: string; disabledReason: Exclude<DisabledReason, 'manual'>; disabledAt: string };
  timestamp: string;
}
export interface DeliveryExhaustedPayload {
  event: 'delivery.exhausted';
  delivery: {
    endpointId: string;
    eventId: string;
    eventType: EventType;
    /** null when the dead delivery was itself of an event without a draft. */
    draftId: string | null;
    attempts: number;
    lastError: string | null;
    diedAt: string;
  };
  timestamp: string;
}
export type OperationalPayload = EndpointDisabledPayload | DeliveryExhaustedPayload;

/** Derived from what happened, never random: a handler that runs again builds the same id, and the conditional create of each delivery state refuses the copy. */
const operationalEventId = (type: OperationalEventType, ...parts: Array<string | number>): string =>
  `msg_${createHash('sha256')
    .update([type, ...parts].join(':'))
    .digest('base64url')
    .slice(0, 27)}`;

const event = (type: OperationalEventType, id: string, payload: OperationalPayload): WebhookEvent => ({
  id,
  type,
  draftId: null,
  body: JSON.stringify(payload),
  test: false,
});

/**
 * endpoint.disabled, for an endpoint Processa disabled itself (its receiver answered 410 Gone, or
 * every attempt failed for autoDisableDays). An admin's own disable (PATCH enabled false, the
 * settings page) sends none: the admin knows, and the event exists to tell people who do not.
 * One disable is one event: its id comes from the endpoint and the disable's time.
 */
export function endpointDisabledEvent(endpoint: Pick<WebhookEndpoint, 'id' | 'url' | 'disabledReason' | 'disabledAt'>): WebhookEvent {
  const { disabledReason, disabledAt } = endpoint;
  if (!disabledAt || (disabledReason !== 'gone' && disabledReason !== 'failing')) {
    throw new Error(`endpoint ${endpoint.id} was not disabled by Processa (disabledReason ${disabledReason ?? 'none'})`);
  }
  const payload: EndpointDisabledPayload = {
    event: 'endpoint.disabled',
    endpoint: { id: endpoint.id, url: endpoint.url, disabledReason, disabledAt },
    timestamp: disabledAt,
  };
  return event('endpoint.disabled', operationalEventId('endpoint.disabled', endpoint.id, disabledAt), payload);
}

export interface DeadDelivery {
  message: DeliveryMessage;
  attempts: number;
  lastError: string | null;
  diedAt: string;
}

/**
 * delivery.exhausted, for a delivery that died with its attempts spent (or that SQS gave up on).
 * One death is one event: its id comes from the delivery and its generation (each redrive is a
 * new generation, so a redriven delivery that dies again is announced again).
 */
export function deliveryExhaustedEvent(dead: DeadDelivery): WebhookEvent {
  const { message } = dead;
  const payload: DeliveryExhaustedPayload = {
    event: 'delivery.exhausted',
    delivery: {
      endpointId: message.endpointId,
      eventId: message.eventId,
      eventType: message.eventType,
      draftId: message.draftId,
      attempts: dead.attempts,
      lastError: dead.lastError,
      diedAt: dead.diedAt,
    },
    timestamp: dead.diedAt,
  };
  return event('delivery.exhausted', operationalEventId('delivery.exhausted', message.endpointId, message.eventId, message.redrives), payload);
}

/**
 * The no-cascade rule. A dead delivery of an operational event is announced to the operator
 * only: sending it to subscribers as another delivery.exhausted could die in turn and announce
 * itself again, for ever, whenever the subscribers are the ones failing.
 */
export const announcesToSubscribers = (dead: Pick<DeliveryMessage, 'eventType'>): boolean => !isOperationalEvent(dead.eventType);

/** The operator's channel: the alarm SNS topic on AWS (so alarmEmail hears), the log and an outbox file locally. */
export interface OperatorNotifier {
  notify(notice: OperatorNotice): Promise<void>;
}
export interface OperatorNotice {
  /** One line, for an email subject. */
  subject: string;
  /** The event's body, as subscribed endpoints receive it. */
  event: WebhookEvent;
}

export function operatorNotice(event: WebhookEvent): OperatorNotice {
  const payload = JSON.parse(event.body) as OperationalPayload;
  const subject =
    payload.event === 'endpoint.disabled'
      ? `webhook endpoint ${payload.endpoint.id} disabled (${payload.endpoint.disabledReason})`
      : `webhook delivery of ${payload.delivery.eventType} to ${payload.delivery.endpointId} died after ${payload.delivery.attempts} attempt${payload.delivery.attempts === 1 ? '' : 's'}`;
  return { subject, event };
}

export interface OperationalEventDeps {
  /** Every endpoint, as the fan-out reads them. */
  endpoints: () => Promise<WebhookEndpoint[]>;
  queue: DeliveryQueue;
  states: DeliveryStateStore;
  notifier: OperatorNotifier;
  now?: () => Date;
}

export interface EmitResult {
  /** Subscribed endpoints it was queued for. */
  queued: DeliveryMessage[];
  notified: boolean;
  /** What went wrong, for the caller to log and count; emit never throws. */
  errors: Array<{ to: 'operator' | 'subscribers'; error: unknown }>;
}

/**
 * Sends an operational event to the operator and, unless `subscribers` is false, to each
 * subscribed endpoint but `exclude` (the endpoint the event is about: a disabled endpoint never
 * hears of its own disabling). Endpoints get it through the same path as every event: each
 * delivery's state is created (conditionally: an event already queued is left alone) before its
 * message is queued. It never throws: operational events must not fail or slow the deliveries
 * that caused them, so the caller logs and counts what went wrong instead.
 */
export async function emitOperationalEvent(
  event: WebhookEvent,
  deps: OperationalEventDeps,
  options: { exclude?: string; subscribers?: boolean } = {},
): Promise<EmitResult> {
  const now = deps.now ?? (() => new Date());
  const errors: EmitResult['errors'] = [];
  const toOperator = deps.notifier.notify(operatorNotice(event)).then(
    () => true,
    (error: unknown) => {
      errors.push({ to: 'operator', error });
      return false;
    },
  );
  const toSubscribers = async (): Promise<DeliveryMessage[]> => {
    if (options.subscribers === false) return [];
    const recipients = (await deps.endpoints()).filter((e) => e.id !== options.exclude && subscribes(e, event.type));
    if (recipients.length === 0) return [];
    const messages = recipients.map((e) => deliveryMessage(event, e));
    // A refused create means this event was queued for that endpoint already (the handler ran
    // again): only the new ones are queued, so a retry creates no second delivery.
    const created = await Promise.all(messages.map((m) => deps.states.save(queuedState(m, now()), undefined)));
    const fresh = messages.filter((_, i) => created[i]);
    if (fresh.length > 0) await deps.queue.send(fresh);
    return fresh;
  };
  const [notified, queued] = await Promise.all([
    toOperator,
    toSubscribers().catch((error: unknown) => {
      errors.push({ to: 'subscribers', error });
      return [];
    }),
  ]);
  return { queued, notified, errors };
}
