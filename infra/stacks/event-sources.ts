import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  deliveryRetry,
  functions,
  queueConsumers,
  queues,
  schedules,
  streamConsumer,
  type FunctionDefinition,
  type FunctionName,
  type QueueDefinition,
  type QueueName,
  type TableName,
} from '../app-definition.js';

/** AWS's recommendation for an SQS event source: visibility timeout at least 6× the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** SQS caps a message's visibility timeout (and so ChangeMessageVisibility) at 12 hours. */
export const SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/** The parts of the definition the event-source limits depend on; the real one by default. */
export interface EventSourceLimitsInput {
  functions: Record<string, Pick<FunctionDefinition, 'timeoutSeconds'>>;
  queues: Record<string, Pick<QueueDefinition, 'visibilityTimeoutSeconds' | 'maxReceiveCount'>>;
  queueConsumers: ReadonlyArray<{ function: string; queue: string }>;
  deliveryRetry: { baseSeconds: number; maxBackoffSeconds: number; timeoutMs: number; maxAttempts: number };
  /** The first retry delay actually deployed (stack prop / context). */
  retryBaseSeconds: number;
  /** The per-attempt HTTP timeout actually deployed (stack prop / context). */
  webhookTimeoutMs: number;
}

/**
 * Checks, at synth time, the AWS limits a deploy would otherwise fail on (or silently break):
 *  - Lambda refuses an SQS event source whose queue's visibility timeout is shorter than the
 *    function's timeout (CreateEventSourceMapping: "Queue visibility timeout … is less than
 *    Function timeout"), and AWS asks for 6× it;
 *  - the queue's maxReceiveCount is a backstop above the delivery's own attempt count;
 *  - the backoff sets visibility with ChangeMessageVisibility, which accepts at most 12 hours;
 *  - a webhook attempt that outlives the delivery function would be cut off by Lambda.
 */
export function assertEventSourceLimits(input: EventSourceLimitsInput): void {
  for (const consumer of input.queueConsumers) assertQueueConsumerLimits(input, consumer);
  const { maxBackoffSeconds } = input.deliveryRetry;
  if (!Number.isInteger(maxBackoffSeconds) || maxBackoffSeconds < 1 || maxBackoffSeconds > SQS_MAX_VISIBILITY_SECONDS) {
    throw new Error(
      `deliveryRetry.maxBackoffSeconds must be a whole number from 1 to ${SQS_MAX_VISIBILITY_SECONDS} (the SQS visibility ` +
        `timeout limit), got ${maxBackoffSeconds}`,
    );
  }
  if (input.retryBaseSeconds > maxBackoffSeconds) {
    throw new Error(`retryBaseSeconds (${input.retryBaseSeconds}) exceeds deliveryRetry.maxBackoffSeconds (${maxBackoffSeconds})`);
  }
}

