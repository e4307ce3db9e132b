/**
 * The webhook documentation's Express and Flask examples, run as written against the real system:
 * their code is copied verbatim below (and compared with the documentation when it is at hand),
 * with only what the snippets leave to the reader added around them: JSON parsing, listen, and
 * executeAction / execute_action as recorders.
 *
 * The "Test Webhook" button must never make these handlers execute anything: by default it sends a
 * draft.rejected marked "test": true. A sample draft.approved goes out only when asked for.
 *
 * Needs express (a devDependency: npm i -D express @types/express) and python3 with Flask
 * (Debian: apt-get install -y python3-flask; .ci/run installs it).
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expressWebhookMiddleware } from '../../shared/client/webhooks.js';
import { signedHeaders } from '../../shared/webhooks/signing.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';
import { printedLines } from '../support/printed-lines.js';

const SEED_DOC = join(repoRoot, '..', 'shared', 'seeds', '000_a0c6f85ddfae60b5.txt');

let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
/** As much of express as this file uses (typed here so that it type-checks without @types/express). */
interface ExpressApp {
  use(...handlers: unknown[]): void;
  post(path: string, handler: (req: any, res: any) => Promise<void>): void;
  listen(port: number, host: string, ready: () => void): Server;
}
let express: { (): ExpressApp; json(): unknown; raw(options: { type: string }): unknown };
const servers: Server[] = [];
const logged: string[] = [];
/** Every draft decided in this file: each is delivered to every endpoint made in the first beforeAll. */
const decided: string[] = [];

async function loadExpress() {
  const name = 'express'; // a variable, so that type-checking does not need @types/express
  try {
    return ((await import(name)) as { default: typeof express }).default;
  } catch (error) {
    throw new Error(`test/e2e/doc-examples.test.ts needs express: npm i -D express @types/express (${(error as Error).message})`);
  }
}

/** The documentation's handler on a fresh app; `before` may mount middleware on the route first. */
function docApp(executeAction: (content: unknown) => Promise<void>, before?: (app: ExpressApp) => void) {
  const app = express();
  if (before) before(app);
  else app.use(express.json()); // added: the snippet reads req.body as parsed JSON
  // --- begin: verbatim from the webhook documentation, "Example: Node.js/Express" ---
  // prettier-ignore
  app.post('/webhooks/processa', async (req, res) => {
const { event, draft } = req.body
if (event === 'draft.approved') {
// Execute the approved action
await executeAction(draft.content)
// Respond with 200 to acknowledge receipt
res.status(200).json({ received: true })
}
if (event === 'draft.rejected') {
// Log rejection for monitoring
console.log(`Draft ${draft.id} rejected: ${draft.rejectionReason}`)
res.status(200).json({ received: true })
}
})
  // --- end ---
  return app;
}

/**
 * The documentation's Flask handler in a tiny app. The documentation's page lost the snippet's
 * indentation, which Python needs, so it is indented here; the lines are otherwise the doc's own.
 */
const FLASK_APP = `import json, sys
from flask import Flask, request, jsonify
from werkzeug.serving import make_server

app = Flask(__name__)

def execute_action(content):  # added: records instead of acting
    print('EXECUTED ' + json.dumps(content), flush=True)

# --- begin: verbatim from the webhook documentation, "Example: Python/Flask" ---
@app.route('/webhooks/processa', methods=['POST'])
def handle_webhook():
    data = request.json
    event = data['event']
    draft = data['draft']

    if event == 'draft.approved':
        # Execute the approved action
        execute_action(draft['content'])
        return jsonify({'received': True}), 200

    if event == 'draft.rejected':
        # Log rejection
        print(f"Draft {draft['id']} rejected: {draft.get('rejectionReason')}")
        return jsonify({'received': True}), 200
# --- end ---

# added: listen on localhost, on a free port, and say which
server = make_server('127.0.0.1', 0, app, threaded=True)
print('LISTENING %d' % server.server_port, flush=True)
server.serve_forever()
`;

