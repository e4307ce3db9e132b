import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { csrfOf, pageAs as pageAsSession, signInThroughForm } from '../support/page-session.js';

/**
 * What a revoked key leaves behind, driven as a browser and an attacker would against `npm run
 * dev`: page sessions it opened stop at once, parallel sign-in guesses cannot outrun the limit,
 * and a revoked bootstrap key does not come back on restart.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  runtime = await startDevRuntime();
  admin = apiClient(runtime.url, runtime.adminKey);
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** Signs in through the form as a browser does; returns the session cookie. */
async function signIn(key: string): Promise<string> {
  const signed = await signInThroughForm(runtime.url, key);
  expect(signed.status).toBe(303);
  return signed.cookie!;
}

const pageAs = (cookie: string, path: string, fields?: Record<string, string>) => pageAsSession(runtime.url, cookie, path, fields);
const SIGN_IN_FORM = /action="\/review\/login"/;

async function newKey(role: 'agent' | 'reviewer' | 'admin', name: string) {
  const res = await admin('POST', '/v1/keys', { role, name });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string };
}

describe('revoking a key ends its page sessions at once', () => {
  it('a revoked reviewer can no longer read or decide through the page it had open', async () => {
    const agentKey = await newKey('agent', 'bot');
    const reviewer = await newKey('reviewer', 'leaver');
    const draft = (await apiClient(runtime.url, agentKey.key)('POST', '/v1/drafts', { title: 'Refund order 1234', content: { amount: 50 } })).body;
    const cookie = await signIn(reviewer.key);
    const open = await pageAs(cookie, `/review/${draft.id}`);
    expect(open.status).toBe(200);
    expect(open.html).toContain('Refund order 1234');
    const csrf = csrfOf(open.html);

    expect((await admin('DELETE', `/v1/keys/${reviewer.id}`)).status).toBe(200);

    const after = await pageAs(cookie, `/review/${draft.id}`);
    expect(after.html).toMatch(SIGN_IN_FORM);
    expect(after.html).not.toContain('Refund order 1234');
    const approve = await pageAs(cookie, `/review/${draft.id}/approve`, { _csrf: csrf, content: '' });
    expect(approve.status).toBe(303);
    expect(approve.location).toBe('/review');
    expect((await admin('GET', `/v1/drafts/${draft.id}`)).body.status).toBe('pending');
  });

  it('a revoked admin can no longer register webhook endpoints through the settings page', async () => {
    const ops = await newKey('admin', 'ops');
    const cookie = await signIn(ops.key);
    const settings = await pageAs(cookie, '/settings/webhooks');
    expect(settings.status).toBe(200);
    const csrf = csrfOf(settings.html);

    expect((await admin('DELETE', `/v1/keys/${ops.id}`)).status).toBe(200);

    const url = 'http://localhost:9/after-revocation';
    const add = await pageAs(cookie, '/settings/webhooks', { _csrf: csrf, url, description: 'should never exist' });
    expect(add.status).toBe(303);
    expect(add.location).toBe('/review');
    const endpoints = (await admin('GET', '/v1/webhooks')).body.items as Array<{ url: string }>;
    expect(endpoints.map((e) => e.url)).not.toContain(url);
    expect((await pageAs(cookie, '/settings/webhooks')).html).toMatch(SIGN_IN_FORM);
  });

  it("a revoked admin's open settings page can no longer send a test event or redrive (the Test and Redrive forms' own function)", async () => {
    const endpoint = (await admin('POST', '/v1/webhooks', { url: 'http://localhost:9/revoked-test' })).body as { id: string };
    const ops = await newKey('admin', 'ops-tests');
    const cookie = await signIn(ops.key);
    const csrf = csrfOf((await pageAs(cookie, '/settings/webhooks')).html);
    // Before the revocation the form works (a positive control for the refusals below).
    expect((await pageAs(cookie, `/settings/webhooks/${endpoint.id}/redrive`, { _csrf: csrf })).location).toMatch(/^\/settings\/webhooks\?notice=redriven/);

    expect((await admin('DELETE', `/v1/keys/${ops.id}`)).status).toBe(200);

    for (const action of ['test', 'redrive']) {
      const refused = await pageAs(cookie, `/settings/webhooks/${endpoint.id}/${action}`, { _csrf: csrf });
      expect({ action, status: refused.status, location: refused.location }).toEqual({ action, status: 303, location: '/review' });
    }
    expect((await admin('GET', `/v1/webhooks/${endpoint.id}/deliveries`)).body.items).toEqual([]);
  });

  it("other keys' sessions are untouched by a revocation", async () => {
    const stays = await newKey('reviewer', 'stays');
    const goes = await newKey('reviewer', 'goes');
    const [kept, ended] = await Promise.all([signIn(stays.key), signIn(goes.key)]);
    await admin('DELETE', `/v1/keys/${goes.id}`);
    expect((await pageAs(kept, '/review')).html).not.toMatch(SIGN_IN_FORM);
    expect((await pageAs(ended, '/review')).html).toMatch(SIGN_IN_FORM);
  });
});