/** One queue → function mapping's limits (every delivery worker runs the same retry ladder). */
function assertQueueConsumerLimits(input: EventSourceLimitsInput, queueConsumer: { function: string; queue: string }): void {
  const consumerFn = input.functions[queueConsumer.function];
  const consumedQueue = input.queues[queueConsumer.queue];
  if (!consumerFn) throw new Error(`queueConsumer names function "${queueConsumer.function}", which is not defined`);
  if (!consumedQueue) throw new Error(`queueConsumer names queue "${queueConsumer.queue}", which is not defined`);
  if (consumedQueue.visibilityTimeoutSeconds < consumerFn.timeoutSeconds) {
    throw new Error(
      `Queue ${queueConsumer.queue} has a visibility timeout of ${consumedQueue.visibilityTimeoutSeconds} s, shorter than ` +
        `the ${consumerFn.timeoutSeconds} s timeout of ${queueConsumer.function}, which consumes it; Lambda rejects such an ` +
        `event source. Raise visibilityTimeoutSeconds (AWS recommends 6× the function timeout) or lower timeoutSeconds.`,
    );
  }
  // Lambda accepts less, but AWS asks for 6×: a throttled or retried batch must not become visible mid-attempt.
  if (consumedQueue.visibilityTimeoutSeconds < VISIBILITY_TIMEOUT_FACTOR * consumerFn.timeoutSeconds) {
    throw new Error(
      `Queue ${queueConsumer.queue} has a visibility timeout of ${consumedQueue.visibilityTimeoutSeconds} s, less than ` +
        `${VISIBILITY_TIMEOUT_FACTOR}× the ${consumerFn.timeoutSeconds} s timeout of ${queueConsumer.function} (AWS's recommendation for SQS event sources)`,
    );
  }
  // The receive count is only a backstop: receives lost to throttling are not attempts, so it needs headroom above them.
  const backstop = consumedQueue.maxReceiveCount;
  if (backstop !== undefined && backstop < input.deliveryRetry.maxAttempts + 2) {
    throw new Error(
      `Queue ${queueConsumer.queue} has maxReceiveCount ${backstop}: as a backstop it must stay well above the ` +
        `${input.deliveryRetry.maxAttempts} attempts the delivery counts itself (at least ${input.deliveryRetry.maxAttempts + 2})`,
    );
  }
  if (input.webhookTimeoutMs >= consumerFn.timeoutSeconds * 1000) {
    throw new Error(
      `webhookTimeoutMs (${input.webhookTimeoutMs}) must be shorter than the ${consumerFn.timeoutSeconds} s timeout of ` +
        `${queueConsumer.function}, or Lambda cuts off an attempt before it can be logged and retried`,
    );
  }
}

export const definedEventSourceLimits = (retryBaseSeconds: number, webhookTimeoutMs: number): EventSourceLimitsInput => ({
  functions,
  queues,
  queueConsumers,
  deliveryRetry,
  retryBaseSeconds,
  webhookTimeoutMs,
});

export interface EventSourceTargets {
  functions: Record<FunctionName, lambda.Function>;
  tables: Record<TableName, dynamodb.ITable>;
  queues: Record<QueueName, sqs.IQueue>;
}

/**
 * The event source mappings, built from `streamConsumer` and `queueConsumers` (which the
 * local stream and queue pumps read too). Their bindings add the grants they need: stream read
 * on the table, send on the on-failure queue, consume on each delivery queue.
 */
export function addEventSources({ functions: built, tables, queues: builtQueues }: EventSourceTargets): void {
  const stream = streamConsumer;
  built[stream.function].addEventSource(
    new DynamoEventSource(tables[stream.table], {
      startingPosition: lambda.StartingPosition[stream.startingPosition],
      batchSize: stream.batchSize,
      parallelizationFactor: stream.parallelizationFactor,
      bisectBatchOnError: stream.bisectBatchOnError,
      retryAttempts: stream.retryAttempts,
      reportBatchItemFailures: stream.reportBatchItemFailures,
      onFailure: new SqsDlq(builtQueues[stream.onFailure]),
      // The definition's filters already use the event pattern syntax (leaf arrays list the
      // allowed values, keys follow the stream record: dynamodb.NewImage.status.S);
      // FilterCriteria.filter only serialises them.
      filters: stream.filters.map((filter) => lambda.FilterCriteria.filter(filter)),
    }),
  );

  for (const consumer of queueConsumers) {
    built[consumer.function].addEventSource(
      new SqsEventSource(builtQueues[consumer.queue], {
        batchSize: consumer.batchSize,
        maxBatchingWindow: consumer.maxBatchingWindowSeconds > 0 ? Duration.seconds(consumer.maxBatchingWindowSeconds) : undefined,
        maxConcurrency: consumer.maxConcurrency,
        reportBatchItemFailures: consumer.reportBatchItemFailures,
      }),
    );
  }

  // Scheduled functions (the local runtime runs the same ones on a timer).
  for (const schedule of schedules) {
    const fn = built[schedule.function];
    new events.Rule(fn, 'Schedule', {
      description: `Runs ${schedule.function} every ${schedule.rateMinutes} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(schedule.rateMinutes)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
  }
}
