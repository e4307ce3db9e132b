/**
 * The EMF lines the functions write: every metric carries the `service` and `stack` dimensions
 * (the stack's alarms filter on both), the stack coming from PROCESSA_STACK_NAME and falling back
 * to `local` where no stack set it (the dev runtime, tests).
 */
import { jest } from '@jest/globals';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  count,
  createMetrics,
  logBatchSummary,
  logger,
  type BatchSummaryFields,
  LOCAL_STACK_NAME,
  METRICS,
  METRICS_NAMESPACE,
  metrics,
  STACK_DIMENSION,
  STACK_NAME_ENV,
  stackNameFrom,
} from '../../shared/observability.js';

type Emf = {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
};

function emfOf(instance: Metrics, record: (m: Metrics) => void): Emf {
  record(instance);
  const emf = instance.serializeMetrics() as unknown as Emf;
  instance.clearMetrics();
  return emf;
}

describe('stack dimension', () => {
  it('is the stack name the CDK stack sets, on every metric of the line', () => {
    const emf = emfOf(createMetrics({ [STACK_NAME_ENV]: 'ProcessaProd' }), (m) => {
      m.addMetric(METRICS.deliveriesDead, 'Count', 1);
      m.addMetric(METRICS.deliveryLag, 'Milliseconds', 1200);
    });
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive!.Dimensions).toEqual([['service', STACK_DIMENSION]]);
    expect(directive!.Metrics.map((d) => d.Name)).toEqual([METRICS.deliveriesDead, METRICS.deliveryLag]);
    expect(emf).toMatchObject({ service: 'processa', [STACK_DIMENSION]: 'ProcessaProd', DeliveriesDead: 1 });
  });

  it('keeps the service name POWERTOOLS_SERVICE_NAME gives', () => {
    const emf = emfOf(createMetrics({ POWERTOOLS_SERVICE_NAME: 'other', [STACK_NAME_ENV]: 'Dev' }), (m) => m.addMetric('X', 'Count', 1));
    expect(emf).toMatchObject({ service: 'other', stack: 'Dev' });
  });

  it.each([
    ['unset', {}],
    ['empty', { [STACK_NAME_ENV]: '' }],
    ['blank', { [STACK_NAME_ENV]: '  ' }],
  ])('falls back to "local" when PROCESSA_STACK_NAME is %s, without failing', (_, env) => {
    expect(stackNameFrom(env)).toBe(LOCAL_STACK_NAME);
    const emf = emfOf(createMetrics(env), (m) => m.addMetric('X', 'Count', 1));
    expect(emf._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'stack']]);
    expect(emf.stack).toBe('local');
  });

  it('the shared instance the handlers use carries it too (local here: the tests set no stack)', () => {
    expect(process.env[STACK_NAME_ENV]).toBeUndefined();
    const emf = emfOf(metrics, () => count(METRICS.draftsApproved));
    expect(emf._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'stack']]);
    expect(emf).toMatchObject({ service: 'processa', stack: 'local', DraftsApproved: 1 });
  });
});

describe('WebhooksEnqueued', () => {
  it('a decision fanned out to no endpoint still publishes a sample (value 0): the stalled-decisions alarm counts samples', () => {
    const instance = createMetrics({ [STACK_NAME_ENV]: 'P' });
    instance.addMetric(METRICS.webhooksEnqueued, 'Count', 0);
    expect(instance.hasStoredMetrics()).toBe(true);
    const line = emfOf(instance, (m) => m.addMetric(METRICS.webhooksEnqueued, 'Count', 2));
    // Two decisions in one invocation: two samples (0 and 2), so SampleCount is 2 and Sum 2.
    expect(line.WebhooksEnqueued).toEqual([0, 2]);
  });
});

