/**
 * requireApproval for the Vercel AI SDK and LangChain.js against the dev runtime. The model is the
 * AI SDK's own mock (ai/test) or a LangChain tool call; a reviewer decides through the API while
 * the wrapped tool waits. No network beyond the local runtime, no model API key.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tool as langchainTool } from '@langchain/core/tools';
import { ToolMessage } from '@langchain/core/messages';
import { generateText, jsonSchema, stepCountIs, tool as aiTool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { requireApproval as requireApprovalAi } from '../../shared/client/ai-sdk.js';
import { ProcessaClient } from '../../shared/client/index.js';
import { requireApproval as requireApprovalLangchain } from '../../shared/client/langchain.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { readmeSnippet } from '../support/readme-snippets.js';
import { eventually } from '../support/receiver.js';

let runtime: DevRuntime;
let processa: ProcessaClient;
let reviewerApi: ReturnType<typeof apiClient>;
let agentKey: string;

beforeAll(async () => {
  runtime = await startDevRuntime();
  const adminApi = apiClient(runtime.url, runtime.adminKey);
  const agentRes = await adminApi('POST', '/v1/keys', { role: 'agent', name: 'tool-agent' });
  const reviewerRes = await adminApi('POST', '/v1/keys', { role: 'reviewer', name: 'alice' });
  expect([agentRes.status, reviewerRes.status]).toEqual([201, 201]);
  agentKey = agentRes.body.key;
  processa = new ProcessaClient({ baseUrl: `${runtime.url}/v1`, apiKey: agentKey });
  reviewerApi = apiClient(runtime.url, reviewerRes.body.key);
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

/** The draft created for a tool call, once it is there (the wrapper creates it when the model calls the tool). */
const draftForCall = (toolCallId: string): Promise<any> =>
  eventually(
    async () => (await reviewerApi('GET', '/v1/drafts?limit=100')).body.items.find((draft: any) => draft.metadata.toolCallId === toolCallId),
    15_000,
    `a draft for tool call ${toolCallId}`,
  );

async function draftsForCall(toolCallId: string): Promise<any[]> {
  const { body } = await reviewerApi('GET', '/v1/drafts?limit=100');
  return body.items.filter((draft: any) => draft.metadata.toolCallId === toolCallId);
}

/** A reviewer's decision, made while the wrapped tool is waiting for it. */
async function decide(toolCallId: string, decision: { approve: Record<string, unknown> } | { reject: string }) {
  const draft = await draftForCall(toolCallId);
  const res =
    'approve' in decision
      ? await reviewerApi('POST', `/v1/drafts/${draft.id}/approve`, { content: decision.approve })
      : await reviewerApi('POST', `/v1/drafts/${draft.id}/reject`, { reason: decision.reject });
  expect(res.status).toBe(200);
  return draft;
}

const emailSchema = z.object({ to: z.email(), subject: z.string().min(1), body: z.string() });
const proposed = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' };
const edited = { to: 'user@example.com', subject: 'Welcome aboard!', body: 'Hello, edited by a person' };

