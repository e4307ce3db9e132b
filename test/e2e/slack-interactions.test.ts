/**
 * Decide from Slack, on the dev runtime: Slack's requests are simulated (signed with the signing
 * secret the runtime was given), Slack's side (response_url, views.open) is a local receiver.
 */
import { createServer, type Server } from 'node:http';
import { slackSignature } from '../../shared/integrations/slack/signature.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

const SIGNING_SECRET = 'e2e-slack-signing-secret';
const BOT_TOKEN = 'xoxb-e2e-bot-token';

interface SlackCall {
  path: string;
  authorization?: string;
  body: Record<string, any>;
}

/** Slack's side: every response_url POST and views.open call, answered as Slack does. */
async function startFakeSlack() {
  const calls: SlackCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/api/') ? JSON.stringify({ ok: true }) : 'ok');
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    base: `http://127.0.0.1:${port}`,
    calls,
    responses: (id: string) => calls.filter((c) => c.path === `/response/${id}`),
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

let runtime: DevRuntime;
let slack: Awaited<ReturnType<typeof startFakeSlack>>;
let webhooks: Awaited<ReturnType<typeof startReceiver>>;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
let reviewer: { id: string; name: string };
let endpointId: string;

beforeAll(async () => {
  slack = await startFakeSlack();
  webhooks = await startReceiver('ok');
  runtime = await startDevRuntime({
    env: { PROCESSA_SLACK_SIGNING_SECRET: SIGNING_SECRET, PROCESSA_SLACK_BOT_TOKEN: BOT_TOKEN, PROCESSA_SLACK_API_URL: `${slack.base}/api` },
  });
  admin = apiClient(runtime.url, runtime.adminKey);
  agent = apiClient(runtime.url, (await admin('POST', '/v1/keys', { role: 'agent', name: 'slack-e2e-agent' })).body.key);
  const created = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'Rita (reviewer)', slackUserId: 'U0RITA' });
  expect(created).toMatchObject({ status: 201, body: { slackUserId: 'U0RITA' } });
  reviewer = created.body;
  const endpoint = await admin('POST', '/v1/webhooks', { url: webhooks.url });
  expect(endpoint.status).toBe(201);
  endpointId = endpoint.body.id;
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
  await slack?.stop();
  await webhooks?.stop();
});

let responseIds = 0;
const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;

/** POSTs an interaction as Slack does: form-encoded, signed over the raw body (timestamp and signature overridable). */
async function interact(payload: Record<string, unknown>, options: { timestamp?: number; signature?: string; secret?: string } = {}) {
  const body = form(payload);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${runtime.url}/v1/integrations/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': options.signature ?? slackSignature(options.secret ?? SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A button click from a Slack user; its response_url is the fake Slack's /response/<n>. */
function click(actionId: string, user = 'U0RITA') {
  const responseId = String(++responseIds);
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase() },
    team: { id: 'T0TEAM' },
    trigger_id: `trigger-${responseId}`,
    response_url: `${slack.base}/response/${responseId}`,
    actions: [{ action_id: actionId, block_id: 'decide', type: 'button', value: 'ignored' }],
  };
  return { responseId, send: (options?: Parameters<typeof interact>[1]) => interact(payload, options) };
}

async function newDraft(title: string) {
  const res = await agent('POST', '/v1/drafts', { title, content: { to: 'user@example.com', body: 'Hello' }, metadata: { source: 'slack-e2e' } });
  expect(res.status).toBe(201);
  return res.body as { id: string; reviewUrl: string };
}

const webhooksFor = (draftId: string) => webhooks.requests.filter((r) => JSON.parse(r.body).draft?.id === draftId);
const draftOf = async (id: string) => (await admin('GET', `/v1/drafts/${id}`)).body;

