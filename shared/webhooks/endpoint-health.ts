import type { WebhookEndpoint } from './endpoints.js';

/**
 * How an endpoint's deliveries are going, kept by the delivery function with one atomic update per
 * batch (no read-modify-write): per-hour success and failure counts, the last success, the last
 * failure with its error, and since when every attempt has failed. The last three follow when each
 * attempt started, not when it was recorded (a slow timeout lands after a later, fast success).
 */
export interface HealthRecord {
  /** Attempts per UTC hour, keyed by hourKey(). Only the last HEALTH_WINDOW_HOURS count. */
  hours: Record<string, { succeeded: number; failed: number }>;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  /** The first failure that started after the last success (or ever); cleared by a success that started after it. */
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
  const streak = record ? runningStreak(record) : null;
  return {
    state: !endpoint.enabled ? 'disabled' : streak ? 'failing' : 'healthy',
    successRate24h: attempts > 0 ? Math.round((succeeded / attempts) * 1000) / 1000 : null,
    attempts24h: attempts,
    lastSuccessAt: record?.lastSuccessAt ?? null,
    lastFailure: record?.lastFailureAt ? { at: record.lastFailureAt, error: record.lastError } : null,
    failingSince: streak,
    waitingForRetry: waiting,
  };
}

/** The endpoint with its health, as GET /v1/webhooks/{id} and the settings page show it. */
export async function endpointWithHealth(store: EndpointHealthStore, endpoint: WebhookEndpoint, now = new Date()): Promise<EndpointHealth> {
  const [record, waiting] = await Promise.all([store.get(endpoint.id), store.countWaiting(endpoint.id)]);
  return endpointHealth(endpoint, record, waiting.count, now);
}

/**
 * Since when every attempt has failed: failingSince, unless a success started after it (a record
 * written before attempts were ordered by their start could hold one).
 */
export function runningStreak(record: Pick<HealthRecord, 'failingSince' | 'lastSuccessAt'>): string | null {
  const { failingSince, lastSuccessAt } = record;
  return failingSince !== null && (lastSuccessAt === null || Date.parse(failingSince) > Date.parse(lastSuccessAt)) ? failingSince : null;
}

/** True once every attempt has failed for `days` (the auto-disable rule). */
export function failingTooLong(record: HealthRecord, now: Date, days: number): boolean {
  const since = runningStreak(record);
  return since !== null && now.getTime() - Date.parse(since) >= days * 86_400_000;
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

/**
 * One health update as the store writes it: what it sets, and what it assumes of the stored record,
 * checked atomically with the write. Attempts land in any order (a slow timeout after a fast
 * success that started later), so each field follows when its attempt started, never when it landed.
 */
export interface HealthWrite {
  /** Attempts per bucket, added whatever the order. */
  counts: Record<string, number>;
  lastSuccessAt: string | null;
  lastFailure: { at: string; error: string } | null;
  /** set (`keep`: only if none is stored), 'clear' (remove), or null (leave as it is). */
  failingSince: { set: string; keep: boolean } | 'clear' | null;
  /** The stored lastSuccessAt is absent or earlier than this. */
  successBefore: string | null;
  /** The stored lastFailureAt is absent or earlier than this. */
  failureBefore: string | null;
  /** The stored failingSince is exactly this one (null: none); 'running': none, or one after the stored last success; undefined: anything. */
  streakSeen?: { failingSince: string | null } | 'running';
}

/** The fields of a stored record that depend on the order of attempts. */
export type HealthOrder = Pick<HealthRecord, 'lastSuccessAt' | 'lastFailureAt' | 'failingSince'>;

/**
 * The usual case, written without reading: the batch started after every attempt already recorded,
 * so healthChange applies as it is (the write's condition checks that it did).
 */
export function inOrderHealthWrite(outcomes: HealthOutcome[]): HealthWrite {
  const change = healthChange(outcomes);
  const earliest = new Date(Math.min(...outcomes.map((o) => o.at.getTime()))).toISOString();
  const keeps = typeof change.failingSince === 'object' && change.failingSince?.keep === true;
  return {
    counts: change.counts,
    lastSuccessAt: change.lastSuccessAt,
    lastFailure: change.lastFailure,
    failingSince: change.failingSince,
    successBefore: earliest,
    failureBefore: earliest,
    ...(keeps ? { streakSeen: 'running' as const } : {}),
  };
}

/**
 * The batch merged into the stored record it was refused by (an attempt recorded there started
 * after one of the batch's): the last success and the last failure are the latest by start, and the
 * streak starts at the first failure after the last success, from either side. A success landing
 * after failures that started later keeps their streak; when that streak started before the success
 * the record no longer holds its first failure after it, so the streak runs from the last stored
 * failure (later than the truth: auto-disable waits longer, never less).
 */
export function mergedHealthWrite(outcomes: HealthOutcome[], stored: HealthOrder): HealthWrite {
  const change = healthChange(outcomes);
  const isBefore = (a: string | null, b: string) => a === null || Date.parse(a) < Date.parse(b);
  const lastSuccessAt = change.lastSuccessAt && isBefore(stored.lastSuccessAt, change.lastSuccessAt) ? change.lastSuccessAt : null;
  const lastFailure = change.lastFailure && isBefore(stored.lastFailureAt, change.lastFailure.at) ? change.lastFailure : null;
  const lastSuccess = lastSuccessAt ?? stored.lastSuccessAt;
  const running =
    runningStreak({ failingSince: stored.failingSince, lastSuccessAt: lastSuccess }) ??
    runningStreak({ failingSince: stored.lastFailureAt, lastSuccessAt: lastSuccess });
  const firstFailure = typeof change.failingSince === 'object' ? (change.failingSince?.set ?? null) : null;
  const started = firstFailure && runningStreak({ failingSince: firstFailure, lastSuccessAt: lastSuccess });
  const streak = started && (running === null || Date.parse(started) < Date.parse(running)) ? started : running;
  const failingSince = streak === stored.failingSince ? null : streak === null ? ('clear' as const) : { set: streak, keep: false };
  return {
    counts: change.counts,
    lastSuccessAt,
    lastFailure,
    failingSince,
    // A later success stored meanwhile would make the new one older, or end the streak.
    successBefore: lastSuccessAt ?? streak,
    failureBefore: lastFailure?.at ?? null,
    // The streak was judged from the stored one (a new success ends it or not): it must still be the same.
    ...(failingSince !== null || started || lastSuccessAt ? { streakSeen: { failingSince: stored.failingSince } } : {}),
  };
}
