import { randomUUID } from 'node:crypto';
import { HELD_FOR_DISABLED, truncateError, unsentAttempt, type DeliveryAttempt } from './delivery-log.js';
import { addressedTo, targetOf, type DeliveryMessage, type DeliveryTarget } from './delivery-message.js';
import { DISABLED_REASON, deadState, versionOf, type DeliveryState, type DeliveryStateStore } from './delivery-state.js';
import { activeSecrets, type WebhookEndpoint } from './endpoints.js';
import { failingTooLong, type HealthRecord } from './endpoint-health.js';
import { delayAfterFailure, isGone, MAX_RETRY_DELAY_SECONDS, retrySchedule } from './retry-policy.js';
import type { DeadDelivery } from './operational-events.js';
import { gate, probeLeaseUntil, spreadDeferral, type BreakerPolicy, type BreakerRecord, type BreakerStore } from './circuit-breaker.js';
import { countFailure, watchForHang } from './circuit-breaker-hangs.js';
import { signedHeaders } from './signing.js';

export interface DeliveryPolicy {
  maxAttempts: number;
  retryBaseSeconds: number;
  maxBackoffSeconds: number;
  timeoutMs: number;
  /** An endpoint whose every attempt failed for this many days is disabled. */
  autoDisableDays: number;
}

/** The outcome of one HTTP POST; posters never throw. */
export interface PostResult {
  status?: number;
  error?: string;
  durationMs: number;
  /** The receiver's Retry-After header on a failure, as sent. */
  retryAfter?: string;
}
export type Poster = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResult>;
/** Sends a notification channel's message (Slack, email): shared/notifications/send.ts. */
export type NotificationSender = (endpoint: WebhookEndpoint, body: string, timeoutMs: number) => Promise<PostResult>;

export type DeliveryAction =
  | { kind: 'delivered'; attempt: DeliveryAttempt }
  | { kind: 'retry'; attempt: DeliveryAttempt; delaySeconds: number }
  /** Last attempt failed: the delivery function moves the message to the DLQ. */
  | { kind: 'dead'; attempt: DeliveryAttempt }
  /** 410 Gone: the receiver retired the endpoint; it is disabled and the delivery is dead. */
  | { kind: 'gone'; attempt: DeliveryAttempt }
  /** The endpoint was deleted: nothing to deliver to, nothing to retry. */
  | { kind: 'dropped' };

export const isSuccess = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;

function failureText(result: PostResult): string {
  if (result.error) return truncateError(result.error);
  if (result.status !== undefined && result.status >= 300 && result.status < 400) return `HTTP ${result.status}: redirects are not followed`;
  return `HTTP ${result.status}`;
}

/** The deps' clock, or the real one. */
const clockOf = (deps: { now?: () => Date }): (() => Date) => deps.now ?? (() => new Date());

/** One attempt of one message: sign with the endpoint's active secrets, POST, decide what happens next. */
export async function attemptDelivery(
  message: DeliveryMessage,
  attemptNumber: number,
  endpoint: WebhookEndpoint | undefined,
  deps: { post: Poster; sendNotification?: NotificationSender; policy: DeliveryPolicy; now?: () => Date; random?: () => number },
): Promise<DeliveryAction> {
  if (!endpoint) return { kind: 'dropped' };
  const now = clockOf(deps);
  const attemptedAt = now();
  // Channels (Slack, email) are endpoints of another kind: the same attempt, retry and log, another sender.
  const result = endpoint.channel
    ? deps.sendNotification
      ? await deps.sendNotification(endpoint, message.body, deps.policy.timeoutMs)
      : { error: 'notification channels are not configured here', durationMs: 0 }
    : await deps.post(
        endpoint.url,
        message.body,
        {
          'content-type': 'application/json',
          'user-agent': 'Processa-Webhooks/1.0',
          ...signedHeaders(message.eventId, message.body, activeSecrets(endpoint, attemptedAt), attemptedAt),
        },
        deps.policy.timeoutMs,
      );
  const base: DeliveryAttempt = {
    endpointId: endpoint.id,
    eventId: message.eventId,
    eventType: message.eventType,
    draftId: message.draftId,
    attempt: attemptNumber,
    outcome: 'succeeded',
    httpStatus: result.status ?? null,
    durationMs: Math.round(result.durationMs),
    error: null,
    attemptedAt: attemptedAt.toISOString(),
    nextAttemptAt: null,
    test: message.test,
  };
  if (isSuccess(result.status)) return { kind: 'delivered', attempt: base };
  const error = failureText(result);
  if (isGone(result.status)) return { kind: 'gone', attempt: { ...base, outcome: 'dead', error } };
  // The endpoint's own retry setting, or the stack's default (the doc's 1 + 3 retries).
  const schedule = retrySchedule(endpoint.retry, {
    attempts: deps.policy.maxAttempts,
    baseSeconds: deps.policy.retryBaseSeconds,
    maxSeconds: Math.min(deps.policy.maxBackoffSeconds, MAX_RETRY_DELAY_SECONDS),
  });
  if (attemptNumber >= schedule.attempts) return { kind: 'dead', attempt: { ...base, outcome: 'dead', error } };
  // A 429/503 with Retry-After waits at least that long (within the cap).
  const delaySeconds = delayAfterFailure(schedule, attemptNumber, result, attemptedAt, deps.random);
  return {
    kind: 'retry',
    delaySeconds,
    attempt: { ...base, outcome: 'failed', error, nextAttemptAt: new Date(attemptedAt.getTime() + delaySeconds * 1000).toISOString() },
  };
}

