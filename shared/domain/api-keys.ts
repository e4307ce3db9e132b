import { createHash, randomBytes } from 'node:crypto';
import { randomIdGenerator } from './ids.js';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import { ROLES, type Role } from './roles.js';
import { ConflictError, NotFoundError, UnauthorizedError } from './errors.js';
import { APPROVAL_LIMITS, GROUP_NAME_PATTERN, KEY_UNKNOWN_OR_REVOKED, mayDecide, type ApprovalLapse, type Decider } from './approvals.js';
import type { ApproverKeys, ReviewerDirectory } from './drafts-service.js';

/** What is stored for a key: its hash, never the key. */
export interface ApiKeyRecord {
  id: string;
  keyHash: string;
  name: string;
  role: Role;
  /** First characters of the key, enough to recognise it in a list. */
  prefix: string;
  createdAt: string;
  createdBy: string | null;
  revokedAt?: string;
  /** The Slack user who may decide from Slack as this key (Decide from Slack); at most one key per Slack user. */
  slackUserId?: string;
  /** Reviewer groups (`finance`, `ops`): a draft assigned to `group:finance` may be decided by every key in it. */
  groups?: string[];
}

/** What a Slack-user change did: done, the user is linked to another key, or the key changed meanwhile (read again, retry). */
export type SlackLinkResult = { kind: 'updated'; record: ApiKeyRecord } | { kind: 'taken' } | { kind: 'changed' };