describe('requireApproval for the Vercel AI SDK (ai/test mock model)', () => {
  /**
   * A model that calls send_email once, then answers with what the tool result told it; each
   * prompt it receives is kept.
   */
  function mockModel(toolCallId: string) {
    return new MockLanguageModelV4({
      doGenerate: async (options) => {
        const toolMessage = options.prompt.find((message) => message.role === 'tool');
        if (!toolMessage) {
          return {
            content: [{ type: 'tool-call', toolCallId, toolName: 'send_email', input: JSON.stringify(proposed) }],
            finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
            usage: usage(),
            warnings: [],
          };
        }
        return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: usage(), warnings: [] };
      },
    });
  }
  const usage = () => ({
    inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 1, text: 1, reasoning: undefined },
  });
  /** What the model was sent as the tool's result on its second call. */
  function toolResultSeenByModel(model: MockLanguageModelV4) {
    const message = model.doGenerateCalls[1]?.prompt.find((m) => m.role === 'tool');
    const part = message?.role === 'tool' ? message.content.find((p) => p.type === 'tool-result') : undefined;
    return part?.type === 'tool-result' ? part.output : undefined;
  }

  function sendEmailTool(sent: unknown[]) {
    return aiTool({
      description: 'Send an email',
      inputSchema: emailSchema,
      execute: async (email) => {
        sent.push(email);
        return { sent: true, to: email.to, subject: email.subject };
      },
    });
  }

  it('approved with an edit: the tool runs with the edited arguments; a retry of the call reuses the decision', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalAi(sendEmailTool(sent), {
      client: processa,
      name: 'send_email',
      title: 'Send email to {to}',
      agent: 'support-bot',
      runId: 'run-1',
      timeoutMs: 20_000,
      pollIntervalMs: 100,
    });
    const model = mockModel('ai-call-approve');
    const [result, draft] = await Promise.all([
      generateText({ model, tools: { send_email: sendEmail }, prompt: 'Welcome the user', stopWhen: stepCountIs(3) }),
      decide('ai-call-approve', { approve: { tool: 'send_email', arguments: edited } }),
    ]);
    expect(draft).toMatchObject({
      title: 'Send email to user@example.com',
      content: { tool: 'send_email', arguments: proposed },
      metadata: { tool: 'send_email', agent: 'support-bot', runId: 'run-1', toolCallId: 'ai-call-approve' },
    });
    expect(sent).toEqual([edited]);
    expect(toolResultSeenByModel(model)).toEqual({ type: 'json', value: { sent: true, to: edited.to, subject: edited.subject } });
    expect(result.text).toBe('done');

    // The framework retrying the same call finds the same draft, already approved: no second request for approval.
    const again = await sendEmail.execute!(proposed, { toolCallId: 'ai-call-approve', messages: [], context: {} });
    expect(again).toEqual({ sent: true, to: edited.to, subject: edited.subject });
    expect(await draftsForCall('ai-call-approve')).toHaveLength(1);
  }, 40_000);

  it('rejected: the tool never runs and the model is told the reason', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalAi(sendEmailTool(sent), { client: processa, name: 'send_email', timeoutMs: 20_000, pollIntervalMs: 100 });
    const model = mockModel('ai-call-reject');
    const [, draft] = await Promise.all([
      generateText({ model, tools: { send_email: sendEmail }, prompt: 'Welcome the user', stopWhen: stepCountIs(3) }),
      decide('ai-call-reject', { reject: 'We do not email users before they confirm' }),
    ]);
    expect(draft.title).toBe('Run send_email');
    expect(sent).toEqual([]);
    expect(toolResultSeenByModel(model)).toEqual({
      type: 'json',
      value: {
        ran: false,
        approval: 'rejected',
        draftId: draft.id,
        reason: 'We do not email users before they confirm',
        message: expect.stringMatching(/rejected this send_email call, so the tool did not run\. Their reason: We do not email users before they confirm/),
      },
    });
  }, 40_000);

  it('no decision in time: the tool does not run and the model is told it is still pending', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalAi(sendEmailTool(sent), { client: processa, name: 'send_email', timeoutMs: 1_000, pollIntervalMs: 100 });
    const model = mockModel('ai-call-timeout');
    await generateText({ model, tools: { send_email: sendEmail }, prompt: 'Welcome the user', stopWhen: stepCountIs(3) });
    const draft = await draftForCall('ai-call-timeout');
    expect(draft.status).toBe('pending');
    expect(sent).toEqual([]);
    expect(toolResultSeenByModel(model)).toEqual({
      type: 'json',
      value: { ran: false, approval: 'timed_out', draftId: draft.id, message: expect.stringMatching(/within 1 s, so the tool did not run/) },
    });
  }, 40_000);

  it("an edit the tool's schema refuses: the tool does not run and the model gets an error naming the fields", async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalAi(sendEmailTool(sent), { client: processa, name: 'send_email', timeoutMs: 20_000, pollIntervalMs: 100 });
    const model = mockModel('ai-call-bad-edit');
    await Promise.all([
      generateText({ model, tools: { send_email: sendEmail }, prompt: 'Welcome the user', stopWhen: stepCountIs(3) }),
      decide('ai-call-bad-edit', { approve: { tool: 'send_email', arguments: { ...edited, to: 'not an address', subject: '' } } }),
    ]);
    expect(sent).toEqual([]);
    const output = toolResultSeenByModel(model);
    expect(output).toMatchObject({
      type: 'error-text',
      value: expect.stringMatching(/do not fit the tool's input schema, so the tool did not run: to: .+; subject: /),
    });
  }, 40_000);

  it('works with a JSON Schema input (jsonSchema()) and refuses bad options naming them', () => {
    const plain = aiTool({ inputSchema: jsonSchema<{ n: number }>({ type: 'object', properties: { n: { type: 'number' } } }), execute: async ({ n }) => n });
    expect(() => requireApprovalAi(plain, { client: processa, name: '' })).toThrow(/options\.name/);
    expect(() => requireApprovalAi(plain, { client: {} as ProcessaClient, name: 'n' })).toThrow(/options\.client must be a ProcessaClient/);
    expect(() => requireApprovalAi(plain, { client: processa, name: 'n', timeoutMs: -1 })).toThrow(/options\.timeoutMs/);
    expect(() => requireApprovalAi(aiTool({ inputSchema: emailSchema }), { client: processa, name: 'n' })).toThrow(/no execute function/);
    expect(typeof requireApprovalAi(plain, { client: processa, name: 'n' }).execute).toBe('function');
  });
});

