import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, IdempotencyKeyReusedError, UnauthorizedError, ValidationError, type FieldProblem } from './errors.js';
import {
  approvalsOf,
  assertMayDecide,
  awaitsApprovalFrom,
  ContentChangedError,
  decisionGrounds,
  GROUP_PREFIX,
  KEY_UNKNOWN_OR_REVOKED,
  NotAssignedError,
  planApproval,
  roundOf,
  type ApprovalChange,
  type ApprovalLapse,
  type AssignedDraft,
  type Decider,
} from './approvals.js';
import {
  AlreadyDecidedError,
  assertContentSize,
  DraftExpiredError,
  isPastExpiry,
  assertValidDraftId,
  rejectionChange,
  type Actor,
  type Decision,
  type RejectionChange,
  type Draft,
  type DraftStatus,
} from './draft-model.js';
import type { CreateDraftInput } from './draft.js';
import { newDraft } from './new-draft.js';

export interface IdempotencyClaim {
  /** Scoped to the calling key, so two agents can never collide on the same header value. */
  id: string;
  requestHash: string;
  expiresAtEpoch: number;
}

export type CreateResult = { kind: 'created'; draft: Draft } | { kind: 'replayed'; draft: Draft; requestHash: string };
/** key-lapsed: the decider's key failed its check (DeciderKeyCheck) at the write, and nothing was written. */
type KeyLapsed = { kind: 'key-lapsed'; lapse: ApprovalLapse };
export type RejectResult = { kind: 'rejected'; draft: Draft } | { kind: 'not-pending'; current: Draft } | { kind: 'missing' } | KeyLapsed;
/** conflict: the draft changed since it was read (or is no longer pending); `current` is the state that made the condition fail. */
export type ApproveResult = { kind: 'applied'; draft: Draft } | { kind: 'conflict'; current: Draft } | { kind: 'missing' } | KeyLapsed;

/**
 * What must still hold of the decider's key when its decision is written, checked atomically with
 * the write: the key (by its hash) exists and is not revoked, and, when `inAnyGroup` is given, it
 * is still in one of those groups ('revoked' / 'unassigned' lapses otherwise).
 */
export interface DeciderKeyCheck {
  keyHash: string;
  inAnyGroup?: readonly string[];
}

export interface DraftPage {
  items: Draft[];
  nextCursor?: string;
}