describe('logBatchSummary: one line per batch', () => {
  const level = logger.getLevelName();
  beforeEach(() => {
    logger.setLogLevel('INFO');
    // The tests run with metrics disabled (test/support/quiet-logs.ts); the stack runs with them on.
    jest.spyOn(metrics as unknown as { isDisabled(): boolean }, 'isDisabled').mockReturnValue(false);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    metrics.clearMetrics();
    metrics.clearMetadata();
    logger.setLogLevel(level);
  });
  const quietInfo = () => jest.spyOn(logger, 'info').mockImplementation(() => undefined);
  /** The EMF lines published, as Powertools would print them. */
  const publishedLines = () => {
    const lines: Emf[] = [];
    jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      lines.push(metrics.serializeMetrics() as unknown as Emf);
      metrics.clearMetrics();
      metrics.clearMetadata();
      return metrics;
    });
    return lines;
  };

  it("rides on the invocation's EMF line when the batch went well: no second line, zero counts left out, metrics unchanged", () => {
    const info = quietInfo();
    const lines = publishedLines();
    count(METRICS.deliveriesSucceeded);
    logBatchSummary('delivery batch done', { messages: 1, delivered: 1, failed: 0, deferred: 0 });
    expect(info).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    const emf = lines[0]!;
    expect(emf).toMatchObject({ message: 'delivery batch done', messages: 1, delivered: 1, DeliveriesSucceeded: 1, service: 'processa', stack: 'local' });
    expect(emf).not.toHaveProperty('failed');
    expect(emf).not.toHaveProperty('deferred');
    expect(emf._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toEqual([METRICS.deliveriesSucceeded]);
  });

  it('is published at once, so two invocations overlapping in one process each keep their own summary', () => {
    const info = quietInfo();
    const lines = publishedLines();
    // Invocation A and B count into the one shared metrics object, then A ends first.
    count(METRICS.deliveriesSucceeded);
    count(METRICS.webhooksEnqueued);
    logBatchSummary('delivery batch done', { messages: 1, delivered: 1, failed: 0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ message: 'delivery batch done', messages: 1 });
    // B's summary does not land on A's line, and A's does not linger for B's: B, with nothing left
    // to publish, writes its own line.
    logBatchSummary('stream batch fanned out', { records: 3, failed: 0 });
    expect(lines).toHaveLength(1);
    expect(info).toHaveBeenCalledWith('stream batch fanned out', { records: 3, failed: 0 });
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('gets its own INFO line, whole, when anything in the batch failed', () => {
    const info = quietInfo();
    count(METRICS.deliveriesFailed);
    logBatchSummary('delivery batch done', { messages: 2, delivered: 1, failed: 1 });
    expect(info).toHaveBeenCalledWith('delivery batch done', { messages: 2, delivered: 1, failed: 1 });
    expect(metrics.serializeMetrics()).not.toHaveProperty('message');
  });

  it('gets its own INFO line when metrics are off (the local runtime) or none were recorded', () => {
    const info = quietInfo();
    logBatchSummary('stream batch fanned out', { records: 1, failed: 0 });
    expect(info).toHaveBeenCalledTimes(1);
    // Powertools' own isDisabled() this time: POWERTOOLS_METRICS_DISABLED=true, as in the local runtime.
    jest.mocked((metrics as unknown as { isDisabled(): boolean }).isDisabled).mockRestore();
    count(METRICS.webhooksEnqueued);
    logBatchSummary('stream batch fanned out', { records: 1, failed: 0 });
    expect(info).toHaveBeenCalledTimes(2);
  });

  it("takes lower-case counts only: metadata named like one of the line's metrics makes Powertools throw at publish", () => {
    // @ts-expect-error metric names are PascalCase, so a summary's keys may not be
    const clash: BatchSummaryFields = { DeliveriesSucceeded: 1, failed: 0 };
    count(METRICS.deliveriesSucceeded);
    metrics.addMetadata(METRICS.deliveriesSucceeded, String(Object.values(clash)[0]));
    expect(() => metrics.serializeMetrics()).toThrow(/collision/);
  });

  it('writes nothing at a log level above INFO', () => {
    const info = jest.spyOn(logger, 'info');
    logger.setLogLevel('WARN');
    count(METRICS.webhooksEnqueued);
    logBatchSummary('stream batch fanned out', { records: 1, failed: 0 });
    expect(info).not.toHaveBeenCalled();
    expect(metrics.serializeMetrics()).not.toHaveProperty('message');
  });
});
