import { opensAfterFailure, reopenUntil, type BreakerPolicy, type BreakerStore } from './circuit-breaker.js';

export interface Breaker {
  store: BreakerStore;
  policy: BreakerPolicy;
  onError?: (error: unknown) => void;
}

/**
 * Counts one failed attempt toward the endpoint's breaker and opens it at the Kth in a row (or when
 * a probe failed). The one place a failure is counted: at the answer, or early for a hang.
 * Bookkeeping: a store error is reported and swallowed, the delivery goes on.
 */
export async function countFailure(endpointId: string, breaker: Breaker, now: Date): Promise<void> {
  try {
    const after = await breaker.store.recordFailure(endpointId);
    if (opensAfterFailure(after, breaker.policy, now))
      await breaker.store.open(endpointId, now, reopenUntil(breaker.policy, now), breaker.policy.failureThreshold);
  } catch (error) {
    breaker.onError?.(error);
  }
}

/**
 * Watches one attempt for a hang. A receiver that never answers would otherwise be counted only at
 * the POST's timeout, and until K such timeouts had passed every new delivery to it would POST and
 * hang too, each holding its batch (and its poller, or its Lambda invocation) for the whole
 * timeout: the healthy endpoints' messages then wait in the queue. Here an attempt still unanswered
 * after `hangAfterMs` is counted as a failure there and then (and may open the breaker).
 *
 * Started by deliverMessage around its attempt; `stop()` at the answer clears the timer and says
 * whether the hang was counted (after that count finished), so the answer is not counted again.
 */
export function watchForHang(endpointId: string, breaker: Breaker, now: () => Date): { stop(): Promise<boolean> } {
  let counted: Promise<void> | undefined;
  const timer = setTimeout(() => (counted = countFailure(endpointId, breaker, now())), breaker.policy.hangAfterMs);
  return {
    async stop() {
      clearTimeout(timer);
      if (!counted) return false;
      await counted;
      return true;
    },
  };
}
