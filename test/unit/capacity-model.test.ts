import { deliveryShards, draftListShards, queueConsumer, streamConsumer } from '../../infra/app-definition.js';
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
    expect(row('DynamoDB `deliveries` dead-by-endpoint index').loads).toEqual(CAPACITY_RATES.map((r) => r / deliveryShards));
    expect(row('DynamoDB `deliveries`, busiest partition').loads).toEqual(
      CAPACITY_RATES.map((r) => (r * (a.endpointWritesPerMessage - a.healthWritesPerBatch)) / deliveryShards),
    );
  });

  it('no hot partition at 1,000 decisions/s with one endpoint, with at least 2x headroom on its delivery shards, even at 5 WRU per message (measured: 4.0)', () => {
    expect(hotPartitionsAt(report, 1_000)).toEqual([]);
    const i = report.rates.indexOf(1_000);
    expect(row('DynamoDB `deliveries`, busiest partition').loads[i]! * 2).toBeLessThanOrEqual(QUOTAS.dynamoPartitionWrites.value);
    const heavier = capacityModel({ endpointWritesPerMessage: 5 });
    expect(hotPartitionsAt(heavier, 1_000)).toEqual([]);
  });

  it('the health item takes one write per delivery batch, batches no emptier than maxConcurrency forces and no fuller than batchSize', () => {
    const health = row('DynamoDB `deliveries` health item');
    const a = CAPACITY_ASSUMPTIONS;
    const batchSeconds = a.receiverSeconds + a.apiFunctionSeconds;
    report.rates.forEach((rate, i) => {
      const perBatch = Math.min(queueConsumer.batchSize, Math.max(1, (rate * a.endpoints * batchSeconds) / queueConsumer.maxConcurrency));
      expect(health.loads[i]).toBeCloseTo((rate * a.healthWritesPerBatch) / perBatch);
    });
  });

  it('a row binds exactly when its load exceeds its limit, and hot partitions are the DynamoDB partition rows that do', () => {
    report.rates.forEach((rate, i) => {
      const over = report.rows.filter((r) => !r.rampOnly && r.loads[i]! > r.limit).map((r) => r.resource);
      expect([...report.binding[i]!.rows].sort()).toEqual(over.sort());
      expect(hotPartitionsAt(report, rate)).toEqual(report.rows.filter((r) => r.partition && r.loads[i]! > r.limit).map((r) => r.resource));
    });
  });
});
