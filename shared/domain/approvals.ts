/**
 * Assignment and quorum: who may decide a draft, and when approvals make it approved. Pure
 * functions over a draft as read; the store applies an ApprovalChange only while the conditions
 * of `approvalApplies` still hold (one conditional write), so concurrent approvals each count
 * once and only the write that completes the quorum flips the status.
 */
import type { Actor, Draft, HistoryEntry, JsonObject } from './draft.js';
import { ConflictError, ForbiddenError } from './errors.js';

export const APPROVAL_LIMITS = {
  /** requiredApprovals lies in 1..maxRequired. */
  maxRequired: 5,
  maxReviewers: 20,
  maxGroupsPerKey: 20,
} as const;

/** A group name as keys carry it and drafts name it (`group:finance`). */
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const GROUP_PREFIX = 'group:';

/** One counted approval of the draft's current content. */
export interface Approval {
  by: Actor;
  at: string;
}

/**
 * Whoever decides: an actor, with the groups and the hash (its table key) of its key when it is an
 * API key, so the decision's write can check the key is still live. Neither is stored (actorRecord).
 */
export type Decider = Actor & { groups?: readonly string[]; keyHash?: string };

/** What authenticate answers for an unknown or revoked key, and a decision whose key was revoked before its write. */
export const KEY_UNKNOWN_OR_REVOKED = 'The API key is unknown or revoked';

/** The fields of a draft the rules read. */
export type AssignedDraft = Pick<Draft, 'reviewers' | 'requiredApprovals' | 'approvals'>;

// A draft without these fields (stored before assignment existed) is unassigned and needs one approval.
export const reviewersOf = (draft: Pick<Draft, 'reviewers'>): string[] => draft.reviewers ?? [];
export const requiredApprovalsOf = (draft: Pick<Draft, 'requiredApprovals'>): number => draft.requiredApprovals ?? 1;
export const approvalsOf = (draft: Pick<Draft, 'approvals'>): Approval[] => draft.approvals ?? [];
export const roundOf = (draft: Pick<Draft, 'approvalRound'>): number => draft.approvalRound ?? 0;

/** Only {keyId, name, role} is ever stored: the groups a key had at decision time are not part of the record. */
export const actorRecord = (actor: Actor): Actor => ({ keyId: actor.keyId, name: actor.name, role: actor.role });

/**
 * A decision through an email link is made by a channel's recipient, not by a key (its keyId is the
 * channel's ep_ id): it cannot be assigned and has no identity to count toward a quorum.
 */
export const isChannelActor = (actor: Actor): boolean => actor.keyId.startsWith('ep_');

/** Whether anyone beyond "any reviewer, alone" is asked for. */
export const needsAssignedReview = (draft: AssignedDraft): boolean => reviewersOf(draft).length > 0 || requiredApprovalsOf(draft) > 1;

/** Whether the decider is one of the draft's reviewers: its key is named, or one of its groups is. */
export function isAssigned(draft: Pick<Draft, 'reviewers'>, decider: Decider): boolean {
  const reviewers = reviewersOf(draft);
  if (reviewers.includes(decider.keyId)) return true;
  return (decider.groups ?? []).some((g) => reviewers.includes(`${GROUP_PREFIX}${g}`));
}

/** Who may approve or reject: anyone (reviewer or admin) on an unassigned draft; else assigned keys, members of assigned groups, and admins. */
export function mayDecide(draft: AssignedDraft, decider: Decider): boolean {
  if (isChannelActor(decider)) return !needsAssignedReview(draft);
  if (reviewersOf(draft).length === 0) return true;
  return decider.role === 'admin' || isAssigned(draft, decider);
}

/**
 * Why a decider may decide the draft (once mayDecide holds), which says what about its key must
 * still hold when the decision is written: for 'any-reviewer' (an unassigned draft), 'admin' and
 * 'named' only that the key is live, since a key's role and id never change after it is created;
 * for 'groups' also that the key is still in one of these draft groups (PATCH /v1/keys changes them).
 */
export type DecisionGrounds = { kind: 'any-reviewer' } | { kind: 'admin' } | { kind: 'named' } | { kind: 'groups'; groups: string[] };

export function decisionGrounds(draft: Pick<Draft, 'reviewers'>, decider: Decider): DecisionGrounds {
  const reviewers = reviewersOf(draft);
  if (reviewers.length === 0) return { kind: 'any-reviewer' };
  if (decider.role === 'admin') return { kind: 'admin' };
  if (reviewers.includes(decider.keyId)) return { kind: 'named' };
  return { kind: 'groups', groups: (decider.groups ?? []).filter((g) => reviewers.includes(`${GROUP_PREFIX}${g}`)) };
}

