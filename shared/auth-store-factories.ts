import { tableNameFromEnv } from './config.js';
import { DynamoApiKeyStore } from './store/api-keys-store.js';
import { documentClient } from './store/dynamo-client.js';
import { DynamoSessionStore } from './store/sessions-store.js';

// Apart from shared/store-factories.ts: the API key store's module builds zod schemas when loaded, so
// the functions that authenticate no one (fan-out, expiry sweep, delivery) do not bundle them.
/** The API key and session stores, for the functions that authenticate callers. */
export const apiKeyStoreFromEnv = () => new DynamoApiKeyStore(documentClient(), tableNameFromEnv('apiKeys'));
export const sessionStoreFromEnv = () => new DynamoSessionStore(documentClient(), tableNameFromEnv('sessions'));
