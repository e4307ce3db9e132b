// The draft model without its input schemas: types, limits, accessors and errors. Modules that read
// drafts (the fan-out, notifications, pages) import this, not draft.ts, so zod's schema builders for
// creating drafts stay out of their bundles. draft.ts re-exports all of it.
import type { Role } from './roles.js';
import { ConflictError, PayloadTooLargeError, ValidationError } from './errors.js';
import { actorRecord, approvalsOf, requiredApprovalsOf, reviewersOf, roundOf, type Approval } from './approvals.js';

export const DRAFT_LIMITS = {
  titleMaxChars: 200,
  contentMaxBytes: 64 * 1024,
  /** Deep nesting is almost always a bug or an attack; real action payloads are shallow. */
  contentMaxDepth: 32,
  metadataMaxKeys: 50,
  metadataKeyMaxChars: 100,
  metadataValueMaxChars: 1000,
  rejectionReasonMaxChars: 1000,
  /** expiresAt must lie between one minute and one year ahead. */
  expiresMinSeconds: 60,
  expiresMaxSeconds: 365 * 24 * 60 * 60,
} as const;

export const DRAFT_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type DraftStatus = (typeof DRAFT_STATUSES)[number];
export type DecidedStatus = 'approved' | 'rejected';

export type MetadataValue = string | number | boolean | null;
export type JsonObject = Record<string, unknown>;

/** Who did something: the API key that was used, never the key itself. */
export interface Actor {
  keyId: string;
  name: string;
  role: Role;
}

export interface HistoryEntry {
  /** approval: one counted approval short of the quorum; approvals_cleared: approvals that stopped counting (an edit, or their keys revoked or no longer assigned). */
  action: 'created' | 'approval' | 'approvals_cleared' | 'approved' | 'rejected' | 'expired';
  at: string;
  actor: Actor | null;
  /** On approvals: whether the reviewer changed the content before approving. */
  contentEdited?: boolean;
  reason?: string;
  /** On approvals_cleared: the approvals that stopped counting. */
  cleared?: Approval[];
}

export interface Draft {
  id: string;
  title: string;
  content: JsonObject;
  metadata: Record<string, MetadataValue>;
  status: DraftStatus;
  createdAt: string;
  createdBy: Actor;
  reviewedAt?: string;
  reviewedBy?: Actor;
  rejectionReason?: string;
  /** The agent's original content, kept when a reviewer approved an edited version. */
  originalContent?: JsonObject;
  /** Past this time a pending draft can no longer be decided and becomes expired. */
  expiresAt?: string;
  // Optional so drafts from before assignment (and hand-built ones) read as "anyone, alone": see approvals.ts's accessors.
  /** Key ids and `group:<name>`s that may decide (admins too); empty: any reviewer or admin. */
  reviewers?: string[];
  /** Distinct approvals of the same content that make the draft approved (1 unless asked for more). */
  requiredApprovals?: number;
  /** The approvals of the current content, in the order they landed. */
  approvals?: Approval[];
  /** Bumped by every edit; an approval counts only in the round it was made in (internal, not shown). */
  approvalRound?: number;
  history: HistoryEntry[];
}

export const DRAFT_ID_PATTERN = /^[a-z0-9_]{1,64}$/;
/** A reviewer a draft names: an API key id, or every key of a group. */
export const KEY_ID_PATTERN = /^key_[a-z0-9]{1,40}$/;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Content size is measured on its JSON serialisation, as stored and as delivered. */
export function assertContentSize(content: JsonObject, field = 'content'): void {
  const bytes = utf8Bytes(JSON.stringify(content));
  if (bytes > DRAFT_LIMITS.contentMaxBytes) throw new PayloadTooLargeError(field, DRAFT_LIMITS.contentMaxBytes, bytes);
}

/** Whether a pending draft has run out of time at `now`, swept or not. */
export const isPastExpiry = (draft: Pick<Draft, 'expiresAt'>, now: Date): boolean =>
  draft.expiresAt !== undefined && Date.parse(draft.expiresAt) <= now.getTime();

export class DraftExpiredError extends ConflictError {
  constructor(readonly current: Draft) {
    super('draft_expired', `Draft ${current.id} expired at ${current.expiresAt} and can no longer be decided`, { draft: publicDraft(current) });
  }
}

/** seenRound: the approval round the approver read (an edit starts a new one); given, the approval counts only for that content. */
export type Decision = { kind: 'approve'; editedContent?: JsonObject; seenRound?: number } | { kind: 'reject'; reason?: string };

/**
 * The fields a rejection writes, computed without knowing the stored item; the store applies them
 * only while the draft is still pending. (Approvals count toward a quorum: shared/domain/approvals.ts.)
 */
export interface RejectionChange {
  reviewedAt: string;
  reviewedBy: Actor;
  rejectionReason?: string;
  historyEntry: HistoryEntry;
}

export function rejectionChange(reason: string | undefined, decider: Actor, now: Date): RejectionChange {
  const at = now.toISOString();
  const actor = actorRecord(decider);
  return {
    reviewedAt: at,
    reviewedBy: actor,
    rejectionReason: reason,
    historyEntry: { action: 'rejected', at, actor, ...(reason !== undefined ? { reason } : {}) },
  };
}

export class AlreadyDecidedError extends ConflictError {
  constructor(readonly current: Draft) {
    // The winning state travels with the 409 so the loser can show who decided and when.
    super('already_decided', `Draft ${current.id} is already ${current.status}`, { draft: publicDraft(current) });
  }
}

export function assertValidDraftId(id: string): void {
  if (!DRAFT_ID_PATTERN.test(id)) throw new ValidationError([{ field: 'id', message: 'is not a valid draft id' }]);
}

/** When the draft expired, from its history (undefined while it has not). */
export const expiredAtOf = (draft: Draft): string | undefined => [...draft.history].reverse().find((h) => h.action === 'expired')?.at;

/** A draft as clients see it (without reviewUrl, which depends on where the API is served). */
export function publicDraft(draft: Draft) {
  return {
    id: draft.id,
    title: draft.title,
    content: draft.content,
    metadata: draft.metadata,
    status: draft.status,
    createdAt: draft.createdAt,
    createdBy: draft.createdBy,
    reviewedAt: draft.reviewedAt ?? null,
    reviewedBy: draft.reviewedBy ?? null,
    rejectionReason: draft.rejectionReason ?? null,
    ...(draft.originalContent ? { originalContent: draft.originalContent } : {}),
    expiresAt: draft.expiresAt ?? null,
    reviewers: reviewersOf(draft),
    requiredApprovals: requiredApprovalsOf(draft),
    approvals: approvalsOf(draft),
    approvalRound: roundOf(draft),
    history: draft.history,
  };
}