export class NotAssignedError extends ForbiddenError {
  override readonly code: string = 'not_assigned';
  override readonly details: unknown;
  constructor(draftId: string, decider: Decider) {
    super(decider.role, ['admin']);
    this.message = `Draft ${draftId} is assigned to other reviewers; only they (or an admin) may decide it`;
    this.details = { draftId };
  }
}

/** An email link cannot decide a draft that names reviewers or needs several approvals: the review page can. */
export class ReviewPageRequiredError extends ForbiddenError {
  override readonly code: string = 'review_page_required';
  override readonly details: unknown;
  constructor(draftId: string) {
    super('reviewer', ['reviewer', 'admin']);
    this.message = `Draft ${draftId} is assigned to named reviewers or needs several approvals: decide it on the review page, signed in with your API key`;
    this.details = { draftId };
  }
}

export class AlreadyApprovedError extends ConflictError {
  constructor(draftId: string, approval: Approval) {
    super('already_approved', `You already approved draft ${draftId} (at ${approval.at}); another reviewer must approve it`, { approval });
  }
}

/** The content was edited while this approval was being recorded: it is not counted for content the approver never had. */
export class ContentChangedError extends ConflictError {
  constructor(readonly current: Draft) {
    super('content_changed', `Draft ${current.id} was edited after you read it; its approvals restarted. Review the new content and approve again`, {
      draft: { id: current.id, content: current.content, approvals: approvalsOf(current) },
    });
  }
}

export function assertMayDecide(draftId: string, draft: AssignedDraft, decider: Decider): void {
  if (mayDecide(draft, decider)) return;
  if (isChannelActor(decider)) throw new ReviewPageRequiredError(draftId);
  throw new NotAssignedError(draftId, decider);
}

/**
 * Why an earlier approval stops counting: its key was revoked (or is gone), or it may no longer
 * decide the draft (taken out of the assigned group). An approval counts only while its key is
 * live and assigned, judged when the next approval is recorded, so the one that completes the
 * quorum counts only keys that may decide the draft at that moment.
 */
export type ApprovalLapse = 'revoked' | 'unassigned';
const LAPSE_REASONS: Record<ApprovalLapse, string> = {
  revoked: 'the approving key was revoked',
  unassigned: 'the approving key is no longer assigned to the draft',
};

/** What one approval writes, planned from the draft as read. */
export interface ApprovalChange {
  approval: Approval;
  /** The approval round the approver saw: an edit starts a new one, so no approval covers content its approver did not see. */
  round: number;
  /** Approvals in that round before this one (0 when this approval edits the content and so clears them). */
  priorCount: number;
  required: number;
  /** This approval completes the quorum: it is the one write that sets status approved. */
  completes: boolean;
  editedContent?: JsonObject;
  /**
   * Set when approvals that lapsed since (ApprovalLapse) are dropped: the approvals kept, and the exact key-id
   * list read, which the write is conditional on (so nothing landed meanwhile is lost).
   */
  prune?: { keep: Approval[]; expectApprovedBy: string[] };
  /** Appended to the history in order: approvals_cleared (an edit over earlier approvals), then this approval. */
  history: HistoryEntry[];
}

/**
 * Plans an approval of a pending draft. Throws not_assigned / review_page_required for deciders
 * who may not decide it, already_approved for a second approval by the same key of the same
 * content (an edit is allowed: it restarts the quorum).
 */
