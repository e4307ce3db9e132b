import { keyDirectory } from '../../shared/domain/api-keys.js';
import { createDraftSchema } from '../../shared/domain/draft.js';
import { createDraft } from '../../shared/domain/drafts-service.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { header } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import { count, METRICS } from '../../shared/observability.js';
import { draftView } from '../../shared/http/views.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/store-factories.js';

const drafts = draftStoreFromEnv({ idempotency: true });
const keys = apiKeyStoreFromEnv();
/** reviewers and requiredApprovals are checked against the keys as they are at creation. */
const directory = keyDirectory(keys);

export const handler = apiHandler(
  'createDraft',
  { keys },
  {
    'POST /v1/drafts': async (event) => {
      const input = parseOrThrow(createDraftSchema, event.jsonBody);
      const { draft, replayed } = await createDraft(drafts, input, event.actor, { idempotencyKey: header(event, 'idempotency-key'), directory });
      if (!replayed) count(METRICS.draftsCreated);
      return json(201, draftView(draft, event), replayed ? { 'idempotent-replayed': 'true' } : {});
    },
  },
);
