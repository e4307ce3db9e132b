// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { unsentAttempt, type DeliveryAttempt, type DeliveryLogStore } from './delivery-log.js';
import type { DeadLetterQueue, DeliveryQueue } from './delivery-message.js';
import {
  deadState,
  queuedState,
  readStates,
  readStatesOncePerBatch,
  stateId,
  versionOf,
  type DeliveryState,
  type DeliveryStateStore,
  type RedriveLease,
} from './delivery-state.js';
import type { DeadDelivery, OperatorNotifier } from './operational-events.js';
import { parseOperatorNoticeMessage } from '../notifications/operator-notice-message.js';
import { ServiceUnavailableError } from '../domain/errors.js';

/**
 * Where dead deliveries live. The delivery states are the record (each dead one keeps its message);
 * the DLQ holds copies that raise the alarm.
 */
export interface DeadDeliveries {
  states: DeliveryStateStore;
  dlq: DeadLetterQueue;
  log: DeliveryLogStore;
  /**
   * Announces a delivery the sweep found dead (delivery.exhausted to the operator and subscribers);
   * never throws. Absent where nobody is to be told (the redrive CLI: the operator runs it).
   */
  announce?: (dead: DeadDelivery) => Promise<void>;
  /**
   * Where operator notices found in the DLQ are sent again (the notifications queue, whose worker
   * publishes them). SQS dead-letters a notice there when its worker failed it too often; absent,
   * such a notice stays in the DLQ.
   */
  notices?: OperatorNotifier;
}

/** POST /v1/webhooks/{id}/redrive's optional body: `since` an ISO time, to recover what an endpoint missed since then. */
export const redriveInputSchema = z.strictObject({
  since: z
    .optional(
      z.pipe(
        z.iso.datetime({ offset: true }),
        // Normalised to UTC, the form stored death times compare with.
        z.transform((t: string) => new Date(t).toISOString()),
      ),
    )
    .check(
      z.describe('Only deliveries that died at or after this ISO 8601 time (everything the endpoint missed during an outage). Absent: every dead delivery.'),
    ),
});
export type RedriveInput = z.output<typeof redriveInputSchema>;

/** Dead deliveries re-queued per call at most, so one request stays well inside its timeout; `complete` says if more are left. */
export const REDRIVE_MAX_PER_CALL = 500;
/** DLQ receives per call for tidying its copies (see sweepDeadLetters). */
export const SWEEP_MAX_RECEIVES = 10;

const PAGE = 100;
/**
 * How long a redrive holds the dead deliveries it claimed: far longer than queueing one page and
 * marking it takes, short enough that a redrive that died holding some delays them only briefly.
 */
export const REDRIVE_LEASE_MS = 2 * 60 * 1000;
const leaseFrom = (at: Date): RedriveLease => ({ at: at.toISOString(), until: new Date(at.getTime() + REDRIVE_LEASE_MS).toISOString() });

/**
 * Sends an endpoint's dead deliveries (those that died at or after `since`, when given) back to
 * the delivery queue with fresh attempts. It reads them from the delivery states by endpoint, so
 * it reaches every one of them however many other messages the DLQ holds. Each re-queued copy is
 * a new generation (`redrives` + 1); the older copies, in the DLQ or anywhere else, are ignored
 * by the delivery function from then on, so a DLQ copy never causes a second delivery.
 */
export async function redriveDeadDeliveries(
  endpointId: string,
  dead: DeadDeliveries,
  queue: DeliveryQueue,
  options: { since?: string; now?: () => Date; maxPerCall?: number } = {},
): Promise<{ redriven: number; complete: boolean }> {
  const now = options.now ?? (() => new Date());
  const max = options.maxPerCall ?? REDRIVE_MAX_PER_CALL;
  // First turn messages SQS dead-lettered on its own (the receive backstop) into logged dead deliveries.
  await sweepDeadLetters(dead, now);
  let redriven = 0;
  let cursor: string | undefined;
  do {
    const page = await dead.states.listDead(endpointId, { since: options.since, limit: Math.min(PAGE, max - redriven), cursor });
    cursor = page.cursor;
    // The index is eventually consistent: re-read each one, so a delivery redriven a moment ago is not sent twice.
    const read = await readStates(dead.states, page.items);
    const fresh = page.items.map((k) => read.get(stateId(k))).filter((s): s is DeliveryState => s?.status === 'dead');
    // Claimed before queueing: of redrives running at once (two operators, a retried request),
    // only one queues each delivery; the others leave it to that one.
    const lease = leaseFrom(now());
    const claimed = (await Promise.all(fresh.map(async (s) => ((await dead.states.claimRedrive(s, lease)) ? s : undefined)))).filter(
      (s): s is DeliveryState => s !== undefined,
    );
    if (claimed.length === 0) continue;
    const revived = claimed.map((s) => revive(s, now()));
    // Queued first, then marked waiting: a crash in between leaves a queued new generation, which the
    // delivery function accepts on its own; the other order could lose the delivery.
    try {
      await queue.send(revived.map((r) => r.next.message));
    } catch (error) {
      // Some may be queued already, so their claims stand: a retry before the lease lapses queues nothing twice.
      // Its cause stays on the error for the logs; the caller is told only what to do.
      throw Object.assign(
        new ServiceUnavailableError(
          REDRIVE_LEASE_MS / 1000,
          `Queueing the redriven deliveries failed part-way; those not queued can be redriven again in ${REDRIVE_LEASE_MS / 60_000} minutes`,
        ),
        { cause: error },
      );
    }
    // A lost race means the delivery (or a redrive after this one's lease lapsed) moved it on already: nothing to undo.
    await Promise.all(revived.map((r) => dead.states.save(r.next, r.expected)));
    redriven += revived.length;
  } while (cursor !== undefined && redriven < max);
  return { redriven, complete: cursor === undefined };
}