export function planApproval(
  draft: Draft,
  decider: Decider,
  editedContent: JsonObject | undefined,
  now: Date,
  /** Approvers whose approvals stop counting now, and why (they are dropped by this write). */
  lapsed: ReadonlyMap<string, ApprovalLapse> = new Map(),
): ApprovalChange {
  assertMayDecide(draft.id, draft, decider);
  const at = now.toISOString();
  const actor = actorRecord(decider);
  const approval: Approval = { by: actor, at };
  const history: HistoryEntry[] = [];
  const approvals = approvalsOf(draft);
  const required = requiredApprovalsOf(draft);
  let priorCount = approvals.length;
  let prune: ApprovalChange['prune'];
  if (editedContent !== undefined) {
    if (approvals.length > 0) history.push({ action: 'approvals_cleared', at, actor, cleared: approvals });
    priorCount = 0;
  } else {
    const keep = approvals.filter((a) => !lapsed.has(a.by.keyId));
    if (keep.length < approvals.length) {
      for (const lapse of ['revoked', 'unassigned'] as const) {
        const cleared = approvals.filter((a) => lapsed.get(a.by.keyId) === lapse);
        if (cleared.length > 0) history.push({ action: 'approvals_cleared', at, actor: null, reason: LAPSE_REASONS[lapse], cleared });
      }
      prune = { keep, expectApprovedBy: approvals.map((a) => a.by.keyId) };
      priorCount = keep.length;
    }
    const earlier = approvals.find((a) => a.by.keyId === decider.keyId);
    if (earlier) throw new AlreadyApprovedError(draft.id, earlier);
  }
  const completes = priorCount + 1 >= required;
  history.push({ action: completes ? 'approved' : 'approval', at, actor, contentEdited: editedContent !== undefined });
  return {
    approval,
    round: roundOf(draft),
    priorCount,
    required,
    completes,
    ...(editedContent ? { editedContent } : {}),
    ...(prune ? { prune } : {}),
    history,
  };
}

/**
 * The store's condition, stated once: the draft is still pending and not past its expiry, in the
 * round the approver saw, and, unless the approval edits, this key has not approved in it and the
 * count is what makes `completes` right (exactly priorCount when completing; short of the quorum
 * otherwise, so concurrent approvals that do not complete never conflict with one another).
 */
export function approvalApplies(draft: Draft, change: ApprovalChange): boolean {
  if (draft.status !== 'pending') return false;
  if (draft.expiresAt !== undefined && draft.expiresAt <= change.approval.at) return false;
  if (roundOf(draft) !== change.round) return false;
  if (change.editedContent !== undefined) return true;
  const approvals = approvalsOf(draft);
  if (change.prune) return approvals.map((a) => a.by.keyId).join('\n') === change.prune.expectApprovedBy.join('\n');
  if (approvals.some((a) => a.by.keyId === change.approval.by.keyId)) return false;
  return change.completes ? approvals.length === change.priorCount : approvals.length < change.required - 1;
}

/** The draft after an approval whose conditions held. */
export function applyApproval(draft: Draft, change: ApprovalChange): Draft {
  const edited = change.editedContent !== undefined;
  const approvals = edited ? [change.approval] : [...(change.prune ? change.prune.keep : approvalsOf(draft)), change.approval];
  return {
    ...draft,
    ...(edited ? { content: change.editedContent!, originalContent: draft.originalContent ?? draft.content, approvalRound: roundOf(draft) + 1 } : {}),
    approvals,
    ...(change.completes ? { status: 'approved' as const, reviewedAt: change.approval.at, reviewedBy: change.approval.by } : {}),
    history: [...draft.history, ...change.history],
  };
}

/**
 * The draft as this approval's write left it, from a read made just after the write (a transaction
 * returns no item): approvals that landed after it in the same round, and a decision that followed,
 * are cut off, using the history, which is only ever appended to. A completing approval ends the
 * draft, so nothing can follow it. If the content was edited after it (a new round), the read is
 * returned as it is.
 */
export function asLeftByApproval(read: Draft, change: ApprovalChange): Draft {
  const own = change.history.at(-1)!;
  const end = read.history.findLastIndex((h) => h.action === own.action && h.at === own.at && h.actor?.keyId === own.actor?.keyId) + 1;
  if (change.completes || end === 0 || end === read.history.length) return read;
  if (roundOf(read) !== change.round + (change.editedContent !== undefined ? 1 : 0)) return read;
  const approvals = approvalsOf(read);
  const upToOwn = approvals.slice(0, approvals.findIndex((a) => a.by.keyId === change.approval.by.keyId) + 1);
  const { reviewedAt: _at, reviewedBy: _by, rejectionReason: _reason, ...undecided } = read;
  return { ...undecided, status: 'pending', approvals: upToOwn, history: read.history.slice(0, end) };
}

/** "Assigned to me": a pending draft naming this key or one of its groups, which it has not approved yet. */
export const awaitsApprovalFrom = (draft: Draft, decider: Decider): boolean =>
  draft.status === 'pending' && isAssigned(draft, decider) && !approvalsOf(draft).some((a) => a.by.keyId === decider.keyId);

/** Approvals still needed before the draft is approved. */
export const approvalsMissing = (draft: AssignedDraft): number => Math.max(0, requiredApprovalsOf(draft) - approvalsOf(draft).length);
