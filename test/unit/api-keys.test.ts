import { authenticate, createApiKey, ensureApiKey, hashKey, RevokedKeyError, revokeApiKey } from '../../shared/domain/api-keys.js';
import { NotFoundError, UnauthorizedError } from '../../shared/domain/errors.js';
import { MemoryApiKeyStore } from '../support/memory-stores.js';

describe('API keys', () => {
  it('are random, prefixed, shown once and stored only as a hash', async () => {
    const store = new MemoryApiKeyStore();
    const a = await createApiKey(store, { name: 'bot', role: 'agent' }, null);
    const b = await createApiKey(store, { name: 'bot', role: 'agent' }, null);
    expect(a.key).toMatch(/^prk_[A-Za-z0-9_-]{43}$/);
    expect(a.key).not.toBe(b.key);
    const stored = JSON.stringify([...store.records.values()]);
    expect(stored).not.toContain(a.key);
    expect(stored).toContain(hashKey(a.key));
    expect(a.prefix).toBe(a.key.slice(0, 10));
  });

  it('authenticate to their actor; unknown, missing and revoked keys are 401', async () => {
    const store = new MemoryApiKeyStore();
    const created = await createApiKey(store, { name: 'alice', role: 'reviewer' }, null);
    // The key's hash rides along for the decision's write to check (actorRecord never stores it).
    await expect(authenticate(store, created.key)).resolves.toEqual({ keyId: created.id, name: 'alice', role: 'reviewer', keyHash: hashKey(created.key) });
    await expect(authenticate(store, 'prk_unknown')).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(authenticate(store, undefined)).rejects.toBeInstanceOf(UnauthorizedError);
    const revoked = await revokeApiKey(store, created.id);
    expect(revoked.revokedAt).toEqual(expect.any(String));
    await expect(authenticate(store, created.key)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(revokeApiKey(store, 'key_missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('ensureApiKey makes a fixed bootstrap key valid without duplicating it', async () => {
    const store = new MemoryApiKeyStore();
    const first = await ensureApiKey(store, 'prk_fixed', { name: 'bootstrap-admin', role: 'admin' });
    const second = await ensureApiKey(store, 'prk_fixed', { name: 'bootstrap-admin', role: 'admin' });
    expect(second.id).toBe(first.id);
    expect(store.records.size).toBe(1);
    await expect(authenticate(store, 'prk_fixed')).resolves.toMatchObject({ role: 'admin' });
  });

  it('ensureApiKey never brings back a revoked bootstrap key', async () => {
    const store = new MemoryApiKeyStore();
    const first = await ensureApiKey(store, 'prk_fixed', { name: 'bootstrap-admin', role: 'admin' });
    await revokeApiKey(store, first.id);
    await expect(ensureApiKey(store, 'prk_fixed', { name: 'bootstrap-admin', role: 'admin' })).rejects.toBeInstanceOf(RevokedKeyError);
    await expect(authenticate(store, 'prk_fixed')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(store.records.size).toBe(1);
  });
});
