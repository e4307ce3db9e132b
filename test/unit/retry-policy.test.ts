import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import { deliverMessage, GONE_REASON, type DeliveryDeps, type Poster } from '../../shared/webhooks/deliver.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import {
  delayAfterFailure,
  EXTENDED_DELAYS_SECONDS,
  MAX_RETRY_DELAY_SECONDS,
  parseRetryAfter,
  retrySchedule,
  retrySettingSchema,
  type RetrySetting,
} from '../../shared/webhooks/retry-policy.js';
import { MemoryDeliveryStateStore } from '../support/memory-deliveries.js';

const defaults = { attempts: 4, baseSeconds: 30, maxSeconds: 12 * 3600 };
const low = () => 0;
const high = () => 0.999999;

describe('retry schedules', () => {
  it.each<[string, RetrySetting | undefined, number, number[], number[]]>([
    // setting, attempts, delays with the lowest jitter, with the highest
    ['the default (the doc: 1 + 3 retries)', undefined, 4, [15, 30, 60], [30, 60, 120]],
    ['standard, named', 'standard', 4, [15, 30, 60], [30, 60, 120]],
    ['custom, capped by maxDelaySeconds', { attempts: 6, baseSeconds: 10, maxDelaySeconds: 50 }, 6, [5, 10, 20, 25, 25], [10, 20, 40, 50, 50]],
    ['a single attempt', { attempts: 1, baseSeconds: 10, maxDelaySeconds: 10 }, 1, [], []],
  ])('%s', (_name, setting, attempts, lowest, highest) => {
    const schedule = retrySchedule(setting, defaults);
    expect(schedule.attempts).toBe(attempts);
    const retries = Array.from({ length: attempts - 1 }, (_, i) => i + 1);
    expect(retries.map((n) => schedule.delayAfter(n, low))).toEqual(lowest);
    expect(retries.map((n) => schedule.delayAfter(n, high))).toEqual(highest);
  });

  it('extended: 8 attempts over about 27 h, each delay within ±10 % of the ladder and under the cap', () => {
    const schedule = retrySchedule('extended', defaults);
    expect(schedule.attempts).toBe(8);
    const planned = EXTENDED_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(planned / 3600).toBeGreaterThan(24);
    expect(planned / 3600).toBeLessThan(30);
    for (const random of [low, high, Math.random]) {
      EXTENDED_DELAYS_SECONDS.forEach((d, i) => {
        const delay = schedule.delayAfter(i + 1, random);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(d * 0.9));
        expect(delay).toBeLessThanOrEqual(Math.min(MAX_RETRY_DELAY_SECONDS, Math.ceil(d * 1.1)));
      });
    }
  });

  it('no delay of any schedule exceeds what one SQS visibility change allows', () => {
    const huge: RetrySetting = { attempts: 10, baseSeconds: MAX_RETRY_DELAY_SECONDS, maxDelaySeconds: MAX_RETRY_DELAY_SECONDS };
    for (const setting of [undefined, 'extended', huge] as const) {
      const schedule = retrySchedule(setting, { attempts: 4, baseSeconds: 40_000, maxSeconds: 12 * 3600 });
      for (let n = 1; n < schedule.attempts; n++) expect(schedule.delayAfter(n, high)).toBeLessThanOrEqual(MAX_RETRY_DELAY_SECONDS);
    }
    expect(MAX_RETRY_DELAY_SECONDS).toBeLessThan(12 * 3600);
  });

  it.each([
    [{ attempts: 0, baseSeconds: 1, maxDelaySeconds: 1 }, 'attempts'],
    [{ attempts: 11, baseSeconds: 1, maxDelaySeconds: 1 }, 'attempts'],
    [{ attempts: 3, baseSeconds: 0, maxDelaySeconds: 1 }, 'baseSeconds'],
    [{ attempts: 3, baseSeconds: 60, maxDelaySeconds: 30 }, 'maxDelaySeconds'],
    [{ attempts: 3, baseSeconds: 60, maxDelaySeconds: 12 * 3600 }, 'maxDelaySeconds'],
  ])('refuses %j, naming %s', (setting, field) => {
    const result = retrySettingSchema.safeParse(setting);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(field);
  });

  it('refuses unknown presets and extra fields', () => {
    expect(retrySettingSchema.safeParse('forever').success).toBe(false);
    expect(retrySettingSchema.safeParse({ attempts: 3, baseSeconds: 1, maxDelaySeconds: 2, jitter: 'none' }).success).toBe(false);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-02-10T12:00:00Z');
  it.each<[string | undefined, number | undefined]>([
    ['3', 3],
    ['0', 0],
    [' 120 ', 120],
    ['Tue, 10 Feb 2026 12:01:30 GMT', 90],
    ['Tue, 10 Feb 2026 11:00:00 GMT', 0],
    ['Tuesday, 10-Feb-26 12:00:10 GMT', undefined],
    ['Tue Feb 10 12:00:20 2026', 20],
    [undefined, undefined],
    ['', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['2026-02-10T12:01:00Z', undefined],
  ])('%j → %j', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });

  it('only 429 and 503 stretch the delay, never beyond the cap, never shorter than the schedule', () => {
    const schedule = retrySchedule(undefined, defaults);
    expect(delayAfterFailure(schedule, 1, { status: 503, retryAfter: '100' }, now, low)).toBe(100);
    expect(delayAfterFailure(schedule, 1, { status: 429, retryAfter: '100' }, now, low)).toBe(100);
    expect(delayAfterFailure(schedule, 1, { status: 500, retryAfter: '100' }, now, low)).toBe(15);
    expect(delayAfterFailure(schedule, 1, { status: 503, retryAfter: '1' }, now, low)).toBe(15);
    expect(delayAfterFailure(schedule, 1, { status: 503, retryAfter: String(7 * 24 * 3600) }, now, low)).toBe(MAX_RETRY_DELAY_SECONDS);
    expect(delayAfterFailure(schedule, 1, { status: 503, retryAfter: 'garbage' }, now, low)).toBe(15);
  });
});

describe('delivery applies the endpoint policy and the receiver signals', () => {
  const endpoint: WebhookEndpoint = sampleEndpoint();
  const now = () => new Date('2026-02-10T12:00:00Z');
  const deps = (ep: WebhookEndpoint, post: Poster, disabled: string[] = []): DeliveryDeps => ({
    post,
    policy: samplePolicy(),
    states: new MemoryDeliveryStateStore(),
    endpointFor: async () => ep,
    disableEndpoint: async (id) => void disabled.push(id),
    recordHealth: async () => undefined,
    backstopReceives: 12,
    now,
    random: low,
  });

  it('410 Gone: one attempt, the endpoint disabled, the delivery dead with the reason', async () => {
    const disabled: string[] = [];
    let posts = 0;
    const step = await deliverMessage(
      deliveryMessage(testEvent(), 'ep_1'),
      1,
      deps(endpoint, async () => (posts++, { status: 410, durationMs: 1 }), disabled),
    );
    expect(step).toMatchObject({ kind: 'dead', reason: GONE_REASON, attempt: { attempt: 1, httpStatus: 410, outcome: 'dead' } });
    expect(disabled).toEqual(['ep_1']);
    expect(posts).toBe(1);
  });

  it('503 with Retry-After waits at least that long', async () => {
    const step = await deliverMessage(
      deliveryMessage(testEvent(), 'ep_1'),
      1,
      deps(endpoint, async () => ({ status: 503, retryAfter: '3600', durationMs: 1 })),
    );
    expect(step).toMatchObject({ kind: 'retry', delaySeconds: 3600 });
  });

  it('3xx stays a plain failure', async () => {
    const step = await deliverMessage(
      deliveryMessage(testEvent(), 'ep_1'),
      1,
      deps(endpoint, async () => ({ status: 308, retryAfter: '3600', durationMs: 1 })),
    );
    expect(step).toMatchObject({ kind: 'retry', delaySeconds: 5 });
  });

  it('an endpoint with its own policy gets its own number of attempts', async () => {
    const patient = { ...endpoint, retry: { attempts: 6, baseSeconds: 2, maxDelaySeconds: 60 } };
    const message = deliveryMessage(testEvent(), 'ep_1');
    const d = deps(patient, async () => ({ status: 500, durationMs: 1 }));
    const kinds = [];
    // Each receive an hour after the last: every retry is due (they come back only when due).
    for (let receive = 1; receive <= 6; receive++) {
      const at = new Date(now().getTime() + receive * 3600_000);
      kinds.push((await deliverMessage(message, receive, { ...d, now: () => at })).kind);
    }
    expect(kinds).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'dead']);
    const once = { ...endpoint, retry: { attempts: 1, baseSeconds: 1, maxDelaySeconds: 1 } };
    expect(
      (
        await deliverMessage(
          deliveryMessage(testEvent(), 'ep_1'),
          1,
          deps(once, async () => ({ status: 500, durationMs: 1 })),
        )
      ).kind,
    ).toBe('dead');
  });

  it('auto-disable: a failure after every attempt failed for autoDisableDays disables the endpoint; a success never does', async () => {
    const disabled: string[] = [];
    const failingFor = (days: number) => async () => ({
      hours: {},
      lastSuccessAt: null,
      lastFailureAt: now().toISOString(),
      lastError: 'HTTP 500',
      failingSince: new Date(now().getTime() - days * 86_400_000).toISOString(),
    });
    const failing = async () => ({ status: 500, durationMs: 1 });
    const young = await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, { ...deps(endpoint, failing, disabled), recordHealth: failingFor(4.9) });
    expect(young.kind).toBe('retry');
    const old = await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, { ...deps(endpoint, failing, disabled), recordHealth: failingFor(5) });
    expect(old).toMatchObject({ kind: 'dead', reason: 'every attempt failed for 5 days: the endpoint was disabled', attempt: { outcome: 'dead' } });
    expect(disabled).toEqual(['ep_1']);
    // Unrecordable health never stops or repeats a delivery.
    const unknown = await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, {
      ...deps(endpoint, failing, disabled),
      recordHealth: async () => undefined,
    });
    expect(unknown.kind).toBe('retry');
  });
});
