import { approverKeys } from '../../shared/domain/api-keys.js';
import { approveSchema, rejectSchema } from '../../shared/domain/draft-decisions.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import { count, METRICS } from '../../shared/observability.js';
import { draftView } from '../../shared/http/views.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/store-factories.js';

const drafts = draftStoreFromEnv({ deciderKeys: true });
const keys = apiKeyStoreFromEnv();
/** Approvals by keys revoked since stop counting toward a quorum. */
const approvers = approverKeys(keys);

export const handler = apiHandler(
  'decideDraft',
  { keys },
  {
    'POST /v1/drafts/{id}/approve': async (event) => {
      const { content, approvalRound } = parseOrThrow(approveSchema, event.jsonBody);
      const draft = await decideDraft(
        drafts,
        pathParameter(event, 'id'),
        { kind: 'approve', editedContent: content, seenRound: approvalRound },
        event.actor,
        undefined,
        approvers,
      );
      // An approval short of the quorum leaves the draft pending: only the one that approves it counts as a decision.
      if (draft.status === 'approved') count(METRICS.draftsApproved);
      return json(200, draftView(draft, event));
    },
    'POST /v1/drafts/{id}/reject': async (event) => {
      const { reason } = parseOrThrow(rejectSchema, event.jsonBody);
      const draft = await decideDraft(drafts, pathParameter(event, 'id'), { kind: 'reject', reason }, event.actor);
      count(METRICS.draftsRejected);
      return json(200, draftView(draft, event));
    },
  },
);