describe('Decide from Slack', () => {
  it('the Slack message of a waiting draft carries Approve and Reject; a signed click on Approve decides it, updates the message, and one webhook leaves', async () => {
    const channelReceiver = await startReceiver('ok');
    try {
      const channel = await admin('POST', '/v1/notifications', { kind: 'slack', url: channelReceiver.url, filter: { source: 'slack-e2e' } });
      expect(channel.status).toBe(201);
      const draft = await newDraft('Send the welcome email');
      const posted = await eventually(() => channelReceiver.requests.find((r) => r.body.includes(draft.id)), 20_000, 'the Slack message');
      const actions = JSON.parse(posted.body).blocks.at(-1).elements as Array<Record<string, any>>;
      expect(actions.map((e) => e.text.text)).toEqual(['Review', 'Approve', 'Reject']);
      const approve = actions.find((e) => e.text.text === 'Approve')!;
      expect(approve.action_id).toContain(draft.id);
      expect((await admin('PATCH', `/v1/webhooks/${channel.body.id}`, { enabled: false })).status).toBe(200);

      const clicked = click(approve.action_id);
      expect(await clicked.send()).toEqual({ status: 200, body: undefined });
      expect(await draftOf(draft.id)).toMatchObject({ status: 'approved', reviewedBy: { keyId: reviewer.id, name: 'Rita (reviewer)', role: 'reviewer' } });
      const [update] = slack.responses(clicked.responseId);
      expect(update!.body).toMatchObject({ replace_original: true, text: expect.stringContaining('was approved by Rita (reviewer)') });
      expect(JSON.stringify(update!.body.blocks)).toContain('Decided in Slack by <@U0RITA>');

      const webhook = await eventually(() => webhooksFor(draft.id)[0], 20_000, 'the draft.approved webhook');
      expect(JSON.parse(webhook.body)).toMatchObject({ event: 'draft.approved', draft: { id: draft.id } });

      // A stale button (the draft is decided) answers with the current outcome, not an error.
      const again = click(approve.action_id);
      expect((await again.send()).status).toBe(200);
      expect(slack.responses(again.responseId)[0]!.body).toMatchObject({
        replace_original: true,
        text: expect.stringContaining('was approved by Rita (reviewer)'),
      });
      expect(JSON.stringify(slack.responses(again.responseId)[0]!.body.blocks)).not.toContain('Decided in Slack');
      expect(webhooksFor(draft.id)).toHaveLength(1);
    } finally {
      await channelReceiver.stop();
    }
  });

  it('refuses an unlinked Slack user (ephemeral "not allowed"), a stale timestamp, a bad or missing signature', async () => {
    const draft = await newDraft('Refusals');
    const stranger = click(`processa_approve:${draft.id}`, 'U0STRANGER');
    expect((await stranger.send()).status).toBe(200);
    expect(slack.responses(stranger.responseId)).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/not allowed/) }),
      }),
    ]);

    const stale = await click(`processa_approve:${draft.id}`).send({ timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(/five minutes/) } } });
    const future = await click(`processa_approve:${draft.id}`).send({ timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);
    expect((await click(`processa_approve:${draft.id}`).send({ secret: 'not-the-secret' })).status).toBe(401);
    expect((await click(`processa_approve:${draft.id}`).send({ signature: 'v0=' + '0'.repeat(64) })).status).toBe(401);
    const unsigned = await fetch(`${runtime.url}/v1/integrations/slack/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ type: 'block_actions', user: { id: 'U0RITA' }, actions: [{ action_id: `processa_approve:${draft.id}` }] }),
    });
    expect(unsigned.status).toBe(401);
    // Slack has no Bearer key to offer: the refusal does not ask for one.
    expect(unsigned.headers.get('www-authenticate')).toBeNull();
    // A signed body that is not an interaction is a 400 naming the field.
    const timestamp = String(Math.floor(Date.now() / 1000));
    const bad = await fetch(`${runtime.url}/v1/integrations/slack/interactions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, 'x=1'),
      },
      body: 'x=1',
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details.fields[0].field).toBe('payload');

    expect(await draftOf(draft.id)).toMatchObject({ status: 'pending' });
  });

  it('20 parallel clicks on Approve (and an API approval racing them) make exactly one decision and one webhook', async () => {
    const draft = await newDraft('Double-click me');
    const clicks = Array.from({ length: 20 }, () => click(`processa_approve:${draft.id}`));
    const [answers, api] = await Promise.all([Promise.all(clicks.map((c) => c.send())), admin('POST', `/v1/drafts/${draft.id}/approve`, {})]);
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const decidedInSlack = clicks.filter((c) => JSON.stringify(slack.responses(c.responseId)[0]?.body ?? {}).includes('Decided in Slack'));
    // Exactly one of the 21 won: either one click (the API got its 409) or the API (every click shows its outcome).
    expect(decidedInSlack.length + (api.status === 200 ? 1 : 0)).toBe(1);
    if (api.status !== 200) expect(api).toMatchObject({ status: 409, body: { error: { code: 'already_decided' } } });
    for (const c of clicks)
      expect(slack.responses(c.responseId)[0]!.body).toMatchObject({ replace_original: true, text: expect.stringContaining('was approved') });
    const stored = await draftOf(draft.id);
    expect(stored.history.filter((h: { action: string }) => h.action === 'approved')).toHaveLength(1);
    await eventually(() => webhooksFor(draft.id).length === 1, 20_000, 'the one webhook');
    // Its delivery is logged as done; had a second decision been written, a second event would be logged too.
    const logged = await eventually(
      async () => {
        const items = (await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items as Array<{ draftId: string; outcome: string }>;
        const mine = items.filter((d) => d.draftId === draft.id);
        return mine.some((d) => d.outcome === 'succeeded') && mine;
      },
      20_000,
      'the delivery log',
    );
    expect(logged).toHaveLength(1);
    expect(webhooksFor(draft.id)).toHaveLength(1);
  });

  it('Reject opens the reason modal (views.open with the bot token); submitting it rejects with the reason and updates the message', async () => {
    const draft = await newDraft('Reject me');
    const clicked = click(`processa_reject:${draft.id}`);
    expect((await clicked.send()).status).toBe(200);
    const opened = await eventually(
      () => slack.calls.find((c) => c.path === '/api/views.open' && c.body.trigger_id === `trigger-${clicked.responseId}`),
      5_000,
      'views.open',
    );
    expect(opened.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(opened.body.view).toMatchObject({ type: 'modal', submit: { text: 'Reject' } });
    expect(await draftOf(draft.id)).toMatchObject({ status: 'pending' });

    const submit = (reason: string, user = 'U0RITA') =>
      interact({
        type: 'view_submission',
        user: { id: user },
        view: {
          id: 'V0MODAL',
          callback_id: opened.body.view.callback_id,
          private_metadata: opened.body.view.private_metadata,
          state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } },
        },
      });
    // No reason, or not a linked user: the modal stays open with an error; nothing is decided.
    expect(await submit('   ')).toEqual({ status: 200, body: { response_action: 'errors', errors: { reason: expect.stringMatching(/reason is required/) } } });
    expect(await submit('Because', 'U0STRANGER')).toMatchObject({
      status: 200,
      body: { response_action: 'errors', errors: { reason: expect.stringMatching(/not allowed/) } },
    });
    expect(await draftOf(draft.id)).toMatchObject({ status: 'pending' });

    expect(await submit('Wrong recipient')).toEqual({ status: 200, body: undefined });
    expect(await draftOf(draft.id)).toMatchObject({ status: 'rejected', rejectionReason: 'Wrong recipient', reviewedBy: { keyId: reviewer.id } });
    const update = slack.responses(clicked.responseId).at(-1)!;
    expect(update.body).toMatchObject({ replace_original: true, text: expect.stringContaining('was rejected by Rita (reviewer): Wrong recipient') });
    const webhook = await eventually(() => webhooksFor(draft.id)[0], 20_000, 'the draft.rejected webhook');
    expect(JSON.parse(webhook.body)).toMatchObject({ event: 'draft.rejected', draft: { id: draft.id, rejectionReason: 'Wrong recipient' } });

    // Submitting again (the draft is decided) changes nothing and says so.
    expect(await submit('Another reason')).toMatchObject({
      status: 200,
      body: { response_action: 'errors', errors: { reason: expect.stringMatching(/already rejected/) } },
    });
    expect(await draftOf(draft.id)).toMatchObject({ rejectionReason: 'Wrong recipient' });
  });

  it('20 parallel PATCHes of one key to 20 Slack users leave it linked to one of them, and no stale link behind (the other 19 stay free)', async () => {
    const key = (await admin('POST', '/v1/keys', { role: 'reviewer', name: 'contested' })).body as { id: string };
    const users = Array.from({ length: 20 }, (_, i) => `U0RACE${String(i).padStart(2, '0')}`);
    const answers = await Promise.all(users.map((slackUserId) => admin('PATCH', `/v1/keys/${key.id}`, { slackUserId })));
    // Each change is conditional on the link it read: a loser re-reads and retries, or gives up with 409 conflict.
    for (const a of answers) expect([200, 409]).toContain(a.status);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'conflict')).toBe(true);
    const listed = ((await admin('GET', '/v1/keys?limit=100')).body.items as Array<{ id: string; slackUserId: string | null }>).find((k) => k.id === key.id)!;
    expect(users).toContain(listed.slackUserId);
    const other = (await admin('POST', '/v1/keys', { role: 'reviewer', name: 'bystander' })).body as { id: string };
    for (const user of users.filter((u) => u !== listed.slackUserId)) {
      expect({ user, status: (await admin('PATCH', `/v1/keys/${other.id}`, { slackUserId: user })).status }).toEqual({ user, status: 200 });
    }
    expect((await admin('PATCH', `/v1/keys/${other.id}`, { slackUserId: listed.slackUserId })).status).toBe(409);
  });

  it('links: validated, one key per Slack user (20 parallel links → one), shown in GET /v1/keys; revoking the key stops its Slack user at once', async () => {
    const bad = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'bad', slackUserId: 'not-a-slack-id' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('slackUserId');
    expect(await admin('POST', '/v1/keys', { role: 'reviewer', name: 'dup', slackUserId: 'U0RITA' })).toMatchObject({
      status: 409,
      body: { error: { code: 'slack_user_already_linked' } },
    });

    const keys = await Promise.all(Array.from({ length: 20 }, (_, i) => admin('POST', '/v1/keys', { role: 'reviewer', name: `candidate-${i}` })));
    const links = await Promise.all(keys.map((k) => admin('PATCH', `/v1/keys/${k.body.id}`, { slackUserId: 'U0LATER' })));
    expect(links.filter((l) => l.status === 200)).toHaveLength(1);
    expect(links.filter((l) => l.status === 409).every((l) => l.body.error.code === 'slack_user_already_linked')).toBe(true);
    expect(links.filter((l) => l.status === 409)).toHaveLength(19);
    const linked = links.find((l) => l.status === 200)!.body as { id: string; slackUserId: string };
    expect(linked.slackUserId).toBe('U0LATER');
    const listed = (await admin('GET', '/v1/keys?limit=100')).body.items as Array<{ id: string; slackUserId: string | null }>;
    expect(listed.filter((k) => k.slackUserId === 'U0LATER').map((k) => k.id)).toEqual([linked.id]);
    expect(listed.every((k) => /^key_/.test(k.id))).toBe(true);
    expect((await admin('PATCH', `/v1/keys/${linked.id}`, { slackUserId: 'bad id' })).status).toBe(400);
    expect((await admin('PATCH', `/v1/keys/${linked.id}`, { other: 1 })).status).toBe(400);

    // An agent key linked to a Slack user may not decide.
    const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'linked agent', slackUserId: 'U0AGENT' });
    expect(agentKey.status).toBe(201);
    const draft = await newDraft('Revocation');
    const byAgent = click(`processa_approve:${draft.id}`, 'U0AGENT');
    await byAgent.send();
    expect(slack.responses(byAgent.responseId)[0]!.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/not allowed/) });

    expect((await admin('DELETE', `/v1/keys/${linked.id}`)).status).toBe(200);
    const revoked = click(`processa_approve:${draft.id}`, 'U0LATER');
    expect((await revoked.send()).status).toBe(200);
    expect(slack.responses(revoked.responseId)[0]!.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/not allowed/) });
    expect(await draftOf(draft.id)).toMatchObject({ status: 'pending' });
    expect((await admin('PATCH', `/v1/keys/${linked.id}`, { slackUserId: 'U0OTHER' })).body.error.code).toBe('key_revoked');

    // The revoked key freed its Slack user: a new key may link it, and decides.
    const successor = keys.find((k) => k.body.id !== linked.id)!.body as { id: string };
    expect(await admin('PATCH', `/v1/keys/${successor.id}`, { slackUserId: 'U0LATER' })).toMatchObject({ status: 200, body: { slackUserId: 'U0LATER' } });
    expect((await click(`processa_approve:${draft.id}`, 'U0LATER').send()).status).toBe(200);
    expect(await draftOf(draft.id)).toMatchObject({ status: 'approved', reviewedBy: { keyId: successor.id } });
    // Unlinking stops it too.
    expect(await admin('PATCH', `/v1/keys/${successor.id}`, { slackUserId: null })).toMatchObject({ status: 200, body: { slackUserId: null } });
    const other = await newDraft('After unlinking');
    const unlinked = click(`processa_approve:${other.id}`, 'U0LATER');
    await unlinked.send();
    expect(slack.responses(unlinked.responseId)[0]!.body).toMatchObject({ response_type: 'ephemeral' });
    expect(await draftOf(other.id)).toMatchObject({ status: 'pending' });
  });
});
