import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { createApiKey, revokeApiKey } from '../../shared/domain/api-keys.js';
import { ConflictError } from '../../shared/domain/errors.js';
import { claimSignInAttempt, resumeSession, returnSignInAttempt, sessionIdOf, SIGN_IN_FAILURE_LIMIT, startSession } from '../../shared/domain/sessions.js';
import { apiKeyStoreFromEnv, sessionStoreFromEnv } from '../../shared/auth-store-factories.js';
import { endpointStoreFromEnv } from '../../shared/stores.js';
import {
  activeSecrets,
  createEndpoint,
  getEndpoint,
  MAX_SECRETS_IN_GRACE,
  PREVIOUS_SECRET_GRACE_SECONDS,
  rotateSecret,
  updateEndpoint,
} from '../../shared/webhooks/endpoints.js';
import { signedHeaders } from '../../shared/webhooks/signing.js';
import type { UrlPolicy } from '../../shared/webhooks/address-guard.js';

/**
 * Every read-modify-write against the real DynamoDB Local, at ≥ 20 requests at once: nothing a
 * caller was told succeeded is ever lost, and limits hold however parallel the callers are.
 */
const endpoints = endpointStoreFromEnv();
const keys = apiKeyStoreFromEnv();
const sessions = sessionStoreFromEnv();
const policy: UrlPolicy = { allowLocalhostHttp: true };
const PARALLEL = 24;

const settled = <T>(promises: Array<Promise<T>>) => Promise.allSettled(promises);
const fulfilled = <T>(results: Array<PromiseSettledResult<T>>) =>
  results.filter((r): r is PromiseFulfilledResult<T> => r.status === 'fulfilled').map((r) => r.value);
const rejectedOnlyWithConflict = (results: Array<PromiseSettledResult<unknown>>) =>
  results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').every((r) => r.reason instanceof ConflictError && r.reason.code === 'conflict');

/**
 * True when a delivery signed at `at` carries a signature `secret` verifies. Receivers' libraries
 * refuse timestamps far from their clock, so times other than now check the signing set itself.
 */
async function signsWith(endpointId: string, secret: string, at?: Date) {
  const endpoint = await getEndpoint(endpoints, endpointId);
  if (at) return activeSecrets(endpoint, at).includes(secret);
  const body = '{"event":"draft.rejected"}';
  const headers = signedHeaders('msg_check', body, activeSecrets(endpoint, new Date()), new Date());
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
}

