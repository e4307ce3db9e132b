import { needsAssignedReview, ReviewPageRequiredError } from '../../shared/domain/approvals.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { count, logger, METRICS } from '../../shared/observability.js';
import { decideByEmailLink, openEmailLink, type EmailLinkDeps } from '../../shared/notifications/email-links-decision.js';
import { cannotDecidePage, closedPage, confirmPage, decidedPage, refusedPage } from '../../shared/pages/email-decision-views.js';
import { loginCsrf, page, pageHandler, pageProblem, type PageRequest, type PageResponse } from '../../shared/pages/page-handler.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { emailLinkKeyFromEnv } from '../../shared/store/email-link-key.js';
import { DynamoEmailLinkUseStore } from '../../shared/store/email-link-uses-store.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { draftStoreFromEnv, endpointStoreFromEnv } from '../../shared/store-factories.js';

const key = emailLinkKeyFromEnv();
const deps: EmailLinkDeps = {
  key: key ?? (() => Promise.reject(new Error('No email-link key is configured (PROCESSA_EMAIL_LINK_KEY_SECRET or _FILE)'))),
  drafts: draftStoreFromEnv(),
  channels: endpointStoreFromEnv(),
  uses: new DynamoEmailLinkUseStore(documentClient(), tableNameFromEnv('sessions')),
};

const tokenOf = (request: PageRequest) => pathParameter(request.event, 'token');

/**
 * An email's Approve or Reject link. No session: the signed token is the credential, and the page
 * pipeline's double-submit cookie guards the form (GET sets it, POST must carry it back). GET never
 * decides, since mail scanners and link previews fetch links; only the form's POST does.
 */
export const handler = pageHandler(
  'emailDecisions',
  // No session and key stores: these pages never read a session (a signed-in reviewer is just a visitor here).
  undefined,
  {
    'GET /email-decisions/{token}': async (request) => {
      const token = tokenOf(request);
      const state = await openEmailLink(deps, token);
      if (state.kind === 'refused') return refused(state.reason);
      if (state.kind === 'closed') return page(200, 'Already decided', closedPage(state.draft));
      // Named reviewers or several approvals: a link cannot decide it (the POST would be refused too), so no button is offered.
      if (needsAssignedReview(state.draft))
        return page(403, 'Cannot decide here', cannotDecidePage(new ReviewPageRequiredError(state.draft.id).message, state.draft));
      const csrf = loginCsrf(request);
      return page(200, state.claims.decision === 'approve' ? 'Approve?' : 'Reject?', confirmPage({ ...state, token, csrf: csrf.token }), undefined, {
        cookies: csrf.cookies,
      });
    },

    'POST /email-decisions/{token}': async (request) => {
      const token = tokenOf(request);
      const reason = request.form.get('reason');
      const outcome = await decideByEmailLink(deps, token, { reason });
      if (outcome.kind === 'refused') return refused(outcome.reason);
      if (outcome.kind === 'closed') return page(409, 'Already decided', closedPage(outcome.draft));
      if (outcome.kind === 'problem') {
        const problem = pageProblem(outcome.error);
        if (!problem) throw outcome.error;
        // Refused for a reason the form cannot fix (e.g. the draft needs the review page): no button to press again.
        if (problem.status !== 400) return page(problem.status, 'Cannot decide here', cannotDecidePage(problem.message, outcome.draft));
        // A refused reason comes back on the form, with the text kept (the link as this request opened it: no second read).
        const csrf = loginCsrf(request);
        const form = confirmPage({
          draft: outcome.draft,
          claims: outcome.claims,
          token,
          csrf: csrf.token,
          error: problem.fieldsText,
          reason: reason ?? undefined,
        });
        return page(problem.status, 'Reject?', form, undefined, { cookies: csrf.cookies });
      }
      count(outcome.draft.status === 'approved' ? METRICS.draftsApproved : METRICS.draftsRejected);
      logger.info('draft decided from an email link', { draftId: outcome.draft.id, channelId: outcome.claims.channelId, decision: outcome.claims.decision });
      return page(200, outcome.draft.status === 'approved' ? 'Approved' : 'Rejected', decidedPage(outcome.draft));
    },
  },
);

function refused(reason: Parameters<typeof refusedPage>[0]): PageResponse {
  logger.warn('email decision link refused', { reason });
  const { status, body } = refusedPage(reason);
  return page(status, 'Link not usable', body);
}
