import { deliveryRetry } from './delivery-policy.js';
import type { DeliveryPolicy } from './deliver.js';
import { DEFAULT_AUTO_DISABLE_DAYS } from './endpoint-health.js';

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Retry and timeout settings, read once at cold start; a malformed value fails the function by name. */
export function deliveryPolicyFromEnv(): DeliveryPolicy {
  return {
    maxAttempts: deliveryRetry.maxAttempts,
    retryBaseSeconds: positiveNumber('PROCESSA_RETRY_BASE_SECONDS', deliveryRetry.baseSeconds),
    maxBackoffSeconds: deliveryRetry.maxBackoffSeconds,
    timeoutMs: positiveNumber('PROCESSA_WEBHOOK_TIMEOUT_MS', deliveryRetry.timeoutMs),
    autoDisableDays: positiveNumber('PROCESSA_AUTO_DISABLE_DAYS', DEFAULT_AUTO_DISABLE_DAYS),
  };
}
