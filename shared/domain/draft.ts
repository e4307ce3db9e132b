import { randomIdGenerator } from './ids.js';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import type { Role } from './roles.js';
import { ConflictError, PayloadTooLargeError, ValidationError } from './errors.js';
import {
  actorRecord,
  approvalsOf,
  APPROVAL_LIMITS,
  GROUP_NAME_PATTERN,
  GROUP_PREFIX,
  requiredApprovalsOf,
  reviewersOf,
  roundOf,
  type Approval,
} from './approvals.js';

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
  /** approval: one counted approval short of the quorum; approvals_cleared: an edit voided the approvals of the old content. */
  action: 'created' | 'approval' | 'approvals_cleared' | 'approved' | 'rejected' | 'expired';
  at: string;
  actor: Actor | null;
  /** On approvals: whether the reviewer changed the content before approving. */
  contentEdited?: boolean;
  reason?: string;
  /** On approvals_cleared: the approvals the edit voided. */
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

const createDraftId = randomIdGenerator(24);
/** 25 characters starting with "c", shaped like the ids in the webhook documentation. */
export const newDraftId = (): string => `c${createDraftId()}`;
export const DRAFT_ID_PATTERN = /^[a-z0-9_]{1,64}$/;

const wellFormed = (s: string) => s.isWellFormed();
const text = (max: number) =>
  z.string().check(z.maxLength(max, { message: `must be at most ${max} characters` }), z.refine(wellFormed, { message: 'must be valid Unicode text' }));

const titleSchema = text(DRAFT_LIMITS.titleMaxChars).check(z.refine((s) => s.trim().length > 0, { message: 'must not be empty' }));

const isPlainObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nesting depth, and whether any number is one JSON cannot carry back (1e400 parses to Infinity). */
function inspectJson(value: unknown): { depth: number; nonFinite: boolean } {
  // Iterative, so hostile nesting cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return { depth: max, nonFinite: true };
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > DRAFT_LIMITS.contentMaxDepth) return { depth: max, nonFinite: false };
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return { depth: max, nonFinite: false };
}

const contentSchema = z.custom<JsonObject>(isPlainObject, { message: 'must be a JSON object' }).check(
  z.superRefine((value, ctx) => {
    const { depth, nonFinite } = inspectJson(value);
    if (depth > DRAFT_LIMITS.contentMaxDepth) {
      ctx.addIssue({ code: 'custom', message: `must not be nested more than ${DRAFT_LIMITS.contentMaxDepth} levels deep` });
    }
    if (nonFinite) ctx.addIssue({ code: 'custom', message: 'must not contain numbers too large to represent (e.g. 1e400)' });
  }),
);

// z.number() refuses Infinity and NaN already (full zod's .finite() was a no-op).
const metadataValueSchema = z.union([text(DRAFT_LIMITS.metadataValueMaxChars), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null (metadata is flat)',
});

const metadataSchema = z.pipe(
  z.custom<Record<string, unknown>>(isPlainObject, { message: 'must be an object of scalar values' }).check(
    // Record parsing would silently drop an own "__proto__" key; refuse it instead.
    z.refine((m) => !Object.hasOwn(m, '__proto__'), { message: 'keys must not be "__proto__"' }),
  ),
  z
    .record(
      z
        .string()
        .check(
          z.minLength(1, { message: 'keys must not be empty' }),
          z.maxLength(DRAFT_LIMITS.metadataKeyMaxChars, { message: `keys must be at most ${DRAFT_LIMITS.metadataKeyMaxChars} characters` }),
          z.refine(wellFormed, { message: 'keys must be valid Unicode text' }),
        ),
      metadataValueSchema,
    )
    .check(z.refine((m) => Object.keys(m).length <= DRAFT_LIMITS.metadataMaxKeys, { message: `must have at most ${DRAFT_LIMITS.metadataMaxKeys} keys` })),
);

