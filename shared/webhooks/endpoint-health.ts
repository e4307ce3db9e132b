import type { WebhookEndpoint } from './endpoints.js';

/**
 * How an endpoint's deliveries are going, kept by the delivery function with one atomic update per
 * attempt (no read-modify-write): per-hour success and failure counts, the last success, the last
 * failure with its error, and since when every attempt has failed.
 */
export interface HealthRecord {
  /** Attempts per UTC hour, keyed by hourKey(). Only the last HEALTH_WINDOW_HOURS count. */
  hours: Record<string, { succeeded: number; failed: number }>;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  /** Set by the first failure after a success (or ever), cleared by a success. */
  failingSince: string | null;
}

/** One finished attempt, as health counts it. */
export interface HealthOutcome {
  succeeded: boolean;
  at: Date;
  error?: string | null;
}

export interface EndpointHealthStore {
  /** Records one finished attempt atomically; returns the record as it is after it. */
  record(endpointId: string, outcome: HealthOutcome): Promise<HealthRecord>;
  /** Records several finished attempts of one endpoint in one atomic update (counters added, never read-then-put). */
  recordAll(endpointId: string, outcomes: HealthOutcome[]): Promise<HealthRecord>;
  get(endpointId: string): Promise<HealthRecord | undefined>;
  /** Deliveries of the endpoint waiting for an attempt (bounded: `atLeast` when there were more to count). */
  countWaiting(endpointId: string): Promise<{ count: number; atLeast: boolean }>;
}

export const HEALTH_WINDOW_HOURS = 24;
/** An endpoint whose every attempt failed for this long is disabled (stack setting; Svix uses 5 days too). */
export const DEFAULT_AUTO_DISABLE_DAYS = 5;

export const hourKey = (at: Date): string => at.toISOString().slice(0, 13).replace(/[-T]/g, '');

export type HealthState = 'healthy' | 'failing' | 'disabled';

export interface EndpointHealth {
  state: HealthState;
  /** Succeeded ÷ attempted over the last 24 h; null without attempts. */
  successRate24h: number | null;
  attempts24h: number;
  lastSuccessAt: string | null;
  lastFailure: { at: string; error: string | null } | null;
  failingSince: string | null;
  waitingForRetry: number;
}

/** The health the API and the settings page show. */
export function endpointHealth(endpoint: Pick<WebhookEndpoint, 'enabled'>, record: HealthRecord | undefined, waiting: number, now: Date): EndpointHealth {
  const since = now.getTime() - HEALTH_WINDOW_HOURS * 3600_000;
  let succeeded = 0;
  let failed = 0;
  for (const [hour, counts] of Object.entries(record?.hours ?? {})) {
    // The hour's start must be within the window; the current hour counts whole.
    const start = Date.UTC(Number(hour.slice(0, 4)), Number(hour.slice(4, 6)) - 1, Number(hour.slice(6, 8)), Number(hour.slice(8, 10)));
    if (start + 3600_000 <= since) continue;
    succeeded += counts.succeeded;
    failed += counts.failed;
  }
  const attempts = succeeded + failed;
  return {
    state: !endpoint.enabled ? 'disabled' : record?.failingSince ? 'failing' : 'healthy',
    successRate24h: attempts > 0 ? Math.round((succeeded / attempts) * 1000) / 1000 : null,
    attempts24h: attempts,
    lastSuccessAt: record?.lastSuccessAt ?? null,
    lastFailure: record?.lastFailureAt ? { at: record.lastFailureAt, error: record.lastError } : null,
    failingSince: record?.failingSince ?? null,
    waitingForRetry: waiting,
  };
}

/** The endpoint with its health, as GET /v1/webhooks/{id} and the settings page show it. */
export async function endpointWithHealth(store: EndpointHealthStore, endpoint: WebhookEndpoint, now = new Date()): Promise<EndpointHealth> {
  const [record, waiting] = await Promise.all([store.get(endpoint.id), store.countWaiting(endpoint.id)]);
  return endpointHealth(endpoint, record, waiting.count, now);
}

/** True once every attempt has failed for `days` (the auto-disable rule). */
export function failingTooLong(record: HealthRecord, now: Date, days: number): boolean {
  return record.failingSince !== null && now.getTime() - Date.parse(record.failingSince) >= days * 86_400_000;
}

/**
 * What several attempts of one endpoint change in its health record, as one update: counts per
 * bucket (added), the latest success, the latest failure and its error, and the failing streak:
 * cleared when the last attempt succeeded, started at the first failure after the last success
 * (kept as it was when none of them succeeded).
 */
export function healthChange(outcomes: HealthOutcome[]): {
  counts: Record<string, number>;
  lastSuccessAt: string | null;
  lastFailure: { at: string; error: string } | null;
  failingSince: { set: string; keep: boolean } | 'clear' | null;
} {
  const sorted = [...outcomes].sort((a, b) => a.at.getTime() - b.at.getTime());
  const counts: Record<string, number> = {};
  for (const o of sorted) {
    const bucket = `${o.succeeded ? 's' : 'f'}_${hourKey(o.at)}`;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  const lastSuccess = sorted.findLast((o) => o.succeeded);
  const lastFailure = sorted.findLast((o) => !o.succeeded);
  const firstFailureAfter = sorted.slice(lastSuccess ? sorted.lastIndexOf(lastSuccess) + 1 : 0).find((o) => !o.succeeded);
  return {
    counts,
    lastSuccessAt: lastSuccess?.at.toISOString() ?? null,
    lastFailure: lastFailure ? { at: lastFailure.at.toISOString(), error: lastFailure.error ?? 'failed' } : null,
    failingSince: firstFailureAfter ? { set: firstFailureAfter.at.toISOString(), keep: !lastSuccess } : lastSuccess ? 'clear' : null,
  };
}