interface FlaskReceiver {
  url: string;
  executed(): unknown[];
  logged(): string[];
  output(): string;
  stop(): Promise<void>;
}

/** Runs FLASK_APP with python3 -u (so its prints arrive at once) and waits for its port. */
async function startFlask(): Promise<FlaskReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'processa-flask-'));
  writeFileSync(join(dir, 'app.py'), FLASK_APP);
  const child: ChildProcess = spawn('python3', ['-u', join(dir, 'app.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Flask app did not start:\n${output}`)), 15_000);
    child.stdout!.on('data', () => {
      const match = output.match(/^LISTENING (\d+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the Flask app exited (python3 -c 'import flask' must work; Debian: apt-get install -y python3-flask):\n${output}`));
    });
  });
  const lines = () => printedLines(output, ['EXECUTED ', 'Draft ']);
  return {
    url: `http://127.0.0.1:${port}/webhooks/processa`,
    executed: () =>
      lines()
        .filter((l) => l.startsWith('EXECUTED '))
        .map((l) => JSON.parse(l.slice('EXECUTED '.length))),
    logged: () => lines().filter((l) => l.startsWith('Draft ')),
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function listen(app: ExpressApp): Promise<string> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s)); // added: where Processa reaches it
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/processa`;
}

/** The doc's code between the `--- begin` and `--- end` markers of a snippet, as trimmed lines. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
function fromDoc(after: string, before?: string): string[] | undefined {
  if (!existsSync(SEED_DOC)) return undefined;
  const doc = readFileSync(SEED_DOC, 'utf8');
  const start = doc.indexOf(after) + after.length;
  return lines(doc.slice(start, before ? doc.indexOf(before) : doc.indexOf('Best Practices', start)));
}

/** The Express and Flask receivers run as the documentation writes them, each behind its own endpoint. */
const expressReceiver = { executed: [] as unknown[], endpointId: '' };
let flask: FlaskReceiver;
let flaskEndpointId = '';

beforeAll(async () => {
  express = await loadExpress();
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
  [runtime, flask] = await Promise.all([startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1' } }), startFlask()]);
  admin = apiClient(runtime.url, runtime.adminKey);
  const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'bot' });
  agent = apiClient(runtime.url, agentKey.body.key);
  // http://127.0.0.1 endpoints: the dev runtime allows localhost receivers.
  const expressEndpoint = await admin('POST', '/v1/webhooks', {
    url: await listen(docApp(async (content) => void expressReceiver.executed.push(content))),
    description: 'doc example',
  });
  expect(expressEndpoint.status).toBe(201);
  expressReceiver.endpointId = expressEndpoint.body.id;
  const flaskEndpoint = await admin('POST', '/v1/webhooks', { url: flask.url, description: 'doc example (Flask)' });
  expect(flaskEndpoint.status).toBe(201);
  flaskEndpointId = flaskEndpoint.body.id;
}, 90_000);

afterAll(async () => {
  jest.restoreAllMocks();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await flask?.stop();
  await runtime?.stop();
});

const deliveriesOf = async (endpointId: string) =>
  (await admin('GET', `/v1/webhooks/${endpointId}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;
const deliveryOf = async (endpointId: string, match: (d: Record<string, any>) => boolean) =>
  eventually(async () => (await deliveriesOf(endpointId)).find(match), 20_000, 'a delivery');

/** Waits until every decision of this file so far has reached the endpoint, so what a receiver does next is the next event's doing. */
const settled = (endpointId: string) =>
  eventually(
    async () => {
      const delivered = new Set((await deliveriesOf(endpointId)).filter((d) => d.outcome === 'succeeded').map((d) => d.draftId));
      return decided.every((id) => delivered.has(id));
    },
    20_000,
    'earlier decisions to be delivered',
  );

async function decide(action: 'approve' | 'reject', decision: Record<string, unknown>) {
  const created = await agent('POST', '/v1/drafts', {
    title: 'Send welcome email',
    content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
    metadata: { source: 'ai_agent_v1' },
  });
  const result = await admin('POST', `/v1/drafts/${created.body.id}/${action}`, decision);
  expect(result.status).toBe(200);
  decided.push(result.body.id);
  return result.body as { id: string };
}

/** The settings page as a browser without JavaScript uses it: sign in through the form, then submit a card's forms with their own fields. */
interface Form {
  action: string;
  button: string;
  fields: Array<{ name: string; value: string; type: string }>;
}
const decode = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const attr = (tag: string, name: string) => {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return m ? decode(m[1]!) : undefined;
};
function formsIn(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, open, inner]) => ({
    action: attr(open!, 'action')!,
    button: decode((inner!.match(/<button\b[^>]*>([\s\S]*?)<\/button>/)?.[1] ?? '').replace(/<[^>]+>/g, '').trim()),
    fields: [...inner!.matchAll(/<input\b[^>]*>/g)].map(([tag]) => ({
      name: attr(tag, 'name') ?? '',
      value: attr(tag, 'value') ?? '',
      type: attr(tag, 'type') ?? 'text',
    })),
  }));
}
async function submitForm(form: Form, cookie: string, fill: Record<string, string> = {}, check: string[] = []) {
  const body = new URLSearchParams();
  for (const f of form.fields) {
    if (f.type === 'checkbox') {
      if (check.includes(f.name)) body.append(f.name, f.value);
    } else if (f.name) body.append(f.name, fill[f.name] ?? f.value);
  }
  const res = await fetch(`${runtime.url}${form.action}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: body.toString(),
  });
  return { status: res.status, location: res.headers.get('location'), cookies: res.headers.getSetCookie(), html: await res.text() };
}
let pageSession: string | undefined;
async function settingsPageSession(): Promise<string> {
  if (pageSession) return pageSession;
  const signInPage = await fetch(`${runtime.url}/settings/webhooks`, { redirect: 'manual' });
  const loginCookie = signInPage.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  const signIn = formsIn(await signInPage.text()).find((f) => f.button === 'Sign in')!;
  const signedIn = await submitForm(signIn, loginCookie, { key: runtime.adminKey });
  expect(signedIn.status).toBe(303);
  return (pageSession = signedIn.cookies.find((c) => c.startsWith('processa_session='))!.split(';')[0]!);
}
/** Presses a button of one endpoint's card on /settings/webhooks; `check` ticks checkboxes by name. */
async function pressOnSettingsPage(endpointId: string, button: string, check: string[] = []) {
  const cookie = await settingsPageSession();
  const html = await (await fetch(`${runtime.url}/settings/webhooks`, { headers: { cookie } })).text();
  const card = html.match(new RegExp(`<section class="card" id="${endpointId}">([\\s\\S]*?)</section>`))?.[1];
  expect(card).toBeDefined();
  const form = formsIn(card!).find((f) => f.button === button);
  if (!form)
    throw new Error(
      `no "${button}" button on ${endpointId}'s card; buttons: ${formsIn(card!)
        .map((f) => f.button)
        .join(', ')}`,
    );
  return submitForm(form, cookie, {}, check);
}

describe("the documentation's Express handler, as written", () => {
  const executed = expressReceiver.executed;
  const endpointId = () => expressReceiver.endpointId;

  it('is the code the documentation shows', () => {
    const doc = fromDoc('Example: Node.js/Express', 'Example: Python/Flask');
    if (!doc) return console.warn(`skipped: ${SEED_DOC} not found`);
    const self = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    const copied = self.slice(self.indexOf('--- begin: verbatim'), self.indexOf('// --- end ---'));
    // The marker line and the instruction that keeps Prettier's hands off the copy are not the doc's.
    expect(
      lines(copied)
        .slice(1)
        .filter((l) => l !== '// prettier-ignore'),
    ).toEqual(doc);
  });

  it('acknowledges a draft.approved with 200 and executes the approved (edited) content', async () => {
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello, edited' };
    const draft = await decide('approve', { content: edited });
    const delivery = await deliveryOf(endpointId(), (d) => d.draftId === draft.id);
    expect(delivery).toMatchObject({ eventType: 'draft.approved', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(executed).toContainEqual(edited);
  });

  it('acknowledges a draft.rejected with 200 and logs the reason', async () => {
    const draft = await decide('reject', { reason: 'Content violates policy' });
    const delivery = await deliveryOf(endpointId(), (d) => d.draftId === draft.id);
    expect(delivery).toMatchObject({ eventType: 'draft.rejected', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(logged).toContain(`Draft ${draft.id} rejected: Content violates policy`);
  });

  it('"Test Webhook" through the API: answered 200, nothing executed, logged as a test rejection', async () => {
    await settled(endpointId());
    const before = executed.length;
    const sent = await admin('POST', `/v1/webhooks/${endpointId()}/test`);
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ eventType: 'draft.rejected', draftId: expect.stringMatching(/^test_/) });
    const delivery = await deliveryOf(endpointId(), (d) => d.eventId === sent.body.eventId);
    expect(delivery).toMatchObject({ eventType: 'draft.rejected', test: true, outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(executed.length).toBe(before);
    expect(logged.find((l) => l.startsWith(`Draft ${sent.body.draftId} rejected: `))).toMatch(/test/i);
  });

  it('"Test Webhook" on the settings page: answered 200, nothing executed', async () => {
    await settled(endpointId());
    const before = executed.length;
    const known = new Set((await deliveriesOf(endpointId())).map((d) => d.eventId));
    const pressed = await pressOnSettingsPage(endpointId(), 'Test Webhook');
    expect(pressed).toMatchObject({ status: 303, location: `/settings/webhooks?notice=test-sent#${endpointId()}` });
    const delivery = await deliveryOf(endpointId(), (d) => !known.has(d.eventId) && d.test === true);
    expect(delivery).toMatchObject({ eventType: 'draft.rejected', draftId: expect.stringMatching(/^test_/), outcome: 'succeeded', httpStatus: 200 });
    expect(executed.length).toBe(before);
    expect(logged.some((l) => l.startsWith(`Draft ${delivery.draftId} rejected: `))).toBe(true);
  });

  it('a sample draft.approved asked for explicitly reaches executeAction (API and settings page, behind a warning)', async () => {
    await settled(endpointId());
    const before = executed.length;
    const sent = await admin('POST', `/v1/webhooks/${endpointId()}/test`, { event: 'draft.approved' });
    expect(sent.status).toBe(202);
    expect(sent.body.eventType).toBe('draft.approved');
    expect(await deliveryOf(endpointId(), (d) => d.eventId === sent.body.eventId)).toMatchObject({
      eventType: 'draft.approved',
      test: true,
      outcome: 'succeeded',
      httpStatus: 200,
    });
    expect(executed.length).toBe(before + 1);
    expect(executed.at(-1)).toEqual(expect.objectContaining({ to: expect.any(String), subject: expect.any(String), body: expect.any(String) }));

    // On the page it is a separate control with a warning, and it needs its box ticked.
    const html = await (await fetch(`${runtime.url}/settings/webhooks`, { headers: { cookie: await settingsPageSession() } })).text();
    expect(html).toMatch(/data-sample-warning[\s\S]*execute[\s\S]*Send sample approval/);
    const unticked = await pressOnSettingsPage(endpointId(), 'Send sample approval');
    expect(unticked.status).toBe(400);
    const known = new Set((await deliveriesOf(endpointId())).map((d) => d.eventId));
    const ticked = await pressOnSettingsPage(endpointId(), 'Send sample approval', ['confirm']);
    expect(ticked).toMatchObject({ status: 303, location: `/settings/webhooks?notice=sample-sent#${endpointId()}` });
    expect(await deliveryOf(endpointId(), (d) => !known.has(d.eventId))).toMatchObject({ eventType: 'draft.approved', test: true, outcome: 'succeeded' });
    expect(executed.length).toBe(before + 2);
  });

  it('the test request: an empty body or {} sends the default; bad input is 400 naming the field', async () => {
    const url = `${runtime.url}/v1/webhooks/${endpointId()}/test`;
    const empty = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${runtime.adminKey}` } });
    expect(empty.status).toBe(202);
    expect((await empty.json()).eventType).toBe('draft.rejected');
    expect((await admin('POST', `/v1/webhooks/${endpointId()}/test`, {})).body.eventType).toBe('draft.rejected');
    for (const [body, field] of [
      [{ event: 'draft.expired' }, 'event'],
      [{ event: 'approved' }, 'event'],
      [{ event: 7 }, 'event'],
      [{ evnt: 'draft.approved' }, 'evnt'],
    ] as const) {
      const res = await admin('POST', `/v1/webhooks/${endpointId()}/test`, body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'validation_failed' });
      expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual([field]);
    }
  });
});

describe("the documentation's Flask handler, as written", () => {
  it('is the code the documentation shows', () => {
    const doc = fromDoc('Example: Python/Flask');
    if (!doc) return console.warn(`skipped: ${SEED_DOC} not found`);
    const copied = FLASK_APP.slice(FLASK_APP.indexOf('--- begin: verbatim'), FLASK_APP.indexOf('# --- end ---'));
    expect(lines(copied).slice(1)).toEqual(doc);
  });

  it('executes a real approval and logs a real rejection (the wrapper works)', async () => {
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello from Flask' };
    const approved = await decide('approve', { content: edited });
    const rejected = await decide('reject', { reason: 'Content violates policy' });
    expect(await deliveryOf(flaskEndpointId, (d) => d.draftId === approved.id)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
    expect(await deliveryOf(flaskEndpointId, (d) => d.draftId === rejected.id)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
    // Its prints arrive through a pipe, possibly after the responses were logged.
    await eventually(() => flask.executed().some((c) => JSON.stringify(c) === JSON.stringify(edited)), 5_000, `execute_action(edited):\n${flask.output()}`);
    await eventually(
      () => flask.logged().includes(`Draft ${rejected.id} rejected: Content violates policy`),
      5_000,
      `the rejection logged:\n${flask.output()}`,
    );
  });

  it('"Test Webhook" (API and settings page): answered 200, nothing executed', async () => {
    await settled(flaskEndpointId);
    const before = flask.executed().length;
    const sent = await admin('POST', `/v1/webhooks/${flaskEndpointId}/test`);
    expect(sent.status).toBe(202);
    expect(await deliveryOf(flaskEndpointId, (d) => d.eventId === sent.body.eventId)).toMatchObject({
      eventType: 'draft.rejected',
      test: true,
      outcome: 'succeeded',
      httpStatus: 200,
    });
    const known = new Set((await deliveriesOf(flaskEndpointId)).map((d) => d.eventId));
    expect((await pressOnSettingsPage(flaskEndpointId, 'Test Webhook')).status).toBe(303);
    const fromPage = await deliveryOf(flaskEndpointId, (d) => !known.has(d.eventId) && d.test === true);
    expect(fromPage).toMatchObject({ eventType: 'draft.rejected', outcome: 'succeeded', httpStatus: 200 });
    expect(flask.executed().length).toBe(before);
    for (const draftId of [sent.body.draftId, fromPage.draftId]) {
      const line = await eventually(
        () => flask.logged().find((l) => l.startsWith(`Draft ${draftId} rejected: `)),
        5_000,
        `Draft ${draftId} logged:\n${flask.output()}`,
      );
      expect(line).toMatch(/test/i);
    }
  });

  it('a sample draft.approved asked for explicitly reaches execute_action', async () => {
    await settled(flaskEndpointId);
    const before = flask.executed().length;
    const sent = await admin('POST', `/v1/webhooks/${flaskEndpointId}/test`, { event: 'draft.approved' });
    expect(await deliveryOf(flaskEndpointId, (d) => d.eventId === sent.body.eventId)).toMatchObject({
      eventType: 'draft.approved',
      test: true,
      outcome: 'succeeded',
      httpStatus: 200,
    });
    await eventually(() => flask.executed().length === before + 1, 5_000, `execute_action:\n${flask.output()}`);
  });
});

describe('the same Express handler behind expressWebhookMiddleware', () => {
  const executed: unknown[] = [];
  let endpointId: string;
  let url: string;
  let secret: string;

  beforeAll(async () => {
    // The verification the snippet leaves out: raw body → verify → hand the verified event on as req.body.
    let secretOf = '';
    const app = docApp(
      async (content) => void executed.push(content),
      (app) =>
        app.use(
          '/webhooks/processa',
          express.raw({ type: 'application/json' }),
          (req: any, res: any, next: any) => expressWebhookMiddleware(secretOf)(req, res, next),
          (req: any, _res: unknown, next: () => void) => {
            req.body = req.webhook;
            next();
          },
        ),
    );
    url = await listen(app);
    const endpoint = await admin('POST', '/v1/webhooks', { url, description: 'doc example, verified' });
    secret = secretOf = endpoint.body.secret;
    endpointId = endpoint.body.id;
  });

  it('delivers real decisions, and test events without executing them', async () => {
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Verified' };
    const draft = await decide('approve', { content: edited });
    expect(await deliveryOf(endpointId, (d) => d.draftId === draft.id)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
    expect(executed).toContainEqual(edited);
    const before = executed.length;
    const sent = await admin('POST', `/v1/webhooks/${endpointId}/test`);
    expect(await deliveryOf(endpointId, (d) => d.eventId === sent.body.eventId)).toMatchObject({
      outcome: 'succeeded',
      httpStatus: 200,
      eventType: 'draft.rejected',
    });
    expect(executed.length).toBe(before);
  });
  it('refuses a forged delivery with 400 before the handler runs', async () => {
    const before = executed.length;
    const body = JSON.stringify({
      event: 'draft.approved',
      draft: { id: 'cdirect', title: 'x', content: { to: 'someone@example.com' }, metadata: {}, reviewedAt: new Date().toISOString() },
      timestamp: new Date().toISOString(),
    });
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    expect(await post({ ...signedHeaders('msg_forged', body, [`whsec_${Buffer.from('guessed').toString('base64')}`], new Date()) })).toBe(400);
    expect(await post({})).toBe(400);
    expect(executed.length).toBe(before);
    // The same bytes signed with the endpoint's secret go through.
    expect(await post({ ...signedHeaders('msg_genuine', body, [secret], new Date()) })).toBe(200);
    expect(executed.slice(before)).toEqual([{ to: 'someone@example.com' }]);
  });
});

describe("draft.created (opt-in) and the documentation's receivers", () => {
  const draftCreatedBody = (id: string) =>
    JSON.stringify({
      event: 'draft.created',
      draft: {
        id,
        title: 'Send welcome email',
        content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
        metadata: { source: 'ai_agent_v1' },
        createdAt: new Date().toISOString(),
        expiresAt: null,
        reviewUrl: `${runtime.url}/review/${id}`,
      },
      timestamp: new Date().toISOString(),
    });

  it('never reaches them with the default subscription: a created and then rejected draft brings them only the rejection', async () => {
    const beforeExpress = expressReceiver.executed.length;
    const beforeFlask = flask.executed().length;
    const draft = await decide('reject', { reason: 'Not now' });
    for (const endpointId of [expressReceiver.endpointId, flaskEndpointId]) {
      await deliveryOf(endpointId, (d) => d.draftId === draft.id && d.outcome === 'succeeded');
      const events = (await deliveriesOf(endpointId)).filter((d) => d.draftId === draft.id).map((d) => d.eventType);
      expect(events).toEqual(['draft.rejected']);
    }
    expect(expressReceiver.executed.length).toBe(beforeExpress);
    expect(flask.executed().length).toBe(beforeFlask);
  });

  it('subscribed anyway, they execute nothing: Flask answers 500 (logged as a failed attempt), Express never answers', async () => {
    const beforeFlask = flask.executed().length;
    const subscribed = await admin('POST', '/v1/webhooks', { url: flask.url, events: ['draft.created'], description: 'doc example (Flask), opted in' });
    expect(subscribed.status).toBe(201);
    try {
      const created = await agent('POST', '/v1/drafts', {
        title: 'Send welcome email',
        content: { to: 'user@example.com' },
        metadata: { source: 'ai_agent_v1' },
      });
      const attempt = await deliveryOf(subscribed.body.id, (d) => d.draftId === created.body.id);
      expect(attempt).toMatchObject({ eventType: 'draft.created', outcome: 'failed', httpStatus: 500 });
      expect(flask.executed().length).toBe(beforeFlask);
    } finally {
      // Its retries would only fail again.
      await admin('DELETE', `/v1/webhooks/${subscribed.body.id}`);
    }

    // The Express snippet handles only its two events and leaves any other request unanswered.
    const executed: unknown[] = [];
    const url = await listen(docApp(async (content) => void executed.push(content)));
    const body = draftCreatedBody('cdoccreated0000000000000000');
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status,
      (error: Error) => error.name,
    );
    expect(answer).toBe('TimeoutError');
    expect(executed).toEqual([]);
  });
});

describe("the documentation's receivers subscribed to the operational events (endpoint.disabled, delivery.exhausted)", () => {
  // They were written for draft events only: Express never answers another event (the delivery
  // times out), Flask answers 500 (its data['draft'] raises). Either way nothing is executed.
  const executed: unknown[] = [];
  let expressOps = '';
  let flaskOps = '';
  const helpers: Server[] = [];

  beforeAll(async () => {
    const events = ['endpoint.disabled', 'delivery.exhausted'];
    expressOps = (await admin('POST', '/v1/webhooks', { url: await listen(docApp(async (c) => void executed.push(c))), events })).body.id;
    flaskOps = (await admin('POST', '/v1/webhooks', { url: flask.url, events, description: 'doc example (Flask), operations' })).body.id;
  });
  afterAll(async () => {
    for (const server of helpers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** An endpoint whose receiver always answers `status`, for the events about it. */
  async function endpointAnswering(status: number, body: Record<string, unknown> = {}) {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    helpers.push(server);
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    return (await admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/hook`, ...body })).body.id as string;
  }

  it.each([
    ['endpoint.disabled', () => endpointAnswering(410)],
    ['delivery.exhausted', () => endpointAnswering(500, { retry: { attempts: 1, baseSeconds: 1, maxDelaySeconds: 1 } })],
  ] as const)(
    '%s: both answer without executing anything (Express: no answer, Flask: 500)',
    async (type, troubled) => {
      const flaskBefore = flask.executed().length;
      const logsBefore = logged.length;
      const endpointId = await troubled();
      // A test event (draft.rejected) makes it fail: 410 disables it, 500 with one attempt kills the delivery.
      expect((await admin('POST', `/v1/webhooks/${endpointId}/test`)).status).toBe(202);
      const isIt = (d: Record<string, any>) => d.eventType === type && d.attempt === 1;
      const toFlask = await deliveryOf(flaskOps, isIt);
      expect(toFlask).toMatchObject({ outcome: expect.stringMatching(/^(failed|dead)$/), httpStatus: 500, draftId: null });
      const toExpress = await eventually(async () => (await deliveriesOf(expressOps)).find(isIt), 30_000, `the ${type} attempt on Express`);
      expect(toExpress).toMatchObject({ outcome: expect.stringMatching(/^(failed|dead)$/), httpStatus: null, error: expect.stringMatching(/timed out/) });
      expect(executed).toEqual([]);
      expect(flask.executed().length).toBe(flaskBefore);
      expect(logged.slice(logsBefore).filter((l) => l.startsWith('Draft '))).toEqual([]);
    },
    60_000,
  );
});
