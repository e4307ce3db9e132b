import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Batch calls (DynamoDB BatchWriteItem, SQS SendMessageBatch and ChangeMessageVisibilityBatch)
 * succeed per item: under load some come back unprocessed. One policy for all of them: resend
 * only those, up to 5 calls in all, waiting 100, 200, 400, 800 ms between them (≈1.5 s, well
 * inside every function's timeout).
 */
export interface BatchRetryPolicy {
  /** Calls in all, the first included. */
  calls: number;
  /** Wait before call n (0-based, n > 0): baseDelayMs × 2ⁿ. */
  baseDelayMs: number;
}
const BATCH_RETRY: Readonly<BatchRetryPolicy> = { calls: 5, baseDelayMs: 50 };

/**
 * Sends `items`, then resends whatever `send` returns as unprocessed, with exponential backoff.
 * Returns what is still unprocessed after the last call; the caller decides whether that is an
 * error (throw) or tolerable. An error thrown by `send` propagates unless `send` catches it.
 */
export async function retryUnprocessed<T>(
  items: readonly T[],
  send: (pending: readonly T[]) => Promise<readonly T[]>,
  policy: Readonly<BatchRetryPolicy> = BATCH_RETRY,
): Promise<readonly T[]> {
  let pending = items;
  for (let call = 0; pending.length > 0 && call < policy.calls; call++) {
    if (call > 0) await sleep(policy.baseDelayMs * 2 ** call);
    pending = await send(pending);
  }
  return pending;
}
