import type { BreakerRecord } from './circuit-breaker.js';
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

/** A redrive's hold on a dead delivery: taken at `at` (ISO), held until `until` (ISO). */
export interface RedriveLease {
  at: string;
  until: string;
}

/** Which delivery a state is: one per (endpoint, event). */
export interface StateKey {
  endpointId: string;
  eventId: string;
}
export const stateId = (key: StateKey): string => `${key.endpointId} ${key.eventId}`;

/** What one batch read brings: states by stateId(), breaker records by endpoint id. */
export interface BatchRead {
  states: Map<string, DeliveryState>;
  breakers: Map<string, BreakerRecord | undefined>;
}

export interface DeliveryStateStore {
  get(endpointId: string, eventId: string): Promise<DeliveryState | undefined>;
  /**
   * Several states in one strongly consistent read, by stateId(); absent ones are missing from the
   * map. Throws when some could not be read. Optional: without it, batches read state by state.
   */
  getMany?(keys: StateKey[]): Promise<Map<string, DeliveryState>>;
  /**
   * getMany, and in the same read those endpoints' circuit-breaker records (the deliveries table
   * keeps both; undefined: no record). Optional: without it, getMany, and breakers on their own.
   */
  readBatch?(keys: StateKey[], breakersOf: string[]): Promise<BatchRead>;
  /**
   * Writes the state only if the stored one is still `expected`; false when another writer came
   * first. `readAbsent`: the caller has just read this state (get/getMany) and found none, so a
   * store may skip what that read already checked.
   */
  save(state: DeliveryState, expected: StateVersion, hint?: { readAbsent?: boolean }): Promise<boolean>;
  /**
   * Claims a dead state for one redrive until `lease.until`: true only for the one caller that finds
   * it still dead at this version and unclaimed (or its claim lapsed at `lease.at`), so redrives
   * running at once never queue the same delivery twice. A redrive that stops between its claim and
   * its queueing leaves the delivery dead, to be redriven once the lease lapses.
   */
  claimRedrive(state: DeliveryState, lease: RedriveLease): Promise<boolean>;
  /** One endpoint's dead deliveries, oldest death first, optionally only those that died at or after `since`. */
  listDead(endpointId: string, options: { since?: string; limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }>;
  /** Deliveries of every endpoint still waiting for an attempt (the local runtime's recovery after a restart). */
  listWaiting(options: { limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }>;
}

/** Several states by stateId(), strongly consistent: in one batch read where the store has one, else one by one. */
export async function readStates(states: DeliveryStateStore, keys: StateKey[]): Promise<Map<string, DeliveryState>> {
  if (states.getMany) return states.getMany(keys);
  const found = await Promise.all(keys.map((k) => states.get(k.endpointId, k.eventId)));
  return new Map(found.flatMap((state) => (state ? [[stateId(state), state] as const] : [])));
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

/** The dead reason of a delivery held because its endpoint is disabled: redrivable once it is enabled again. */
export const DISABLED_REASON = 'endpoint disabled';

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

/**
 * The store as one batch's deliveries see it: each message's first read of its state comes from
 * one read of all the batch's states (and, with `breakersOf`, those endpoints' breaker records),
 * started at once: one round trip, not one per message. Every later read (a second copy of a
 * message, the check after a refused write) and every write goes to the store. Made per
 * invocation, never at module scope, so no read outlives its batch. `breakers` settles undefined
 * when the batch read failed (each breaker is then read on its own).
 */
export function readStatesOncePerBatch(
  store: DeliveryStateStore,
  keys: StateKey[],
  breakersOf: string[] = [],
): { states: DeliveryStateStore; breakers: Promise<Map<string, BreakerRecord | undefined> | undefined> } {
  const unique = [...new Map(keys.map((key) => [stateId(key), key])).values()];
  const batch =
    unique.length === 0
      ? undefined
      : store.readBatch
        ? store.readBatch(unique, breakersOf)
        : store.getMany?.(unique).then((states): BatchRead => ({ states, breakers: new Map() }));
  // Not read as a batch: each message then reads its own (and meets the error there, if it persists).
  const read = batch?.catch(() => undefined);
  const served = new Set<string>();
  const readAbsent = new Set<string>();
  return {
    breakers: read ? read.then((found) => found?.breakers) : Promise.resolve(undefined),
    states: {
      get: async (endpointId, eventId) => {
        const id = stateId({ endpointId, eventId });
        if (read && !served.has(id)) {
          served.add(id);
          const found = await read;
          if (found) {
            const state = found.states.get(id);
            if (!state) readAbsent.add(id);
            return state;
          }
        }
        return store.get(endpointId, eventId);
      },
      save: (state, expected) => store.save(state, expected, !expected && readAbsent.has(stateId(state)) ? { readAbsent: true } : undefined),
      claimRedrive: (state, lease) => store.claimRedrive(state, lease),
      listDead: (endpointId, options) => store.listDead(endpointId, options),
      listWaiting: (options) => store.listWaiting(options),
    },
  };
}