const expiresAtSchema = z.pipe(
  z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-02-10T12:05:00Z' }),
  z.transform((value: string) => new Date(value).toISOString()),
);

/** A reviewer a draft names: an API key id, or every key of a group. */
export const KEY_ID_PATTERN = /^key_[a-z0-9]{1,40}$/;
const reviewerRefSchema = z.string({ error: 'must be a string' }).check(
  z.refine((s) => KEY_ID_PATTERN.test(s) || (s.startsWith(GROUP_PREFIX) && GROUP_NAME_PATTERN.test(s.slice(GROUP_PREFIX.length))), {
    message: 'must be an API key id (key_…) or group:<name> (lowercase letters, digits, - and _)',
  }),
);
const reviewersSchema = z.array(reviewerRefSchema, { error: 'must be an array of key ids and group:<name>s' }).check(
  z.minLength(1, { message: 'must name at least one reviewer (leave it out to let any reviewer decide)' }),
  z.maxLength(APPROVAL_LIMITS.maxReviewers, { message: `must name at most ${APPROVAL_LIMITS.maxReviewers} reviewers` }),
  z.refine((list) => new Set(list).size === list.length, { message: 'must not name a reviewer twice' }),
);
const requiredApprovalsSchema = z
  .number({ error: 'must be a number' })
  .check(
    z.int({ message: 'must be a whole number' }),
    z.minimum(1, { message: `must be between 1 and ${APPROVAL_LIMITS.maxRequired}` }),
    z.maximum(APPROVAL_LIMITS.maxRequired, { message: `must be between 1 and ${APPROVAL_LIMITS.maxRequired}` }),
  );

export const createDraftSchema = z.strictObject({
  title: titleSchema,
  content: contentSchema,
  metadata: z.optional(metadataSchema),
  expiresAt: z.optional(expiresAtSchema),
  reviewers: z.optional(reviewersSchema),
  requiredApprovals: z.optional(requiredApprovalsSchema),
});
export type CreateDraftInput = z.output<typeof createDraftSchema>;

export const approveSchema = z.strictObject({
  content: z.optional(contentSchema),
  /** The draft's approvalRound as the approver read it: if the content was edited since, the approval is refused (409 content_changed). */
  approvalRound: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000))),
});
export const rejectSchema = z.strictObject({ reason: z.optional(text(DRAFT_LIMITS.rejectionReasonMaxChars)) });

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Content size is measured on its JSON serialisation, as stored and as delivered. */
export function assertContentSize(content: JsonObject, field = 'content'): void {
  const bytes = utf8Bytes(JSON.stringify(content));
  if (bytes > DRAFT_LIMITS.contentMaxBytes) throw new PayloadTooLargeError(field, DRAFT_LIMITS.contentMaxBytes, bytes);
}

function assertExpiryWindow(expiresAt: string, now: Date): void {
  const ahead = (Date.parse(expiresAt) - now.getTime()) / 1000;
  if (ahead < DRAFT_LIMITS.expiresMinSeconds || ahead > DRAFT_LIMITS.expiresMaxSeconds) {
    throw new ValidationError([{ field: 'expiresAt', message: 'must be between one minute and one year from now' }]);
  }
}

export function newDraft(input: CreateDraftInput, creator: Actor, now: Date): Draft {
  assertContentSize(input.content);
  if (input.expiresAt !== undefined) assertExpiryWindow(input.expiresAt, now);
  const at = now.toISOString();
  const actor = actorRecord(creator);
  return {
    id: newDraftId(),
    title: input.title,
    content: input.content,
    metadata: (input.metadata ?? {}) as Record<string, MetadataValue>,
    status: 'pending',
    createdAt: at,
    createdBy: actor,
    ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
    reviewers: input.reviewers ?? [],
    requiredApprovals: input.requiredApprovals ?? 1,
    approvals: [],
    approvalRound: 0,
    history: [{ action: 'created', at, actor }],
  };
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
