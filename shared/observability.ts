import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'processa';

/** One structured JSON logger for every function; POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName });

/** CloudWatch metrics as EMF log lines, flushed by the logMetrics middleware after each invocation. */
export const metrics = new Metrics({ namespace: 'Processa', serviceName });

/** X-Ray tracing; a no-op outside Lambda (the local runtime, tests). */
export const tracer = new Tracer({ serviceName });

/** Metric names, shared with the dashboard and alarms in infra/stacks/operations.ts. */
export const METRICS = {
  draftsCreated: 'DraftsCreated',
  draftsApproved: 'DraftsApproved',
  draftsRejected: 'DraftsRejected',
  draftsExpired: 'DraftsExpired',
  webhooksEnqueued: 'WebhooksEnqueued',
  deliveriesSucceeded: 'DeliveriesSucceeded',
  deliveriesFailed: 'DeliveriesFailed',
  deliveriesDead: 'DeliveriesDead',
  /** Time of the POST itself. */
  deliveryDuration: 'DeliveryDuration',
  /** From the message's enqueueing (the decision) to its successful delivery. */
  deliveryLag: 'DeliveryLag',
} as const;

export const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);
export const milliseconds = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Milliseconds, value);

/**
 * Flushes this invocation's metrics as one EMF line, or writes nothing when it recorded none
 * (Powertools' logMetrics would log a warning on every such invocation, paid for in log bytes).
 */
export function publishMetrics() {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
