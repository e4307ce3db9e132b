import { createHash, randomBytes } from 'node:crypto';
import { init } from '@paralleldrive/cuid2';
// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { ROLES, type Role } from './roles.js';
import { NotFoundError, UnauthorizedError } from './errors.js';
import type { Actor } from './draft.js';

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
}

export interface ApiKeyStore {
  put(record: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  list(limit: number, cursor?: string): Promise<{ items: ApiKeyRecord[]; nextCursor?: string }>;
  /** Marks the key revoked unless it already is; returns the stored record. */
  revoke(keyHash: string, at: string): Promise<ApiKeyRecord>;
}

const KEY_PREFIX = 'prk_';
const newKeyId = init({ length: 20 });

export const createKeySchema = z.strictObject({
  name: z
    .string()
    .min(1, { message: 'must not be empty' })
    .max(100, { message: 'must be at most 100 characters' })
    .refine((s) => s.isWellFormed() && s.trim().length > 0, { message: 'must be non-blank valid Unicode text' }),
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
});
export type CreateKeyInput = z.output<typeof createKeySchema>;

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

export async function revokeApiKey(store: ApiKeyStore, id: string, now = new Date()) {
  const record = /^key_[a-z0-9]{1,40}$/.test(id) ? await store.findById(id) : undefined;
  if (!record) throw new NotFoundError('API key', id);
  return publicKey(await store.revoke(record.keyHash, now.toISOString()));
}

export async function authenticate(store: ApiKeyStore, presented: string | undefined): Promise<Actor> {
  if (!presented) throw new UnauthorizedError();
  const record = await store.findByHash(hashKey(presented));
  if (!record || record.revokedAt) throw new UnauthorizedError('The API key is unknown or revoked');
  return { keyId: record.id, name: record.name, role: record.role };
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
  };
}