function revive(state: DeliveryState, at: Date) {
  // A new generation, queued afresh: attempts restart, and older copies are ignored from now on.
  const next = queuedState({ ...state.message, redrives: state.generation + 1 }, at);
  return { next, expected: versionOf(state) };
}

/**
 * A bounded pass over the front of the DLQ:
 * - copies of deliveries that were delivered or redriven since are deleted (they only kept the alarm on);
 * - messages SQS moved there itself after `maxReceiveCount` receives, whose state never said dead,
 *   are marked dead in the state and the log with that reason, so redrive reaches them;
 * - operator notices SQS moved there (their worker failed them that often) are queued again for it and
 *   deleted; one that cannot be queued again stays;
 * - everything else (copies of deliveries still dead, unreadable messages) stays, and keeps the alarm on.
 */
export async function sweepDeadLetters(dead: DeadDeliveries, now: () => Date = () => new Date(), maxReceives = SWEEP_MAX_RECEIVES) {
  let deleted = 0;
  let markedDead = 0;
  let noticesRequeued = 0;
  const keep: string[] = [];
  try {
    for (let i = 0; i < maxReceives; i++) {
      const batch = await dead.dlq.receive();
      if (batch.length === 0) break;
      const settled: string[] = [];
      const logged: DeliveryAttempt[] = [];
      // The batch's delivery states in one read, not one per message.
      const states = readStatesOncePerBatch(
        dead.states,
        batch.flatMap(({ message }) => (message ? [message] : [])),
      ).states;
      await Promise.all(
        batch.map(async ({ message, receiptHandle, body }) => {
          if (!message) {
            const notice = body === undefined ? undefined : parseOperatorNoticeMessage(body);
            if (!notice || !dead.notices) return void keep.push(receiptHandle);
            try {
              // A fresh copy with fresh receives; a duplicate notice is harmless, a lost one is not.
              await dead.notices.notify(notice);
            } catch {
              // Not re-sent: it stays (and the alarm with it) for the next sweep.
              return void keep.push(receiptHandle);
            }
            noticesRequeued++;
            return void settled.push(receiptHandle);
          }
          const state = await states.get(message.endpointId, message.eventId);
          if (state && (state.generation > message.redrives || (state.generation === message.redrives && state.status === 'delivered'))) {
            return void settled.push(receiptHandle);
          }
          keep.push(receiptHandle);
          if (state?.generation === message.redrives && state.status === 'dead') return;
          const at = now().toISOString();
          const reason = 'SQS moved it to the DLQ after its receive limit (the delivery function never finished an attempt there)';
          const attempts = state?.generation === message.redrives ? state.attempts : 0;
          const next = deadState(message, attempts, at, reason);
          if (!(await states.save(next, versionOf(state)))) return;
          markedDead++;
          logged.push(unsentAttempt(message, attempts, at, reason));
          // It died unseen: now that it is recorded dead (by this sweep alone: the write was conditional), it is announced.
          await dead.announce?.({ message, attempts, lastError: reason, diedAt: at });
        }),
      );
      if (settled.length > 0) await dead.dlq.delete(settled);
      deleted += settled.length;
      if (logged.length > 0) await dead.log.record(logged);
    }
  } finally {
    if (keep.length > 0) await dead.dlq.release(keep);
  }
  return { deleted, markedDead, noticesRequeued };
}

/**
 * After the local runtime restarts on persisted data, its in-memory queue is empty: re-queue every
 * delivery whose state says it still has attempts to make. Copies that survived anyway would only
 * be repeats with the same webhook-id and attempt counter.
 */
export async function requeueWaitingDeliveries(states: DeliveryStateStore, queue: DeliveryQueue): Promise<number> {
  let requeued = 0;
  let cursor: string | undefined;
  do {
    const page = await states.listWaiting({ limit: 200, cursor });
    cursor = page.cursor;
    if (page.items.length > 0) await queue.send(page.items.map((s) => s.message));
    requeued += page.items.length;
  } while (cursor !== undefined);
  return requeued;
}