export interface ApiKeyStore {
  put(record: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Through the by-id index, which lags behind the table: not for judging whether a key is revoked or in a group now. */
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  /** The keys with these hashes, read strongly consistently (missing ones are left out). */
  findByHashes(keyHashes: readonly string[]): Promise<ApiKeyRecord[]>;
  /** The keys with these ids, read strongly consistently without the by-id index (a scan: for keys the index may not show yet). */
  findByIdsConsistently(ids: readonly string[]): Promise<ApiKeyRecord[]>;
  list(limit: number, cursor?: string): Promise<{ items: ApiKeyRecord[]; nextCursor?: string }>;
  /** Marks the key revoked unless it already is; returns the stored record. */
  revoke(keyHash: string, at: string): Promise<ApiKeyRecord>;
  /** The key a Slack user is linked to, read strongly consistently (a revoked or unlinked key must already be seen so). */
  findBySlackUser(slackUserId: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Sets (or clears, undefined) the key's Slack user, atomically with the per-user uniqueness
   * record: only if the key is not revoked and still has `record.slackUserId`, and the new user is
   * linked to no other key. The key's put also writes that record, in the same transaction.
   */
  setSlackUser(record: ApiKeyRecord, slackUserId: string | undefined): Promise<SlackLinkResult>;
  /** Replaces the key's groups, only while it exists and is not revoked; false otherwise. */
  setGroups(keyHash: string, groups: string[]): Promise<ApiKeyRecord | undefined>;
  /** Frees a revoked key's Slack user for another key (only while the link still points at this key). */
  releaseSlackUser(slackUserId: string, keyHash: string): Promise<void>;
}

const KEY_PREFIX = 'prk_';
/** A Slack member id as a workspace shows it: U… or, on Enterprise Grid, W…. */
export const SLACK_USER_ID_PATTERN = /^[UW][A-Z0-9]{2,31}$/;
const slackUserIdSchema = z
  .string({ error: 'must be a string' })
  .check(
    z.regex(SLACK_USER_ID_PATTERN, { message: 'must be a Slack member id such as U0123ABCD (in Slack: profile, ⋮, Copy member ID)' }),
    z.describe('The Slack member id (U… or W…) who may approve and reject from Slack as this key (reviewer and admin keys).'),
  );
const newKeyId = randomIdGenerator(20);

const groupsSchema = z
  .array(
    z.string({ error: 'must be strings' }).check(z.regex(GROUP_NAME_PATTERN, { message: 'must be group names: 1-40 lowercase letters, digits, - and _' })),
    {
      error: 'must be an array of group names',
    },
  )
  .check(
    z.maxLength(APPROVAL_LIMITS.maxGroupsPerKey, { message: `must have at most ${APPROVAL_LIMITS.maxGroupsPerKey} groups` }),
    z.refine((list) => new Set(list).size === list.length, { message: 'must not name a group twice' }),
    z.describe('Reviewer groups this key belongs to (e.g. ["finance", "ops"]); drafts assigned to group:<name> may be decided by its keys.'),
  );

export const createKeySchema = z.strictObject({
  name: z.string().check(
    z.minLength(1, { message: 'must not be empty' }),
    z.maxLength(100, { message: 'must be at most 100 characters' }),
    z.refine((s) => s.isWellFormed() && s.trim().length > 0, { message: 'must be non-blank valid Unicode text' }),
  ),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
  slackUserId: z.optional(slackUserIdSchema),
  groups: z.optional(groupsSchema),
});
export type CreateKeyInput = z.output<typeof createKeySchema>;

export const updateKeySchema = z
  .strictObject({
    /** null unlinks the Slack user. */
    slackUserId: z.optional(z.nullable(slackUserIdSchema)),
    /** Replaces the key's groups ([] leaves it in none). */
    groups: z.optional(groupsSchema),
  })
  .check(z.refine((input) => input.slackUserId !== undefined || input.groups !== undefined, { message: 'must set slackUserId or groups', path: ['body'] }));
export type UpdateKeyInput = z.output<typeof updateKeySchema>;

/** One Slack user decides as one key: a second key linking the same user is refused. */
export class SlackUserLinkedError extends ConflictError {
  constructor(slackUserId: string) {
    super('slack_user_already_linked', `The Slack user ${slackUserId} is already linked to another API key; unlink it there first`, {
      fields: [{ field: 'slackUserId', message: 'is linked to another API key' }],
    });
  }
}

export class KeyRevokedError extends ConflictError {
  constructor(keyId: string) {
    super('key_revoked', `The API key ${keyId} is revoked and can no longer be changed`);
  }
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** 256 random bits; the prefix makes leaked keys easy to find with secret scanners. */
export const generateKeyValue = (): string => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export function keyRecord(value: string, input: CreateKeyInput, createdBy: string | null, now: Date): ApiKeyRecord {
  return {
    id: `key_${newKeyId()}`,
    keyHash: hashKey(value),
    name: input.name,
    role: input.role,
    prefix: value.slice(0, KEY_PREFIX.length + 6),
    createdAt: now.toISOString(),
    createdBy,
    ...(input.slackUserId ? { slackUserId: input.slackUserId } : {}),
    ...(input.groups?.length ? { groups: input.groups } : {}),
  };
}

/** Creates a key and returns its value, the only time it is ever visible. */
export async function createApiKey(store: ApiKeyStore, input: CreateKeyInput, createdBy: string | null, now = new Date()) {
  const value = generateKeyValue();
  const record = keyRecord(value, input, createdBy, now);
  await store.put(record);
  return { ...publicKey(record), key: value };
}

/**
 * Ensures a key with a known value exists (the dev runtime's bootstrap admin key). A revoked key
 * stays revoked: restarting with the same value must not bring back a key an admin took away.
 */
export async function ensureApiKey(store: ApiKeyStore, value: string, input: CreateKeyInput, now = new Date()): Promise<ApiKeyRecord> {
  const existing = await store.findByHash(hashKey(value));
  if (existing?.revokedAt) throw new RevokedKeyError(existing.id, existing.revokedAt);
  if (existing) return existing;
  const record = keyRecord(value, input, null, now);
  await store.put(record);
  return record;
}

/** A key that was revoked cannot be made valid again; choose a new value instead. */
export class RevokedKeyError extends Error {
  constructor(
    readonly keyId: string,
    readonly revokedAt: string,
  ) {
    super(`The API key ${keyId} was revoked at ${revokedAt} and stays revoked; use a new key value`);
    this.name = 'RevokedKeyError';
  }
}

const findKey = async (store: ApiKeyStore, id: string): Promise<ApiKeyRecord> => {
  const record = /^key_[a-z0-9]{1,40}$/.test(id) ? await store.findById(id) : undefined;
  if (!record) throw new NotFoundError('API key', id);
  return record;
};

export async function revokeApiKey(store: ApiKeyStore, id: string, now = new Date()) {
  const record = await findKey(store, id);
  const revoked = await store.revoke(record.keyHash, now.toISOString());
  // The revoked key already decides nothing (every Slack decision re-reads it); this frees its Slack user for a new key.
  if (revoked.slackUserId) await store.releaseSlackUser(revoked.slackUserId, revoked.keyHash);
  return publicKey(revoked);
}

/** PATCH /v1/keys/{id}: links (or unlinks) a Slack user; a user linked to another key is a 409, a revoked key too. */
export async function updateApiKey(store: ApiKeyStore, id: string, input: UpdateKeyInput) {
  let record = await findKey(store, id);
  if (input.groups !== undefined) {
    // A whole replacement, written only while the key is live: nothing read is written back.
    if (record.revokedAt) throw new KeyRevokedError(record.id);
    const updated = await store.setGroups(record.keyHash, input.groups);
    if (!updated) throw new KeyRevokedError(record.id);
    record = updated;
    if (input.slackUserId === undefined) return publicKey(record);
  }
  for (let attempt = 1; attempt <= 5; attempt++) {
    if (record.revokedAt) throw new KeyRevokedError(record.id);
    const result = await store.setSlackUser(record, input.slackUserId ?? undefined);
    if (result.kind === 'updated') return publicKey(result.record);
    if (result.kind === 'taken') {
      // A link left by a revoked key (its release failed after the revocation) is freed, then retried.
      const holder = await store.findBySlackUser(input.slackUserId!);
      if (holder && !holder.revokedAt) throw new SlackUserLinkedError(input.slackUserId!);
      if (holder) await store.releaseSlackUser(input.slackUserId!, holder.keyHash);
      continue;
    }
    // Changed meanwhile (another PATCH, a revocation): read it again, strongly, and decide anew.
    const fresh = await store.findByHash(record.keyHash);
    if (!fresh) throw new NotFoundError('API key', id);
    record = fresh;
  }
  throw new ConflictError('conflict', 'The API key kept being changed by concurrent requests; retry');
}

/** The key behind a Slack user, if it may decide now: linked, not revoked, a reviewer or admin. */
export async function slackDecider(store: ApiKeyStore, slackUserId: string): Promise<Decider | undefined> {
  if (!SLACK_USER_ID_PATTERN.test(slackUserId)) return undefined;
  const record = await store.findBySlackUser(slackUserId);
  if (!record || record.revokedAt || record.slackUserId !== slackUserId) return undefined;
  if (record.role !== 'reviewer' && record.role !== 'admin') return undefined;
  return deciderOf(record);
}

/** The key's hash rides along so a decision's write can check the key is still live (never stored: actorRecord drops it). */
const deciderOf = (record: ApiKeyRecord): Decider => ({
  keyId: record.id,
  name: record.name,
  role: record.role,
  ...(record.groups?.length ? { groups: record.groups } : {}),
  keyHash: record.keyHash,
});

/** The key as it is now; its groups ride along so assignment (shared/domain/approvals.ts) can see them, and are never stored with a decision. */
export async function authenticate(store: ApiKeyStore, presented: string | undefined): Promise<Decider> {
  if (!presented) throw new UnauthorizedError();
  const record = await store.findByHash(hashKey(presented));
  if (!record || record.revokedAt) throw new UnauthorizedError(KEY_UNKNOWN_OR_REVOKED);
  return deciderOf(record);
}

/**
 * Which approvers' approvals stop counting on a draft now: the key is revoked (or gone), or it may
 * no longer decide the draft (e.g. taken out of the assigned group), as the decide path judges it.
 */
export function approverKeys(store: ApiKeyStore): ApproverKeys {
  return {
    async lapsedAmong(draft, keyIds) {
      // The by-id index lags behind the table, but a key's hash never changes: the index only says
      // where each key is, and the keys are then read strongly consistently by hash. A key the index
      // does not show yet (created a moment ago) is read consistently without it.
      const indexed = await Promise.all(keyIds.map((id) => store.findById(id)));
      const unindexed = keyIds.filter((_, i) => !indexed[i]);
      const [byHash, byScan] = await Promise.all([
        store.findByHashes(indexed.flatMap((r) => (r ? [r.keyHash] : []))),
        unindexed.length > 0 ? store.findByIdsConsistently(unindexed) : [],
      ]);
      const current = new Map([...byHash, ...byScan].map((r) => [r.id, r]));
      const lapsed = new Map<string, ApprovalLapse>();
      for (const id of keyIds) {
        const record = current.get(id);
        if (!record || record.revokedAt) lapsed.set(id, 'revoked');
        else if (!mayDecide(draft, deciderOf(record))) lapsed.set(id, 'unassigned');
      }
      return lapsed;
    },
  };
}

/** The live reviewer and admin keys, read through the key listing (a team has a handful), for checking a draft's assignment. */
export function keyDirectory(store: ApiKeyStore): ReviewerDirectory {
  return {
    async activeDeciders() {
      const deciders = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(100, cursor);
        for (const r of page.items) {
          if (!r.revokedAt && (r.role === 'reviewer' || r.role === 'admin')) deciders.push({ id: r.id, role: r.role, groups: r.groups ?? [] });
        }
        cursor = page.nextCursor;
      } while (cursor);
      return deciders;
    },
  };
}

export function publicKey(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.prefix,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    revokedAt: record.revokedAt ?? null,
    slackUserId: record.slackUserId ?? null,
    groups: record.groups ?? [],
  };
}
