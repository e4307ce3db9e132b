import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'processa';

/** The namespace of every custom metric; infra/stacks/operations.ts alarms on it. */
export const METRICS_NAMESPACE = 'Processa';

/**
 * The default dimension that keeps two stacks in one account apart: `service` is the same in all
 * of them, so without it a dev stack's dead deliveries would trip prod's alarms. Every alarm on a
 * custom metric filters on its own stack's value.
 */
export const STACK_DIMENSION = 'stack';

/** Set on every function by the CDK stack (infra/stacks/operations.ts) to the stack's name. */
export const STACK_NAME_ENV = 'PROCESSA_STACK_NAME';

/** The `stack` dimension where no stack set one: the local runtime, tests, benches. */
export const LOCAL_STACK_NAME = 'local';

/** The stack dimension's value for an environment: its PROCESSA_STACK_NAME, or `local` when unset or blank. */
export const stackNameFrom = (env: NodeJS.ProcessEnv): string => env[STACK_NAME_ENV]?.trim() || LOCAL_STACK_NAME;

/**
 * A Metrics instance publishing under the Processa namespace with the `service` and `stack`
 * default dimensions. POWERTOOLS_METRICS_DISABLED still applies (the local runtime sets it).
 */
export const createMetrics = (env: NodeJS.ProcessEnv = process.env): Metrics =>
  new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'processa',
    defaultDimensions: { [STACK_DIMENSION]: stackNameFrom(env) },
  });

/** One structured JSON logger for every function; POWERTOOLS_LOG_LEVEL sets the level. */
export const logger = new Logger({ serviceName });

/**
 * CloudWatch metrics as EMF log lines, flushed by publishMetrics() after each invocation. Each
 * carries the dimensions service and stack; alarms must name both, since CloudWatch identifies a
 * metric by its whole dimension set.
 */
export const metrics = createMetrics();

/** X-Ray tracing; a no-op outside Lambda (the local runtime, tests). */
export const tracer = new Tracer({ serviceName });

/** Metric names, shared with the dashboard and alarms in infra/stacks/operations.ts. */
export const METRICS = {
  draftsCreated: 'DraftsCreated',
  draftsApproved: 'DraftsApproved',
  draftsRejected: 'DraftsRejected',
  draftsExpired: 'DraftsExpired',
  webhooksEnqueued: 'WebhooksEnqueued',
  /**
   * Deliveries enqueued for a new draft (draft.created): a metric of its own, so that
   * WebhooksEnqueued's SampleCount keeps counting decisions handled (the DecisionsStalled alarm reads it).
   */
  createdEventsEnqueued: 'CreatedEventsEnqueued',
  deliveriesSucceeded: 'DeliveriesSucceeded',
  deliveriesFailed: 'DeliveriesFailed',
  deliveriesDead: 'DeliveriesDead',
  /** An endpoint the system disabled (its receiver answered 410 Gone). */
  endpointsDisabled: 'EndpointsDisabled',
  /** An operational event (endpoint.disabled, delivery.exhausted) that could not be sent to the operator or queued for subscribers. */
  operationalEventsFailed: 'OperationalEventsFailed',
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

/**
 * Whether Powertools publishes nothing (POWERTOOLS_METRICS_DISABLED, else POWERTOOLS_DEV, as it
 * decides). isDisabled() is public at runtime but protected in its types; a unit test pins it.
 */
const metricsOff = (): boolean => (metrics as unknown as { isDisabled(): boolean }).isDisabled();

/**
 * A batch summary's counts. Lower-case keys: metric names are PascalCase, and metadata named like
 * a metric of the line makes Powertools throw when it publishes (failing the whole batch).
 */
export type BatchSummaryFields = Record<Lowercase<string>, number> & { failed: number };

/**
 * A queue or stream batch's one summary line. When the invocation has metrics to publish, the
 * summary rides on that EMF line as metadata, published there and then: one line per batch instead of two (the second line's
 * level, timestamp, service and request id were ~150 B of a ~250 B line). It goes on its own INFO
 * line, with the request id that ties it to the failures' lines, when anything failed, when
 * metrics are off (the local runtime) or none were recorded. Nothing at a level above INFO.
 */
export function logBatchSummary(message: string, fields: BatchSummaryFields): void {
  if (logger.level > LogLevelThreshold.INFO) return;
  if (fields.failed > 0 || metricsOff() || !metrics.hasStoredMetrics()) {
    logger.info(message, fields);
    return;
  }
  metrics.addMetadata('message', message);
  // Zero counts are left out (a missing count is 0). Powertools types metadata as strings but
  // writes any JSON value: numbers stay numbers for Logs Insights.
  for (const [key, value] of Object.entries(fields)) if (value !== 0) metrics.addMetadata(key, value as unknown as string);
  // Published at once, in the same turn: invocations may overlap in one process (the metrics object is
  // shared), and a summary left for the end-of-invocation flush could ride on another invocation's line.
  metrics.publishStoredMetrics();
}
