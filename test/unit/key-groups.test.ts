import {
  authenticate,
  createApiKey,
  createKeySchema,
  hashKey,
  keyDirectory,
  revokeApiKey,
  updateApiKey,
  updateKeySchema,
} from '../../shared/domain/api-keys.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { MemoryApiKeyStore } from '../support/memory-stores.js';

const fieldsOf = (schema: typeof createKeySchema | typeof updateKeySchema, body: unknown): string[] => {
  try {
    parseOrThrow(schema, body);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return (error.details as { fields: { field: string }[] }).fields.map((f) => f.field);
  }
};

describe('reviewer groups on keys', () => {
  it('are set on create, shown, and ride along with the authenticated key', async () => {
    const store = new MemoryApiKeyStore();
    const created = await createApiKey(store, parseOrThrow(createKeySchema, { name: 'fin', role: 'reviewer', groups: ['finance', 'ops'] }), null);
    expect(created.groups).toEqual(['finance', 'ops']);
    await expect(authenticate(store, created.key)).resolves.toEqual({
      keyId: created.id,
      name: 'fin',
      role: 'reviewer',
      groups: ['finance', 'ops'],
      keyHash: hashKey(created.key),
    });
    const plain = await createApiKey(store, { name: 'plain', role: 'reviewer' }, null);
    expect(plain.groups).toEqual([]);
  });

  it('are validated: name shape, duplicates, count; PATCH needs something to change', () => {
    expect(fieldsOf(createKeySchema, { name: 'a', role: 'reviewer', groups: ['Finance'] })).toEqual(['groups.0']);
    expect(fieldsOf(createKeySchema, { name: 'a', role: 'reviewer', groups: ['ops', 'ops'] })).toEqual(['groups']);
    expect(fieldsOf(createKeySchema, { name: 'a', role: 'reviewer', groups: Array.from({ length: 21 }, (_, i) => `g${i}`) })).toEqual(['groups']);
    expect(fieldsOf(createKeySchema, { name: 'a', role: 'reviewer', groups: 'finance' })).toEqual(['groups']);
    expect(fieldsOf(updateKeySchema, {})).toHaveLength(1);
    expect(fieldsOf(updateKeySchema, { groups: [] })).toEqual([]);
  });

  it('are replaced by PATCH, not on a revoked key', async () => {
    const store = new MemoryApiKeyStore();
    const created = await createApiKey(store, { name: 'r', role: 'reviewer', groups: ['finance'] }, null);
    expect(await updateApiKey(store, created.id, { groups: ['ops'] })).toMatchObject({ groups: ['ops'], slackUserId: null });
    expect(await updateApiKey(store, created.id, { groups: [] })).toMatchObject({ groups: [] });
    await revokeApiKey(store, created.id);
    await expect(updateApiKey(store, created.id, { groups: ['ops'] })).rejects.toMatchObject({ code: 'key_revoked' });
  });

  it('20 concurrent PATCHes leave exactly one of the requested sets', async () => {
    const store = new MemoryApiKeyStore();
    const created = await createApiKey(store, { name: 'r', role: 'reviewer' }, null);
    await Promise.all(Array.from({ length: 20 }, (_, i) => updateApiKey(store, created.id, { groups: [`g${i}`, 'shared'] })));
    const [record] = (await store.list()).items;
    expect(record!.groups).toHaveLength(2);
    expect(record!.groups).toContain('shared');
  });

  it('the directory lists live reviewer and admin keys only', async () => {
    const store = new MemoryApiKeyStore();
    const r = await createApiKey(store, { name: 'r', role: 'reviewer', groups: ['finance'] }, null);
    const a = await createApiKey(store, { name: 'a', role: 'admin' }, null);
    await createApiKey(store, { name: 'bot', role: 'agent', groups: ['finance'] }, null);
    const gone = await createApiKey(store, { name: 'gone', role: 'reviewer', groups: ['finance'] }, null);
    await revokeApiKey(store, gone.id);
    const deciders = await keyDirectory(store).activeDeciders();
    expect(deciders.map((d) => d.id).sort()).toEqual([r.id, a.id].sort());
    expect(deciders.find((d) => d.id === r.id)!.groups).toEqual(['finance']);
  });
});