/** What the delivery function does with one received message. */
export type DeliveryStep =
  /** The endpoint was deleted: acknowledged, nothing posted. */
  | { kind: 'dropped' }
  /** A copy that is already settled (delivered, or superseded by a redrive): acknowledged, nothing posted. */
  | { kind: 'skipped'; reason: 'delivered' | 'stale' }
  | { kind: 'delivered'; attempt: DeliveryAttempt }
  /** Failed with attempts left: hide the message for `delaySeconds`, report it failed. */
  | { kind: 'retry'; attempt: DeliveryAttempt; delaySeconds: number }
  /**
   * Dead: send the message to the DLQ, then acknowledge it. `attempt` is null when the state
   * already said dead (a repeat, e.g. after a failed DLQ send), so nothing is logged twice.
   * `exhausted`: its attempts ran out (or SQS's receive backstop was reached), to announce as
   * delivery.exhausted; absent when the endpoint was disabled instead (endpoint.disabled says it) and on repeats.
   */
  | { kind: 'dead'; attempt: DeliveryAttempt | null; reason: string; exhausted?: DeadDelivery }
  /** Another copy of the message recorded this attempt first: the POST is logged, the copy acknowledged. */
  | { kind: 'superseded'; attempt: DeliveryAttempt }
  /**
   * A copy received well before its next attempt is due (SQS delivers at least once: a duplicate of
   * a message whose attempt was just recorded): nothing posted, no attempt spent; hide it until due.
   */
  | { kind: 'not-due'; delaySeconds: number }
  /**
   * The endpoint is disabled: nothing is posted; the delivery is kept as dead (reason "endpoint
   * disabled") so a redrive after re-enabling sends it, but it is not dead-lettered: an admin chose this.
   */
  | { kind: 'held'; attempt: DeliveryAttempt }
  /**
   * The endpoint's circuit breaker is open (or another delivery holds its probe): nothing posted, no
   * attempt spent; hide the message for `delaySeconds`. `requeue`: it was received so often that SQS
   * would soon dead-letter it for that alone, so a fresh copy is queued and this one acknowledged.
   */
  | { kind: 'deferred'; delaySeconds: number; requeue: boolean }
  /**
   * The message is for the other worker's kind of target (a channel's on the deliveries queue, as
   * queued before the split, or the reverse): nothing posted, no attempt spent; `forward` goes to
   * its own queue and this copy is acknowledged.
   */
  | { kind: 'misrouted'; forward: DeliveryMessage };

export interface DeliveryDeps {
  post: Poster;
  /** Slack and email channels' sender; without it their deliveries fail (and are retried, logged, dead-lettered). */
  sendNotification?: NotificationSender;
  policy: DeliveryPolicy;
  states: DeliveryStateStore;
  endpointFor: (id: string) => Promise<WebhookEndpoint | undefined>;
  /** The queue's maxReceiveCount: on the receive before it, a failure is final (dead) rather than left to SQS. */
  backstopReceives: number;
  /** Disables the endpoint: its receiver answered 410 Gone, or every attempt failed for too long (and announces it, when this call disabled it). */
  disableEndpoint: (endpointId: string, reason: 'gone' | 'failing') => Promise<void>;
  /**
   * Hands on the attempt's log entry once it is final, before the delivery's state is written (so
   * the log write can overlap that write); a delivery held for a disabled endpoint, after it.
   */
  recordAttempt?: (attempt: DeliveryAttempt) => void;
  /** Counts the attempt in the endpoint's health; undefined when that could not be recorded (never fails the delivery). */
  recordHealth: (endpointId: string, outcome: { succeeded: boolean; at: Date; error: string | null }) => Promise<HealthRecord | undefined>;
  now?: () => Date;
  random?: () => number;
  /** The endpoints this worker delivers to (targetOf: webhooks, or channels); absent: any it can send. */
  target?: DeliveryTarget;
  /** The per-endpoint circuit breaker; absent: every delivery is posted. */
  breaker?: { store: BreakerStore; policy: BreakerPolicy; onError?: (error: unknown) => void };
}

