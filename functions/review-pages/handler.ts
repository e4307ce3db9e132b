import { approverKeys, authenticate } from '../../shared/domain/api-keys.js';
import { actorRecord, approvalsOf, ContentChangedError, GROUP_PREFIX, mayDecide, reviewersOf, type Decider } from '../../shared/domain/approvals.js';
import { AlreadyDecidedError, DraftExpiredError, DRAFT_STATUSES, type Draft, type DraftStatus } from '../../shared/domain/draft-model.js';
import { approveSchema, rejectSchema } from '../../shared/domain/draft-decisions.js';
import { decideReadDraft, getDraft, listDrafts } from '../../shared/domain/drafts-service.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { claimSignInAttempt, PAGE_ROLES, returnSignInAttempt, startSession, SESSION_TTL_SECONDS, sessionIdOf } from '../../shared/domain/sessions.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { count, METRICS } from '../../shared/observability.js';
import {
  cookie,
  loginCsrf,
  page,
  pageHandler,
  pageProblem,
  redirect,
  SESSION_COOKIE,
  signInPage,
  type SignedInPageRequest,
} from '../../shared/pages/page-handler.js';
import { draftPage, listPage, type ListTab } from '../../shared/pages/review-views.js';
import { apiKeyStoreFromEnv, sessionStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/store-factories.js';

const drafts = draftStoreFromEnv({ deciderKeys: true });
const keys = apiKeyStoreFromEnv();
const sessions = sessionStoreFromEnv();

const SIGN_IN_FAILED = 'Sign-in failed. Use a valid reviewer or admin API key.';
/** The banner after a decision, shown only when the draft is in the state it announces: a crafted ?done= link cannot claim a decision that was not made. */
const NOTICES: Record<string, { status: Draft['status']; text: string }> = {
  approved: { status: 'approved', text: 'Approved. The webhook is on its way.' },
  rejected: { status: 'rejected', text: 'Rejected. The webhook is on its way.' },
  approval: { status: 'pending', text: 'Your approval is recorded. The draft is approved once enough reviewers approve.' },
};

/** The signed-in key with its groups as they are now (resumeSession has just read it), and its hash, which each decision's write checks. */
const deciderOf = (request: SignedInPageRequest): Decider => ({ ...request.session.actor, keyHash: request.session.keyHash });

/** Only same-site paths may follow sign-in; anything else goes to the list. */
const safeNext = (next: string | null) => (next && /^\/(review|settings)(\/[\w/-]*)?$/.test(next) ? next : '/review');

async function showDraft(request: SignedInPageRequest, draft: Draft, status = 200, state: Parameters<typeof draftPage>[2] = {}) {
  const me = deciderOf(request);
  const assignment = { canDecide: mayDecide(draft, me), alreadyApproved: approvalsOf(draft).some((a) => a.by.keyId === me.keyId) };
  return page(status, draft.title, draftPage(request.viewer, draft, { ...assignment, reviewerNames: await reviewerNames(draft), ...state }), request.viewer);
}

/** The names of the keys a draft names by id (at most a handful: the assignment is bounded). */
async function reviewerNames(draft: Draft): Promise<Record<string, string>> {
  const ids = reviewersOf(draft).filter((r) => !r.startsWith(GROUP_PREFIX));
  const records = await Promise.all(ids.map((id) => keys.findById(id)));
  return Object.fromEntries(records.flatMap((r) => (r ? [[r.id, r.name] as const] : [])));
}

/** Reads the approve form: an unchanged textarea means "approve as is". */
function editedContent(text: string | null, draft: Draft) {
  if (text === null || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError([{ field: 'content', message: `is not valid JSON (${(error as Error).message})` }]);
  }
  // Unchanged before it is validated: content stored before a rule was added (e.g. a number past 2^53) can still be approved as is.
  if (JSON.stringify(parsed) === JSON.stringify(draft.content)) return undefined;
  return parseOrThrow(approveSchema, { content: parsed }).content;
}

/** The approval round the page showed: an approval is refused if the content was edited after the page was read. */
function seenRound(text: string | null): number | undefined {
  if (text === null) return undefined;
  const { approvalRound } = parseOrThrow(approveSchema, { approvalRound: /^\d{1,7}$/.test(text) ? Number(text) : text });
  return approvalRound;
}

async function decide(request: SignedInPageRequest, kind: 'approve' | 'reject') {
  const draft = await getDraft(drafts, pathParameter(request.event, 'id'));
  try {
    const decision =
      kind === 'approve'
        ? { kind, editedContent: editedContent(request.form.get('content'), draft), seenRound: seenRound(request.form.get('round')) }
        : { kind, reason: parseOrThrow(rejectSchema, { reason: request.form.get('reason') || undefined }).reason };
    // The draft as read above, not re-read: the conditional write decides a race (decideReadDraft).
    const decided = await decideReadDraft(drafts, draft, decision, deciderOf(request), undefined, approverKeys(keys));
    if (decided.status === 'pending') return redirect(`/review/${draft.id}?done=approval`);
    count(kind === 'approve' ? METRICS.draftsApproved : METRICS.draftsRejected);
    return redirect(`/review/${draft.id}?done=${kind === 'approve' ? 'approved' : 'rejected'}`);
  } catch (error) {
    if (error instanceof DraftExpiredError) {
      return showDraft(request, error.current, 409, { error: 'This draft has expired; your decision was not applied.' });
    }
    if (error instanceof ContentChangedError) {
      return showDraft(request, error.current, 409, {
        error: 'Someone edited this draft after you opened it; your approval was not counted. Review the new content.',
      });
    }
    if (error instanceof AlreadyDecidedError) {
      return showDraft(request, error.current, 409, {
        error: `This draft was already ${error.current.status} by ${error.current.reviewedBy?.name ?? 'someone else'}; your decision was not applied.`,
      });
    }
    // Refused edits come back inline with the reviewer's text intact.
    const problem = pageProblem(error);
    if (!problem) throw error;
    return showDraft(request, draft, problem.status, { error: problem.fieldsText, editText: request.form.get('content') ?? undefined });
  }
}

export const handler = pageHandler(
  'reviewPages',
  { sessions, keys },
  {
    'GET /review': async (request) => {
      const requested = request.query.get('status') ?? 'pending';
      const status: ListTab = requested === 'assigned' || (DRAFT_STATUSES as readonly string[]).includes(requested) ? (requested as ListTab) : 'pending';
      const cursor = request.query.get('cursor') ?? undefined;
      const query = status === 'assigned' ? { assignedTo: deciderOf(request), limit: 25, cursor } : { status: status as DraftStatus, limit: 25, cursor };
      const [list, pendingCount] = await Promise.all([listDrafts(drafts, query), drafts.count('pending')]);
      return page(
        200,
        'Drafts',
        listPage(request.viewer, { status, items: list.items, nextCursor: list.nextCursor, pendingCount, now: new Date() }),
        request.viewer,
      );
    },

    'POST /review/login': async (request) => {
      const client = request.event.requestContext.http.sourceIp;
      const next = safeNext(request.form.get('next'));
      const csrf = loginCsrf(request);
      // The attempt is claimed before the key is looked at, so parallel guesses cannot outrun the limit.
      const wait = await claimSignInAttempt(sessions, client);
      if (wait > 0) {
        return signInPage(429, csrf.token, next, `Too many failed sign-ins. Try again in ${Math.ceil(wait / 60)} minutes.`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      const presented = request.form.get('key')?.trim() || undefined;
      const actor = await authenticate(keys, presented).catch(() => undefined);
      // Unknown, revoked and agent keys all get the same answer: the form never says whether a key exists.
      if (!actor || !presented || !PAGE_ROLES.includes(actor.role)) return signInPage(401, csrf.token, next, SIGN_IN_FAILED);
      await returnSignInAttempt(sessions, client);
      const { cookieToken } = await startSession(sessions, actorRecord(actor), presented);
      return redirect(next, [cookie(SESSION_COOKIE, cookieToken, request.secureCookies, SESSION_TTL_SECONDS)]);
    },

    'POST /review/logout': async (request) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await sessions.delete(sessionIdOf(token));
      return redirect('/review', [cookie(SESSION_COOKIE, '', request.secureCookies, 0)]);
    },

    'GET /review/{id}': async (request) => {
      const draft = await getDraft(drafts, pathParameter(request.event, 'id'));
      const notice = NOTICES[request.query.get('done') ?? ''];
      return showDraft(request, draft, 200, { notice: notice?.status === draft.status ? notice.text : undefined });
    },

    'POST /review/{id}/approve': (request) => decide(request, 'approve'),
    'POST /review/{id}/reject': (request) => decide(request, 'reject'),
  },
);
