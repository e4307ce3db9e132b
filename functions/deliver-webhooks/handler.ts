import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
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
  operatorNoticeQueueFromEnv,
  reportOperationalEvent,
  retryQueueFromEnv,
} from '../../shared/stores.js';
import { breakerPolicyFromEnv } from '../../shared/webhooks/circuit-breaker-config.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { deliveryPolicyFromEnv } from '../../shared/webhooks/config.js';
import { createDeliveryWorker } from '../../shared/webhooks/delivery-worker.js';
import { createPoster } from '../../shared/webhooks/http-post.js';

// Clients and configuration only: invocations may overlap in one process (the local pump runs
// several pollers; Lambda's multi-concurrency modes do too), so everything per batch lives in the worker.
const policy = deliveryPolicyFromEnv();

/**
 * Deliveries queue → signed POST to webhook endpoints (shared/webhooks/delivery-worker.ts).
 * Slack and email channels and operator notices are deliverNotifications' (the notifications
 * queue): a channel's message that comes here is forwarded there, and this function's operator
 * notices are queued for it, so this bundle holds no SES, SNS or notification code.
 */
export const handler = middy(
  createDeliveryWorker({
    endpoints: endpointStoreFromEnv(),
    deliveryLog: deliveryLogStoreFromEnv(),
    states: deliveryStateStoreFromEnv(),
    health: endpointHealthStoreFromEnv(),
    queue: deliveryQueueFromEnv(),
    retries: retryQueueFromEnv('deliveries'),
    deadLetters: deadLetterQueueFromEnv(),
    notifier: operatorNoticeQueueFromEnv(),
    reportOperationalEvent,
    policy,
    post: createPoster(urlPolicyFromEnv()),
    // Webhook endpoints (targetOf); channels' messages are forwarded to the notifications queue.
    target: 'endpoint',
    breaker: {
      store: breakerStoreFromEnv(),
      // K and the cooldown: the breakerFailures and breakerCooldownSeconds settings (context on AWS).
      policy: breakerPolicyFromEnv(policy.timeoutMs),
      // Bookkeeping: a breaker that cannot be read or written lets deliveries through, logged.
      onError: (error: unknown) => logger.error('circuit breaker not read or updated', { error: error as Error }),
    },
    backstopReceives: deliveryRetry.backstopReceives,
  }),
)
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
