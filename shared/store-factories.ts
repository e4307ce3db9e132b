import { DynamoEndpointHealthStore } from './store/endpoint-health-store.js';
import { DynamoBreakerStore } from './store/breaker-store.js';
import { documentClient } from './store/dynamo-client.js';
import { DynamoDraftStore } from './store/drafts-store.js';
import { DynamoPendingDrafts } from './store/pending-drafts-store.js';
import { queueUrlFromEnv, tableNameFromEnv } from './config.js';
import { DynamoDeliveryLogStore, DynamoDeliveryStateStore } from './store/deliveries-store.js';
import { SqsDeadLetterQueue, SqsDeliveryQueue, SqsRetryQueue, sqsClient } from './store/sqs-queues.js';
import { DynamoEndpointStore } from './store/webhooks-store.js';

// Apart from shared/stores.ts (which adds the operational-event wiring) so that a function that only
// reads and writes drafts or keys does not bundle the webhook machinery (URL guard, signing) with it.
/** Store and queue factories for handlers (the API key and session stores: auth-store-factories.ts): each reads its table names from the environment once, at cold start. */
/**
 * `idempotency`: also the idempotency table, for idempotent creates; only createDraft is bound to it.
 * `deciderKeys`: also the API keys table, for functions where keys decide (each decision checks its key as it is written).
 */
export const draftStoreFromEnv = (options: { idempotency?: boolean; deciderKeys?: boolean } = {}) =>
  new DynamoDraftStore(
    documentClient(),
    tableNameFromEnv('drafts'),
    options.idempotency ? tableNameFromEnv('idempotency') : undefined,
    options.deciderKeys ? tableNameFromEnv('apiKeys') : undefined,
  );
/** Pending drafts by creation time (the by-status index), for the reminder sweep. */
export const pendingDraftsFromEnv = () => new DynamoPendingDrafts(documentClient(), tableNameFromEnv('drafts'));

export const endpointStoreFromEnv = () => new DynamoEndpointStore(documentClient(), tableNameFromEnv('webhooks'));
export const deliveryLogStoreFromEnv = () => new DynamoDeliveryLogStore(documentClient(), tableNameFromEnv('deliveries'));
export const deliveryStateStoreFromEnv = () => new DynamoDeliveryStateStore(documentClient(), tableNameFromEnv('deliveries'));
export const breakerStoreFromEnv = () => new DynamoBreakerStore(documentClient(), tableNameFromEnv('deliveries'));
export const endpointHealthStoreFromEnv = () => new DynamoEndpointHealthStore(documentClient(), tableNameFromEnv('deliveries'));
/** Sends each message to its target's queue: deliveries (webhook endpoints) or notifications (channels). */
export const deliveryQueueFromEnv = () => new SqsDeliveryQueue(sqsClient(), queueUrlFromEnv('deliveries'), queueUrlFromEnv('notifications'));
/** The notifications queue alone, for senders of channels' messages only (the reminder sweep). */
export const channelQueueFromEnv = () => new SqsDeliveryQueue(sqsClient(), queueUrlFromEnv('notifications'));
/** A worker's backoff on the queue it consumes. */
export const retryQueueFromEnv = (queue: 'deliveries' | 'notifications') => new SqsRetryQueue(sqsClient(), queueUrlFromEnv(queue));
export const deadLetterQueueFromEnv = () => new SqsDeadLetterQueue(sqsClient(), queueUrlFromEnv('deliveriesDlq'));
