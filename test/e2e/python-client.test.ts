/**
 * The Python client (shared/client/python) run by the machine's python3 against the dev runtime:
 * - its unittest suites: the offline one (retries, Retry-After, typed errors), packaging (pip
 *   installs it with no index), verify_webhook against signatures made here by the server's own
 *   signing code (shared/webhooks/signing.ts), and the API end to end (idempotent create, get, pages, approve with edits, reject, typed
 *   401/403/400/409, wait_for_decision), and the @require_approval decorator with a reviewer deciding;
 * - examples/agent.py blocking in wait_for_decision while a reviewer decides from here;
 * - examples/flask_receiver.py, the webhook documentation's Flask handler completed with
 *   verify_webhook, receiving real deliveries and refusing forged ones.
 *
 * Needs python3 ≥ 3.11 with Flask (Debian: apt-get install -y python3-flask; .ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, signedHeaders } from '../../shared/webhooks/signing.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';
import { printedLines } from '../support/printed-lines.js';
import { readmeSnippet } from '../support/readme-snippets.js';

const pythonRoot = join(repoRoot, 'shared', 'client', 'python');
const email = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };

let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
let reviewer: ReturnType<typeof apiClient>;
const keys = { agent: '', reviewer: '' };
const children: ChildProcess[] = [];
const tempDir = mkdtempSync(join(tmpdir(), 'processa-python-'));

interface PythonRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** python3 -u with the package on PYTHONPATH, from shared/client/python, writing no __pycache__. */
function python(args: string[], env: Record<string, string> = {}): PythonRun {
  const child = spawn('python3', ['-u', ...args], {
    cwd: pythonRoot,
    env: { ...process.env, PYTHONPATH: pythonRoot, PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs one unittest module and expects every test in it to run (none skipped) and pass. */
async function unittest(module: string, env: Record<string, string> = {}) {
  const run = python(['-m', 'unittest', '-v', module], env);
  const code = await run.exited;
  const output = run.output();
  if (code !== 0 || !/^OK$/m.test(output)) throw new Error(`python3 -m unittest ${module} failed (exit ${code}):\n${output}`);
  expect(output).not.toMatch(/skipped/);
  return Number(output.match(/^Ran (\d+) tests?/m)?.[1]);
}

/** An HTTP proxy to `target` that counts the requests it forwards, by method and path. */
async function countingProxy(target: string) {
  const seen = new Map<string, number>();
  const server = createHttpServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    count: (key: string) => seen.get(key) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const version = spawnSync('python3', ['-c', 'import sys; print(sys.version_info >= (3, 11))'], { encoding: 'utf8' });
  if (version.stdout.trim() !== 'True') throw new Error(`python3 3.11+ is needed: ${version.stdout}${version.stderr}${version.error ?? ''}`);
  runtime = await startDevRuntime();
  admin = apiClient(runtime.url, runtime.adminKey);
  const [agentKey, reviewerKey] = await Promise.all([
    admin('POST', '/v1/keys', { role: 'agent', name: 'bot' }),
    admin('POST', '/v1/keys', { role: 'reviewer', name: 'alice' }),
  ]);
  expect([agentKey.status, reviewerKey.status]).toEqual([201, 201]);
  keys.agent = agentKey.body.key;
  keys.reviewer = reviewerKey.body.key;
  agent = apiClient(runtime.url, keys.agent);
  reviewer = apiClient(runtime.url, keys.reviewer);
}, 90_000);

afterAll(async () => {
  await Promise.all(
    children
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map((child) => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM')))),
  );
  await runtime?.stop();
  rmSync(tempDir, { recursive: true, force: true });
});

describe('the Python unittest suites', () => {
  it('offline: retries with backoff and Retry-After, Idempotency-Key reuse, typed errors, no redirects, polling', async () => {
    expect(await unittest('tests.test_client')).toBeGreaterThanOrEqual(15);
  }, 60_000);

  it('packaging: the standard-library build backend makes an importable wheel and sdist; pip installs the folder with no index', async () => {
    expect(await unittest('tests.test_packaging')).toBe(3);
  }, 60_000);

  it('verify_webhook accepts and refuses exactly the deliveries signed by shared/webhooks/signing.ts', async () => {
    const [current, previous, stranger] = [generateSecret(), generateSecret(), generateSecret()];
    const now = new Date();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
    const approved = JSON.stringify({
      event: 'draft.approved',
      draft: {
        id: 'cmlgx2hvq0002k6gve9fuaz0k',
        title: 'Send welcome email',
        content: { ...email, subject: 'Grüße ✓ — 👋' },
        metadata: { source: 'ai_agent_v1' },
        reviewedAt: now.toISOString(),
      },
      timestamp: now.toISOString(),
    });
    const rejected = JSON.stringify({
      event: 'draft.rejected',
      draft: { id: 'cmlgx2hvq0002k6gve9fuaz0l', title: 'Refund', rejectionReason: 'Content violates policy', reviewedAt: now.toISOString() },
      timestamp: now.toISOString(),
    });
    const single = signedHeaders('msg_single', approved, [current], now);
    // During a rotation the server signs with the new secret and the old one, space-separated.
    const rotated = signedHeaders('msg_rotated', approved, [current, previous], now);
    expect(rotated['webhook-signature'].split(' ')).toHaveLength(2);
    const capitalised = Object.fromEntries(
      Object.entries(signedHeaders('msg_caps', rejected, [current], now)).map(([k, v]) => [k.replace(/(^|-)[a-z]/g, (m) => m.toUpperCase()), v]),
    );
    const { ['webhook-signature']: _, ...unsigned } = single;
    const ok = (name: string, id: string, body: string, headers: object, secret: string | string[], at: number | null = nowSeconds) => ({
      name,
      id,
      body,
      headers,
      secret,
      now: at,
      expect: 'ok',
    });
    const refused = (name: string, expectReason: string, body: string, headers: object, secret: string | string[], at: number | null = nowSeconds) => ({
      name,
      body,
      headers,
      secret,
      now: at,
      expect: expectReason,
    });
    const cases = [
      ok('one signature', 'msg_single', approved, single, current),
      ok('one signature, the real clock', 'msg_single', approved, single, current, null),
      ok('draft.rejected, header names capitalised as Flask shows them', 'msg_caps', rejected, capitalised, current),
      ok('rotation: verified with the new secret', 'msg_rotated', approved, rotated, current),
      ok('rotation: verified with the old secret', 'msg_rotated', approved, rotated, previous),
      ok('rotation: verified with a list of secrets', 'msg_rotated', approved, rotated, [stranger, previous]),
      ok('signed 4 minutes ago: within the tolerance', 'msg_4min', approved, signedHeaders('msg_4min', approved, [current], ago(240)), current),
      refused('rotation: neither secret', 'invalid_signature', approved, rotated, stranger),
      refused('wrong secret', 'invalid_signature', approved, single, stranger),
      refused('tampered body', 'invalid_signature', approved.replace('user@example.com', 'evil@example.com'), single, current),
      refused('tampered body under a rotated header', 'invalid_signature', approved.replace('user@example.com', 'evil@example.com'), rotated, previous),
      refused('the body re-serialized', 'invalid_signature', JSON.stringify(JSON.parse(approved), null, 2), single, current),
      refused('webhook-id swapped', 'invalid_signature', approved, { ...single, 'webhook-id': 'msg_other' }, current),
      refused('webhook-timestamp changed', 'invalid_signature', approved, { ...single, 'webhook-timestamp': String(nowSeconds + 1) }, current),
      refused('stale: signed 6 minutes ago', 'timestamp_too_old', approved, signedHeaders('msg_stale', approved, [current], ago(360)), current),
      refused('stale, the real clock', 'timestamp_too_old', approved, signedHeaders('msg_stale', approved, [current], ago(3600)), current, null),
      refused('6 minutes in the future', 'timestamp_too_new', approved, signedHeaders('msg_future', approved, [current], ago(-360)), current),
      refused('a valid delivery replayed 10 minutes later', 'timestamp_too_old', approved, single, current, nowSeconds + 600),
      refused('no signature', 'missing_headers', approved, unsigned, current),
    ];
    const file = join(tempDir, 'webhook-fixtures.json');
    writeFileSync(file, JSON.stringify({ cases }));
    expect(await unittest('tests.test_webhooks', { PROCESSA_WEBHOOK_FIXTURES: file })).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('the API end to end: idempotent create, get, pages, approve with edits, reject, typed 401/403/400/409, wait_for_decision', async () => {
    const env = { PROCESSA_URL: runtime.url, PROCESSA_AGENT_KEY: keys.agent, PROCESSA_REVIEWER_KEY: keys.reviewer, PROCESSA_ADMIN_KEY: runtime.adminKey };
    expect(await unittest('tests.test_e2e', env)).toBeGreaterThanOrEqual(8);
  }, 90_000);

  it('@require_approval: approved with an edit runs once with the edit, rejected and timed out do not run, a bad edit names the fields', async () => {
    const env = { PROCESSA_URL: runtime.url, PROCESSA_AGENT_KEY: keys.agent, PROCESSA_REVIEWER_KEY: keys.reviewer };
    expect(await unittest('tests.test_approval', env)).toBe(9);
  }, 90_000);

  it("the README's @require_approval snippet (shared/client/README.md), run as written: the approved edit is what is sent", async () => {
    const prelude = [
      'import json, os',
      'sent = []',
      'class Mailer:',
      '    def send(self, **email):',
      '        sent.append(email)',
      '        return "sent to " + email["to"]',
      'mailer = Mailer()',
      'call_id = "readme-py-1"',
    ].join('\n');
    const file = join(tempDir, 'readme_snippet.py');
    writeFileSync(file, `${prelude}\n${readmeSnippet('python')}\nprint(json.dumps({"result": result, "sent": sent}))\n`);
    const run = python([file], { PROCESSA_URL: `${runtime.url}/v1`, PROCESSA_API_KEY: keys.agent });
    const draft = await eventually(
      async () => (await reviewer('GET', '/v1/drafts?status=pending&limit=100')).body.items.find((d: any) => d.metadata.toolCallId === 'readme-py-1'),
      30_000,
      `the snippet's draft:\n${run.output()}`,
    );
    expect(draft).toMatchObject({ title: 'Send email to user@example.com', content: { tool: 'send_email', arguments: email } });
    const edited = { ...email, body: 'Hello, edited' };
    expect((await reviewer('POST', `/v1/drafts/${draft.id}/approve`, { content: { tool: 'send_email', arguments: edited } })).status).toBe(200);
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.output().trim().split('\n').pop()!)).toEqual({ result: 'sent to user@example.com', sent: [edited] });
  }, 60_000);
});

describe('examples/agent.py', () => {
  it('waits in wait_for_decision while a reviewer approves an edited version from another process', async () => {
    // The agent prints nothing between its polls: it talks through a proxy that counts them, so the
    // reviewer decides once it has polled the pending draft twice, while it waits.
    const proxy = await countingProxy(runtime.url);
    try {
      const run = python(['examples/agent.py'], { PROCESSA_URL: `${proxy.url}/v1`, PROCESSA_API_KEY: keys.agent });
      const [, draftId, reviewUrl] = await eventually(
        () => run.output().match(/^Draft (\S+) is waiting for review: (\S+)$/m),
        30_000,
        `the agent's draft:\n${run.output()}`,
      );
      expect(reviewUrl).toBe(`${runtime.url}/review/${draftId}`);
      await eventually(() => proxy.count(`GET /v1/drafts/${draftId}`) >= 2, 20_000, `the agent polling its pending draft:\n${run.output()}`);
      expect(run.child.exitCode).toBeNull();
      const edited = { ...email, to: 'edited@example.com' };
      expect((await reviewer('POST', `/v1/drafts/${draftId}/approve`, { content: edited })).status).toBe(200);
      expect(await run.exited).toBe(0);
      const line = run.output().match(/^Approved by alice: (.*)$/m);
      expect(JSON.parse(line![1]!)).toEqual(edited);
    } finally {
      await proxy.stop();
    }
  }, 60_000);

  it('gives up with DecisionTimeoutError (exit 2) when nobody decides in time', async () => {
    const run = python(['examples/agent.py'], { PROCESSA_URL: runtime.url, PROCESSA_API_KEY: keys.agent, PROCESSA_WAIT_SECONDS: '1' });
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/Nobody decided draft \S+ in time/);
  }, 30_000);

  it('reports a typed refusal for a bad key (exit 1)', async () => {
    const run = python(['examples/agent.py'], { PROCESSA_URL: runtime.url, PROCESSA_API_KEY: 'prk_nobody' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/Processa refused: HTTP 401 unauthorized: .* \(request \S+\)/);
  }, 30_000);
});

describe("examples/flask_receiver.py: the documentation's Flask handler completed with verify_webhook", () => {
  let receiver: PythonRun;
  let url = '';
  let secret = '';
  let endpointId = '';
  const executed = () =>
    printedLines(receiver.output(), ['executing approved action: ', 'Draft '])
      .filter((l) => l.startsWith('executing approved action: '))
      .map((l) => JSON.parse(l.slice('executing approved action: '.length)) as unknown);
  const deliveriesOf = async () => (await admin('GET', `/v1/webhooks/${endpointId}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;
  const deliveryOf = (match: (d: Record<string, any>) => boolean) =>
    eventually(async () => (await deliveriesOf()).find(match), 20_000, `a delivery; the receiver said:\n${receiver.output()}`);
  const decide = async (action: 'approve' | 'reject', decision: object) => {
    const created = await agent('POST', '/v1/drafts', { title: 'Send welcome email', content: email, metadata: { source: 'ai_agent_v1' } });
    expect(created.status).toBe(201);
    const result = await reviewer('POST', `/v1/drafts/${created.body.id}/${action}`, decision);
    expect(result.status).toBe(200);
    return created.body.id as string;
  };
  const post = async (body: string, headers: Record<string, string>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as any };
  };
  const approvedEvent = (to: string) =>
    JSON.stringify({
      event: 'draft.approved',
      draft: { id: `c${Date.now()}`, title: 't', content: { ...email, to }, metadata: {}, reviewedAt: new Date().toISOString() },
      timestamp: new Date().toISOString(),
    });

  beforeAll(async () => {
    const flask = spawnSync('python3', ['-c', 'import flask'], { encoding: 'utf8' });
    if (flask.status !== 0) throw new Error(`python3 needs Flask (Debian: apt-get install -y python3-flask):\n${flask.stderr}`);
    const port = await freePort();
    url = `http://127.0.0.1:${port}/webhooks/processa`; // the dev runtime accepts loopback http endpoints
    const endpoint = await admin('POST', '/v1/webhooks', { url, description: 'Python/Flask example' });
    expect(endpoint.status).toBe(201);
    [secret, endpointId] = [endpoint.body.secret, endpoint.body.id];
    receiver = python(['examples/flask_receiver.py'], { PORT: String(port), PROCESSA_WEBHOOK_SECRET: secret });
    await eventually(
      async () =>
        receiver.child.exitCode === null &&
        (await fetch(url).then(
          (r) => r.status === 405,
          () => false,
        )),
      20_000,
      `the Flask receiver to listen:\n${receiver.output()}`,
    );
  }, 30_000);

  it('executes a real approval with the edited content, and logs a real rejection', async () => {
    const edited = { ...email, body: 'Hello from Flask, edited' };
    const approvedId = await decide('approve', { content: edited });
    const rejectedId = await decide('reject', { reason: 'Content violates policy' });
    expect(await deliveryOf((d) => d.draftId === approvedId)).toMatchObject({ eventType: 'draft.approved', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(await deliveryOf((d) => d.draftId === rejectedId)).toMatchObject({ eventType: 'draft.rejected', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    await eventually(
      () => receiver.output().includes(`Draft ${rejectedId} rejected: Content violates policy`),
      5_000,
      `the rejection logged:\n${receiver.output()}`,
    );
    await eventually(() => executed().length > 0, 5_000, `the action:\n${receiver.output()}`);
    expect(executed()).toEqual([edited]);
  }, 40_000);

  it('forged, tampered, stale and unsigned requests get 400 and execute nothing', async () => {
    const before = executed().length;
    const body = approvedEvent('forged@example.com');
    const now = new Date();
    const attempts: Array<[string, string, Record<string, string>]> = [
      ['invalid_signature', body, { ...signedHeaders('msg_forged', body, [generateSecret()], now) }],
      ['invalid_signature', body, { ...signedHeaders('msg_tampered', approvedEvent('someone@example.com'), [secret], now) }],
      ['invalid_signature', body, { ...signedHeaders('msg_real', body, [secret], now), 'webhook-id': 'msg_swapped' }],
      ['timestamp_too_old', body, { ...signedHeaders('msg_stale', body, [secret], new Date(now.getTime() - 10 * 60_000)) }],
      ['missing_headers', body, {}],
    ];
    for (const [reason, text, headers] of attempts) {
      const res = await post(text, headers);
      expect([res.status, res.body.error]).toEqual([400, expect.objectContaining({ code: 'invalid_webhook', reason })]);
    }
    // Its log lines arrive through a pipe, possibly after the responses.
    await eventually(() => receiver.output().match(/refused a delivery: /g)?.length === attempts.length, 5_000, `the refusals logged:\n${receiver.output()}`);
    expect(executed().length).toBe(before);
    expect(receiver.output()).not.toContain('forged@example.com');
  });

  it('a redelivered event (same webhook-id) is acknowledged twice and executed once', async () => {
    const before = executed().length;
    const body = approvedEvent('dup@example.com');
    const headers = { ...signedHeaders('msg_python_dup', body, [secret], new Date()) };
    expect(await post(body, headers)).toEqual({ status: 200, body: { received: true } });
    expect(await post(body, headers)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    await eventually(() => executed().length > before, 5_000, `the action:\n${receiver.output()}`);
    // Deliberately a fixed wait: the claim is that no second execution follows within 200 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect(executed().length).toBe(before + 1);
    expect(executed().at(-1)).toMatchObject({ to: 'dup@example.com' });
  });

  it('"Test Webhook": answered 200, nothing executed', async () => {
    const before = executed().length;
    for (const event of [undefined, 'draft.approved']) {
      const sent = await admin('POST', `/v1/webhooks/${endpointId}/test`, event ? { event } : undefined);
      expect(sent.status).toBe(202);
      expect(await deliveryOf((d) => d.eventId === sent.body.eventId)).toMatchObject({ test: true, outcome: 'succeeded', httpStatus: 200 });
      const line = `test ${event ?? 'draft.rejected'} for draft ${sent.body.draftId}: acknowledged, nothing executed`;
      await eventually(() => receiver.output().includes(line), 5_000, `${line}:\n${receiver.output()}`);
    }
    expect(executed().length).toBe(before);
  }, 40_000);

  it('after a secret rotation the deliveries carry both signatures, and the receiver still holding the old secret verifies them', async () => {
    const rotated = await admin('POST', `/v1/webhooks/${endpointId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    const edited = { ...email, to: 'after-rotation@example.com' };
    const draftId = await decide('approve', { content: edited });
    expect(await deliveryOf((d) => d.draftId === draftId)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
    await eventually(() => executed().some((c) => JSON.stringify(c) === JSON.stringify(edited)), 5_000, `the action:\n${receiver.output()}`);
    // The new secret alone is not what the receiver holds: the old one's signature did the work.
    const body = approvedEvent('new-secret-only@example.com');
    expect((await post(body, { ...signedHeaders('msg_new_only', body, [rotated.body.secret], new Date()) })).status).toBe(400);
  }, 40_000);
});
