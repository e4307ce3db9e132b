import { DynamoApiKeyStore } from './store/api-keys-store.js';
import { DynamoEndpointHealthStore } from './store/endpoint-health-store.js';
import { DynamoBreakerStore } from './store/breaker-store.js';
import { documentClient } from './store/dynamo-client.js';
import { DynamoDraftStore } from './store/drafts-store.js';
import { DynamoPendingDrafts } from './store/pending-drafts-store.js';
import { queueUrlFromEnv, tableNameFromEnv } from './config.js';
import { DynamoDeliveryLogStore, DynamoDeliveryStateStore } from './store/deliveries-store.js';
import { SqsDeadLetterQueue, SqsDeliveryQueue, sqsClient } from './store/sqs-queues.js';
import { DynamoEndpointStore } from './store/webhooks-store.js';
import { DynamoSessionStore } from './store/sessions-store.js';
import { count, logger, METRICS } from './observability.js';
import { operatorNotifierFromEnv } from './store/operator-notices.js';
import type { WebhookEvent } from './webhooks/events.js';
import {
  announcesToSubscribers,
  deliveryExhaustedEvent,
  emitOperationalEvent,
  type DeadDelivery,
  type EmitResult,
  type OperationalEventDeps,
} from './webhooks/operational-events.js';

/** Store and queue factories for handlers: each reads its table names from the environment once, at cold start. */
/** `idempotency`: also the idempotency table, for idempotent creates; only createDraft is bound to it. */
export const draftStoreFromEnv = (options: { idempotency?: boolean } = {}) =>
  new DynamoDraftStore(documentClient(), tableNameFromEnv('drafts'), options.idempotency ? tableNameFromEnv('idempotency') : undefined);
/** Pending drafts by creation time (the by-status index), for the reminder sweep. */
export const pendingDraftsFromEnv = () => new DynamoPendingDrafts(documentClient(), tableNameFromEnv('drafts'));
export const apiKeyStoreFromEnv = () => new DynamoApiKeyStore(documentClient(), tableNameFromEnv('apiKeys'));

export const endpointStoreFromEnv = () => new DynamoEndpointStore(documentClient(), tableNameFromEnv('webhooks'));
export const deliveryLogStoreFromEnv = () => new DynamoDeliveryLogStore(documentClient(), tableNameFromEnv('deliveries'));
export const deliveryStateStoreFromEnv = () => new DynamoDeliveryStateStore(documentClient(), tableNameFromEnv('deliveries'));
export const breakerStoreFromEnv = () => new DynamoBreakerStore(documentClient(), tableNameFromEnv('deliveries'));
export const endpointHealthStoreFromEnv = () => new DynamoEndpointHealthStore(documentClient(), tableNameFromEnv('deliveries'));
export const deliveryQueueFromEnv = () => new SqsDeliveryQueue(sqsClient(), queueUrlFromEnv('deliveries'));
export const deadLetterQueueFromEnv = () => new SqsDeadLetterQueue(sqsClient(), queueUrlFromEnv('deliveriesDlq'));

/** Logs and counts what an operational event could not reach: it never fails the work that caused it. */
export function reportOperationalEvent(event: WebhookEvent, { queued, notified, errors }: EmitResult): void {
  for (const { to, error } of errors) {
    count(METRICS.operationalEventsFailed);
    logger.error('operational event not sent', { eventId: event.id, eventType: event.type, to, error: error as Error });
  }
  logger.info('operational event sent', { eventId: event.id, eventType: event.type, notified, endpoints: queued.length });
}

/** Where operational events go: the operator (alarm topic, or the local outbox) and subscribed endpoints, through the delivery queue. */
export const operationalEventDepsFromEnv = (): OperationalEventDeps => {
  const endpoints = endpointStoreFromEnv();
  return { endpoints: () => endpoints.listAll(), queue: deliveryQueueFromEnv(), states: deliveryStateStoreFromEnv(), notifier: operatorNotifierFromEnv() };
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
    announce: async (dead: DeadDelivery) => {
      const event = deliveryExhaustedEvent(dead);
      reportOperationalEvent(event, await emitOperationalEvent(event, announceTo, { subscribers: announcesToSubscribers(dead.message) }));
    },
  };
};
export const sessionStoreFromEnv = () => new DynamoSessionStore(documentClient(), tableNameFromEnv('sessions'));