describe('webhook endpoints under concurrent writers', () => {
  // As many as may be in grace at once, so none is refused for that reason.
  it(`${MAX_SECRETS_IN_GRACE} rotations at once: every secret returned signs, and no rotation is lost`, async () => {
    const created = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
    const results = await settled(Array.from({ length: MAX_SECRETS_IN_GRACE }, () => rotateSecret(endpoints, created.id)));
    expect(rejectedOnlyWithConflict(results)).toBe(true);
    const rotations = fulfilled(results);
    expect(rotations.length).toBeGreaterThan(0);
    for (const rotation of [...rotations.map((r) => r.secret), created.secret]) expect(await signsWith(created.id, rotation)).toBe(true);
    // The original secret and one per successful rotation, each still signing.
    const stored = await getEndpoint(endpoints, created.id);
    expect(stored.secrets).toHaveLength(rotations.length + 1);
    expect(stored.version).toBe(rotations.length + 1);
    // Each secret is dated from when its rotation took effect: newest first, and every rotated-out
    // secret signs for 24 h from the moment the one after it replaced it.
    const created_ = stored.secrets.map((s) => Date.parse(s.createdAt));
    expect([...created_].sort((a, b) => b - a)).toEqual(created_);
    stored.secrets
      .slice(1)
      .forEach((s, i) => expect(Date.parse(s.expiresAt!)).toBe(Date.parse(stored.secrets[i]!.createdAt) + PREVIOUS_SECRET_GRACE_SECONDS * 1000));
  }, 30_000);

  it('rotations beside PATCHes: both take effect, no rotation is undone', async () => {
    const created = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
    const work = Array.from({ length: PARALLEL }, (_, i) =>
      i % 2 === 0
        ? rotateSecret(endpoints, created.id).then((r) => ({ secret: r.secret }))
        : updateEndpoint(endpoints, created.id, { description: `patch ${i}` }, policy).then((r) => ({ description: r.description })),
    );
    const results = await settled<{ secret?: string; description?: string }>(work);
    expect(rejectedOnlyWithConflict(results)).toBe(true);
    const done = fulfilled(results);
    const secrets = done.flatMap((d) => (d.secret ? [d.secret] : []));
    for (const secret of secrets) expect(await signsWith(created.id, secret)).toBe(true);
    const stored = await getEndpoint(endpoints, created.id);
    expect(stored.secrets).toHaveLength(secrets.length + 1);
    expect(stored.version).toBe(done.length + 1);
    // The last PATCH that succeeded is what is stored; none of them dropped a secret.
    expect(done.some((d) => d.description === stored.description)).toBe(true);
  }, 30_000);

  it('a second rotation keeps the first old secret signing until the end it was promised', async () => {
    const created = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
    const t0 = new Date();
    const first = await rotateSecret(endpoints, created.id, () => t0);
    const t1 = new Date(t0.getTime() + 3600_000);
    const second = await rotateSecret(endpoints, created.id, () => t1);
    expect(first.previousSecretExpiresAt).toBe(new Date(t0.getTime() + PREVIOUS_SECRET_GRACE_SECONDS * 1000).toISOString());
    // Both rotated-out secrets are shown with their own end times.
    expect(second.previousSecrets.map((s) => s.expiresAt)).toEqual([second.previousSecretExpiresAt, first.previousSecretExpiresAt]);
    const justBeforeFirstEnds = new Date(Date.parse(first.previousSecretExpiresAt!) - 1000);
    expect(await signsWith(created.id, created.secret, justBeforeFirstEnds)).toBe(true);
    expect(await signsWith(created.id, first.secret, justBeforeFirstEnds)).toBe(true);
    const afterFirstEnds = new Date(Date.parse(first.previousSecretExpiresAt!) + 1000);
    expect(await signsWith(created.id, created.secret, afterFirstEnds)).toBe(false);
    expect(await signsWith(created.id, first.secret, afterFirstEnds)).toBe(true);
  });

  it(`refuses a rotation past ${MAX_SECRETS_IN_GRACE} secrets in grace instead of cutting one short`, async () => {
    const created = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
    for (let i = 0; i < MAX_SECRETS_IN_GRACE; i++) await rotateSecret(endpoints, created.id);
    await expect(rotateSecret(endpoints, created.id)).rejects.toMatchObject({ code: 'too_many_secrets' });
    // Once the grace periods end, rotation works again and the expired secrets are dropped.
    const later = new Date(Date.now() + PREVIOUS_SECRET_GRACE_SECONDS * 1000 + 1000);
    const rotated = await rotateSecret(endpoints, created.id, () => later);
    expect(rotated.previousSecrets).toHaveLength(1);
    expect((await getEndpoint(endpoints, created.id)).secrets).toHaveLength(2);
  }, 30_000);

  it('any interleaving of rotations and PATCHes keeps every returned secret signing (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('rotate', 'patch'), { minLength: 2, maxLength: 8 }), async (ops) => {
        const created = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
        const results = await settled(
          ops.map((op, i) =>
            op === 'rotate'
              ? rotateSecret(endpoints, created.id).then((r) => r.secret)
              : updateEndpoint(endpoints, created.id, { description: `d${i}` }, policy).then(() => undefined),
          ),
        );
        if (!rejectedOnlyWithConflict(results)) return false;
        const secrets = fulfilled(results).filter((s): s is string => typeof s === 'string');
        for (const secret of [created.secret, ...secrets]) if (!(await signsWith(created.id, secret))) return false;
        return (await getEndpoint(endpoints, created.id)).secrets.length === secrets.length + 1;
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});

describe('sign-in throttling under parallel guesses', () => {
  it(`40 parallel claims from one client: exactly ${SIGN_IN_FAILURE_LIMIT} are allowed`, async () => {
    const client = `198.51.100.${Math.floor(Math.random() * 250)}-${Math.random()}`;
    const waits = await Promise.all(Array.from({ length: 40 }, () => claimSignInAttempt(sessions, client)));
    expect(waits.filter((w) => w === 0)).toHaveLength(SIGN_IN_FAILURE_LIMIT);
    expect(waits.filter((w) => w > 0).every((w) => w <= 15 * 60)).toBe(true);
  });

  it('a returned claim (successful sign-in) frees its slot; a new window starts after the old one ends', async () => {
    const client = `203.0.113.7-${Math.random()}`;
    const now = new Date();
    for (let i = 0; i < SIGN_IN_FAILURE_LIMIT; i++) expect(await claimSignInAttempt(sessions, client, now)).toBe(0);
    expect(await claimSignInAttempt(sessions, client, now)).toBeGreaterThan(0);
    await returnSignInAttempt(sessions, client, now);
    expect(await claimSignInAttempt(sessions, client, now)).toBe(0);
    expect(await claimSignInAttempt(sessions, client, now)).toBeGreaterThan(0);
    const nextWindow = new Date(now.getTime() + 15 * 60 * 1000 + 1000);
    const waits = await Promise.all(Array.from({ length: 20 }, () => claimSignInAttempt(sessions, client, nextWindow)));
    expect(waits.filter((w) => w === 0)).toHaveLength(SIGN_IN_FAILURE_LIMIT);
  });
});

describe('page sessions live only as long as their key', () => {
  it('revoking the key ends its session on the next request, and deletes it', async () => {
    const key = await createApiKey(keys, { name: 'leaver', role: 'reviewer' }, null);
    const { cookieToken } = await startSession(sessions, { keyId: key.id, name: key.name, role: key.role }, key.key);
    expect(await resumeSession(sessions, keys, cookieToken)).toMatchObject({ actor: { keyId: key.id, role: 'reviewer' } });
    await revokeApiKey(keys, key.id);
    expect(await resumeSession(sessions, keys, cookieToken)).toBeUndefined();
    expect(await sessions.get(sessionIdOf(cookieToken))).toBeUndefined();
  });

  it('a session whose key is unknown, or which predates key checks, is not resumed', async () => {
    const { cookieToken, session } = await startSession(sessions, { keyId: 'key_ghost', name: 'ghost', role: 'admin' }, 'prk_never_stored');
    expect(await resumeSession(sessions, keys, cookieToken)).toBeUndefined();
    const { keyHash: _dropped, ...legacy } = session;
    await sessions.delete(session.id);
    await sessions.put(legacy as typeof session);
    expect(await resumeSession(sessions, keys, cookieToken)).toBeUndefined();
  });
});
