import { createApiKey, revokeApiKey } from '../../shared/domain/api-keys.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';

/** One key per role plus a revoked one, written straight to the keys table. */
export async function seedKeys() {
  const store = apiKeyStoreFromEnv();
  const [agent, reviewer, admin, revoked] = await Promise.all([
    createApiKey(store, { name: 'bot', role: 'agent' }, null),
    createApiKey(store, { name: 'alice', role: 'reviewer' }, null),
    createApiKey(store, { name: 'root', role: 'admin' }, null),
    createApiKey(store, { name: 'gone', role: 'reviewer' }, null),
  ]);
  await revokeApiKey(store, revoked!.id);
  return { agent: agent!, reviewer: reviewer!, admin: admin!, revoked: revoked! };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
