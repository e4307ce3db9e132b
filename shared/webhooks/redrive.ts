import type { DeadLetterQueue, DeliveryQueue } from './delivery-message.js';

/** Receives from the DLQ at most this many times per call, so a huge DLQ cannot time the request out. */
export const REDRIVE_MAX_RECEIVES = 50;

/**
 * Sends dead deliveries (one endpoint's, or all when endpointId is undefined) back to the
 * delivery queue with fresh attempts, and removes them from the DLQ only once they are safely
 * re-queued. Other endpoints' dead messages are released untouched.
 */
export async function redriveDeadDeliveries(endpointId: string | undefined, dlq: DeadLetterQueue, queue: DeliveryQueue) {
  let redriven = 0;
  const others: string[] = [];
  let exhausted = false;
  try {
    for (let i = 0; i < REDRIVE_MAX_RECEIVES; i++) {
      const batch = await dlq.receive();
      if (batch.length === 0) {
        exhausted = true;
        break;
      }
      const mine = batch.filter((d) => d.message !== undefined && (endpointId === undefined || d.message.endpointId === endpointId));
      others.push(...batch.filter((d) => !mine.includes(d)).map((d) => d.receiptHandle));
      if (mine.length === 0) continue;
      await queue.send(mine.map((d) => ({ ...d.message!, redrives: d.message!.redrives + 1 })));
      await dlq.delete(mine.map((d) => d.receiptHandle));
      redriven += mine.length;
    }
  } finally {
    if (others.length > 0) await dlq.release(others);
  }
  return { redriven, complete: exhausted };
}
