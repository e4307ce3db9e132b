import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { queueUrlFromEnv } from '../../shared/config.js';
import { count, logger, publishMetrics, METRICS, milliseconds, tracer } from '../../shared/observability.js';
import { sqsClient } from '../../shared/store/sqs-queues.js';
import { deliveryLogStoreFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { deliveryPolicyFromEnv } from '../../shared/webhooks/config.js';
import { attemptDelivery } from '../../shared/webhooks/deliver.js';
import type { DeliveryAttempt } from '../../shared/webhooks/delivery-log.js';
import { parseDeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { createPoster } from '../../shared/webhooks/http-post.js';

const endpoints = endpointStoreFromEnv();
const deliveryLog = deliveryLogStoreFromEnv();
const queueUrl = queueUrlFromEnv('deliveries');
const policy = deliveryPolicyFromEnv();
const post = createPoster(urlPolicyFromEnv());
const processor = new BatchProcessor(EventType.SQS);

/** Thrown to report a message as failed after its visibility (backoff) was set. */
class RetryLater extends Error {}

/**
 * Delivery queue → signed POST. Messages are independent: each succeeds, or is reported as a
 * batch item failure after its visibility timeout was set to the backoff delay, so one failing
 * endpoint never holds up or repeats deliveries to the others. After the last attempt the
 * queue's redrive policy moves the message to the DLQ. Log writes are batched per invocation.
 */
export const handler = middy(async (event: SQSEvent, context: Context) => {
  const endpointCache = new Map<string, Promise<WebhookEndpoint | undefined>>();
  const endpointFor = (id: string) => {
    let found = endpointCache.get(id);
    if (!found) endpointCache.set(id, (found = endpoints.get(id)));
    return found;
  };
  const attempts: DeliveryAttempt[] = [];
  const visibility: Array<{ receiptHandle: string; seconds: number }> = [];

  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = parseDeliveryMessage(record.body);
      if (!message) {
        // Not ours or corrupt: it can never be delivered, so keep it out of the retry loop.
        logger.error('unreadable delivery message dropped', { messageId: record.messageId });
        return;
      }
      const attemptNumber = Number(record.attributes.ApproximateReceiveCount) || 1;
      const action = await attemptDelivery(message, attemptNumber, await endpointFor(message.endpointId), { post, policy });
      const keys = { eventId: message.eventId, draftId: message.draftId, endpointId: message.endpointId, attempt: attemptNumber };
      switch (action.kind) {
        case 'dropped':
          logger.warn('endpoint no longer exists; delivery dropped', keys);
          return;
        case 'delivered':
          attempts.push(action.attempt);
          count(METRICS.deliveriesSucceeded);
          milliseconds(METRICS.deliveryDuration, action.attempt.durationMs);
          milliseconds(METRICS.deliveryLag, Date.now() - Number(record.attributes.SentTimestamp));
          logger.info('webhook delivered', { ...keys, httpStatus: action.attempt.httpStatus, durationMs: action.attempt.durationMs });
          return;
        case 'retry':
          attempts.push(action.attempt);
          count(METRICS.deliveriesFailed);
          visibility.push({ receiptHandle: record.receiptHandle, seconds: action.delaySeconds });
          logger.warn('webhook attempt failed; will retry', { ...keys, error: action.attempt.error, retryInSeconds: action.delaySeconds });
          throw new RetryLater(action.attempt.error ?? 'failed');
        case 'dead':
          attempts.push(action.attempt);
          count(METRICS.deliveriesFailed);
          count(METRICS.deliveriesDead);
          // Visible again at once, so SQS moves it to the DLQ on its next receive.
          visibility.push({ receiptHandle: record.receiptHandle, seconds: 0 });
          logger.error('webhook delivery dead after last attempt', { ...keys, error: action.attempt.error });
          throw new RetryLater(action.attempt.error ?? 'dead');
      }
    },
    processor,
    { context, throwOnFullBatchFailure: false },
  );

  await Promise.all([
    setVisibility(visibility),
    deliveryLog.record(attempts).catch((error: unknown) => {
      // Deliveries already happened; a lost log line must not make them repeat.
      logger.error('delivery log write failed', { error: error as Error, attempts: attempts.length });
    }),
  ]);
  return response;
}).use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics());

async function setVisibility(changes: Array<{ receiptHandle: string; seconds: number }>) {
  for (let i = 0; i < changes.length; i += 10) {
    const batch = changes.slice(i, i + 10);
    await sqsClient().send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((c, j) => ({ Id: String(j), ReceiptHandle: c.receiptHandle, VisibilityTimeout: c.seconds })),
      }),
    );
  }
}