describe('requireApproval for LangChain.js tools', () => {
  function sendEmailTool(sent: unknown[]) {
    return langchainTool(
      async (email) => {
        sent.push(email);
        return `Sent "${email.subject}" to ${email.to}`;
      },
      { name: 'send_email', description: 'Send an email', schema: emailSchema },
    );
  }
  /** The model's tool call, as a chat model's AIMessage carries it and as ToolNode invokes the tool with it. */
  const toolCall = (id: string) => ({ type: 'tool_call' as const, id, name: 'send_email', args: proposed });

  it('approved with an edit: the tool runs with the edited arguments and answers the tool call', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalLangchain(sendEmailTool(sent), {
      client: processa,
      title: 'Email {to}: {subject}',
      timeoutMs: 20_000,
      pollIntervalMs: 100,
    });
    expect([sendEmail.name, sendEmail.description]).toEqual(['send_email', 'Send an email']);
    const [message, draft] = await Promise.all([
      sendEmail.invoke(toolCall('lc-call-approve')),
      decide('lc-call-approve', { approve: { tool: 'send_email', arguments: edited } }),
    ]);
    expect(draft).toMatchObject({ title: 'Email user@example.com: Welcome!', content: { tool: 'send_email', arguments: proposed } });
    expect(sent).toEqual([edited]);
    expect(message).toBeInstanceOf(ToolMessage);
    expect(message).toMatchObject({ tool_call_id: 'lc-call-approve', name: 'send_email', content: 'Sent "Welcome aboard!" to user@example.com' });
    expect(message.status).not.toBe('error');

    const again = await sendEmail.invoke(toolCall('lc-call-approve'));
    expect(again.content).toBe('Sent "Welcome aboard!" to user@example.com');
    expect(await draftsForCall('lc-call-approve')).toHaveLength(1);
  }, 40_000);

  it('rejected: the tool never runs and the ToolMessage tells the model why', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalLangchain(sendEmailTool(sent), { client: processa, timeoutMs: 20_000, pollIntervalMs: 100 });
    const [message, draft] = await Promise.all([sendEmail.invoke(toolCall('lc-call-reject')), decide('lc-call-reject', { reject: 'Wrong customer' })]);
    expect(sent).toEqual([]);
    expect(message).toBeInstanceOf(ToolMessage);
    expect(message.tool_call_id).toBe('lc-call-reject');
    expect(JSON.parse(message.content as string)).toEqual({
      ran: false,
      approval: 'rejected',
      draftId: draft.id,
      reason: 'Wrong customer',
      message: expect.stringContaining('Their reason: Wrong customer'),
    });
  }, 40_000);

  it('no decision in time: the tool does not run and the model is told', async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalLangchain(sendEmailTool(sent), { client: processa, timeoutMs: 1_000, pollIntervalMs: 100 });
    const message = await sendEmail.invoke(toolCall('lc-call-timeout'));
    const draft = await draftForCall('lc-call-timeout');
    expect(sent).toEqual([]);
    expect(JSON.parse(message.content as string)).toEqual({
      ran: false,
      approval: 'timed_out',
      draftId: draft.id,
      message: expect.stringMatching(/within 1 s, so the tool did not run/),
    });
  }, 40_000);

  it("an edit the tool's schema refuses: an error ToolMessage names the fields and the tool does not run", async () => {
    const sent: unknown[] = [];
    const sendEmail = requireApprovalLangchain(sendEmailTool(sent), { client: processa, timeoutMs: 20_000, pollIntervalMs: 100 });
    const [message] = await Promise.all([
      sendEmail.invoke(toolCall('lc-call-bad-edit')),
      decide('lc-call-bad-edit', { approve: { tool: 'send_email', arguments: { to: 'nobody', body: 'x' } } }),
    ]);
    expect(sent).toEqual([]);
    expect(message).toMatchObject({ status: 'error', tool_call_id: 'lc-call-bad-edit' });
    expect(message.content).toMatch(/did not run: to: .+; subject: /);
  }, 40_000);
});

