import { getDraft, listDrafts } from '../../shared/domain/drafts-service.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { listDraftsQuerySchema } from '../../shared/http/query.js';
import { json } from '../../shared/http/responses.js';
import { draftView } from '../../shared/http/views.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/store-factories.js';

const drafts = draftStoreFromEnv();

export const handler = apiHandler(
  'readDrafts',
  { keys: apiKeyStoreFromEnv() },
  {
    'GET /v1/drafts': async (event) => {
      const { assignedTo, ...rest } = parseOrThrow(listDraftsQuerySchema, event.queryStringParameters ?? {});
      // The authenticated key carries its groups (authenticate), so "me" covers drafts assigned to them too.
      const page = await listDrafts(drafts, { ...rest, ...(assignedTo === 'me' ? { assignedTo: event.actor } : {}) });
      return json(200, { items: page.items.map((d) => draftView(d, event)), nextCursor: page.nextCursor ?? null });
    },
    'GET /v1/drafts/{id}': async (event) => json(200, draftView(await getDraft(drafts, pathParameter(event, 'id')), event)),
  },
);
