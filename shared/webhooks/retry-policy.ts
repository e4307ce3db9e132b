// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { retryDelaySeconds } from './backoff.js';

/**
 * How an endpoint's failed deliveries are retried: pure policy, applied by the delivery function.
 *
 * The doc promises "up to 3 retries with exponential backoff", so that is the default (the
 * stack-wide base delay is configuration). An endpoint may ask for more patience: the preset
 * `extended` spreads 8 attempts over about 27 h (like Svix), or a custom ladder names its attempts
 * (1–10), first delay and largest delay.
 */

/**
 * Every delay must fit in one SQS visibility change, which may reach at most 12 h from the
 * message's receive; the attempt itself (up to the function's timeout) already used some of that,
 * so delays stop 5 minutes short.
 */
export const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60 - 5 * 60;
const MAX_ATTEMPTS = 10;

/** The `extended` preset: delays after attempts 1–7 (≈ 27.6 h in all), each ±10 % jitter. */
export const EXTENDED_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;

const customRetrySchema = z
  .strictObject({
    attempts: z
      .number()
      .check(z.int(), z.minimum(1, { message: 'must be at least 1' }), z.maximum(MAX_ATTEMPTS, { message: `must be at most ${MAX_ATTEMPTS}` })),
    baseSeconds: z
      .number()
      .check(z.minimum(1, { message: 'must be at least 1' }), z.maximum(MAX_RETRY_DELAY_SECONDS, { message: `must be at most ${MAX_RETRY_DELAY_SECONDS}` })),
    maxDelaySeconds: z
      .number()
      .check(
        z.minimum(1, { message: 'must be at least 1' }),
        z.maximum(MAX_RETRY_DELAY_SECONDS, { message: `must be at most ${MAX_RETRY_DELAY_SECONDS} (SQS's 12 h visibility limit)` }),
      ),
  })
  .check(z.refine((r) => r.maxDelaySeconds >= r.baseSeconds, { message: 'maxDelaySeconds must be at least baseSeconds', path: ['maxDelaySeconds'] }));

/** `standard` (the default: 4 attempts, the stack's base delay), `extended`, or a custom ladder. */
export const retrySettingSchema = z.union([z.enum(['standard', 'extended']), customRetrySchema], {
  error: 'must be "standard", "extended" or {attempts, baseSeconds, maxDelaySeconds}',
});
export type RetrySetting = z.output<typeof retrySettingSchema>;

/** The stack-wide default (the doc's promise); its base delay comes from configuration. */
export interface DefaultRetry {
  attempts: number;
  baseSeconds: number;
  /** The stack's largest delay (never above MAX_RETRY_DELAY_SECONDS). */
  maxSeconds: number;
}

export interface RetrySchedule {
  /** Attempts in all (1 + retries). */
  attempts: number;
  /** Seconds to wait after failed attempt `n` (1-based, n < attempts) before the next. */
  delayAfter(n: number, random?: () => number): number;
}

const exponential = (baseSeconds: number, maxSeconds: number) => (n: number, random: () => number) => retryDelaySeconds(n, baseSeconds, maxSeconds, random);

export function retrySchedule(setting: RetrySetting | undefined, defaults: DefaultRetry): RetrySchedule {
  if (setting === 'extended') {
    return {
      attempts: EXTENDED_DELAYS_SECONDS.length + 1,
      delayAfter: (n, random = Math.random) => {
        const planned = EXTENDED_DELAYS_SECONDS[Math.min(n, EXTENDED_DELAYS_SECONDS.length) - 1]!;
        return Math.min(MAX_RETRY_DELAY_SECONDS, Math.round(planned * (0.9 + random() * 0.2)));
      },
    };
  }
  if (setting === undefined || setting === 'standard') {
    const delay = exponential(defaults.baseSeconds, Math.min(defaults.maxSeconds, MAX_RETRY_DELAY_SECONDS));
    return { attempts: defaults.attempts, delayAfter: (n, random = Math.random) => delay(n, random) };
  }
  const delay = exponential(setting.baseSeconds, Math.min(setting.maxDelaySeconds, MAX_RETRY_DELAY_SECONDS));
  return { attempts: setting.attempts, delayAfter: (n, random = Math.random) => delay(n, random) };
}

/**
 * A receiver's Retry-After (RFC 9110: delay-seconds or an HTTP-date) as seconds from `now`, or
 * undefined when absent or unreadable. Dates in the past mean "now" (0).
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Only the HTTP-date forms: Date.parse alone would also accept "1" or "tomorrow"-like strings.
  if (!/^[A-Za-z]{3},? \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$|^[A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/.test(text))
    return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/**
 * The delay after a failed attempt: the schedule's, or longer when a 429/503 asked for it with
 * Retry-After, never past the cap.
 */
export function delayAfterFailure(
  schedule: RetrySchedule,
  n: number,
  response: { status?: number; retryAfter?: string },
  now: Date,
  random?: () => number,
): number {
  const planned = schedule.delayAfter(n, random);
  const asked = response.status === 429 || response.status === 503 ? parseRetryAfter(response.retryAfter, now) : undefined;
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(planned, asked ?? 0));
}

/** 410 Gone: the receiver says the endpoint is gone for good; the endpoint is disabled at once. */
export const isGone = (status: number | undefined): boolean => status === 410;