describe('the README\'s snippets (shared/client/README.md, "Use it from your agent"), run as written', () => {
  // Inside node_modules, so that the snippets' own imports (ai, zod, @langchain/core) resolve to the repo's.
  const dir = join(repoRoot, 'node_modules', '.cache');
  let work: string;
  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    work = mkdtempSync(join(dir, 'processa-readme-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The snippet with the package's imports pointed at the sources, between a prelude and an epilogue; run by node with tsx. */
  async function runSnippet(name: string, prelude: string, epilogue: string): Promise<any> {
    const source = (entry: string) => pathToFileURL(join(repoRoot, 'shared', 'client', `${entry}.ts`)).href;
    const code = readmeSnippet(name)
      .replace(/'@processa\/client'/g, `'${source('index')}'`)
      .replace(/'@processa\/client\/(ai-sdk|langchain)'/g, (_, entry: string) => `'${source(entry)}'`);
    expect(code).not.toContain('@processa/client');
    const file = join(work, `${name}.mts`);
    writeFileSync(file, `${prelude}\n${code}\n${epilogue}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', PROCESSA_URL: `${runtime.url}/v1`, PROCESSA_API_KEY: agentKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code_ = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code_ !== 0) throw new Error(`snippet ${name} exited with ${code_}:\n${output}`);
    return JSON.parse(output.trim().split('\n').pop()!);
  }

  it('the root README shows the same blocks as the client README, so both are what these tests run', () => {
    const rootReadme = join(repoRoot, 'README.md');
    for (const name of ['ai-sdk', 'langchain', 'python', 'json:mcpServers'])
      expect([name, readmeSnippet(name, rootReadme)]).toEqual([name, readmeSnippet(name)]);
  });

  const mailer = `const sent = []; const mailer = { send: async (email) => { sent.push(email); return { messageId: 'msg_1' }; } };`;

  it('the AI SDK snippet: the model calls send_email, a reviewer approves an edit, the tool sends the edited email', async () => {
    const prelude = `
import { MockLanguageModelV4 } from 'ai/test';
${mailer}
const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
const model = new MockLanguageModelV4({
  doGenerate: async ({ prompt }) => {
    const tool = prompt.find((message) => message.role === 'tool');
    if (tool) return { content: [{ type: 'text', text: JSON.stringify(tool.content[0].output) }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    const input = JSON.stringify({ to: 'user@example.com', subject: 'Welcome', body: 'Hi' });
    return { content: [{ type: 'tool-call', toolCallId: 'readme-ai-1', toolName: 'send_email', input }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] };
  },
});`;
    const editedEmail = { to: 'user@example.com', subject: 'Welcome to the beta', body: 'Hi, edited' };
    const [result, draft] = await Promise.all([
      runSnippet('ai-sdk', prelude, 'console.log(JSON.stringify({ text, sent }));'),
      decide('readme-ai-1', { approve: { tool: 'send_email', arguments: editedEmail } }),
    ]);
    expect(draft.title).toBe('Send email to user@example.com');
    expect(result.sent).toEqual([editedEmail]);
    expect(JSON.parse(result.text)).toEqual({ type: 'json', value: { messageId: 'msg_1' } });
  }, 60_000);

  it('the LangChain.js snippet: a rejected call sends nothing and the ToolMessage carries the reason', async () => {
    const prelude = `
${mailer}
const messages = [];
const ai = { tool_calls: [{ type: 'tool_call', id: 'readme-lc-1', name: 'send_email', args: { to: 'user@example.com', subject: 'Welcome', body: 'Hi' } }] };`;
    const [result] = await Promise.all([
      runSnippet(
        'langchain',
        prelude,
        'console.log(JSON.stringify({ sent, message: { type: messages[0].type, id: messages[0].tool_call_id, content: messages[0].content } }));',
      ),
      decide('readme-lc-1', { reject: 'Not before the beta opens' }),
    ]);
    expect(result.sent).toEqual([]);
    expect(result.message).toMatchObject({ type: 'tool', id: 'readme-lc-1' });
    expect(JSON.parse(result.message.content)).toMatchObject({ ran: false, approval: 'rejected', reason: 'Not before the beta opens' });
  }, 60_000);
});
