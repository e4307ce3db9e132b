import { createApiKey, createKeySchema, publicKey, revokeApiKey, updateApiKey, updateKeySchema } from '../../shared/domain/api-keys.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { pageQuerySchema } from '../../shared/http/query.js';
import { json } from '../../shared/http/responses.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';

const keys = apiKeyStoreFromEnv();

export const handler = apiHandler(
  'manageKeys',
  { keys },
  {
    'POST /v1/keys': async (event) => {
      const input = parseOrThrow(createKeySchema, event.jsonBody);
      return json(201, await createApiKey(keys, input, event.actor.keyId));
    },
    'GET /v1/keys': async (event) => {
      const query = parseOrThrow(pageQuerySchema, event.queryStringParameters ?? {});
      const page = await keys.list(query.limit ?? 50, query.cursor);
      return json(200, { items: page.items.map(publicKey), nextCursor: page.nextCursor ?? null });
    },
    'PATCH /v1/keys/{id}': async (event) => json(200, await updateApiKey(keys, pathParameter(event, 'id'), parseOrThrow(updateKeySchema, event.jsonBody))),
    'DELETE /v1/keys/{id}': async (event) => json(200, await revokeApiKey(keys, pathParameter(event, 'id'))),
  },
);
