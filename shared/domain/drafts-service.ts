import { createHash } from 'node:crypto';
import { NotFoundError, IdempotencyKeyReusedError, ValidationError } from './errors.js';
import {
  AlreadyDecidedError,
  DraftExpiredError,
  isPastExpiry,
  assertValidDraftId,
  decisionChange,
  newDraft,
  type Actor,
  type CreateDraftInput,
  type Decision,
  type DecisionChange,
  type Draft,
  type DraftStatus,
} from './draft.js';

export interface IdempotencyClaim {
  /** Scoped to the calling key, so two agents can never collide on the same header value. */
  id: string;
  requestHash: string;
  expiresAtEpoch: number;
}

export type CreateResult = { kind: 'created'; draft: Draft } | { kind: 'replayed'; draft: Draft; requestHash: string };
export type DecideResult = { kind: 'decided'; draft: Draft } | { kind: 'not-pending'; current: Draft } | { kind: 'missing' };

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
  /** Applies the change only while the draft is pending and not past its expiry (a conditional write). */
  decide(id: string, change: DecisionChange): Promise<DecideResult>;
  /** Pending drafts whose expiresAt has passed, oldest first. */
  listExpired(now: Date, limit: number): Promise<Draft[]>;
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

export async function createDraft(
  store: DraftStore,
  input: CreateDraftInput,
  actor: Actor,
  options: { idempotencyKey?: string; now?: Date } = {},
): Promise<{ draft: Draft; replayed: boolean }> {
  const now = options.now ?? new Date();
  const draft = newDraft(input, actor, now);
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

export function listDrafts(store: DraftStore, query: { status?: DraftStatus; limit?: number; cursor?: string }): Promise<DraftPage> {
  return store.list({ status: query.status, limit: query.limit ?? 20, cursor: query.cursor });
}

/** Decides a pending draft exactly once: of concurrent decisions one wins, the others get the winner in a 409. */
export async function decideDraft(store: DraftStore, id: string, decision: Decision, actor: Actor, now = new Date()): Promise<Draft> {
  assertValidDraftId(id);
  const result = await store.decide(id, decisionChange(decision, actor, now));
  if (result.kind === 'missing') throw new NotFoundError('draft', id);
  if (result.kind === 'not-pending') {
    if (result.current.status === 'pending' && isPastExpiry(result.current, now)) throw new DraftExpiredError(result.current);
    if (result.current.status === 'expired') throw new DraftExpiredError(result.current);
    throw new AlreadyDecidedError(result.current);
  }
  return result.draft;
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
