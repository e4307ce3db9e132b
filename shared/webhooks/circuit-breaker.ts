/**
 * A per-endpoint circuit breaker, so one endpoint that hangs or fails cannot slow deliveries to the
 * others: after K consecutive failed attempts it opens, and that endpoint's messages are deferred
 * (hidden until the probe time) without a POST and without costing an attempt. When the cooldown
 * ends it is half-open: one delivery, the probe, is let through (claimed conditionally, so only one
 * at a time); its success closes the breaker, its failure opens it for another cooldown.
 *
 * Pure policy: the store applies each transition as one conditional update (no read-modify-write).
 */
export interface BreakerPolicy {
  /** Consecutive failed attempts that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before a probe is let through. */
  cooldownSeconds: number;
  /** How long a claimed probe keeps others out (its POST's timeout, plus margin); then another may probe. */
  probeLeaseSeconds: number;
  /**
   * An attempt still unanswered after this long counts as a failure there and then, not at its
   * timeout: K hanging POSTs open the breaker within this, so few deliveries (and invocations)
   * are held by a receiver that never answers. Its later answer is not counted again if it
   * failed; a success closes the breaker (one write), since the receiver is slow, not down.
   */
  hangAfterMs: number;
}

export const DEFAULT_BREAKER_FAILURES = 5;
export const DEFAULT_BREAKER_COOLDOWN_SECONDS = 30;

/** The longest an attempt may go unanswered before it counts as a failure (a quarter of the timeout when that is shorter). */
export const MAX_HANG_AFTER_MS = 1000;

export const breakerPolicy = (timeoutMs: number, overrides: Partial<BreakerPolicy> = {}): BreakerPolicy => ({
  failureThreshold: DEFAULT_BREAKER_FAILURES,
  cooldownSeconds: DEFAULT_BREAKER_COOLDOWN_SECONDS,
  probeLeaseSeconds: Math.ceil(timeoutMs / 1000) + 5,
  hangAfterMs: Math.min(MAX_HANG_AFTER_MS, Math.ceil(timeoutMs / 4)),
  ...overrides,
});

/** What the store keeps per endpoint. */
export interface BreakerRecord {
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /** Set while open: until then nothing is posted; after it, half-open. */
  openUntil: string | null;
  /** A claimed probe's lease end (half-open only). */
  probeUntil: string | null;
}

export const CLOSED: BreakerRecord = { consecutiveFailures: 0, openUntil: null, probeUntil: null };

export type BreakerState = 'closed' | 'open' | 'half-open';

export function breakerState(record: BreakerRecord | undefined, now: Date): BreakerState {
  if (!record?.openUntil) return 'closed';
  return Date.parse(record.openUntil) > now.getTime() ? 'open' : 'half-open';
}

/**
 * Before a POST. `post`: closed, go ahead. `probe`: half-open and no probe running, claim it (the
 * claim may still be lost to another delivery, which then defers). `defer`: hide the message for
 * `delaySeconds` (until the cooldown or the running probe's lease ends), at least 1 s.
 */
export type BreakerGate = { kind: 'post' } | { kind: 'probe' } | { kind: 'defer'; delaySeconds: number };

export function gate(record: BreakerRecord | undefined, now: Date): BreakerGate {
  const state = breakerState(record, now);
  if (state === 'closed') return { kind: 'post' };
  const until = (iso: string) => ({ kind: 'defer' as const, delaySeconds: Math.max(1, Math.ceil((Date.parse(iso) - now.getTime()) / 1000)) });
  if (state === 'open') return until(record!.openUntil!);
  if (record!.probeUntil && Date.parse(record!.probeUntil) > now.getTime()) return until(record!.probeUntil);
  return { kind: 'probe' };
}

/**
 * How long a deferred message is hidden: its gate's delay plus up to half that again, at random. An
 * open breaker defers every message of its endpoint to the same moment (the cooldown's end, or the
 * probe's lease end); spread out, that backlog comes back over a while instead of all at once when
 * the breaker half-opens, which would load the store and the queue in a burst that other endpoints'
 * deliveries wait behind. The probe is simply the first to come back.
 */
export const spreadDeferral = (delaySeconds: number, random: () => number = Math.random): number =>
  delaySeconds + Math.floor(Math.min(random(), 0.999) * Math.ceil(delaySeconds / 2));

/** After a failed attempt (the count already includes it): open now, or not. A failed probe always reopens. */
export function opensAfterFailure(record: BreakerRecord, policy: BreakerPolicy, now: Date): boolean {
  return record.consecutiveFailures >= policy.failureThreshold && breakerState(record, now) !== 'open';
}

export const reopenUntil = (policy: BreakerPolicy, now: Date): string => new Date(now.getTime() + policy.cooldownSeconds * 1000).toISOString();
export const probeLeaseUntil = (policy: BreakerPolicy, now: Date): string => new Date(now.getTime() + policy.probeLeaseSeconds * 1000).toISOString();

/** The store's side: each call is one atomic, conditional update. */
export interface BreakerStore {
  get(endpointId: string): Promise<BreakerRecord | undefined>;
  /** Claims the probe of a half-open breaker; false when another delivery holds it (or it is no longer half-open). */
  claimProbe(endpointId: string, now: Date, leaseUntil: string): Promise<boolean>;
  /** A success closes it: failures 0, no open time, no probe. */
  recordSuccess(endpointId: string): Promise<void>;
  /** Counts a failure; returns the record after it. */
  recordFailure(endpointId: string): Promise<BreakerRecord>;
  /** Opens it until `until`, only if it is not open already (a half-open one reopens); false when another writer did. */
  open(endpointId: string, now: Date, until: string, threshold: number): Promise<boolean>;
}

/**
 * The store as one invocation's batch sees it: one read per endpoint, shared by the batch's
 * deliveries (they run concurrently and would each read the same record); writes go through.
 * `prefetched`: the records the batch's own read brought (with its delivery states); an endpoint
 * it does not cover, or a failed read (undefined), is read from the store.
 * Made per invocation, never at module scope, so no read outlives its batch.
 */
export function readOncePerBatch(store: BreakerStore, prefetched?: Promise<Map<string, BreakerRecord | undefined> | undefined>): BreakerStore {
  const reads = new Map<string, Promise<BreakerRecord | undefined>>();
  // Records the batch's own read brought (the delivery states' read); an endpoint it did not cover is read here.
  const fromBatch = (endpointId: string) =>
    prefetched ? prefetched.then((found) => (found?.has(endpointId) ? found.get(endpointId) : store.get(endpointId))) : store.get(endpointId);
  return {
    get: (endpointId) => {
      let read = reads.get(endpointId);
      if (!read) reads.set(endpointId, (read = fromBatch(endpointId)));
      return read;
    },
    claimProbe: (endpointId, now, leaseUntil) => store.claimProbe(endpointId, now, leaseUntil),
    recordSuccess: (endpointId) => store.recordSuccess(endpointId),
    recordFailure: (endpointId) => store.recordFailure(endpointId),
    open: (endpointId, now, until, threshold) => store.open(endpointId, now, until, threshold),
  };
}
