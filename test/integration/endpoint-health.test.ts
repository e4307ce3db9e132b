import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tables } from '../../infra/app-definition.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { DynamoEndpointHealthStore } from '../../shared/store/endpoint-health-store.js';
import { deliveryLogStoreFromEnv } from '../../shared/stores.js';
import { endpointHealth, failingTooLong } from '../../shared/webhooks/endpoint-health.js';

const health = new DynamoEndpointHealthStore(createDocumentClient(new DynamoDBClient({})), process.env[tables.deliveries.envVar]!);
const log = deliveryLogStoreFromEnv();
const unique = () => `ep_health${Math.random().toString(36).slice(2, 10)}`;
const at = (iso: string) => new Date(iso);

describe('endpoint health against DynamoDB Local', () => {
  it('counts 24 parallel attempts exactly (atomic updates, no lost increments)', async () => {
    const id = unique();
    const now = at('2026-12-01T10:30:00Z');
    await Promise.all(Array.from({ length: 24 }, (_, i) => health.record(id, { succeeded: i % 3 !== 0, at: now, error: 'HTTP 500' })));
    const summary = endpointHealth({ enabled: true }, await health.get(id), 0, now);
    expect(summary.attempts24h).toBe(24);
    expect(summary.successRate24h).toBe(Math.round((16 / 24) * 1000) / 1000);
  });

  it('one update per batch: 20 batches of 10 outcomes recorded in parallel lose no count (ADD, never read-then-put)', async () => {
    const id = unique();
    const now = at('2026-12-01T10:30:00Z');
    const batch = (b: number) =>
      Array.from({ length: 10 }, (_, i) => ({ succeeded: (b * 10 + i) % 4 !== 0, at: new Date(now.getTime() + b * 1000 + i), error: 'HTTP 500' }));
    const after = await Promise.all(Array.from({ length: 20 }, (_, b) => health.recordAll(id, batch(b))));
    const summary = endpointHealth({ enabled: true }, await health.get(id), 0, now);
    expect(summary.attempts24h).toBe(200);
    expect(summary.successRate24h).toBe(0.75);
    // Each batch got the record as it was after its own update: the last of them saw every count.
    expect(Math.max(...after.map((r) => Object.values(r.hours).reduce((n, h) => n + h.succeeded + h.failed, 0)))).toBe(200);
  });

  it('a batch sets the failing streak from its first failure after its last success, and clears it when its last attempt succeeded', async () => {
    const id = unique();
    // Failing since before the batch; a success and then two failures in it: the streak restarts at the first of those.
    await health.record(id, { succeeded: false, at: at('2026-12-01T00:00:00Z'), error: 'old' });
    const mixed = await health.recordAll(id, [
      { succeeded: false, at: at('2026-12-02T00:00:03Z'), error: 'HTTP 503' },
      { succeeded: true, at: at('2026-12-02T00:00:01Z') },
      { succeeded: false, at: at('2026-12-02T00:00:02Z'), error: 'HTTP 502' },
    ]);
    expect(mixed).toMatchObject({
      failingSince: '2026-12-02T00:00:02.000Z',
      lastSuccessAt: '2026-12-02T00:00:01.000Z',
      lastFailureAt: '2026-12-02T00:00:03.000Z',
      lastError: 'HTTP 503',
    });
    // Failures only: the streak that is running is kept.
    expect((await health.recordAll(id, [{ succeeded: false, at: at('2026-12-02T00:01:00Z'), error: 'x' }])).failingSince).toBe('2026-12-02T00:00:02.000Z');
    // Its last attempt succeeded: cleared.
    const healed = await health.recordAll(id, [
      { succeeded: false, at: at('2026-12-02T00:02:00Z'), error: 'x' },
      { succeeded: true, at: at('2026-12-02T00:02:01Z') },
    ]);
    expect(healed.failingSince).toBeNull();
  });

  it('tracks the failing streak: set by the first failure, kept by later ones, cleared by a success', async () => {
    const id = unique();
    await health.record(id, { succeeded: false, at: at('2026-12-01T00:00:00Z'), error: 'connection refused' });
    const later = await health.record(id, { succeeded: false, at: at('2026-12-03T00:00:00Z'), error: 'HTTP 503' });
    expect(later).toMatchObject({ failingSince: '2026-12-01T00:00:00.000Z', lastError: 'HTTP 503', lastFailureAt: '2026-12-03T00:00:00.000Z' });
    expect(failingTooLong(later, at('2026-12-05T23:59:00Z'), 5)).toBe(false);
    expect(failingTooLong(later, at('2026-12-06T00:00:00Z'), 5)).toBe(true);
    expect(endpointHealth({ enabled: true }, later, 2, at('2026-12-03T00:00:00Z'))).toMatchObject({
      state: 'failing',
      lastFailure: { error: 'HTTP 503' },
      waitingForRetry: 2,
    });
    const healed = await health.record(id, { succeeded: true, at: at('2026-12-03T01:00:00Z') });
    expect(healed.failingSince).toBeNull();
    expect(endpointHealth({ enabled: true }, healed, 0, at('2026-12-03T01:00:00Z'))).toMatchObject({
      state: 'healthy',
      lastSuccessAt: '2026-12-03T01:00:00.000Z',
    });
    expect(endpointHealth({ enabled: false }, healed, 0, at('2026-12-03T01:00:00Z')).state).toBe('disabled');
  });

  it('counts only the last 24 hours, and prunes old hourly buckets as it goes', async () => {
    const id = unique();
    await health.record(id, { succeeded: false, at: at('2026-12-01T00:10:00Z'), error: 'x' });
    await health.record(id, { succeeded: true, at: at('2026-12-02T00:20:00Z') });
    const record = await health.record(id, { succeeded: true, at: at('2026-12-02T02:00:00Z') });
    expect(endpointHealth({ enabled: true }, record, 0, at('2026-12-02T02:00:00Z'))).toMatchObject({ attempts24h: 2, successRate24h: 1 });
    expect(Object.keys(record.hours)).not.toContain('2026120100');
  });

  describe('attempts landing out of order (health follows when each attempt started)', () => {
    const successesThenFailures = (t0: Date, t1: Date) => ({
      // The failures started first (slow timeouts), the successes later (fast): every failure is older than every success.
      failures: Array.from({ length: 10 }, (_, i) => [{ succeeded: false, at: new Date(t0.getTime() + i * 1000), error: `timeout ${i}` }]),
      successes: Array.from({ length: 10 }, (_, i) => [{ succeeded: true, at: new Date(t1.getTime() + i * 1000) }]),
    });

    it('failures that started before the last success, landing after it, start no failing streak', async () => {
      const id = unique();
      const { failures, successes } = successesThenFailures(at('2026-12-01T00:00:00Z'), at('2026-12-01T00:01:00Z'));
      await Promise.all(successes.map((outcomes) => health.recordAll(id, outcomes)));
      await Promise.all(failures.map((outcomes) => health.recordAll(id, outcomes)));
      const record = (await health.get(id))!;
      expect(record).toMatchObject({
        failingSince: null,
        lastSuccessAt: '2026-12-01T00:01:09.000Z',
        lastFailureAt: '2026-12-01T00:00:09.000Z',
        lastError: 'timeout 9',
      });
      expect(endpointHealth({ enabled: true }, record, 0, at('2026-12-01T00:02:00Z'))).toMatchObject({
        state: 'healthy',
        attempts24h: 20,
        successRate24h: 0.5,
      });
      // One more failure, days later: the streak starts there, so auto-disable is days away, not due now.
      const later = await health.record(id, { succeeded: false, at: at('2026-12-06T00:00:00Z'), error: 'HTTP 500' });
      expect(later.failingSince).toBe('2026-12-06T00:00:00.000Z');
      expect(failingTooLong(later, at('2026-12-06T00:00:00Z'), 5)).toBe(false);
    });

    it('20 parallel batches in any order end as if recorded in attempt order', async () => {
      const id = unique();
      const { failures, successes } = successesThenFailures(at('2026-12-01T00:00:00Z'), at('2026-12-01T00:01:00Z'));
      await Promise.all([...failures, ...successes].sort(() => Math.random() - 0.5).map((outcomes) => health.recordAll(id, outcomes)));
      expect(await health.get(id)).toMatchObject({
        failingSince: null,
        lastSuccessAt: '2026-12-01T00:01:09.000Z',
        lastFailureAt: '2026-12-01T00:00:09.000Z',
        lastError: 'timeout 9',
      });
    });

    it('a run of failures after the last success starts at its first failure, whatever order they land in', async () => {
      const id = unique();
      await health.record(id, { succeeded: true, at: at('2026-12-01T00:00:30Z') });
      const failures = Array.from({ length: 20 }, (_, i) => [
        { succeeded: false, at: new Date(Date.parse('2026-12-01T00:01:00Z') + i * 1000), error: `HTTP 5${i}` },
      ]);
      // Older attempts landing late: a success and a failure from before the run change nothing.
      const stale = [[{ succeeded: true, at: at('2026-12-01T00:00:10Z') }], [{ succeeded: false, at: at('2026-12-01T00:00:20Z'), error: 'old' }]];
      await Promise.all([...failures, ...stale].sort(() => Math.random() - 0.5).map((outcomes) => health.recordAll(id, outcomes)));
      const record = (await health.get(id))!;
      expect(record).toMatchObject({
        failingSince: '2026-12-01T00:01:00.000Z',
        lastSuccessAt: '2026-12-01T00:00:30.000Z',
        lastFailureAt: '2026-12-01T00:01:19.000Z',
        lastError: 'HTTP 519',
      });
      expect(failingTooLong(record, at('2026-12-06T00:00:59Z'), 5)).toBe(false);
      expect(failingTooLong(record, at('2026-12-06T00:01:00Z'), 5)).toBe(true);
    });

    it('a success landing late keeps a streak that started after it, and never moves lastSuccessAt back', async () => {
      const id = unique();
      await health.record(id, { succeeded: false, at: at('2026-12-01T00:02:00Z'), error: 'x' });
      const lateSuccess = await health.record(id, { succeeded: true, at: at('2026-12-01T00:01:00Z') });
      expect(lateSuccess).toMatchObject({ failingSince: '2026-12-01T00:02:00.000Z', lastSuccessAt: '2026-12-01T00:01:00.000Z' });
      // A failure between the two, landing last, is the streak's real start.
      expect((await health.record(id, { succeeded: false, at: at('2026-12-01T00:01:30Z'), error: 'y' })).failingSince).toBe('2026-12-01T00:01:30.000Z');
      await health.record(id, { succeeded: true, at: at('2026-12-01T00:03:00Z') });
      const older = await health.record(id, { succeeded: true, at: at('2026-12-01T00:00:30Z') });
      expect(older).toMatchObject({ failingSince: null, lastSuccessAt: '2026-12-01T00:03:00.000Z', lastFailureAt: '2026-12-01T00:02:00.000Z', lastError: 'x' });
    });

    it('a success landing late between stored failures keeps the endpoint failing, from the last of them at the latest', async () => {
      const id = unique();
      await health.record(id, { succeeded: false, at: at('2026-12-01T00:01:00Z'), error: 'x' });
      await health.record(id, { succeeded: false, at: at('2026-12-01T00:03:00Z'), error: 'y' });
      const record = await health.record(id, { succeeded: true, at: at('2026-12-01T00:02:00Z') });
      // The record keeps no failure between 00:02 and 00:03: the streak runs from 00:03, never from before the success.
      expect(record).toMatchObject({
        failingSince: '2026-12-01T00:03:00.000Z',
        lastSuccessAt: '2026-12-01T00:02:00.000Z',
        lastFailureAt: '2026-12-01T00:03:00.000Z',
      });
      expect(endpointHealth({ enabled: true }, record, 0, at('2026-12-01T00:04:00Z')).state).toBe('failing');
    });

    it('a failingSince older than the last success (a record written before this fix) is not failing', () => {
      const stale = {
        hours: {},
        lastSuccessAt: '2026-12-03T00:00:00.000Z',
        lastFailureAt: '2026-12-01T00:00:10.000Z',
        lastError: 'x',
        failingSince: '2026-12-01T00:00:00.000Z',
      };
      expect(failingTooLong(stale, at('2026-12-20T00:00:00Z'), 5)).toBe(false);
      expect(endpointHealth({ enabled: true }, stale, 0, at('2026-12-03T00:00:00Z'))).toMatchObject({ state: 'healthy', failingSince: null });
    });
  });

  it('stays out of the delivery log', async () => {
    const id = unique();
    await health.record(id, { succeeded: true, at: new Date() });
    expect((await log.list(id, 10)).items).toEqual([]);
    expect(await health.countWaiting(id)).toEqual({ count: 0, atLeast: false });
  });
});