/** The persistence port the drafts use cases need; shared/store/drafts-store.ts implements it on DynamoDB. */
export interface DraftStore {
  /** Writes the draft and, atomically, the idempotency claim; when the claim exists already, returns the draft it created. */
  create(draft: Draft, claim?: IdempotencyClaim): Promise<CreateResult>;
  get(id: string): Promise<Draft | undefined>;
  list(query: { status?: DraftStatus; limit: number; cursor?: string }): Promise<DraftPage>;
  /** How many drafts have the status (reads only index keys). */
  count(status: DraftStatus): Promise<number>;
  /** Rejects the draft only while it is pending and not past its expiry (a conditional write), and the key check holds. */
  reject(id: string, change: RejectionChange, keyCheck?: DeciderKeyCheck): Promise<RejectResult>;
  /**
   * Records an approval only while `approvalApplies(stored, change)` and the key check hold (one
   * atomic write); a completing one also sets status approved.
   */
  approve(id: string, change: ApprovalChange, keyCheck?: DeciderKeyCheck): Promise<ApproveResult>;
  /** Pending drafts whose expiresAt has passed, oldest first. */
  listExpired(now: Date, limit: number): Promise<Array<Pick<Draft, 'id'>>>;
  /** Marks one pending, past-expiry draft expired; false if it was decided or expired meanwhile. */
  expire(id: string, at: Date): Promise<boolean>;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

function idempotencyClaim(actor: Actor, idempotencyKey: string, input: CreateDraftInput, now: Date): IdempotencyClaim {
  if (!IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
    throw new ValidationError([{ field: 'idempotency-key', message: 'must be 1-255 visible ASCII characters' }]);
  }
  return {
    id: `${actor.keyId}#${idempotencyKey}`,
    requestHash: createHash('sha256').update(JSON.stringify(input)).digest('hex'),
    expiresAtEpoch: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
  };
}

/** A key that may decide drafts as the reviewer directory knows it (active: not revoked). */
export interface ActiveDecider {
  id: string;
  role: 'reviewer' | 'admin';
  groups: readonly string[];
}

/** Reads the live reviewer and admin keys, to check a draft's assignment when it is created. */
export interface ReviewerDirectory {
  activeDeciders(): Promise<ActiveDecider[]>;
}

/**
 * Checks `reviewers` and `requiredApprovals` against the keys as they are: every named key is an
 * active reviewer or admin key, every group has at least one, and the quorum is reachable by the
 * distinct keys assigned (all deciders when none are named). Admins who are not named can decide
 * too, but they are an override, not counted as planned approvers.
 */
export async function assertReachableAssignment(directory: ReviewerDirectory, input: Pick<CreateDraftInput, 'reviewers' | 'requiredApprovals'>) {
  const reviewers = input.reviewers ?? [];
  const required = input.requiredApprovals ?? 1;
  if (reviewers.length === 0 && required === 1) return;
  const deciders = await directory.activeDeciders();
  const problems: FieldProblem[] = [];
  const pool = new Set<string>();
  reviewers.forEach((ref, i) => {
    if (ref.startsWith(GROUP_PREFIX)) {
      const group = ref.slice(GROUP_PREFIX.length);
      const members = deciders.filter((d) => d.groups.includes(group));
      if (members.length === 0) problems.push({ field: `reviewers.${i}`, message: `no active reviewer or admin key is in the group "${group}"` });
      members.forEach((m) => pool.add(m.id));
    } else if (deciders.some((d) => d.id === ref)) pool.add(ref);
    else problems.push({ field: `reviewers.${i}`, message: 'is not an active reviewer or admin key' });
  });
  if (reviewers.length === 0) deciders.forEach((d) => pool.add(d.id));
  if (problems.length === 0 && required > pool.size) {
    problems.push({ field: 'requiredApprovals', message: `must not exceed the ${pool.size} distinct key(s) who could approve` });
  }
  if (problems.length > 0) throw new ValidationError(problems);
}

export async function createDraft(
  store: DraftStore,
  input: CreateDraftInput,
  actor: Actor,
  options: { idempotencyKey?: string; now?: Date; directory?: ReviewerDirectory } = {},
): Promise<{ draft: Draft; replayed: boolean }> {
  const now = options.now ?? new Date();
  const draft = newDraft(input, actor, now);
  if (input.reviewers !== undefined || (input.requiredApprovals ?? 1) > 1) {
    if (!options.directory) throw new Error('createDraft needs the reviewer directory to check reviewers and requiredApprovals');
    await assertReachableAssignment(options.directory, input);
  }
  const claim = options.idempotencyKey !== undefined ? idempotencyClaim(actor, options.idempotencyKey, input, now) : undefined;
  const result = await store.create(draft, claim);
  if (result.kind === 'created') return { draft: result.draft, replayed: false };
  if (result.requestHash !== claim?.requestHash) throw new IdempotencyKeyReusedError();
  return { draft: result.draft, replayed: true };
}

export async function getDraft(store: DraftStore, id: string): Promise<Draft> {
  assertValidDraftId(id);
  const draft = await store.get(id);
  if (!draft) throw new NotFoundError('draft', id);
  return draft;
}

/** Store pages read per listing of assigned drafts, so a page costs a bounded number of queries (it may come back short, with a cursor). */
const ASSIGNED_SCAN_PAGES = 10;

export async function listDrafts(
  store: DraftStore,
  query: { status?: DraftStatus; limit?: number; cursor?: string; assignedTo?: Decider },
): Promise<DraftPage> {
  const limit = query.limit ?? 20;
  const me = query.assignedTo;
  if (!me) return store.list({ status: query.status, limit, cursor: query.cursor });
  if (query.status !== undefined && query.status !== 'pending') {
    throw new ValidationError([{ field: 'status', message: 'must be pending (or left out) with assignedTo=me: only pending drafts wait for an approval' }]);
  }
  // Pending drafts, filtered to mine: each store page asks for just the rest of the page, so the store's cursor stays exact.
  const items: Draft[] = [];
  let cursor = query.cursor;
  for (let read = 0; read < ASSIGNED_SCAN_PAGES && items.length < limit; read++) {
    const page = await store.list({ status: 'pending', limit: limit - items.length, cursor });
    items.push(...page.items.filter((d) => awaitsApprovalFrom(d, me)));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return { items, ...(cursor ? { nextCursor: cursor } : {}) };
}

/**
 * The check of the decider's key that its decision's write carries; none for a decider without a
 * key (an email link's recipient). Call after assertMayDecide.
 */
function keyCheckOf(draft: Draft, decider: Decider): DeciderKeyCheck | undefined {
  if (decider.keyHash === undefined) return undefined;
  const grounds = decisionGrounds(draft, decider);
  return { keyHash: decider.keyHash, ...(grounds.kind === 'groups' ? { inAnyGroup: grounds.groups } : {}) };
}

/** The key was revoked, or left the draft's groups, after the request read it: the same answers as had it been read after. */
function refuseLapsedKey(draftId: string, decider: Decider, lapse: ApprovalLapse): never {
  if (lapse === 'revoked') throw new UnauthorizedError(KEY_UNKNOWN_OR_REVOKED);
  throw new NotAssignedError(draftId, decider);
}

function assertStillOpen(current: Draft, now: Date): void {
  if (current.status === 'expired' || (current.status === 'pending' && isPastExpiry(current, now))) throw new DraftExpiredError(current);
  if (current.status !== 'pending') throw new AlreadyDecidedError(current);
}

/** Which of these approvers' approvals stop counting toward the draft's quorum now: key revoked or gone, or no longer assigned to it. */
export interface ApproverKeys {
  lapsedAmong(draft: AssignedDraft, keyIds: readonly string[]): Promise<Map<string, ApprovalLapse>>;
}

/**
 * lapsedAmong for one decision and its retries: each key is asked about once. Caching is sound
 * within a call because the draft's assignment never changes, and a key read a moment ago is as
 * current as a re-read racing the same revocation or group change would be.
 */
function lapsedApproversOf(keys: ApproverKeys, draft: AssignedDraft): (keyIds: readonly string[]) => Promise<Map<string, ApprovalLapse>> {
  const known = new Map<string, ApprovalLapse | undefined>();
  return async (keyIds) => {
    const unseen = keyIds.filter((id) => !known.has(id));
    if (unseen.length > 0) {
      const lapsed = await keys.lapsedAmong(draft, unseen);
      for (const id of unseen) known.set(id, lapsed.get(id));
    }
    const lapsed = new Map<string, ApprovalLapse>();
    for (const id of keyIds) {
      const lapse = known.get(id);
      if (lapse) lapsed.set(id, lapse);
    }
    return lapsed;
  };
}

/** Each failed attempt means another approval or edit landed first, so a few dozen cover any realistic crowd of reviewers. */
const APPROVAL_ATTEMPTS = 30;

/**
 * Decides a pending draft under the assignment and quorum rules (shared/domain/approvals.ts), for
 * the API, the pages, Slack and email links alike. A rejection by anyone who may decide ends it
 * at once; an approval counts once per key and only the one completing the quorum makes it
 * approved. Of concurrent decisions each is one conditional write: a decision that can no longer
 * apply gets the winner in a 409.
 */
export async function decideDraft(
  store: DraftStore,
  id: string,
  decision: Decision,
  decider: Decider,
  now = new Date(),
  /** Without it, approvals by keys revoked or unassigned since still count (callers that have the key store pass it). */
  approverKeys?: ApproverKeys,
): Promise<Draft> {
  assertValidDraftId(id);
  const current = await store.get(id);
  if (!current) throw new NotFoundError('draft', id);
  return decideReadDraft(store, current, decision, decider, now, approverKeys);
}

/**
 * decideDraft on a draft the caller has just read (a review page, an email link), without reading
 * it again: the read only chooses what to write, and the write is conditional on the stored state,
 * so a stale `read` loses to a decision made since as a fresh one would (the 409 carries the winner).
 */
export async function decideReadDraft(
  store: DraftStore,
  read: Draft,
  decision: Decision,
  decider: Decider,
  now = new Date(),
  approverKeys?: ApproverKeys,
): Promise<Draft> {
  const id = read.id;
  let current = read;
  if (decision.kind === 'reject') {
    assertStillOpen(current, now);
    // Assignment never changes after creation, so checking it on the draft as read is enough.
    assertMayDecide(current.id, current, decider);
    const result = await store.reject(id, rejectionChange(decision.reason, decider, now), keyCheckOf(current, decider));
    if (result.kind === 'missing') throw new NotFoundError('draft', id);
    if (result.kind === 'key-lapsed') refuseLapsedKey(id, decider, result.lapse);
    if (result.kind === 'not-pending') {
      assertStillOpen(result.current, now);
      throw new AlreadyDecidedError(result.current);
    }
    return result.draft;
  }
  if (decision.editedContent !== undefined) assertContentSize(decision.editedContent);
  // The round the approver read: given by the caller (the page, a Slack button, the API's approvalRound), else the one read here.
  const seenRound = decision.seenRound ?? roundOf(current);
  // Approvers' keys are looked up once per call: a retry asks only about approvers it has not seen.
  const lapsedApprovers = approverKeys ? lapsedApproversOf(approverKeys, current) : async () => new Map<string, ApprovalLapse>();
  for (let attempt = 1; attempt <= APPROVAL_ATTEMPTS; attempt++) {
    assertStillOpen(current, now);
    // Counting this approval after someone else's edit would cover content the caller never read
    // (an edit given without a round replaces the content with what its author wrote, so it may go on).
    if ((decision.editedContent === undefined || decision.seenRound !== undefined) && roundOf(current) !== seenRound) throw new ContentChangedError(current);
    const approvers = approvalsOf(current).map((a) => a.by.keyId);
    const lapsed = await lapsedApprovers(approvers);
    const result = await store.approve(id, planApproval(current, decider, decision.editedContent, now, lapsed), keyCheckOf(current, decider));
    if (result.kind === 'applied') return result.draft;
    if (result.kind === 'missing') throw new NotFoundError('draft', id);
    if (result.kind === 'key-lapsed') refuseLapsedKey(id, decider, result.lapse);
    current = result.current;
  }
  throw new ConflictError('conflict', `Draft ${id} kept changing under concurrent approvals; retry`);
}

/**
 * Moves pending drafts past their expiresAt to expired (run on a schedule). Each is its own
 * conditional write, so a reviewer deciding at the same moment wins or loses cleanly.
 */
export async function expireDueDrafts(store: DraftStore, now = new Date(), batchLimit = 100): Promise<number> {
  let expired = 0;
  for (;;) {
    const due = await store.listExpired(now, batchLimit);
    const results = await Promise.all(due.map((d) => store.expire(d.id, now)));
    expired += results.filter(Boolean).length;
    if (due.length < batchLimit) return expired;
  }
}
