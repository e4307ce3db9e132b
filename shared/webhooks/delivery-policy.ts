/**
 * Webhook delivery policy: how often and how long deliveries are retried and how long attempts
 * are logged. Domain rules of the webhooks module; the app definition imports them to configure
 * the queue (maxReceiveCount) and the stack's settings.
 */

/**
 * Webhook retry policy: 4 attempts in all, counted by the delivery itself (its state item), not by
 * SQS receives; after the last failure the delivery function moves the message to the DLQ.
 */
export const deliveryRetry = {
  maxAttempts: 4,
  /**
   * The queue's maxReceiveCount: only a backstop for messages whose invocations keep dying. Receives
   * lost to throttling or timeouts count there but are not attempts, so it sits well above 4.
   */
  backstopReceives: 12,
  /** First retry delay; later ones double, with equal jitter (backoff.ts). Overridden by PROCESSA_RETRY_BASE_SECONDS. */
  baseSeconds: 30,
  /** SQS allows a visibility timeout of at most 12 hours. */
  maxBackoffSeconds: 12 * 60 * 60,
  /** Per-attempt HTTP timeout. Overridden by PROCESSA_WEBHOOK_TIMEOUT_MS. */
  timeoutMs: 10_000,
} as const;

/** Delivery attempts stay in the log this long. */
export const deliveryLogRetentionDays = 30;
