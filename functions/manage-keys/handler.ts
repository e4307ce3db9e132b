import { z } from 'zod';
import { createApiKey, createKeySchema, publicKey, revokeApiKey } from '../../shared/domain/api-keys.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import { apiKeyStoreFromEnv } from '../../shared/stores.js';

const keys = apiKeyStoreFromEnv();

const listQuerySchema = z.strictObject({
  limit: z.string().regex(/^\d+$/, { message: 'must be a whole number' }).transform(Number).pipe(z.number().int().min(1).max(100)).optional(),
  cursor: z.string().max(2048).optional(),
});

export const handler = apiHandler({ keys }, {
  'POST /v1/keys': async (event) => {
    const input = parseOrThrow(createKeySchema, event.jsonBody);
    return json(201, await createApiKey(keys, input, event.actor.keyId));
  },
  'GET /v1/keys': async (event) => {
    const query = parseOrThrow(listQuerySchema, event.queryStringParameters ?? {});
    const page = await keys.list(query.limit ?? 50, query.cursor);
    return json(200, { items: page.items.map(publicKey), nextCursor: page.nextCursor ?? null });
  },
  'DELETE /v1/keys/{id}': async (event) => json(200, await revokeApiKey(keys, pathParameter(event, 'id'))),
});
