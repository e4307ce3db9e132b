/**
 * The TypeScript client as a builder gets it: `npm run build:client`, `npm pack`, installed from
 * the tarball into an empty project, then used from a plain `node` script (no tsx, no loader)
 * against the dev runtime, and type-checked from a consumer's .ts with the repo's tsc.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { readmeSnippet } from '../support/readme-snippets.js';

const exec = promisify(execFile);
const clientDir = join(repoRoot, 'shared', 'client');
const tscBin = join(repoRoot, 'node_modules', '.bin', 'tsc');

/**
 * The environment of a fresh shell: without what npm and jest put there for their own children
 * (npm_config_* would steer the nested npm to this repo; NODE_OPTIONS carries jest's VM flag).
 */
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS' && name !== 'INIT_CWD'));
const npm = (args: string[], cwd: string) => exec('npm', args, { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });

let work: string;
let project: string;
let packed: { filename: string; files: Array<{ path: string }>; name: string; version: string };
let runtime: DevRuntime;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'processa-client-package-'));
  project = join(work, 'my-agent');
  mkdirSync(project);
  // The dev runtime starts while the package is built, packed and installed.
  const starting = startDevRuntime();
  const installing = (async () => {
    await npm(['run', 'build:client'], repoRoot);
    const { stdout } = await npm(['pack', '--json', '--pack-destination', work], clientDir);
    packed = JSON.parse(stdout)[0];
    await npm(['init', '-y'], project);
    await npm(['pkg', 'set', 'type=module'], project);
    // --offline: the package has no dependencies, so nothing may need fetching.
    await npm(['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], project);
  })();
  const [started, installed] = await Promise.allSettled([starting, installing]);
  if (started.status === 'fulfilled') runtime = started.value;
  if (started.status === 'rejected') throw started.reason;
  if (installed.status === 'rejected') throw installed.reason;
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm run build:client and npm pack', () => {
  it('build ES modules with declarations into shared/client/dist', () => {
    for (const module of ['index', 'webhooks', 'errors', 'transport', 'types', 'approval', 'ai-sdk', 'langchain']) {
      expect(existsSync(join(clientDir, 'dist', `${module}.js`))).toBe(true);
      expect(existsSync(join(clientDir, 'dist', `${module}.d.ts`))).toBe(true);
    }
    expect(readFileSync(join(clientDir, 'dist', 'index.js'), 'utf8')).toMatch(/^export class ProcessaClient/m);
    // The MCP server is one bundled file (the MCP SDK and zod inside) that runs as a bin.
    expect(readFileSync(join(clientDir, 'dist', 'mcp-server.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    // The main entry never loads an agent framework or the MCP SDK.
    expect(readFileSync(join(clientDir, 'dist', 'index.js'), 'utf8')).not.toMatch(/from ['"](ai|@langchain|@modelcontextprotocol|\.\/(ai-sdk|langchain|mcp))/);
  });

  it('pack only the built files, the README and package.json', () => {
    expect(packed).toMatchObject({ name: '@processa/client', filename: expect.stringMatching(/^processa-client-\d+\.\d+\.\d+\.tgz$/) });
    const paths = packed.files.map((file) => file.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/webhooks.js', 'dist/webhooks.d.ts', 'dist/mcp-server.js']),
    );
    expect(paths).toEqual(expect.arrayContaining(['dist/ai-sdk.js', 'dist/ai-sdk.d.ts', 'dist/langchain.js', 'dist/langchain.d.ts', 'dist/approval.js']));
    // No TypeScript sources, examples, the Python client, the build config or the OpenAPI copy.
    expect(paths.filter((path) => !['README.md', 'package.json'].includes(path) && !/^dist\/[a-z-]+\.(js|d\.ts)$/.test(path))).toEqual([]);
  });

  it('install into an empty project with nothing else: no dependencies, the agent frameworks only optional peers', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', '@processa', 'client', 'package.json'), 'utf8'));
    expect(installed.dependencies ?? {}).toEqual({});
    // Only @processa/client/ai-sdk and /langchain import them; npm installs no optional peer.
    expect(Object.keys(installed.peerDependencies ?? {}).sort()).toEqual(['@langchain/core', 'ai']);
    expect(installed.peerDependenciesMeta).toEqual({ '@langchain/core': { optional: true }, ai: { optional: true } });
    expect(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['@processa']);
    expect(existsSync(join(project, 'node_modules', '@processa', 'client', 'dist', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', '@processa', 'client', 'README.md'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', '.bin', 'processa-mcp'))).toBe(true);
  });
});

/**
 * The builder's script: a node:http receiver verifying with @processa/client/webhooks, registered
 * with the admin key; an agent that creates a draft and waits for the decision; then the typed
 * errors. It prints one JSON line per step.
 */
const consumerScript = `
import { createServer } from 'node:http';
import { ConflictError, NotFoundError, PermissionError, ProcessaClient, ProcessaError } from '@processa/client';
import { expressWebhookMiddleware, verifyWebhook, verifyWebhookDelivery, WebhookVerificationError } from '@processa/client/webhooks';

const { PROCESSA_URL, PROCESSA_API_KEY, PROCESSA_ADMIN_KEY } = process.env;
const out = (line) => console.log(JSON.stringify(line));
setTimeout(() => { console.error('consumer: timed out'); process.exit(3); }, 60_000).unref();

// A receiver, as the package README shows it.
let secret;
const received = [];
const receiver = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  try {
    const { id, event } = verifyWebhookDelivery(raw, req.headers, secret);
    received.push({ id, event, raw, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    res.writeHead(400).end(error.message);
  }
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const registered = await fetch(new URL('/v1/webhooks', PROCESSA_URL), {
  method: 'POST',
  headers: { authorization: 'Bearer ' + PROCESSA_ADMIN_KEY, 'content-type': 'application/json' },
  body: JSON.stringify({ url: 'http://127.0.0.1:' + receiver.address().port + '/webhooks/processa' }),
});
if (registered.status !== 201) throw new Error('registering the receiver: ' + registered.status + ' ' + await registered.text());
secret = (await registered.json()).secret;

// The agent.
const agent = new ProcessaClient({ baseUrl: PROCESSA_URL, apiKey: PROCESSA_API_KEY });
const email = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };
const input = { title: 'Send welcome email', content: email, metadata: { source: 'package-test' } };
const draft = await agent.createDraft(input, { idempotencyKey: 'package-test-1' });
const replay = await agent.createDraft(input, { idempotencyKey: 'package-test-1' });
out({ step: 'created', id: draft.id, status: draft.status, reviewUrl: draft.reviewUrl, replayedId: replay.id });
const decided = await agent.waitForDecision(draft.id, { timeoutMs: 30_000, pollIntervalMs: 200 });

while (!received.some((r) => r.event.draft.id === draft.id)) await new Promise((r) => setTimeout(r, 100));
const delivery = received.find((r) => r.event.draft.id === draft.id);

// Verification refuses what was not signed by this secret.
const reasonOf = (fn) => { try { fn(); return 'verified'; } catch (error) { return error instanceof WebhookVerificationError ? error.reason : 'other: ' + error; } };
const tampered = Buffer.from(delivery.raw.toString('utf8').replace('user@example.com', 'attacker@example.com'));
const otherSecret = 'whsec_' + Buffer.from('another secret of 32 bytes......').toString('base64');

// The Express middleware, with the request and response objects Express would pass.
const express = async (seen) => {
  const req = { body: delivery.raw, headers: delivery.headers };
  let status, body, nextCalls = 0;
  const res = { status(code) { status = code; return { json(value) { body = value; } }; } };
  await expressWebhookMiddleware([otherSecret, secret], { seen: () => seen })(req, res, () => nextCalls++);
  return { nextCalls, status, body, event: req.webhook, webhookId: req.webhookId };
};

const errorOf = async (promise) => promise.then(() => null, (error) => ({
  name: error.name, code: error.code, status: error.status, processa: error instanceof ProcessaError,
  notFound: error instanceof NotFoundError, permission: error instanceof PermissionError, conflict: error instanceof ConflictError,
  winner: error instanceof ConflictError ? error.draft?.status : undefined,
}));
const admin = new ProcessaClient({ baseUrl: PROCESSA_URL.replace(/\\/v1\\/?$/, ''), apiKey: PROCESSA_ADMIN_KEY });

out({
  step: 'done',
  decided: { status: decided.status, content: decided.content, reviewedBy: decided.reviewedBy?.name },
  webhook: { id: delivery.id, idHeader: delivery.headers['webhook-id'], event: delivery.event },
  verifyWebhook: verifyWebhook(delivery.raw.toString('utf8'), new Headers(Object.entries(delivery.headers)), secret),
  tampered: reasonOf(() => verifyWebhook(tampered, delivery.headers, secret)),
  wrongSecret: reasonOf(() => verifyWebhook(delivery.raw, delivery.headers, otherSecret)),
  stale: reasonOf(() => verifyWebhook(delivery.raw, delivery.headers, secret, { now: Date.now() + 10 * 60_000 })),
  express: await express(false),
  expressDuplicate: await express(true),
  notFound: await errorOf(agent.getDraft('c0000000000000000nosuchdraft')),
  invalidId: await errorOf(agent.getDraft('not a draft id')),
  agentApproves: await errorOf(agent.approveDraft(draft.id)),
  approvedTwice: await errorOf(admin.approveDraft(draft.id)),
});
receiver.close();
process.exit(0);
`;

/** What `npm run dev` printed after "Next:", by label. */
function nextSteps(): Record<string, string> {
  const banner = runtime.output().split('\nNext:\n')[1]?.split('\nready ')[0] ?? '';
  return Object.fromEntries([...banner.matchAll(/^ {2}([A-Z][A-Za-z ]+):\s+(.+)$/gm)].map((m) => [m[1]!, m[2]!]));
}
/** The agent key made with the command the banner prints. */
let agentKey: string | undefined;

describe("npm run dev's banner", () => {
  it('says what to do next, and every URL and command it gives works', async () => {
    const next = nextSteps();
    expect(Object.keys(next)).toEqual(['Review drafts', 'Webhooks', 'OpenAPI', 'Clients', 'Slack', 'Make keys', 'Demo receiver']);
    expect(runtime.output()).toMatch(/^ready http:\/\/\S+$/m);

    expect(next['Review drafts']).toMatch(new RegExp(`^${runtime.url}/review \\(`));
    expect(next['Webhooks']).toMatch(new RegExp(`^${runtime.url}/settings/webhooks \\(`));
    expect(next['OpenAPI']).toBe(`${runtime.url}/v1/openapi.json`);
    expect(next['Clients']).toBe(`baseUrl ${runtime.url}/v1`);
    expect(next['Demo receiver']).toMatch(/^npm run dev -- --demo-receiver /);
    // Without a signing secret the interactivity URL is there and refuses to act (503), as the banner says.
    expect(next['Slack']).toMatch(new RegExp(`^${runtime.url}/v1/integrations/slack/interactions .*set PROCESSA_SLACK_SIGNING_SECRET`));
    const slack = await fetch(next['Slack']!.split(' ')[0]!, {
      method: 'POST',
      body: 'payload=%7B%7D',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(slack.status).toBe(503);
    for (const url of [next['Review drafts']!, next['Webhooks']!].map((text) => text.split(' ')[0]!)) {
      const page = await fetch(url);
      expect([url, page.status, page.headers.get('content-type')]).toEqual([url, 200, expect.stringMatching(/^text\/html/)]);
    }
    const spec = await fetch(next['OpenAPI']!);
    expect((await spec.json()).openapi).toMatch(/^3\.1\./);

    // The keys command, as printed (it names this runtime's folder and port), from a fresh shell.
    const command = next['Make keys']!.replace(/ \(or --role reviewer.*$/, '');
    expect(command).toMatch(/npm run keys -- create --role agent --name my-agent$/);
    const env = cleanEnv();
    delete env.PROCESSA_DATA_DIR;
    delete env.PORT;
    const { stdout } = await exec('sh', ['-c', command], { cwd: repoRoot, env });
    agentKey = stdout.match(/^(prk_\S+)$/m)?.[1];
    expect(stdout).toContain('Created agent key "my-agent"');
    expect((await apiClient(runtime.url, agentKey)('GET', '/v1/drafts?limit=1')).status).toBe(200);
  }, 60_000);
});

describe('the installed package under plain node', () => {
  it('creates a draft, waits for the decision a reviewer makes, and verifies its signed webhook', async () => {
    const adminApi = apiClient(runtime.url, runtime.adminKey);
    agentKey ??= (await adminApi('POST', '/v1/keys', { role: 'agent', name: 'package-bot' })).body.key;
    writeFileSync(join(project, 'agent.mjs'), consumerScript);

    // The base URL `npm run dev` prints for clients (the unit tests try the other spellings).
    const child = spawn(process.execPath, ['agent.mjs'], {
      cwd: project,
      env: {
        ...cleanEnv(),
        PROCESSA_URL: nextSteps()['Clients']?.replace(/^baseUrl /, '') ?? `${runtime.url}/v1`,
        PROCESSA_API_KEY: agentKey!,
        PROCESSA_ADMIN_KEY: runtime.adminKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines: any[] = [];
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello, edited' };
    let approving: Promise<{ status: number }> | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const complete = stdout.split('\n');
      stdout = complete.pop()!;
      for (const text of complete.filter(Boolean)) {
        const line = JSON.parse(text);
        lines.push(line);
        // A reviewer decides while the script waits for the decision.
        if (line.step === 'created') approving = adminApi('POST', `/v1/drafts/${line.id}/approve`, { content: edited });
      }
    });

    const code = await exited;
    if (code !== 0) throw new Error(`agent.mjs exited with ${code}:\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}\n${stdout}`);
    expect((await approving!)?.status).toBe(200);

    const [created, done] = lines;
    expect(created).toMatchObject({ step: 'created', status: 'pending', reviewUrl: `${runtime.url}/review/${created.id}`, replayedId: created.id });
    expect(done).toMatchObject({
      step: 'done',
      decided: { status: 'approved', content: edited, reviewedBy: expect.any(String) },
      webhook: {
        event: { event: 'draft.approved', draft: { id: created.id, title: 'Send welcome email', content: edited, metadata: { source: 'package-test' } } },
      },
      verifyWebhook: { event: 'draft.approved', draft: { id: created.id, content: edited } },
      tampered: 'invalid_signature',
      wrongSecret: 'invalid_signature',
      stale: 'timestamp_too_old',
      express: { nextCalls: 1, event: { event: 'draft.approved', draft: { id: created.id } } },
      expressDuplicate: { nextCalls: 0, status: 200, body: { received: true, duplicate: true } },
      notFound: { name: 'NotFoundError', code: 'not_found', status: 404, processa: true, notFound: true },
      invalidId: { name: 'ValidationError', code: 'validation_failed', status: 400, processa: true },
      agentApproves: { name: 'PermissionError', code: 'forbidden', status: 403, processa: true, permission: true },
      approvedTwice: { name: 'ConflictError', code: 'already_decided', status: 409, processa: true, conflict: true, winner: 'approved' },
    });
    expect(done.webhook.id).toBe(done.webhook.idHeader);
    expect(done.express.webhookId).toBe(done.webhook.id);
  }, 90_000);
});

describe('the installed package from TypeScript', () => {
  /**
   * Type-checks `source` in the temporary project with the repo's tsc and the given options. The
   * package's .d.ts are checked too (skipLibCheck off); TypeScript's own lib files are not.
   */
  async function typecheck(name: string, source: string, compilerOptions: Record<string, unknown>) {
    writeFileSync(join(project, `${name}.ts`), source);
    const config = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        skipDefaultLibCheck: true,
        ...compilerOptions,
      },
      files: [`${name}.ts`],
    };
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
    return exec(tscBin, ['-p', `tsconfig.${name}.json`], { cwd: project, env: cleanEnv() }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  }

  it('type-checks a Node consumer (moduleResolution nodenext, @types/node), with the types doing their job', async () => {
    const source = `
import { ConflictError, DecisionTimeoutError, ProcessaClient, ValidationError, type Draft, type DraftStatus } from '@processa/client';
import { expressWebhookMiddleware, verifyWebhook, verifyWebhookDelivery, type ProcessaWebhookEvent } from '@processa/client/webhooks';

const client = new ProcessaClient({ baseUrl: 'http://localhost:3000/v1', apiKey: 'prk_x', maxRetries: 2 });

export async function agent(): Promise<DraftStatus> {
  const draft: Draft = await client.createDraft({ title: 't', content: { to: 'a' }, metadata: { n: 1 } }, { idempotencyKey: 'k' });
  for await (const pending of client.listDrafts({ status: 'pending', limit: 10 })) pending.reviewUrl.toUpperCase();
  try {
    await client.approveDraft(draft.id, { content: { to: 'b' } });
  } catch (error) {
    if (error instanceof ConflictError) return error.draft?.status ?? 'pending';
    if (error instanceof ValidationError) console.log(error.fields.map((f) => f.field), error.code, error.requestId);
    if (error instanceof DecisionTimeoutError) return error.draft.status;
  }
  return (await client.waitForDecision(draft.id, { timeoutMs: 1000, signal: AbortSignal.timeout(5000) })).status;
}

export function receive(body: Uint8Array, headers: Record<string, string | string[] | undefined>): string {
  const event: ProcessaWebhookEvent = verifyWebhook(body, headers, ['whsec_a', 'whsec_b']);
  if (event.event === 'draft.approved') return event.test ? 'test' : JSON.stringify(event.draft.content);
  if (event.event === 'draft.rejected') return event.draft.rejectionReason ?? '';
  if (event.event === 'draft.expired') return event.draft.expiresAt;
  if (event.event === 'endpoint.disabled') return event.endpoint.disabledReason;
  return event.delivery.eventId;
}
export const id: string = verifyWebhookDelivery('{}', new Headers(), 'whsec_a').id;
export const middleware = expressWebhookMiddleware('whsec_a', { seen: async () => false, toleranceSeconds: 60 });

// @ts-expect-error a draft needs a title
void client.createDraft({ content: {} });
// @ts-expect-error 'maybe' is not a status
void client.listDraftsPage({ status: 'maybe' });
// @ts-expect-error metadata is flat
void client.createDraft({ title: 't', content: {}, metadata: { nested: { a: 1 } } });
`;
    const errors = await typecheck('consumer', source, { lib: ['ES2022'], types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')] });
    expect(errors).toBe('');
  }, 120_000); // @types/node is checked too

  it('type-checks a browser consumer of the client (DOM, no @types/node)', async () => {
    const source = `
import { ProcessaClient, type Draft } from '@processa/client';
export const draft: Promise<Draft> = new ProcessaClient({ baseUrl: location.origin, apiKey: 'prk_x' }).getDraft('d1');
`;
    const errors = await typecheck('browser', source, { lib: ['ES2022', 'DOM'], types: [] });
    expect(errors).toBe('');
  }, 60_000);

  it('reports a misuse as an error (the check above is not vacuous)', async () => {
    const source = `
import { ProcessaClient } from '@processa/client';
new ProcessaClient({ baseUrl: 'http://localhost:3000' });
`;
    const errors = await typecheck('misuse', source, { lib: ['ES2022', 'DOM'], types: [] });
    expect(errors).toMatch(/misuse\.ts\(3,\d+\): error TS2345: [\s\S]*apiKey/);
  }, 60_000);
});

describe('processa-mcp from the packed tarball, configured as the README shows an MCP host', () => {
  it('serves the MCP tools over stdio under plain node, with nothing else installed', async () => {
    const adminApi = apiClient(runtime.url, runtime.adminKey);
    const key = (await adminApi('POST', '/v1/keys', { role: 'agent', name: 'mcp-package' })).body.key as string;
    // The host configuration block of shared/client/README.md, with this tarball, runtime and key.
    const config = JSON.parse(readmeSnippet('json:mcpServers')).mcpServers.processa as { command: string; args: string[]; env: Record<string, string> };
    expect(config.args).toContain('/path/to/processa-client-0.1.0.tgz');
    expect(Object.keys(config.env).sort()).toEqual(['PROCESSA_AGENT_NAME', 'PROCESSA_API_KEY', 'PROCESSA_URL']);
    const env = Object.fromEntries(Object.entries(cleanEnv()).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const transport = new StdioClientTransport({
      command: config.command,
      args: config.args.map((arg) => (arg === '/path/to/processa-client-0.1.0.tgz' ? join(work, packed.filename) : arg)),
      cwd: work, // not the project: npx installs the tarball itself
      // npm_config_offline: the tarball has no dependencies, so nothing may need fetching.
      env: { ...env, ...config.env, PROCESSA_URL: `${runtime.url}/v1`, PROCESSA_API_KEY: key, npm_config_offline: 'true' },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['get_decision', 'list_my_pending', 'request_approval']);
      const asked = (await client.callTool({
        name: 'request_approval',
        arguments: { title: 'Packaged', content: { a: 1 }, wait_seconds: 0 },
      })) as CallToolResult;
      expect(asked.structuredContent).toMatchObject({ status: 'pending', title: 'Packaged' });
      const draftId = (asked.structuredContent as { draftId: string }).draftId;
      const listed = (await client.callTool({ name: 'list_my_pending', arguments: {} })) as CallToolResult;
      expect(listed.structuredContent).toMatchObject({ items: [{ draftId }] });
      expect((await adminApi('POST', `/v1/drafts/${draftId}/approve`, {})).status).toBe(200);
      const decided = (await client.callTool({ name: 'get_decision', arguments: { draft_id: draftId } })) as CallToolResult;
      expect(decided.structuredContent).toMatchObject({ status: 'approved', content: { a: 1 }, contentEdited: false });
      expect(stderr).toContain(`serving ${runtime.url}/v1 on stdio as ${config.env.PROCESSA_AGENT_NAME}`);
    } finally {
      await client.close();
    }
  }, 90_000);

  it('in the project that installed it, npx processa-mcp is the same server', async () => {
    const { stdout, stderr } = await exec('npx', ['--offline', 'processa-mcp'], { cwd: project, env: cleanEnv() }).then(
      () => ({ stdout: 'exited 0', stderr: '' }),
      (error: { stdout: string; stderr: string; code: number }) => ({ stdout: `${error.stdout}exit ${error.code}`, stderr: error.stderr }),
    );
    // Without its configuration it says what is missing and stops (and never writes on stdout, the protocol's channel).
    expect(stdout).toBe('exit 2');
    expect(stderr).toContain('processa-mcp: PROCESSA_URL is not set');
  }, 60_000);
});