/** How early a retry may come back and still be taken (clock and visibility-timer granularity). */
export const NOT_DUE_TOLERANCE_MS = 250;

/**
 * One received message, counted by its own delivery state rather than by SQS's receive count: a
 * receive lost to throttling or a timeout before the POST costs no attempt, so there are exactly
 * `maxAttempts` real POSTs. The count is written after the POST, conditionally on the state read
 * before it, so two copies of one message never both take the same attempt number silently.
 */
export async function deliverMessage(message: DeliveryMessage, receiveCount: number, deps: DeliveryDeps): Promise<DeliveryStep> {
  const stored = await deps.states.get(message.endpointId, message.eventId);
  // A copy from before a redrive (e.g. its DLQ copy sent back by hand): the redriven one is in charge.
  if (stored && message.redrives < stored.generation) return { kind: 'skipped', reason: 'stale' };
  const current = stored?.generation === message.redrives ? stored : undefined;
  if (current?.status === 'delivered') return { kind: 'skipped', reason: 'delivered' };
  if (current?.status === 'dead') return { kind: 'dead', attempt: null, reason: current.deadReason ?? 'dead' };
  // A retry comes back only when due (its visibility is set after its state is written), so a copy
  // here well before then is a duplicate: taking the next attempt now would spend a retry early.
  const dueInMs = current?.status === 'waiting' && current.nextAttemptAt ? Date.parse(current.nextAttemptAt) - clockOf(deps)().getTime() : 0;
  if (dueInMs > NOT_DUE_TOLERANCE_MS) return { kind: 'not-due', delaySeconds: Math.ceil(dueInMs / 1000) };

  const endpoint = await deps.endpointFor(message.endpointId);
  if (!endpoint) return { kind: 'dropped' };
  const target = targetOf(endpoint);
  if (deps.target && target !== deps.target) {
    if (target) return { kind: 'misrouted', forward: addressedTo(message, target) };
    return deadForUnknownKind(message, stored, current, endpoint, deps);
  }
  if (!endpoint.enabled) return holdForDisabledEndpoint(message, stored, current, deps);
  const admitted = await admit(endpoint.id, deps);
  if (admitted.kind === 'defer') {
    return { kind: 'deferred', delaySeconds: admitted.delaySeconds, requeue: receiveCount >= deps.backstopReceives - 2 };
  }
  const attemptNumber = (current?.attempts ?? 0) + 1;
  // An attempt left unanswered for hangAfterMs counts toward the breaker then, so a hanging receiver trips it early.
  const hang = deps.breaker ? watchForHang(endpoint.id, deps.breaker, clockOf(deps)) : undefined;
  let attempted: DeliveryAction;
  let hung = false;
  try {
    attempted = await attemptDelivery(message, attemptNumber, endpoint, deps);
  } finally {
    hung = (await hang?.stop()) ?? false;
  }
  if (attempted.kind === 'dropped') return attempted;
  const attemptedAt = new Date(attempted.attempt.attemptedAt);
  const bookkeeping = Promise.all([
    deps.recordHealth(endpoint.id, { succeeded: attempted.kind === 'delivered', at: attemptedAt, error: attempted.attempt.error }),
    countForBreaker(endpoint.id, attempted.kind === 'delivered', { seen: admitted.seen, hung }, deps),
  ]);
  // Awaited below (with the state write); an error there must not also surface as unhandled.
  bookkeeping.catch(() => undefined);
  // A failure waits for its health (it may disable the endpoint); a success's state is written
  // meanwhile, and the bookkeeping is awaited before returning.
  const health = attempted.kind === 'delivered' ? undefined : (await bookkeeping)[0];
  const failedForDays = attempted.kind !== 'delivered' && health !== undefined && failingTooLong(health, attemptedAt, deps.policy.autoDisableDays);
  const dead = (reason: string, attempt: DeliveryAttempt) => ({
    kind: 'dead' as const,
    attempt: { ...attempt, outcome: 'dead' as const, nextAttemptAt: null, error: truncateError(`${attempt.error}; dead: ${reason}`) },
  });
  let deadReason: string | null = null;
  let exhausted = false;
  let action: Exclude<DeliveryAction, { kind: 'gone' } | { kind: 'dropped' }>;
  // When a delivery that disabled its endpoint died: after the disable, so a redrive `since` the
  // endpoint's disabledAt (what the alarm and the endpoint.disabled notice offer) includes it.
  let diedOnDisable: string | undefined;
  if (attempted.kind === 'gone') {
    // Disabled before the state is written: the endpoint's other queued deliveries are then held, not posted.
    await deps.disableEndpoint(endpoint.id, 'gone');
    diedOnDisable = clockOf(deps)().toISOString();
    deadReason = GONE_REASON;
    action = { kind: 'dead', attempt: attempted.attempt };
  } else if (failedForDays) {
    // Every attempt failed for days: disabled the same way; its other deliveries are held for a redrive.
    await deps.disableEndpoint(endpoint.id, 'failing');
    diedOnDisable = clockOf(deps)().toISOString();
    deadReason = failingReason(deps.policy.autoDisableDays);
    action = dead(deadReason, attempted.attempt);
  } else if (attempted.kind === 'dead') {
    deadReason = `all ${attemptNumber} attempts failed`;
    exhausted = true;
    action = attempted;
  } else if (attempted.kind === 'retry' && receiveCount >= deps.backstopReceives - 1) {
    // SQS would dead-letter it on the next receive without a word: do it here, logged, with the reason.
    deadReason = `the queue received it ${receiveCount} times (limit ${deps.backstopReceives}) in ${attemptNumber} attempts`;
    exhausted = true;
    action = dead(deadReason, attempted.attempt);
  } else {
    action = attempted;
  }

  const attempt = action.attempt;
  const next: DeliveryState = {
    endpointId: message.endpointId,
    eventId: message.eventId,
    generation: message.redrives,
    attempts: attemptNumber,
    status: action.kind === 'delivered' ? 'delivered' : action.kind === 'dead' ? 'dead' : 'waiting',
    message,
    updatedAt: attempt.attemptedAt,
    nextAttemptAt: action.kind === 'retry' ? attempt.nextAttemptAt : null,
    diedAt: action.kind === 'dead' ? (diedOnDisable ?? attempt.attemptedAt) : null,
    deadReason,
    writeId: randomUUID(),
  };
  // The POST happened whatever the write below says: its log entry goes now.
  deps.recordAttempt?.(attempt);
  const [saved] = await Promise.all([saveOverRead(deps.states, next, stored), bookkeeping]);
  if (!saved) return { kind: 'superseded', attempt };
  switch (action.kind) {
    case 'delivered':
      return { kind: 'delivered', attempt };
    case 'retry':
      return { kind: 'retry', attempt, delaySeconds: action.delaySeconds };
    case 'dead':
      // Announced only by the copy whose write recorded the death (a superseded copy returned above).
      return {
        kind: 'dead',
        attempt,
        reason: deadReason!,
        ...(exhausted ? { exhausted: { message, attempts: attemptNumber, lastError: attempted.attempt.error, diedAt: attempt.attemptedAt } } : {}),
      };
  }
}

