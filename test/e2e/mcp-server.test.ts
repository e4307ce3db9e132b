/**
 * The processa-mcp server (shared/client/mcp-server.ts) driven by the MCP SDK's own client over
 * stdio, against the dev runtime: the tools it lists, request_approval waiting for a reviewer,
 * get_decision on a rejected draft, list_my_pending, and API errors as tool errors.
 * (test/e2e/client-package.test.ts runs the built one with `npx processa-mcp` from the tarball.)
 */
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';

let runtime: DevRuntime;
let agentKey: string;
let reviewerApi: ReturnType<typeof apiClient>;
const clients: Client[] = [];

/** A client connected to a freshly started server with this environment. */
async function connect(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'shared/client/mcp-server.ts'],
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'processa-e2e', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}

const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

beforeAll(async () => {
  runtime = await startDevRuntime();
  const adminApi = apiClient(runtime.url, runtime.adminKey);
  const agentRes = await adminApi('POST', '/v1/keys', { role: 'agent', name: 'mcp-host' });
  const reviewerRes = await adminApi('POST', '/v1/keys', { role: 'reviewer', name: 'alice' });
  expect([agentRes.status, reviewerRes.status]).toEqual([201, 201]);
  agentKey = agentRes.body.key;
  reviewerApi = apiClient(runtime.url, reviewerRes.body.key);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await runtime?.stop();
});

const env = () => ({ PROCESSA_URL: `${runtime.url}/v1`, PROCESSA_API_KEY: agentKey, PROCESSA_AGENT_NAME: 'desk-agent' });
const email = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };

describe('processa-mcp over stdio', () => {
  it('lists its three tools, each telling the model not to act before approved', async () => {
    const { client, stderr } = await connect(env());
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['get_decision', 'list_my_pending', 'request_approval']);
    const request = tools.find((tool) => tool.name === 'request_approval')!;
    expect(request.description).toMatch(/must not perform the action unless its status is "approved"/);
    expect(tools.find((tool) => tool.name === 'get_decision')!.description).toMatch(/must not perform the action unless its status is "approved"/);
    expect(tools.find((tool) => tool.name === 'list_my_pending')!.description).toMatch(/None of them may be acted on yet/);
    expect(request.inputSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['title', 'content']) });
    expect(Object.keys(request.inputSchema.properties ?? {}).sort()).toEqual(['content', 'idempotency_key', 'metadata', 'title', 'wait_seconds']);
    expect(client.getInstructions()).toMatch(/human approval gate/);
    expect(stderr()).toMatch(/processa-mcp 0\.1\.0: serving http:\/\/\S+\/v1 on stdio as desk-agent/);
  }, 30_000);

  it('request_approval waits and returns the approved (edited) content', async () => {
    const { client } = await connect(env());
    const edited = { ...email, body: 'Hello, edited by a person' };
    // Bounded, so a draft that never appears fails the test instead of polling on after it.
    const approving = eventually(
      async () => (await reviewerApi('GET', '/v1/drafts?status=pending&limit=100')).body.items.find((d: any) => d.title === 'Send the welcome email'),
      20_000,
      'the pending draft',
    ).then((draft) => reviewerApi('POST', `/v1/drafts/${draft.id}/approve`, { content: edited }));
    const result = await call(client, 'request_approval', {
      title: 'Send the welcome email',
      content: email,
      metadata: { customerId: 'c_42' },
      wait_seconds: 20,
    });
    expect((await approving).status).toBe(200);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      status: 'approved',
      content: edited,
      contentEdited: true,
      reviewedBy: 'alice',
      instruction: expect.stringMatching(/^Approved\. You may now perform the action, exactly as described by content/),
    });
    expect(JSON.parse(text(result))).toEqual(result.structuredContent);
    const { body: draft } = await reviewerApi('GET', `/v1/drafts/${(result.structuredContent as any).draftId}`);
    expect(draft.metadata).toEqual({ customerId: 'c_42', agent: 'desk-agent' });
  }, 40_000);

  it('pending when the wait ends; list_my_pending shows it; get_decision on the rejected draft gives the reason', async () => {
    const { client } = await connect(env());
    const pending = await call(client, 'request_approval', {
      title: 'Refund order 17',
      content: { order: 17, amount: 20 },
      wait_seconds: 0,
      idempotency_key: 'refund-17',
    });
    expect(pending.structuredContent).toMatchObject({ status: 'pending', instruction: expect.stringMatching(/^Not decided yet\. Do not perform the action/) });
    const draftId = (pending.structuredContent as any).draftId as string;
    expect((pending.structuredContent as any).reviewUrl).toBe(`${runtime.url}/review/${draftId}`);
    // A retry with the same key asks no one twice.
    const retried = await call(client, 'request_approval', {
      title: 'Refund order 17',
      content: { order: 17, amount: 20 },
      wait_seconds: 0,
      idempotency_key: 'refund-17',
    });
    expect((retried.structuredContent as any).draftId).toBe(draftId);

    // Another agent's pending draft is not "mine".
    const other = await connect({ ...env(), PROCESSA_AGENT_NAME: 'other-agent' });
    await call(other.client, 'request_approval', { title: 'Someone else', content: { x: 1 }, wait_seconds: 0 });
    const mine = await call(client, 'list_my_pending', {});
    expect((mine.structuredContent as any).items).toEqual([expect.objectContaining({ draftId, title: 'Refund order 17' })]);

    expect((await reviewerApi('POST', `/v1/drafts/${draftId}/reject`, { reason: 'Order 17 was already refunded' })).status).toBe(200);
    const decided = await call(client, 'get_decision', { draft_id: draftId });
    expect(decided.structuredContent).toMatchObject({
      status: 'rejected',
      draftId,
      rejectionReason: 'Order 17 was already refunded',
      instruction: expect.stringMatching(/^Rejected\. Do not perform the action/),
    });
    expect((await call(client, 'list_my_pending', {})).structuredContent).toEqual({ items: [], note: 'Nothing pending.' });
  }, 40_000);

  it("API errors are tool errors carrying the API's code and message; bad arguments name the field", async () => {
    const bad = await connect({ ...env(), PROCESSA_API_KEY: 'prk_not_a_real_key' });
    const refused = await call(bad.client, 'request_approval', { title: 'Anything', content: {}, wait_seconds: 0 });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^unauthorized: /);
    expect(refused.structuredContent).toMatchObject({ error: { code: 'unauthorized', status: 401, message: expect.any(String) } });

    const { client } = await connect(env());
    const missing = await call(client, 'get_decision', { draft_id: 'c0000000000000000nosuchdraft' });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^not_found: /);

    const invalid = await call(client, 'request_approval', { content: email, wait_seconds: 500 });
    expect(invalid.isError).toBe(true);
    expect(text(invalid)).toMatch(/title/);
    expect(text(invalid)).toMatch(/wait_seconds/);
  }, 40_000);

  it('refuses to start without its configuration, saying on stderr what is missing', async () => {
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'shared/client/mcp-server.ts'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PROCESSA_URL: 'localhost:3000' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (exitCode) => resolve({ stdout: out, stderr: err, code: exitCode }));
    });
    expect(code).toBe(2);
    expect(stdout).toBe(''); // stdout is the protocol's
    expect(stderr).toContain('processa-mcp: PROCESSA_URL must be an http(s) URL, got "localhost:3000"');
    expect(stderr).toContain('processa-mcp: PROCESSA_API_KEY is not set');
  }, 30_000);
});