// Last in this file: it locks this client (loopback) out of sign-in for the window.
describe('decisions racing a revocation or an ungrouping', () => {
  /**
   * A burst of approvals by one key over 30 pending drafts while an admin revokes the key (or takes
   * it out of the drafts' group): once that call has returned, no approval by the key lands, and
   * every draft is either decided by an approval that landed before or untouched.
   */
  it.each([
    ['DELETE /v1/keys/{id}', 401, 'unauthorized'],
    ['PATCH /v1/keys/{id} {"groups":[]}', 403, 'not_assigned'],
  ] as const)('after %s returns, no approval by the key lands', async (change, status, code) => {
    const group = `race${Math.random().toString(36).slice(2, 8)}`;
    const agent = apiClient(runtime.url, (await newKey('agent', 'bot')).key);
    const racer = (await admin('POST', '/v1/keys', { role: 'reviewer', name: 'racer', groups: [group] })).body as { id: string; key: string };
    const asRacer = apiClient(runtime.url, racer.key);
    const drafts = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const res = await agent('POST', '/v1/drafts', { title: `Race ${i}`, content: { i }, reviewers: [`group:${group}`] });
        expect(res.status).toBe(201);
        return res.body as { id: string };
      }),
    );
    const [early, late] = [drafts.slice(0, 20), drafts.slice(20)];
    const burst = Promise.all(early.map((d) => asRacer('POST', `/v1/drafts/${d.id}/approve`)));
    const changed = change.startsWith('DELETE') ? await admin('DELETE', `/v1/keys/${racer.id}`) : await admin('PATCH', `/v1/keys/${racer.id}`, { groups: [] });
    expect(changed.status).toBe(200);
    // Sent after the change returned: every one is refused, as if the key had been read after it.
    const after = await Promise.all(late.map((d) => asRacer('POST', `/v1/drafts/${d.id}/approve`)));
    expect(after.map((r) => r.status)).toEqual(Array(late.length).fill(status));
    expect(after.every((r) => r.body.error.code === code)).toBe(true);
    const racing = await burst;
    for (const [i, d] of drafts.entries()) {
      const stored = (await admin('GET', `/v1/drafts/${d.id}`)).body as { status: string; approvals: unknown[] };
      if (i < early.length && racing[i]!.status === 200) expect(stored.status).toBe('approved');
      else expect(stored).toMatchObject({ status: 'pending', approvals: [] });
    }
  });
});

describe('sign-in lockout under parallel guesses', () => {
  it('40 wrong keys at once from one client: exactly 5 are evaluated, the rest wait', async () => {
    const page = await fetch(`${runtime.url}/review`);
    const csrfCookie = page.headers
      .getSetCookie()
      .find((c) => c.startsWith('processa_login_csrf='))!
      .split(';')[0]!;
    const guesses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${runtime.url}/review/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
          body: form({ _csrf: csrfCookie.split('=')[1]!, key: `prk_guess_${i}_${Math.random().toString(36).slice(2)}`, next: '/review' }),
        }).then((r) => ({ status: r.status, retryAfter: r.headers.get('retry-after') })),
      ),
    );
    expect(guesses.filter((g) => g.status === 401)).toHaveLength(5);
    const waited = guesses.filter((g) => g.status === 429);
    expect(waited).toHaveLength(35);
    expect(waited.every((g) => Number(g.retryAfter) > 0 && Number(g.retryAfter) <= 15 * 60)).toBe(true);
  }, 60_000);
});

describe('the bootstrap admin key', () => {
  it('stays revoked across a --persist restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'processa-bootstrap-'));
    const bootstrapKey = `prk_bootstrap_${Math.random().toString(36).slice(2)}`;
    try {
      const first = await startDevRuntime({ dataDir, args: ['--persist'], env: { PROCESSA_BOOTSTRAP_KEY: bootstrapKey } });
      try {
        const root = apiClient(first.url, bootstrapKey);
        const keys = (await root('GET', '/v1/keys')).body.items as Array<{ id: string; name: string }>;
        const bootstrap = keys.find((k) => k.name === 'bootstrap-admin')!;
        expect((await root('DELETE', `/v1/keys/${bootstrap.id}`)).status).toBe(200);
        expect((await root('GET', '/v1/keys')).status).toBe(401);
      } finally {
        await first.stop();
      }
      // Same value again: refused with a clear reason instead of quietly revived.
      await expect(startDevRuntime({ dataDir, args: ['--persist'], env: { PROCESSA_BOOTSTRAP_KEY: bootstrapKey } })).rejects.toThrow(/revoked/);
      // With a new value the runtime starts; the revoked one stays refused.
      const second = await startDevRuntime({
        dataDir,
        args: ['--persist'],
        env: { PROCESSA_BOOTSTRAP_KEY: `prk_next_${Math.random().toString(36).slice(2)}` },
      });
      try {
        expect((await apiClient(second.url, bootstrapKey)('GET', '/v1/keys')).status).toBe(401);
        expect((await apiClient(second.url, second.adminKey)('GET', '/v1/keys')).status).toBe(200);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
