import { DynamoApiKeyStore } from './store/api-keys-store.js';
import { DynamoEndpointHealthStore } from './store/endpoint-health-store.js';
import { documentClient } from './store/dynamo-client.js';
import { DynamoDraftStore } from './store/drafts-store.js';
import { queueUrlFromEnv, tableNameFromEnv } from './config.js';
import { DynamoDeliveryLogStore, DynamoDeliveryStateStore } from './store/deliveries-store.js';
import { SqsDeadLetterQueue, SqsDeliveryQueue, sqsClient } from './store/sqs-queues.js';
import { DynamoEndpointStore } from './store/webhooks-store.js';
import { DynamoSessionStore } from './store/sessions-store.js';

/** Store and queue factories for handlers: each reads its table names from the environment once, at cold start. */
/** `idempotency`: also the idempotency table, for idempotent creates; only createDraft is bound to it. */
export const draftStoreFromEnv = (options: { idempotency?: boolean } = {}) =>
  new DynamoDraftStore(documentClient(), tableNameFromEnv('drafts'), options.idempotency ? tableNameFromEnv('idempotency') : undefined);
export const apiKeyStoreFromEnv = () => new DynamoApiKeyStore(documentClient(), tableNameFromEnv('apiKeys'));

export const endpointStoreFromEnv = () => new DynamoEndpointStore(documentClient(), tableNameFromEnv('webhooks'));
export const deliveryLogStoreFromEnv = () => new DynamoDeliveryLogStore(documentClient(), tableNameFromEnv('deliveries'));
export const deliveryStateStoreFromEnv = () => new DynamoDeliveryStateStore(documentClient(), tableNameFromEnv('deliveries'));
export const endpointHealthStoreFromEnv = () => new DynamoEndpointHealthStore(documentClient(), tableNameFromEnv('deliveries'));
export const deliveryQueueFromEnv = () => new SqsDeliveryQueue(sqsClient(), queueUrlFromEnv('deliveries'));
export const deadLetterQueueFromEnv = () => new SqsDeadLetterQueue(sqsClient(), queueUrlFromEnv('deliveriesDlq'));
/** What redrive works with: the delivery states (the record of dead deliveries), the DLQ (their alarm copies) and the log. */
export const deadDeliveriesFromEnv = () => ({ states: deliveryStateStoreFromEnv(), dlq: deadLetterQueueFromEnv(), log: deliveryLogStoreFromEnv() });
export const sessionStoreFromEnv = () => new DynamoSessionStore(documentClient(), tableNameFromEnv('sessions'));
