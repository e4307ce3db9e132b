/**
 * The webhook documentation's Express example, run as written against the real system: its code is
 * copied verbatim below (and compared with the documentation when it is at hand), with only what
 * the snippet leaves to the reader added around it: express.json(), listen, and executeAction.
 *
 * Needs express (a devDependency): npm i -D express @types/express
 */
import { jest } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expressWebhookMiddleware } from '../../shared/client/webhooks.js';
import { signedHeaders } from '../../shared/webhooks/signing.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';

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

async function listen(app: ExpressApp): Promise<string> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s)); // added: where Processa reaches it
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/processa`;
}

beforeAll(async () => {
  express = await loadExpress();
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'bot' });
  agent = apiClient(runtime.url, agentKey.body.key);
}, 90_000);

afterAll(async () => {
  jest.restoreAllMocks();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await runtime?.stop();
});

const deliveryOf = async (endpointId: string, match: (d: Record<string, any>) => boolean) =>
  eventually(async () => ((await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items as Array<Record<string, any>>).find(match), 20_000, 'a delivery');

async function decide(action: 'approve' | 'reject', decision: Record<string, unknown>) {
  const created = await agent('POST', '/v1/drafts', { title: 'Send welcome email', content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' }, metadata: { source: 'ai_agent_v1' } });
  const decided = await admin('POST', `/v1/drafts/${created.body.id}/${action}`, decision);
  expect(decided.status).toBe(200);
  return decided.body as { id: string };
}

describe("the documentation's Express handler, as written", () => {
  const executed: unknown[] = [];
  let endpointId: string;

  beforeAll(async () => {
    const url = await listen(docApp(async (content) => void executed.push(content)));
    const endpoint = await admin('POST', '/v1/webhooks', { url, description: 'doc example' });
    expect(endpoint.status).toBe(201);
    endpointId = endpoint.body.id;
  });

  it('is the code the documentation shows', () => {
    if (!existsSync(SEED_DOC)) return console.warn(`skipped: ${SEED_DOC} not found`);
    const doc = readFileSync(SEED_DOC, 'utf8');
    const fromDoc = doc.slice(doc.indexOf('Example: Node.js/Express') + 'Example: Node.js/Express'.length, doc.indexOf('Example: Python/Flask'));
    const self = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    const copied = self.slice(self.indexOf('--- begin: verbatim'), self.indexOf('// --- end ---'));
    const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(lines(copied).slice(1)).toEqual(lines(fromDoc));
  });

  it('acknowledges a draft.approved with 200 and executes the approved (edited) content', async () => {
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Hello, edited' };
    const draft = await decide('approve', { content: edited });
    const delivery = await deliveryOf(endpointId, (d) => d.draftId === draft.id);
    expect(delivery).toMatchObject({ eventType: 'draft.approved', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(executed).toContainEqual(edited);
  });

  it('acknowledges a draft.rejected with 200 and logs the reason', async () => {
    const draft = await decide('reject', { reason: 'Content violates policy' });
    const delivery = await deliveryOf(endpointId, (d) => d.draftId === draft.id);
    expect(delivery).toMatchObject({ eventType: 'draft.rejected', outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(logged).toContain(`Draft ${draft.id} rejected: Content violates policy`);
  });

  it('acknowledges a test event with 200', async () => {
    const before = executed.length;
    const sent = await admin('POST', `/v1/webhooks/${endpointId}/test`);
    expect(sent.status).toBe(202);
    const delivery = await deliveryOf(endpointId, (d) => d.eventId === sent.body.eventId);
    expect(delivery).toMatchObject({ eventType: 'draft.approved', test: true, outcome: 'succeeded', httpStatus: 200, attempt: 1 });
    expect(executed.length).toBe(before + 1);
  });
});

describe('the same handler behind expressWebhookMiddleware', () => {
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

  it('delivers real decisions and test events', async () => {
    const edited = { to: 'user@example.com', subject: 'Welcome!', body: 'Verified' };
    const draft = await decide('approve', { content: edited });
    expect(await deliveryOf(endpointId, (d) => d.draftId === draft.id)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
    expect(executed).toContainEqual(edited);
    const sent = await admin('POST', `/v1/webhooks/${endpointId}/test`);
    expect(await deliveryOf(endpointId, (d) => d.eventId === sent.body.eventId)).toMatchObject({ outcome: 'succeeded', httpStatus: 200 });
  });

  it('refuses a forged delivery with 400 before the handler runs', async () => {
    const before = executed.length;
    const body = JSON.stringify({ event: 'draft.approved', draft: { id: 'cdirect', title: 'x', content: { to: 'someone@example.com' }, metadata: {}, reviewedAt: new Date().toISOString() }, timestamp: new Date().toISOString() });
    const post = (headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => r.status);
    expect(await post({ ...signedHeaders('msg_forged', body, [`whsec_${Buffer.from('guessed').toString('base64')}`], new Date()) })).toBe(400);
    expect(await post({})).toBe(400);
    expect(executed.length).toBe(before);
    // The same bytes signed with the endpoint's secret go through.
    expect(await post({ ...signedHeaders('msg_genuine', body, [secret], new Date()) })).toBe(200);
    expect(executed.slice(before)).toEqual([{ to: 'someone@example.com' }]);
  });
});
