// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { EVENT_TYPES, type WebhookEvent } from './events.js';
import type { WebhookEndpoint } from './endpoints.js';

/** What travels on the delivery queue: one event for one endpoint, with its body already serialized. */
export const deliveryMessageSchema = z.strictObject({
  v: z.literal(1),
  eventId: z.string().check(z.minLength(1)),
  eventType: z.enum(EVENT_TYPES),
  /** null for operational events (endpoint.disabled, delivery.exhausted): they are about no draft. */
  draftId: z.nullable(z.string().check(z.minLength(1))),
  endpointId: z.string().check(z.minLength(1)),
  body: z.string(),
  test: z.boolean(),
  /** How often an operator redrove it; attempts restart at 1 each time, and older copies are ignored. */
  redrives: z.number().check(z.int(), z.minimum(0)),
  /**
   * Which queue and worker it belongs to: "channel" (Slack, email) goes to the notifications queue,
   * so the webhook worker bundles no SES or notification code; absent: a webhook endpoint's. Copies
   * from before the split lack it: a worker that finds the other kind of target forwards the message.
   */
  target: z.optional(z.literal('channel')),
});
export type DeliveryMessage = z.output<typeof deliveryMessageSchema>;

/** The message of one event for one endpoint or channel (a bare id: a webhook endpoint's). */
export const deliveryMessage = (event: WebhookEvent, endpoint: string | Pick<WebhookEndpoint, 'id' | 'channel'>): DeliveryMessage => ({
  v: 1,
  eventId: event.id,
  eventType: event.type,
  draftId: event.draftId,
  endpointId: typeof endpoint === 'string' ? endpoint : endpoint.id,
  body: event.body,
  test: event.test,
  redrives: 0,
  ...(typeof endpoint !== 'string' && targetOf(endpoint) === 'channel' ? { target: 'channel' as const } : {}),
});

/** Which worker delivers to an endpoint: deliverWebhooks ('endpoint') or deliverNotifications ('channel'). */
export type DeliveryTarget = 'endpoint' | 'channel';

/** The channel kinds deliverNotifications sends; typed so that a kind added to WebhookEndpoint must be listed here. */
const DELIVERED_CHANNEL_KINDS: Record<NonNullable<WebhookEndpoint['channel']>, true> = { slack: true, email: true };

/**
 * The worker an endpoint's deliveries belong to, or undefined when no worker sends its kind (a
 * channel kind added and rolled back, a hand-edited item): such a delivery is dead, never forwarded,
 * or the workers would pass it between (or back onto) their queues forever. The one rule both
 * workers and the queues' addressing use.
 */
export const targetOf = (endpoint: Pick<WebhookEndpoint, 'channel'>): DeliveryTarget | undefined => {
  // Read as stored, not as typed: the item may hold a kind this code does not know.
  const channel: unknown = endpoint.channel;
  if (channel === undefined || channel === null) return 'endpoint';
  return typeof channel === 'string' && Object.hasOwn(DELIVERED_CHANNEL_KINDS, channel) ? 'channel' : undefined;
};

/** The queue a message goes to: a channel's to the notifications queue, the rest to the deliveries queue. */
export const queueTargetOf = (message: Pick<DeliveryMessage, 'target'>): DeliveryTarget => (message.target === 'channel' ? 'channel' : 'endpoint');
/** Whether the message goes to the notifications queue (a channel's) rather than the deliveries queue. */
export const isChannelMessage = (message: Pick<DeliveryMessage, 'target'>): boolean => queueTargetOf(message) === 'channel';
/** The message addressed to the queue of the worker that delivers to `target`. */
export const addressedTo = (message: DeliveryMessage, target: DeliveryTarget): DeliveryMessage => {
  const { target: _target, ...rest } = message;
  return target === 'channel' ? { ...rest, target: 'channel' } : rest;
};

export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  try {
    const result = deliveryMessageSchema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** The queue port: fan-out, test events and redrive all enqueue through it. */
export interface DeliveryQueue {
  /** Sends every message or throws; partial failures are retried inside. */
  send(messages: DeliveryMessage[]): Promise<void>;
}

/** A received message that failed and should come back after `delaySeconds` (its backoff). */
export interface RetryLater {
  receiptHandle: string;
  delaySeconds: number;
}

/** The consumer's side of the delivery queue. */
export interface RetryQueue {
  /**
   * Hides each message for its delay. Never throws: returns the receipt handles it could not
   * change after retrying, which then come back after the queue's visibility timeout instead.
   */
  retryLater(messages: RetryLater[]): Promise<string[]>;
}

export interface DeadLetter {
  message: DeliveryMessage | undefined;
  receiptHandle: string;
  /**
   * The raw body, so the DLQ sweep can recognise what is not a delivery message: SQS dead-letters
   * operator notices from the shared notifications queue too. Absent: the adapter does not keep it.
   */
  body?: string;
}

/**
 * The DLQ port. The delivery function sends a message here itself when its attempts run out; the
 * copy is an alarm signal, while redrive works from the delivery states (see redrive.ts).
 */
export interface DeadLetterQueue {
  send(letters: Array<{ message: DeliveryMessage; reason: string }>): Promise<void>;
  /** Receives up to 10 messages and hides them from other readers for a while. */
  receive(): Promise<DeadLetter[]>;
  delete(receiptHandles: string[]): Promise<void>;
  /** Makes messages visible again at once. */
  release(receiptHandles: string[]): Promise<void>;
}