/**
 * Writes the state over the one read before the attempt. A refusal is not always another copy's win:
 * - the store may have committed our own write, lost the answer, and the SDK's retry then found the
 *   item changed (by us): the state then says exactly what we wrote (its writeId);
 * - a redrive queues a new generation first and marks it waiting (0 attempts) just after, so its
 *   copy can be taken, and attempted, in between: that mark is the queuer's, not another attempt's,
 *   and is written over (conditionally on it). Acknowledging the copy instead would strand the
 *   delivery: waiting, with no message left to make its attempts.
 * Anything else (another copy's attempt) is a lost race: false.
 */
async function saveOverRead(states: DeliveryStateStore, next: DeliveryState, read: DeliveryState | undefined): Promise<boolean> {
  if (await states.save(next, versionOf(read))) return true;
  const stored = await states.get(next.endpointId, next.eventId);
  if (next.writeId !== undefined && stored?.writeId === next.writeId) return true;
  const readBeforeQueued = read === undefined || read.generation < next.generation;
  const queuedMark = stored?.generation === next.generation && stored.attempts === 0 && stored.status === 'waiting';
  return readBeforeQueued && queuedMark && states.save(next, versionOf(stored));
}

export const GONE_REASON = 'the receiver answered 410 Gone: the endpoint was disabled';
export const failingReason = (days: number) => `every attempt failed for ${days} days: the endpoint was disabled`;

