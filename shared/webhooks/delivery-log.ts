import { deliveryLogRetentionDays } from './delivery-policy.js';
import type { DeliveryMessage } from './delivery-message.js';
import type { EventType } from './events.js';

export type DeliveryOutcome = 'succeeded' | 'failed' | 'dead';

/** One attempt to deliver one event to one endpoint. */
export interface DeliveryAttempt {
  endpointId: string;
  eventId: string;
  eventType: EventType;
  /** null for operational events, which are about no draft. */
  draftId: string | null;
  attempt: number;
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  attemptedAt: string;
  /** When a failed attempt will be retried. */
  nextAttemptAt: string | null;
  test: boolean;
}

export interface DeliveryLogStore {
  /** Writes many attempts at once (one batch per SQS batch, not one round-trip per message). */
  record(attempts: DeliveryAttempt[]): Promise<void>;
  list(endpointId: string, limit: number, cursor?: string): Promise<{ items: DeliveryAttempt[]; nextCursor?: string }>;
}

export const ERROR_TEXT_MAX = 500;
export const truncateError = (text: string): string => (text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX - 1)}…` : text);

export const deliveryLogExpiry = (attemptedAt: Date, days = deliveryLogRetentionDays): number => Math.floor(attemptedAt.getTime() / 1000) + days * 24 * 60 * 60;

/** The log's line for a delivery held because its endpoint is disabled (queued before, or decided while, it was). */
export const HELD_FOR_DISABLED = 'not sent: the endpoint is disabled (enable it, then redrive)';

/** The log line of a delivery that died without a POST: no HTTP status, no duration, the reason as its error. */
export const unsentAttempt = (message: DeliveryMessage, attempt: number, at: string, error: string): DeliveryAttempt => ({
  endpointId: message.endpointId,
  eventId: message.eventId,
  eventType: message.eventType,
  draftId: message.draftId,
  attempt,
  outcome: 'dead',
  httpStatus: null,
  durationMs: 0,
  error,
  attemptedAt: at,
  nextAttemptAt: null,
  test: message.test,
});
