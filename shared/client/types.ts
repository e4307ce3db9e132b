/**
 * The Processa API's resources as clients see them. Declared here rather than imported from the
 * server so that shared/client/ can be copied into another project on its own.
 */

/** `pending` → `approved` | `rejected` (final). A draft created with `expiresAt` may become `expired`. */
export type DraftStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type DecidedDraftStatus = Exclude<DraftStatus, 'pending'>;

export type Role = 'agent' | 'reviewer' | 'admin';
export type JsonObject = Record<string, unknown>;
/** Metadata is flat: at most 50 keys of scalar values. */
export type MetadataValue = string | number | boolean | null;

/**
 * Who did something: the API key that was used (never the key itself). A decision made through an
 * email's Approve or Reject link has the email channel's id (`ep_…`) as keyId and the recipient's
 * address as name.
 */
export interface Actor {
  keyId: string;
  name: string;
  role: Role;
}

/** One counted approval of a draft's current content. */
export interface Approval {
  by: Actor;
  at: string;
}

export interface HistoryEntry {
  /** approval: one approval short of the quorum; approvals_cleared: approvals that stopped counting (an edit, or their keys revoked or no longer assigned: actor null, reason says which). */
  action: 'created' | 'approval' | 'approvals_cleared' | 'approved' | 'rejected' | 'expired';
  at: string;
  actor: Actor | null;
  /** On approvals: whether the reviewer edited the content before approving. */
  contentEdited?: boolean;
  reason?: string;
  /** On approvals_cleared: the approvals that stopped counting. */
  cleared?: Approval[];
}

/** A draft's state, as the API returns it (and as a 409 carries the state that won). */
export interface DraftState {
  id: string;
  title: string;
  /** On approved drafts: the approved content, possibly edited by the reviewer. */
  content: JsonObject;
  metadata: Record<string, MetadataValue>;
  status: DraftStatus;
  createdAt: string;
  createdBy: Actor;
  reviewedAt: string | null;
  reviewedBy: Actor | null;
  rejectionReason: string | null;
  /** The agent's original content, present only when a reviewer approved an edited version. */
  originalContent?: JsonObject;
  expiresAt: string | null;
  // Optional in this type only so drafts built by hand (tests, fixtures) still type-check; the API always sends them.
  /** Key ids and `group:<name>`s who may decide (admins too); empty: any reviewer or admin. */
  reviewers?: string[];
  /** Distinct approvals of the same content that make the draft approved. */
  requiredApprovals?: number;
  /** The approvals of the current content so far, in order. */
  approvals?: Approval[];
  /** Counts edits during review; send it back on approve to refuse the approval if the content changed since. */
  approvalRound?: number;
  history: HistoryEntry[];
}

/** A draft as the draft endpoints return it: its state plus the page a reviewer opens. */
export interface Draft extends DraftState {
  reviewUrl: string;
}

export interface CreateDraftInput {
  /** 1–200 characters. */
  title: string;
  /** Any JSON object up to 64 KiB serialized and 32 levels deep: the action to perform. */
  content: JsonObject;
  /** A flat object of at most 50 string/number/boolean/null values. */
  metadata?: Record<string, MetadataValue>;
  /** After this time the draft can no longer be decided (one minute to one year ahead); null, as a draft reads back, means none. */
  expiresAt?: string | Date | null;
  /** Who may decide: API key ids and/or `group:<name>`; others (but admins) get 403 not_assigned. */
  reviewers?: string[];
  /** Distinct approvals needed, 1–5 (default 1), at most the number of keys who could approve. */
  requiredApprovals?: number;
}

export interface ApproveDraftInput {
  /** Approve an edited version instead of the agent's content. */
  content?: JsonObject;
  /** The draft's `approvalRound` as you read it: if its content was edited since, the approval is refused (409 content_changed). */
  approvalRound?: number;
}

export interface RejectDraftInput {
  /** Up to 1000 characters. */
  reason?: string;
}

export interface ListDraftsParams {
  status?: DraftStatus;
  /** Page size, 1–100 (server default 20). */
  limit?: number;
}

export interface DraftPage {
  /** Newest first. */
  items: Draft[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** One problem with a request field, as in `error.details.fields`. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * The draft.created webhook body (opt-in: an endpoint subscribes with `events: [..., 'draft.created']`).
 * A draft waits for review; nothing to execute yet. Verify it like any delivery (`@processa/client/webhooks`).
 */
export interface DraftCreatedEvent {
  event: 'draft.created';
  draft: {
    id: string;
    title: string;
    content: JsonObject;
    metadata: Record<string, MetadataValue>;
    createdAt: string;
    expiresAt: string | null;
    /** The page where a reviewer decides it. */
    reviewUrl: string;
    /** Who may decide (key ids and `group:<name>`s); empty when any reviewer may. Lets channels route on the assignment. */
    reviewers: string[];
    /** Distinct approvals of the same content that make it approved. */
    requiredApprovals: number;
  };
  timestamp: string;
}
