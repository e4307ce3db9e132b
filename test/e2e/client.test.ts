import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import {
  AuthenticationError,
  ConflictError,
  DecisionTimeoutError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PermissionError,
  ProcessaClient,
  ValidationError,
  type Draft,
} from '../../shared/client/index.js';
import { signedHeaders } from '../../shared/webhooks/signing.js';
import { apiClient, repoRoot, startDevRuntime, tsxBin, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';

let runtime: DevRuntime;
let admin: ProcessaClient;
let agent: ProcessaClient;
let reviewer: ProcessaClient;
let agentKey: string;
const requests: string[] = [];

beforeAll(async () => {
  runtime = await startDevRuntime();
  const adminApi = apiClient(runtime.url, runtime.adminKey);
  const agentRes = await adminApi('POST', '/v1/keys', { role: 'agent', name: 'bot' });
  const reviewerRes = await adminApi('POST', '/v1/keys', { role: 'reviewer', name: 'alice' });
  expect([agentRes.status, reviewerRes.status]).toEqual([201, 201]);
  agentKey = agentRes.body.key;
  // The reviewer's requests are counted, to see the iterator fetch page after page.
  const counting: typeof fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${String(input).slice(runtime.url.length)}`);
    return fetch(input, init);
  };
  admin = new ProcessaClient({ baseUrl: runtime.url, apiKey: runtime.adminKey });
  agent = new ProcessaClient({ baseUrl: runtime.url, apiKey: agentKey });
  reviewer = new ProcessaClient({ baseUrl: runtime.url, apiKey: reviewerRes.body.key, fetch: counting });
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

const email = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };

describe('the client against the dev runtime', () => {
  it('createDraft → waitForDecision resolves once a reviewer approves in parallel', async () => {
    const draft = await agent.createDraft({ title: 'Send welcome email', content: email, metadata: { source: 'ai_agent_v1' } });
    expect(draft).toMatchObject({ status: 'pending', reviewUrl: `${runtime.url}/review/${draft.id}`, metadata: { source: 'ai_agent_v1' } });
    // The agent's polls of the draft are counted, so the reviewer decides while it is waiting in them.
    let polls = 0;
    const polling = new ProcessaClient({
      baseUrl: runtime.url,
      apiKey: agentKey,
      fetch: (input, init) => {
        if (String(input).endsWith(`/v1/drafts/${draft.id}`)) polls++;
        return fetch(input, init);
      },
    });
    const waiting = polling.waitForDecision(draft.id, { timeoutMs: 20_000, pollIntervalMs: 200 });
    const edited = { ...email, body: 'Hello, edited' };
    await eventually(() => polls >= 2, 10_000, 'the agent polling the pending draft');
    const approved = await reviewer.approveDraft(draft.id, { content: edited });
    const decided = await waiting;
    expect(approved.status).toBe('approved');
    expect(decided).toMatchObject({
      id: draft.id,
      status: 'approved',
      content: edited,
      originalContent: email,
      reviewedBy: { name: 'alice', role: 'reviewer' },
    });
    expect(decided.reviewedAt).toBe(approved.reviewedAt);
  });

  it('waitForDecision gives up with DecisionTimeoutError while the draft is pending', async () => {
    const draft = await agent.createDraft({ title: 'Nobody looks at this', content: {} });
    const error = await agent.waitForDecision(draft.id, { timeoutMs: 300, pollIntervalMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecisionTimeoutError);
    expect((error as DecisionTimeoutError).draft).toMatchObject({ id: draft.id, status: 'pending' });
  });

  it('listDrafts iterates across pages, newest first', async () => {
    const tag = `list-${Date.now()}`;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await agent.createDraft({ title: `page ${i}`, content: { i }, metadata: { tag } })).id);
    requests.length = 0;
    const seen: Draft[] = [];
    for await (const draft of reviewer.listDrafts({ status: 'pending', limit: 2 })) {
      if (draft.metadata.tag === tag) seen.push(draft);
      if (seen.length === created.length) break;
    }
    expect(seen.map((d) => d.id)).toEqual([...created].reverse());
    expect(seen.every((d) => d.status === 'pending')).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests[0]).toBe('GET /v1/drafts?status=pending&limit=2');
    expect(requests[1]).toMatch(/^GET \/v1\/drafts\?status=pending&limit=2&cursor=./);
    const page = await reviewer.listDraftsPage({ status: 'pending', limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('a decision race surfaces as a ConflictError carrying the state that won', async () => {
    const draft = await agent.createDraft({ title: 'Race', content: {} });
    const results = await Promise.allSettled([reviewer.approveDraft(draft.id), admin.rejectDraft(draft.id, { reason: 'too late?' })]);
    const won = results.filter((r): r is PromiseFulfilledResult<Draft> => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect([won.length, lost.length]).toEqual([1, 1]);
    const error = lost[0]!.reason as ConflictError;
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status: 409, code: 'already_decided', requestId: expect.any(String) });
    expect(error.draft?.status).toBe(won[0]!.value.status);
    expect(error.draft?.reviewedAt).toBe(won[0]!.value.reviewedAt);
  });

  it('bad input surfaces as a ValidationError naming the field', async () => {
    const error = await agent.createDraft({ title: '', content: email }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', message: expect.stringContaining('title'), requestId: expect.any(String) });
    expect((error as ValidationError).fields).toEqual([expect.objectContaining({ field: 'title' })]);
    const nested = await agent.createDraft({ title: 'x', content: email, metadata: { nested: { a: 1 } as never } }).catch((e: unknown) => e);
    expect((nested as ValidationError).fields[0]!.field).toMatch(/^metadata/);
  });

  it('other failures are typed too: 401, 403, 404, 422', async () => {
    const stranger = new ProcessaClient({ baseUrl: runtime.url, apiKey: 'prk_nobody' });
    await expect(stranger.getDraft('c1')).rejects.toBeInstanceOf(AuthenticationError);
    const draft = await agent.createDraft({ title: 'Mine', content: {} });
    await expect(agent.approveDraft(draft.id)).rejects.toMatchObject({ constructor: PermissionError, status: 403, code: 'forbidden' });
    await expect(agent.getDraft(`c${'0'.repeat(24)}`)).rejects.toBeInstanceOf(NotFoundError);
    const once = await agent.createDraft({ title: 'Once', content: {} }, { idempotencyKey: 'client-e2e-1' });
    const again = await agent.createDraft({ title: 'Once', content: {} }, { idempotencyKey: 'client-e2e-1' });
    expect(again.id).toBe(once.id);
    await expect(agent.createDraft({ title: 'Other', content: {} }, { idempotencyKey: 'client-e2e-1' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });
});

describe('the examples in shared/client/examples', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(
      children
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM')))),
    );
  });

  function run(script: string, env: Record<string, string>) {
    const child = spawn(tsxBin, [`shared/client/examples/${script}`], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { child, output: () => output, exited };
  }
  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
  async function receiverExample(script: string) {
    const port = await freePort();
    const adminApi = apiClient(runtime.url, runtime.adminKey);
    const endpoint = await adminApi('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/webhooks/processa` });
    expect(endpoint.status).toBe(201);
    const receiver = run(script, { PORT: String(port), PROCESSA_WEBHOOK_SECRET: endpoint.body.secret });
    await eventually(() => receiver.output().includes('listening'), 30_000, `${script} to listen:\n${receiver.output()}`);
    return { ...receiver, url: `http://127.0.0.1:${port}/webhooks/processa`, secret: endpoint.body.secret as string, endpointId: endpoint.body.id as string };
  }
  /** Posts a delivery signed like Processa's, as a retry would resend it. */
  const deliver = (url: string, secret: string, id: string, body: object) => {
    const text = JSON.stringify(body);
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(id, text, [secret], new Date()) }, body: text }).then(
      (r) => r.status,
    );
  };
  const approvedEvent = (to: string) => ({
    event: 'draft.approved',
    draft: { id: `c${Date.now()}`, title: 't', content: { to, subject: 'Dup', body: '…' }, metadata: {}, reviewedAt: new Date().toISOString() },
    timestamp: new Date().toISOString(),
  });

  it('agent.ts waits for the decision that receiver.ts then executes', async () => {
    const receiver = await receiverExample('receiver.ts');
    const agentRun = run('agent.ts', { PROCESSA_URL: runtime.url, PROCESSA_API_KEY: agentKey });
    const [, draftId] = await eventually(
      () => agentRun.output().match(/Draft (\S+) is waiting for review: http/),
      30_000,
      `the agent's draft:\n${agentRun.output()}`,
    );
    await reviewer.approveDraft(draftId!, { content: { ...email, to: 'edited@example.com' } });
    expect(await agentRun.exited).toBe(0);
    expect(agentRun.output()).toContain('Approved by alice: {"to":"edited@example.com"');
    await eventually(() => receiver.output().includes('sending email to edited@example.com: Welcome!'), 20_000, `the receiver to send:\n${receiver.output()}`);

    const rejected = await agent.createDraft({ title: 'Refund', content: { amount: 10 } });
    await reviewer.rejectDraft(rejected.id, { reason: 'Content violates policy' });
    await eventually(
      () => receiver.output().includes(`draft ${rejected.id} rejected: Content violates policy`),
      20_000,
      `the rejection log:\n${receiver.output()}`,
    );

    // A redelivered event (same webhook-id) is acknowledged but not executed twice; forgeries get 400.
    const event = approvedEvent('dup@example.com');
    expect(await deliver(receiver.url, receiver.secret, 'msg_dup_1', event)).toBe(200);
    expect(await deliver(receiver.url, receiver.secret, 'msg_dup_1', event)).toBe(200);
    expect(await deliver(receiver.url, `whsec_${Buffer.from('not the secret').toString('base64')}`, 'msg_dup_2', approvedEvent('forged@example.com'))).toBe(
      400,
    );
    expect(receiver.output().match(/sending email to dup@example\.com/g)).toHaveLength(1);
    expect(receiver.output()).not.toContain('forged@example.com');
  }, 60_000);

  it('node-http-receiver.ts verifies, acknowledges and deduplicates', async () => {
    const receiver = await receiverExample('node-http-receiver.ts');
    const event = approvedEvent('someone@example.com');
    expect(await deliver(receiver.url, receiver.secret, 'msg_node_1', event)).toBe(200);
    expect(await deliver(receiver.url, receiver.secret, 'msg_node_1', event)).toBe(200);
    expect(await deliver(receiver.url, `whsec_${Buffer.from('nope').toString('base64')}`, 'msg_node_2', event)).toBe(400);
    expect((await fetch(receiver.url)).status).toBe(405);
    await eventually(() => receiver.output().includes(`draft.approved for draft ${event.draft.id}`));
    const test = await apiClient(runtime.url, runtime.adminKey)('POST', `/v1/webhooks/${receiver.endpointId}/test`);
    // "Test Webhook" sends a draft.rejected by default: acknowledged and logged, nothing executed.
    await eventually(() => receiver.output().includes(`draft.rejected for draft ${test.body.draftId}`), 20_000, `the test event:\n${receiver.output()}`);
    expect(receiver.output().match(new RegExp(`for draft ${event.draft.id}`, 'g'))).toHaveLength(1);
  }, 60_000);
});
