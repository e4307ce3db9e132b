/**
 * Reaching reviewers: draft.created (opt-in) through the same signed, retried, logged pipeline as
 * every webhook, on the dev runtime.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'notifier-bot' });
  agent = apiClient(runtime.url, agentKey.body.key);
}, 90_000);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await runtime?.stop();
});

async function receiverEndpoint(body: Record<string, unknown> = {}) {
  const receiver = await startReceiver('ok');
  receivers.push(receiver);
  const res = await admin('POST', '/v1/webhooks', { url: receiver.url, ...body });
  expect(res.status).toBe(201);
  return { receiver, endpoint: res.body as { id: string; secret: string } };
}

const deliveries = async (endpointId: string) => (await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items as Array<Record<string, any>>;

describe('draft.created', () => {
  it('reaches subscribed endpoints once, signed, with the draft and its reviewUrl; never the default subscribers', async () => {
    const subscriber = await receiverEndpoint({ events: ['draft.created'] });
    const everything = await receiverEndpoint({ events: ['draft.created', 'draft.approved', 'draft.rejected'] });
    const standard = await receiverEndpoint();
    const created = await agent('POST', '/v1/drafts', {
      title: 'Send welcome email',
      content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
      metadata: { source: 'ai_agent_v1' },
    });
    expect(created.status).toBe(201);
    const draft = created.body as { id: string; createdAt: string; reviewUrl: string };

    const request = await eventually(() => subscriber.receiver.requests.find((r) => JSON.parse(r.body).draft.id === draft.id), 20_000, 'draft.created');
    expect(JSON.parse(request.body)).toEqual({
      event: 'draft.created',
      draft: {
        id: draft.id,
        title: 'Send welcome email',
        content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
        metadata: { source: 'ai_agent_v1' },
        createdAt: draft.createdAt,
        expiresAt: null,
        reviewUrl: draft.reviewUrl,
        reviewers: [],
        requiredApprovals: 1,
      },
      timestamp: draft.createdAt,
    });
    expect(draft.reviewUrl).toBe(`${runtime.url}/review/${draft.id}`);
    // Signed like every event: a Standard Webhooks library verifies it.
    expect(new Webhook(subscriber.endpoint.secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({ event: 'draft.created' });
    await eventually(() => everything.receiver.requests.some((r) => JSON.parse(r.body).draft.id === draft.id), 20_000, 'the second subscriber');

    // The decision afterwards is a separate event; the standard endpoint gets only that one.
    expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    await eventually(() => standard.receiver.requests.some((r) => JSON.parse(r.body).draft.id === draft.id), 20_000, 'the approval');
    await eventually(() => everything.receiver.requests.filter((r) => JSON.parse(r.body).draft.id === draft.id).length === 2, 20_000, 'both events');
    expect(standard.receiver.requests.map((r) => JSON.parse(r.body).event)).not.toContain('draft.created');
    expect(subscriber.receiver.requests.filter((r) => JSON.parse(r.body).draft.id === draft.id)).toHaveLength(1);
    // The log line is written after the receiver answered: wait for it rather than race it.
    const subscriberLog = await eventually(
      async () => {
        const items = await deliveries(subscriber.endpoint.id);
        return items.length > 0 ? items : undefined;
      },
      10_000,
      "the subscriber's delivery log",
    );
    expect(subscriberLog).toEqual([expect.objectContaining({ eventType: 'draft.created', draftId: draft.id, outcome: 'succeeded', attempt: 1 })]);
  });
});

describe('notification channels', () => {
  const outbox = () => join(runtime.dataDir, 'outbox');
  const emails = () =>
    existsSync(outbox())
      ? readdirSync(outbox())
          .filter((f) => f.endsWith('.eml'))
          .map((f) => readFileSync(join(outbox(), f), 'utf8'))
      : [];
  const decodedParts = (eml: string) =>
    [...eml.matchAll(/Content-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)].map((m) =>
      Buffer.from(m[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8'),
    );

  it('refuses bad channels with 400 naming the field', async () => {
    for (const [body, field] of [
      [{ kind: 'slack', url: 'https://example.com/hook' }, 'url'],
      [{ kind: 'slack', url: 'https://hooks.slack.com.evil.example/services/x' }, 'url'],
      [{ kind: 'slack', url: 'http://169.254.169.254/latest' }, 'url'],
      [{ kind: 'email', recipients: ['not an address'] }, 'recipients.0'],
      [{ kind: 'email', recipients: [] }, 'recipients'],
      [{ kind: 'email', recipients: ['a@example.com'], events: ['endpoint.disabled'] }, 'events.0'],
      [{ kind: 'pigeon' }, 'kind'],
    ] as const) {
      const res = await admin('POST', '/v1/notifications', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });

  it('a new draft reaches a Slack channel as Block Kit and an email channel as an .eml in the outbox; the decision follows up; the filter routes', async () => {
    const slack = await startReceiver('ok');
    receivers.push(slack);
    const slackChannel = await admin('POST', '/v1/notifications', {
      kind: 'slack',
      url: slack.url,
      filter: { source: 'ai_agent_v1' },
      description: 'reviewers',
    });
    expect(slackChannel.status).toBe(201);
    expect(slackChannel.body).toMatchObject({
      channel: 'slack',
      events: ['draft.created', 'draft.approved', 'draft.rejected'],
      filter: { source: 'ai_agent_v1' },
    });
    const emailChannel = await admin('POST', '/v1/notifications', {
      kind: 'email',
      recipients: ['Reviewer@Example.com', 'second@example.com'],
      events: ['draft.created'],
    });
    expect(emailChannel.status).toBe(201);
    expect(emailChannel.body).toMatchObject({ channel: 'email', recipients: ['reviewer@example.com', 'second@example.com'] });
    const emailsBefore = emails().length;

    const sentAt = Date.now();
    const created = await agent('POST', '/v1/drafts', {
      title: 'Refund <order> #42',
      content: { to: 'customer@example.com', subject: 'Your refund', body: 'We refunded €42.' },
      metadata: { source: 'ai_agent_v1' },
    });
    const draft = created.body as { id: string; reviewUrl: string };
    const forDraft = () => slack.requests.filter((r) => r.body.includes(draft.id));
    const first = await eventually(() => forDraft()[0], 10_000, 'the Slack message');
    const latencyMs = first.at - sentAt;
    const message = JSON.parse(first.body);
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Waiting for review: Refund <order> #42' } });
    expect(message.text).toContain('Refund &lt;order&gt; #42');
    expect(message.blocks[1].text.text).toContain('To: customer@example.com\nSubject: Your refund\n\nWe refunded €42.');
    expect(message.blocks.at(-1).elements[0]).toMatchObject({ text: { text: 'Review' }, url: draft.reviewUrl });
    expect(first.headers['webhook-signature']).toBeUndefined();

    const mails = await eventually(() => (emails().length >= emailsBefore + 2 ? emails() : undefined), 10_000, 'two emails in the outbox');
    const mine = mails.filter((m) => decodedParts(m).some((p) => p.includes(draft.reviewUrl)));
    expect(mine.map((m) => m.match(/^To: (.*)$/m)?.[1]?.trim()).sort()).toEqual(['reviewer@example.com', 'second@example.com']);
    const [text, html] = decodedParts(mine[0]!);
    expect(text).toContain('To: customer@example.com');
    expect(html).toContain('Refund &lt;order&gt; #42');
    expect(runtime.output()).toMatch(/email to reviewer@example.com: .*\.eml/);
    // A figure, not a bound (speed goals belong to npm run bench): locally the pumps poll, so it is well under a second on a quiet machine.
    console.info(`draft created -> Slack message: ${latencyMs} ms`);

    // Another source: the filtered Slack channel hears nothing of it.
    const other = await agent('POST', '/v1/drafts', { title: 'Other source', content: { a: 1 }, metadata: { source: 'batch_job' } });
    // The decision follows up in Slack, once.
    expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    await eventually(() => forDraft().length === 2, 10_000, 'the follow-up');
    expect(JSON.parse(forDraft()[1]!.body).text).toMatch(/^:white_check_mark: \*Refund &lt;order&gt; #42\* was approved by bootstrap-admin$/);
    await eventually(async () => (await deliveries(emailChannel.body.id)).length >= 1, 10_000, 'the email delivery log');
    expect(slack.requests.some((r) => r.body.includes(other.body.id))).toBe(false);
    const log = await eventually(
      async () => {
        const items = (await deliveries(slackChannel.body.id)).filter((d) => d.draftId === draft.id);
        return items.length >= 2 ? items : undefined;
      },
      10_000,
      "the Slack channel's delivery log",
    );
    expect(log.map((d) => [d.eventType, d.outcome])).toEqual(
      expect.arrayContaining([
        ['draft.created', 'succeeded'],
        ['draft.approved', 'succeeded'],
      ]),
    );
    // The email channel chose draft.created only: no email about the approval.
    expect(new Set((await deliveries(emailChannel.body.id)).map((d) => d.eventType))).toEqual(new Set(['draft.created']));

    // "Test notification" goes through the same queue and log.
    const test = await admin('POST', `/v1/webhooks/${slackChannel.body.id}/test`);
    expect(test).toMatchObject({ status: 202, body: { eventType: 'draft.created', draftId: expect.stringMatching(/^test_/) } });
    const sample = await eventually(() => slack.requests.find((r) => r.body.includes('Test notification: ')), 10_000, 'the test notification');
    expect(JSON.parse(sample.body).blocks[0].text.text).toMatch(/^Test notification: /);

    // Disabled, it is told nothing more.
    expect((await admin('PATCH', `/v1/webhooks/${slackChannel.body.id}`, { enabled: false })).status).toBe(200);
    const later = await agent('POST', '/v1/drafts', { title: 'After disabling', content: { a: 1 }, metadata: { source: 'ai_agent_v1' } });
    await eventually(async () => (await deliveries(emailChannel.body.id)).some((d) => d.draftId === later.body.id), 10_000, 'the email channel still hears');
    expect(slack.requests.some((r) => r.body.includes(later.body.id))).toBe(false);
  });

  it('a failing Slack receiver is retried and logged like any webhook', async () => {
    const slack = await startReceiver('fail');
    receivers.push(slack);
    const channel = await admin('POST', '/v1/notifications', { kind: 'slack', url: slack.url, filter: { run: 'retry-check' } });
    const created = await agent('POST', '/v1/drafts', { title: 'Retry me', content: { a: 1 }, metadata: { run: 'retry-check' } });
    await eventually(() => slack.requests.length >= 2, 15_000, 'a retry');
    slack.setMode('ok');
    await eventually(
      async () => (await deliveries(channel.body.id)).some((d) => d.outcome === 'succeeded' && d.draftId === created.body.id),
      20_000,
      'success',
    );
    const log = await deliveries(channel.body.id);
    expect(log.filter((d) => d.outcome === 'failed')[0]).toMatchObject({ httpStatus: 500, eventType: 'draft.created' });
  });

  it('on its own queue: a channel that dies is announced to a subscribed webhook (delivery.exhausted), redriven back to the channel, and test-sent', async () => {
    const slack = await startReceiver('fail');
    receivers.push(slack);
    const { receiver: watcher } = await receiverEndpoint({ events: ['delivery.exhausted'] });
    const channel = await admin('POST', '/v1/notifications', { kind: 'slack', url: slack.url, filter: { run: 'dies' } });
    const created = await agent('POST', '/v1/drafts', { title: 'Dies', content: { a: 1 }, metadata: { run: 'dies' } });
    // Four failed attempts (1 s base): dead, and told to the webhook through the deliveries queue.
    await eventually(
      () => watcher.requests.find((r) => r.body.includes('"delivery.exhausted"') && r.body.includes(channel.body.id)),
      40_000,
      'delivery.exhausted for the channel',
    );
    expect((await deliveries(channel.body.id)).filter((d) => d.draftId === created.body.id).map((d) => d.outcome)).toContain('dead');
    expect(slack.requests.filter((r) => r.body.includes(created.body.id))).toHaveLength(4);
    // Fixed: the redrive sends it back through the notifications queue to the channel's worker.
    slack.setMode('ok');
    const redriven = await admin('POST', `/v1/webhooks/${channel.body.id}/redrive`, {});
    expect(redriven).toMatchObject({ status: 200, body: { redriven: 1 } });
    await eventually(
      async () => (await deliveries(channel.body.id)).some((d) => d.outcome === 'succeeded' && d.draftId === created.body.id),
      20_000,
      'the redriven delivery',
    );
    expect(slack.requests.filter((r) => r.body.includes(created.body.id))).toHaveLength(5);
    // And "Test notification" reaches it the same way.
    const test = await admin('POST', `/v1/webhooks/${channel.body.id}/test`, {});
    expect(test.status).toBe(202);
    await eventually(
      async () => (await deliveries(channel.body.id)).some((d) => d.eventId === test.body.eventId && d.outcome === 'succeeded'),
      20_000,
      'the test',
    );
  });
});
