import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliveryRetry } from '../../shared/webhooks/delivery-policy.js';
import { logRequestId } from '../../shared/log-request-id.js';
import { count, logger, METRICS, publishMetrics, tracer } from '../../shared/observability.js';
import {
  breakerStoreFromEnv,
  deadLetterQueueFromEnv,
  deliveryLogStoreFromEnv,
  deliveryQueueFromEnv,
  deliveryStateStoreFromEnv,
  endpointHealthStoreFromEnv,
  endpointStoreFromEnv,
  reportOperationalEvent,
  retryQueueFromEnv,
} from '../../shared/stores.js';
import { breakerPolicyFromEnv } from '../../shared/webhooks/circuit-breaker-config.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { deliveryPolicyFromEnv } from '../../shared/webhooks/config.js';
import { createDeliveryWorker } from '../../shared/webhooks/delivery-worker.js';
import { createPoster } from '../../shared/webhooks/http-post.js';
import { isChannel } from '../../shared/notifications/channels.js';
import { parseOperatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { createNotificationSender } from '../../shared/notifications/send.js';
import { decisionLinksFor } from '../../shared/notifications/email-links.js';
import { emailLinkKeyFromEnv } from '../../shared/store/email-link-key.js';
import { emailSenderFromEnv } from '../../shared/store/email-senders.js';
import { operatorNotifierFromEnv } from '../../shared/store/operator-notices.js';

// Clients and configuration only: invocations may overlap in one process, so everything per batch lives in the worker.
const policy = deliveryPolicyFromEnv();
const post = createPoster(urlPolicyFromEnv());
// The alarm topic on AWS (the log and outbox locally): the other functions queue their notices here.
const notifier = operatorNotifierFromEnv();
// Emails about a pending draft carry each recipient's own signed Approve and Reject links when a link key is configured.
const emailLinkKey = emailLinkKeyFromEnv();
const deliver = createDeliveryWorker({
  endpoints: endpointStoreFromEnv(),
  deliveryLog: deliveryLogStoreFromEnv(),
  states: deliveryStateStoreFromEnv(),
  health: endpointHealthStoreFromEnv(),
  queue: deliveryQueueFromEnv(),
  retries: retryQueueFromEnv('notifications'),
  deadLetters: deadLetterQueueFromEnv(),
  notifier,
  reportOperationalEvent,
  policy,
  post,
  // Slack and email channels: the same attempt, retry, breaker and log as webhooks; their own last step.
  sendNotification: createNotificationSender({
    post,
    ...emailSenderFromEnv(),
    ...(emailLinkKey ? { decisionLinks: decisionLinksFor(emailLinkKey) } : {}),
  }),
  accepts: isChannel,
  breaker: {
    store: breakerStoreFromEnv(),
    policy: breakerPolicyFromEnv(policy.timeoutMs),
    onError: (error: unknown) => logger.error('circuit breaker not read or updated', { error: error as Error }),
  },
  backstopReceives: deliveryRetry.backstopReceives,
});

/**
 * An operator notice is published, or reported failed so SQS brings it back; on the receive
 * before the queue's backstop it is given up (logged and counted) rather than dead-lettered: the
 * DLQ holds deliveries for redrive, and a notice is not one.
 */
async function publishNotice(record: SQSRecord, notice: NonNullable<ReturnType<typeof parseOperatorNoticeMessage>>): Promise<boolean> {
  try {
    await notifier.notify(notice);
    logger.info('operator notice published', { eventId: notice.event.id, eventType: notice.event.type });
    return true;
  } catch (error) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
    const givenUp = receiveCount >= deliveryRetry.backstopReceives - 1;
    count(METRICS.operationalEventsFailed);
    logger.error(givenUp ? 'operator notice not published; given up' : 'operator notice not published; will retry', {
      eventId: notice.event.id,
      eventType: notice.event.type,
      receiveCount,
      error: error as Error,
    });
    return givenUp;
  }
}

/**
 * Notifications queue → Slack messages and emails of notification channels (the shared delivery
 * worker, with the channel sender as its last step), and operator notices → the alarm topic.
 */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const notices = new Map<string, NonNullable<ReturnType<typeof parseOperatorNoticeMessage>>>();
  for (const record of event.Records) {
    const notice = parseOperatorNoticeMessage(record.body);
    if (notice) notices.set(record.messageId, notice);
  }
  const deliveries = event.Records.filter((record) => !notices.has(record.messageId));
  const [published, delivered] = await Promise.all([
    Promise.all(
      event.Records.filter((record) => notices.has(record.messageId)).map(async (record) => ({
        record,
        ok: await publishNotice(record, notices.get(record.messageId)!),
      })),
    ),
    deliveries.length > 0 ? deliver({ ...event, Records: deliveries }, context) : Promise.resolve<SQSBatchResponse>({ batchItemFailures: [] }),
  ]);
  return {
    batchItemFailures: [...delivered.batchItemFailures, ...published.filter(({ ok }) => !ok).map(({ record }) => ({ itemIdentifier: record.messageId }))],
  };
})
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
