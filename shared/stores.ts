import { DynamoApiKeyStore } from './store/api-keys-store.js';
import { documentClient } from './store/dynamo-client.js';
import { DynamoDraftStore } from './store/drafts-store.js';
import { tableNameFromEnv } from './config.js';

/** Store factories for handlers: each reads its table names from the environment once, at cold start. */
export const draftStoreFromEnv = () => new DynamoDraftStore(documentClient(), tableNameFromEnv('drafts'), tableNameFromEnv('idempotency'));
export const apiKeyStoreFromEnv = () => new DynamoApiKeyStore(documentClient(), tableNameFromEnv('apiKeys'));
