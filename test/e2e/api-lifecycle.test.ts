import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { apiClient, repoRoot, startDevRuntime, tsxBin, type DevRuntime } from '../support/dev-runtime.js';

const run = promisify(execFile);

let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
let reviewer: ReturnType<typeof apiClient>;
let reviewerKeyId: string;

beforeAll(async () => {
  runtime = await startDevRuntime();
  admin = apiClient(runtime.url, runtime.adminKey);
  const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'bot' });
  const reviewerKey = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'alice' });
  expect(agentKey.status).toBe(201);
  agent = apiClient(runtime.url, agentKey.body.key);
  reviewer = apiClient(runtime.url, reviewerKey.body.key);
  reviewerKeyId = reviewerKey.body.id;
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('API keys over HTTP and the CLI', () => {
  it('creates keys shown once and lists them without secrets', async () => {
    const listed = await admin('GET', '/v1/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['bootstrap-admin', 'bot', 'alice']));
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(runtime.adminKey);
    expect(text).not.toMatch(/keyHash|"key":/);
  });

  it('npm run keys creates a working key against the dev runtime', async () => {
    const { stdout } = await run(tsxBin, ['infra/cli/keys.ts', 'create', '--role', 'agent', '--name', 'cli-bot', '--json'], {
      cwd: repoRoot,
      env: { ...process.env, PROCESSA_DATA_DIR: runtime.dataDir },
    });
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ role: 'agent', name: 'cli-bot', key: expect.stringMatching(/^prk_/) });
    const res = await apiClient(runtime.url, created.key)('POST', '/v1/drafts', { title: 'from a CLI key', content: {} });
    expect(res.status).toBe(201);
    const { stdout: listing } = await run(tsxBin, ['infra/cli/keys.ts', 'list'], {
      cwd: repoRoot,
      env: { ...process.env, PROCESSA_DATA_DIR: runtime.dataDir },
    });
    expect(listing).toContain('cli-bot');
  });

  it('npm run keys refuses a bad role with a clear message', async () => {
    const result = await run(tsxBin, ['infra/cli/keys.ts', 'create', '--role', 'boss', '--name', 'x'], {
      cwd: repoRoot,
      env: { ...process.env, PROCESSA_DATA_DIR: runtime.dataDir },
    }).catch((e) => e);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/role: must be one of agent, reviewer, admin/);
  });

  it('revoked keys get 401 from then on; non-admins cannot manage keys', async () => {
    const temp = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'temp' });
    const tempClient = apiClient(runtime.url, temp.body.key);
    expect((await tempClient('GET', '/v1/drafts')).status).toBe(200);
    const revoked = await admin('DELETE', `/v1/keys/${temp.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await tempClient('GET', '/v1/drafts')).status).toBe(401);
    expect((await reviewer('POST', '/v1/keys', { role: 'admin', name: 'escalate' })).status).toBe(403);
    expect((await agent('DELETE', `/v1/keys/${reviewerKeyId}`)).status).toBe(403);
    expect((await admin('DELETE', '/v1/keys/key_missing')).status).toBe(404);
  });
});

describe('the draft lifecycle over HTTP', () => {
  it('create → get → approve with edits; a retried create is the same draft', async () => {
    const body = {
      title: 'Send welcome email',
      content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
      metadata: { source: 'ai_agent_v1' },
    };
    const first = await agent('POST', '/v1/drafts', body, { 'idempotency-key': 'welcome-1' });
    const retry = await agent('POST', '/v1/drafts', body, { 'idempotency-key': 'welcome-1' });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(first.body.reviewUrl).toBe(`${runtime.url}/review/${first.body.id}`);
    expect(first.headers.get('x-request-id')).toEqual(expect.any(String));

    expect((await agent('GET', `/v1/drafts/${first.body.id}`)).body.status).toBe('pending');
    const approved = await reviewer('POST', `/v1/drafts/${first.body.id}/approve`, { content: { ...body.content, body: 'Hello, edited' } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', content: { body: 'Hello, edited' }, reviewedBy: { name: 'alice' } });
  });

  it('reject with a reason; approving afterwards is a 409 showing the rejection', async () => {
    const { body: draft } = await agent('POST', '/v1/drafts', { title: 'Refund', content: { amount: 10 } });
    const rejected = await reviewer('POST', `/v1/drafts/${draft.id}/reject`, { reason: 'Content violates policy' });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectionReason: 'Content violates policy' });
    const late = await reviewer('POST', `/v1/drafts/${draft.id}/approve`);
    expect(late.status).toBe(409);
    expect(late.body.error.details.draft).toMatchObject({ status: 'rejected', rejectionReason: 'Content violates policy' });
  });

  it('two reviewers racing: exactly one 200, one 409 with the winning state', async () => {
    const { body: draft } = await agent('POST', '/v1/drafts', { title: 'Race', content: {} });
    const [a, b] = await Promise.all([
      reviewer('POST', `/v1/drafts/${draft.id}/approve`, {}),
      admin('POST', `/v1/drafts/${draft.id}/reject`, { reason: 'too late?' }),
    ]);
    expect([a!.status, b!.status].sort()).toEqual([200, 409]);
    const winner = a!.status === 200 ? a! : b!;
    const loser = a!.status === 409 ? a! : b!;
    expect(loser.body.error.details.draft.status).toBe(winner.body.status);
  });

  it('lists pending drafts newest first, page by page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await agent('POST', '/v1/drafts', { title: `page ${i}`, content: {} })).body.id);
    const page1 = await reviewer('GET', '/v1/drafts?status=pending&limit=2');
    expect(page1.body.items.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]]);
    const page2 = await reviewer('GET', `/v1/drafts?status=pending&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items[0].id).toBe(ids[0]);
    expect((await reviewer('GET', '/v1/drafts?cursor=nope')).status).toBe(400);
  });

  it('answers bad requests with 4xx errors in one shape and no internals', async () => {
    const cases = await Promise.all([
      fetch(`${runtime.url}/v1/drafts`).then((r) => r.status),
      agent('POST', '/v1/drafts', '{"title":', { 'content-type': 'application/json' }),
      agent('POST', '/v1/drafts', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      agent('POST', '/v1/drafts', { title: 't', content: { body: 'x'.repeat(300 * 1024) } }),
      agent('POST', '/v1/drafts', { content: {} }),
      agent('POST', `/v1/drafts/${'c'.repeat(25)}/approve`, {}),
    ]);
    expect(cases[0]).toBe(401);
    const [, malformed, wrongType, tooBig, missingTitle, agentDecides] = cases as Array<{ status: number; body: any }>;
    expect([malformed!.status, wrongType!.status, tooBig!.status, missingTitle!.status, agentDecides!.status]).toEqual([400, 415, 413, 400, 403]);
    expect(missingTitle!.body.error).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('title'),
      details: { fields: [{ field: 'title' }] },
    });
    for (const res of [malformed, wrongType, tooBig, missingTitle, agentDecides]) {
      expect(Object.keys(res!.body)).toEqual(['error']);
      expect(JSON.stringify(res!.body)).not.toMatch(/\bat \/|node_modules|Exception/);
    }
  });

  it('answers unknown routes in the documented error shape (the $default route)', async () => {
    const res = await agent('GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String), details: { method: 'GET', path: '/v1/nothing' } } });
  });
});
