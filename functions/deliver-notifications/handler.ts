import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliveryRetry } from '../../shared/webhooks/delivery-policy.js';
import { logRequestId } from '../../shared/log-request-id.js';
import { logger, publishMetrics, tracer } from '../../shared/observability.js';
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
import { publishNotices, splitNotices } from '../../shared/notifications/operator-notice-message.js';
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
  // Slack and email channels (targetOf); webhook endpoints' messages are forwarded to the deliveries queue.
  target: 'channel',
  breaker: {
    store: breakerStoreFromEnv(),
    policy: breakerPolicyFromEnv(policy.timeoutMs),
    onError: (error: unknown) => logger.error('circuit breaker not read or updated', { error: error as Error }),
  },
  backstopReceives: deliveryRetry.backstopReceives,
});

/**
 * Notifications queue → Slack messages and emails of notification channels (the shared delivery
 * worker, with the channel sender as its last step), and operator notices → the alarm topic.
 */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { notices, deliveries } = splitNotices(event.Records);
  const [published, delivered] = await Promise.all([
    publishNotices(notices, notifier, deliveryRetry.backstopReceives),
    deliveries.length > 0 ? deliver({ ...event, Records: deliveries }, context) : Promise.resolve<SQSBatchResponse>({ batchItemFailures: [] }),
  ]);
  return { batchItemFailures: [...delivered.batchItemFailures, ...published.batchItemFailures] };
})
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
