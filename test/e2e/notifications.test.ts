/**
 * Reaching reviewers: draft.created (opt-in) through the same signed, retried, logged pipeline as
 * every webhook, on the dev runtime.
 */
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
    expect(await deliveries(subscriber.endpoint.id)).toEqual([
      expect.objectContaining({ eventType: 'draft.created', draftId: draft.id, outcome: 'succeeded', attempt: 1 }),
    ]);
  });
});
