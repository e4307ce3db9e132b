import { draftListShards, queueConsumer, streamConsumer } from '../../infra/app-definition.js';
import { DEFAULT_API_THROTTLE } from '../../infra/stacks/throttle.js';
import { CAPACITY_ASSUMPTIONS, CAPACITY_RATES, capacityModel, hotPartitionsAt } from '../bench/capacity.js';
import { QUOTAS, type Quota } from '../bench/quotas.js';

/** The capacity table (BENCHMARKS.md) is computed from the app's settings, not retyped: these pin that link. */
describe('capacity model', () => {
  const report = capacityModel();
  const row = (start: string) => {
    const found = report.rows.find((r) => r.resource.startsWith(start));
    if (!found) throw new Error(`no row starting "${start}"`);
    return found;
  };

  it('every AWS limit names its documentation page', () => {
    for (const quota of Object.values(QUOTAS) as Quota[]) expect(quota.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    for (const r of report.rows) expect(r.quota !== undefined || r.setting !== undefined).toBe(true);
  });

  it('reads the stage throttle, shard count, stream and queue settings from their definitions', () => {
    expect(row('API stage throttle, `POST /v1/drafts`').limit).toBe(DEFAULT_API_THROTTLE.rateLimit);
    expect(row('DynamoDB `drafts` listing index').loads).toEqual(CAPACITY_RATES.map((r) => (2 * r) / draftListShards));
    const a = CAPACITY_ASSUMPTIONS;
    expect(row('Drafts stream').limit).toBeCloseTo(
      (streamConsumer.parallelizationFactor * streamConsumer.batchSize) / (a.fanOutBatchSeconds + a.fanOutSecondsPerRecord * streamConsumer.batchSize),
    );
    expect(row('SQS delivery queue').limit).toBe(queueConsumer.maxConcurrency);
  });

  it('a row binds exactly when its load exceeds its limit, and hot partitions are the DynamoDB partition rows that do', () => {
    report.rates.forEach((rate, i) => {
      const over = report.rows.filter((r) => !r.rampOnly && r.loads[i]! > r.limit).map((r) => r.resource);
      expect([...report.binding[i]!.rows].sort()).toEqual(over.sort());
      expect(hotPartitionsAt(report, rate)).toEqual(report.rows.filter((r) => r.partition && r.loads[i]! > r.limit).map((r) => r.resource));
    });
  });
});
