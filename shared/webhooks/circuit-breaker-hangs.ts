import { opensAfterFailure, reopenUntil, type BreakerPolicy, type BreakerRecord, type BreakerStore } from './circuit-breaker.js';
import { isSuccess, type NotificationSender, type Poster, type PostResult } from './deliver.js';

export interface Breaker {
  store: BreakerStore;
  policy: BreakerPolicy;
  onError?: (error: unknown) => void;
}

/**
 * Watches one delivery's attempt for a hang. A receiver that never answers would otherwise be
 * counted only at the POST's timeout, and until K such timeouts had passed every new delivery to it
 * would POST and hang too, each holding its batch (and its poller, or its Lambda invocation) for
 * the whole timeout: the healthy endpoints' messages then wait in the queue. Here an attempt still
 * unanswered after `hangAfterMs` counts as a failure at once (and may open the breaker); when it
 * does answer, a success closes the breaker and a failure is not counted a second time.
 *
 * Made per message (its state lives in the returned closures, never at module scope); the wrapped
 * poster and sender, and the store whose recordFailure knows the early count, go to deliverMessage.
 */
export function watchForHang(endpointId: string, breaker: Breaker) {
  let counted: Promise<BreakerRecord | undefined> | undefined;

  const countHang = async (): Promise<BreakerRecord | undefined> => {
    const now = new Date();
    try {
      const after = await breaker.store.recordFailure(endpointId);
      if (!opensAfterFailure(after, breaker.policy, now)) return after;
      const until = reopenUntil(breaker.policy, now);
      const opened = await breaker.store.open(endpointId, now, until, breaker.policy.failureThreshold);
      return opened ? { ...after, openUntil: until, probeUntil: null } : after;
    } catch (error) {
      // Bookkeeping: the attempt's own answer (or timeout) is then counted the usual way.
      breaker.onError?.(error);
      return undefined;
    }
  };

  const watched = async (send: () => Promise<PostResult>): Promise<PostResult> => {
    const timer = setTimeout(() => (counted = countHang()), breaker.policy.hangAfterMs);
    let result: PostResult;
    try {
      result = await send();
    } finally {
      clearTimeout(timer);
    }
    if (counted && isSuccess(result.status)) {
      // Slow, not hanging: its success closes what its early count may have opened.
      await counted;
      await breaker.store.recordSuccess(endpointId).catch((error: unknown) => breaker.onError?.(error));
    }
    return result;
  };

  const store: BreakerStore = {
    get: (id) => breaker.store.get(id),
    claimProbe: (id, now, leaseUntil) => breaker.store.claimProbe(id, now, leaseUntil),
    recordSuccess: (id) => breaker.store.recordSuccess(id),
    open: (id, now, until, threshold) => breaker.store.open(id, now, until, threshold),
    // The failure of an attempt already counted as a hang: the record of that count, not a second one.
    recordFailure: async (id) => {
      const early = id === endpointId && counted ? await counted : undefined;
      return early ?? breaker.store.recordFailure(id);
    },
  };

  return {
    post:
      (post: Poster): Poster =>
      (url, body, headers, timeoutMs) =>
        watched(() => post(url, body, headers, timeoutMs)),
    sendNotification:
      (send: NotificationSender): NotificationSender =>
      (endpoint, body, timeoutMs) =>
        watched(() => send(endpoint, body, timeoutMs)),
    breaker: { ...breaker, store },
  };
}