/** Disabling an endpoint stops its queued retries too: each is parked as dead, for a redrive once it is enabled again. */
async function holdForDisabledEndpoint(
  message: DeliveryMessage,
  stored: DeliveryState | undefined,
  current: DeliveryState | undefined,
  deps: DeliveryDeps,
): Promise<DeliveryStep> {
  const at = clockOf(deps)().toISOString();
  const attempts = current?.attempts ?? 0;
  const next = deadState(message, attempts, at, DISABLED_REASON);
  const attempt = unsentAttempt(message, attempts + 1, at, HELD_FOR_DISABLED);
  if (!(await saveOverRead(deps.states, next, stored))) return { kind: 'skipped', reason: 'stale' };
  deps.recordAttempt?.(attempt);
  return { kind: 'held', attempt };
}

const unknownKindReason = (channel: unknown) => `no worker delivers to channel kind ${JSON.stringify(channel)}`;

/**
 * An endpoint of a kind no worker sends (targetOf): dead at once, never forwarded (each forward
 * would be a fresh message, with no receive count to stop it). Marked dead like any other, so the
 * DLQ copy raises the alarm and a redrive sends it once the endpoint is mended.
 */
async function deadForUnknownKind(
  message: DeliveryMessage,
  stored: DeliveryState | undefined,
  current: DeliveryState | undefined,
  endpoint: WebhookEndpoint,
  deps: DeliveryDeps,
): Promise<DeliveryStep> {
  const at = clockOf(deps)().toISOString();
  const attempts = current?.attempts ?? 0;
  const reason = unknownKindReason(endpoint.channel);
  if (!(await saveOverRead(deps.states, deadState(message, attempts, at, reason), stored))) return { kind: 'skipped', reason: 'stale' };
  const attempt = unsentAttempt(message, attempts + 1, at, `not sent: ${reason}`);
  deps.recordAttempt?.(attempt);
  return { kind: 'dead', attempt, reason };
}

/**
 * The breaker's gate before a POST. Bookkeeping only: if its store fails, the delivery goes ahead
 * as if the breaker were closed (isolation is lost for a moment, no delivery is). A deferral's
 * delay is spread here (spreadDeferral), so the step's delaySeconds is the delay actually used.
 */
async function admit(
  endpointId: string,
  deps: DeliveryDeps,
): Promise<{ kind: 'post'; seen: BreakerRecord | undefined } | { kind: 'defer'; delaySeconds: number }> {
  const breaker = deps.breaker;
  if (!breaker) return { kind: 'post', seen: undefined };
  const now = clockOf(deps)();
  const defer = (delaySeconds: number) => ({ kind: 'defer' as const, delaySeconds: spreadDeferral(delaySeconds, deps.random) });
  try {
    const seen = await breaker.store.get(endpointId);
    const decision = gate(seen, now);
    if (decision.kind === 'defer') return defer(decision.delaySeconds);
    // Half-open: only the delivery that claims the probe posts; the others wait out its lease.
    if (decision.kind === 'probe' && !(await breaker.store.claimProbe(endpointId, now, probeLeaseUntil(breaker.policy, now)))) {
      return defer(breaker.policy.probeLeaseSeconds);
    }
    return { kind: 'post', seen };
  } catch (error) {
    breaker.onError?.(error);
    return { kind: 'post', seen: undefined };
  }
}

/**
 * Counts the attempt in the breaker, once: a success closes it, the Kth failure in a row (or a
 * failed probe) opens it. An attempt already counted as a hang is not counted again when it fails;
 * when it succeeds after all, that success closes the breaker (one write: the receiver is slow, not
 * down, and a slow endpoint must not stay open for good).
 */
async function countForBreaker(
  endpointId: string,
  succeeded: boolean,
  /** The record the gate saw; whether the attempt was counted early as a hang. */
  admitted: { seen: BreakerRecord | undefined; hung: boolean },
  deps: DeliveryDeps,
): Promise<void> {
  const breaker = deps.breaker;
  if (!breaker) return;
  if (!succeeded) {
    if (!admitted.hung) await countFailure(endpointId, breaker, clockOf(deps)());
    return;
  }
  // Nothing to reset when it was closed with no failures (saves a write per healthy delivery).
  const seen = admitted.seen;
  if (!admitted.hung && !(seen && (seen.consecutiveFailures > 0 || seen.openUntil))) return;
  await breaker.store.recordSuccess(endpointId).catch((error: unknown) => breaker.onError?.(error));
}
