import type { DeliveryMessage } from './delivery-message.js';

/**
 * waiting: attempts left (in the queue, or due for a retry); delivered: a 2xx came back;
 * dead: the attempts ran out (or the queue's backstop gave up) and it waits for a redrive.
 */
export type DeliveryStatus = 'waiting' | 'delivered' | 'dead';

/**
 * What the delivery knows about itself, one per (endpoint, event). It owns the attempt count,
 * so receives lost to throttling or timeouts never cost an attempt, and it keeps the message of a
 * dead delivery, so redrive never has to dig it out of the DLQ.
 */
export interface DeliveryState {
  endpointId: string;
  eventId: string;
  /** Which redrive this is (the message's `redrives`); attempts restart at 0 with each. */
  generation: number;
  /** Real POST attempts finished in this generation. */
  attempts: number;
  status: DeliveryStatus;
  message: DeliveryMessage;
  updatedAt: string;
  /** When the next attempt is due (waiting after a failure). */
  nextAttemptAt: string | null;
  /** Dead only. */
  diedAt: string | null;
  /** A random token per write, so a writer can recognise its own write after a lost answer. */
  writeId?: string;
  deadReason: string | null;
}

/** The version a conditional write expects to find: what was read, or nothing. */
export type StateVersion = { generation: number; attempts: number } | undefined;

export interface DeliveryStateStore {
  get(endpointId: string, eventId: string): Promise<DeliveryState | undefined>;
  /** Writes the state only if the stored one is still `expected`; false when another writer came first. */
  save(state: DeliveryState, expected: StateVersion): Promise<boolean>;
  /** One endpoint's dead deliveries, oldest death first, optionally only those that died at or after `since`. */
  listDead(endpointId: string, options: { since?: string; limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }>;
  /** Deliveries of every endpoint still waiting for an attempt (the local runtime's recovery after a restart). */
  listWaiting(options: { limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }>;
}

export const versionOf = (state: DeliveryState | undefined): StateVersion => (state ? { generation: state.generation, attempts: state.attempts } : undefined);

/** A delivery that is queued and not attempted yet (fan-out, and each redrive's new generation). */
export const queuedState = (message: DeliveryMessage, at: Date): DeliveryState => ({
  endpointId: message.endpointId,
  eventId: message.eventId,
  generation: message.redrives,
  attempts: 0,
  status: 'waiting',
  message,
  updatedAt: at.toISOString(),
  nextAttemptAt: at.toISOString(),
  diedAt: null,
  deadReason: null,
});

/** A delivery made dead without a POST (its endpoint disabled, or SQS dead-lettered it): redrivable like any dead one. */
export const deadState = (message: DeliveryMessage, attempts: number, at: string, reason: string): DeliveryState => ({
  endpointId: message.endpointId,
  eventId: message.eventId,
  generation: message.redrives,
  attempts,
  status: 'dead',
  message,
  updatedAt: at,
  nextAttemptAt: null,
  diedAt: at,
  deadReason: reason,
});
