/**
 * The store factories (shared/store-factories.ts), plus what wires operational events to the
 * stores. The API key and session factories are not re-exported: their modules build schemas when
 * loaded, so functions import shared/auth-store-factories.ts only when they check keys.
 */
export * from './store-factories.js';
import { count, logger, METRICS } from './observability.js';
import { deadLetterQueueFromEnv, deliveryLogStoreFromEnv, deliveryQueueFromEnv, deliveryStateStoreFromEnv, endpointStoreFromEnv } from './store-factories.js';
import { queueUrlFromEnv } from './config.js';
import { SqsOperatorNoticeQueue } from './store/operator-notice-queue.js';
import { sqsClient } from './store/sqs-queues.js';
import type { WebhookEvent } from './webhooks/events.js';
import {
  announcesToSubscribers,
  deliveryExhaustedEvent,
  emitOperationalEvent,
  type DeadDelivery,
  type EmitResult,
  type OperationalEventDeps,
} from './webhooks/operational-events.js';

/** Logs and counts what an operational event could not reach: it never fails the work that caused it. */
export function reportOperationalEvent(event: WebhookEvent, { queued, notified, errors }: EmitResult): void {
  for (const { to, error } of errors) {
    count(METRICS.operationalEventsFailed);
    logger.error('operational event not sent', { eventId: event.id, eventType: event.type, to, error: error as Error });
  }
  logger.info('operational event sent', { eventId: event.id, eventType: event.type, notified, endpoints: queued.length });
}

/** Operator notices, queued for the notifications worker (which alone publishes them). */
export const operatorNoticeQueueFromEnv = () => new SqsOperatorNoticeQueue(sqsClient(), queueUrlFromEnv('notifications'));

/**
 * Where operational events go: the operator (queued for the notifications worker, which publishes
 * to the alarm topic, or the local outbox) and subscribed endpoints, through the delivery queues.
 */
export const operationalEventDepsFromEnv = (): OperationalEventDeps => {
  const endpoints = endpointStoreFromEnv();
  return { endpoints: () => endpoints.listAll(), queue: deliveryQueueFromEnv(), states: deliveryStateStoreFromEnv(), notifier: operatorNoticeQueueFromEnv() };
};

/**
 * What redrive works with: the delivery states (the record of dead deliveries), the DLQ (their
 * alarm copies) and the log; a delivery its DLQ sweep finds dead is announced (delivery.exhausted).
 */
export const deadDeliveriesFromEnv = () => {
  const announceTo = operationalEventDepsFromEnv();
  return {
    states: deliveryStateStoreFromEnv(),
    dlq: deadLetterQueueFromEnv(),
    log: deliveryLogStoreFromEnv(),
    // Operator notices SQS dead-lettered go back to the notifications queue (this function may send there).
    notices: announceTo.notifier,
    announce: async (dead: DeadDelivery) => {
      const event = deliveryExhaustedEvent(dead);
      reportOperationalEvent(event, await emitOperationalEvent(event, announceTo, { subscribers: announcesToSubscribers(dead.message) }));
    },
  };
};
