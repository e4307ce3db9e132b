import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { newDraft } from '../../shared/domain/draft.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { DynamoDraftStore } from '../../shared/store/drafts-store.js';
import { apiClient, repoRoot, startDevRuntime, tsxBin, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  // Fast retries (1 s base) and a short timeout keep the whole retry ladder within seconds.
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500', PROCESSA_SCHEDULE_SECONDS: '1' } });
  admin = apiClient(runtime.url, runtime.adminKey);
}, 90_000);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await runtime?.stop();
});

async function receiverEndpoint(mode: Parameters<typeof startReceiver>[0] = 'ok', body: Record<string, unknown> = {}) {
  const receiver = await startReceiver(mode);
  receivers.push(receiver);
  const res = await admin('POST', '/v1/webhooks', { url: receiver.url, ...body });
  expect(res.status).toBe(201);
  return { receiver, endpoint: res.body as { id: string; secret: string } };
}

async function decidedDraft(action: 'approve' | 'reject', decision: Record<string, unknown> = {}) {
  const { body: draft } = await admin('POST', '/v1/drafts', {
    title: `Draft ${Math.random()}`,
    content: { to: 'user@example.com', subject: 'Hi', body: 'Hello' },
    metadata: { source: 'e2e' },
  });
  const decided = await admin('POST', `/v1/drafts/${draft.id}/${action}`, decision);
  expect(decided.status).toBe(200);
  return decided.body as { id: string; reviewedAt: string; title: string };
}

const deliveries = async (endpointId: string) => (await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items as Array<Record<string, any>>;

describe('webhook endpoints', () => {
  it('return the whsec_ secret once and never again', async () => {
    const { endpoint } = await receiverEndpoint('ok', { description: 'orders' });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const fetched = await admin('GET', `/v1/webhooks/${endpoint.id}`);
    expect(fetched.body).toMatchObject({ id: endpoint.id, description: 'orders', events: ['draft.approved', 'draft.rejected'], enabled: true });
    expect(JSON.stringify(fetched.body)).not.toContain('whsec_');
    expect(JSON.stringify((await admin('GET', '/v1/webhooks')).body)).not.toContain('whsec_');
  });

  it.each([
    ['plain http to a public host', 'http://example.com/hook'],
    ['a private address', 'https://10.0.0.1/hook'],
    ['the metadata address', 'https://169.254.169.254/latest'],
    ['an IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook'],
    ['not a URL', 'receiver'],
  ])('refuse %s', async (_, url) => {
    const res = await admin('POST', '/v1/webhooks', { url });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe('url');
  });

  it('can be patched and deleted; unknown ones 404', async () => {
    const { endpoint } = await receiverEndpoint();
    const patched = await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { events: ['draft.rejected'], description: 'rejections' });
    expect(patched.body).toMatchObject({ events: ['draft.rejected'], description: 'rejections' });
    expect((await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { events: ['draft.exploded'] })).status).toBe(400);
    expect((await admin('DELETE', `/v1/webhooks/${endpoint.id}`)).status).toBe(200);
    expect((await admin('GET', `/v1/webhooks/${endpoint.id}`)).status).toBe(404);
    expect((await admin('POST', '/v1/webhooks/ep_nothere/test')).status).toBe(404);
  });
});

describe('delivery', () => {
  it('sends each decision once per subscribed endpoint, signed, byte-for-byte the documented payload', async () => {
    const a = await receiverEndpoint();
    const b = await receiverEndpoint();
    const onlyRejections = await receiverEndpoint('ok', { events: ['draft.rejected'] });
    const approved = await decidedDraft('approve', { content: { to: 'user@example.com', subject: 'Hi', body: 'Hello, edited' } });
    const rejected = await decidedDraft('reject', { reason: 'Content violates policy' });

    for (const { receiver, endpoint } of [a, b]) {
      const [approval] = await eventually(
        () =>
          receiver.requests.filter((r) => JSON.parse(r.body).draft.id === approved.id).length > 0 &&
          receiver.requests.filter((r) => JSON.parse(r.body).draft.id === approved.id),
      );
      const payload = new Webhook(endpoint.secret).verify(approval!.body, approval!.headers as Record<string, string>);
      expect(payload).toEqual({
        event: 'draft.approved',
        draft: {
          id: approved.id,
          title: approved.title,
          content: { to: 'user@example.com', subject: 'Hi', body: 'Hello, edited' },
          metadata: { source: 'e2e' },
          reviewedAt: approved.reviewedAt,
        },
        timestamp: approved.reviewedAt,
      });
      expect(approval!.headers['content-type']).toBe('application/json');
      const rejection = await eventually(() => receiver.requests.find((r) => JSON.parse(r.body).draft.id === rejected.id));
      expect(JSON.parse(rejection.body)).toEqual({
        event: 'draft.rejected',
        draft: { id: rejected.id, title: rejected.title, rejectionReason: 'Content violates policy', reviewedAt: rejected.reviewedAt },
        timestamp: rejected.reviewedAt,
      });
    }
    await eventually(() => onlyRejections.receiver.requests.some((r) => JSON.parse(r.body).draft.id === rejected.id));
    // Deliberately a fixed wait: the claim is that no stray duplicate arrives within a second.
    await new Promise((r) => setTimeout(r, 1000));
    for (const { receiver } of [a, b]) expect(receiver.requests.filter((r) => JSON.parse(r.body).draft.id === approved.id)).toHaveLength(1);
    expect(onlyRejections.receiver.requests.some((r) => JSON.parse(r.body).draft.id === approved.id)).toBe(false);
    expect(a.receiver.requests.find((r) => JSON.parse(r.body).draft.id === approved.id)!.headers['webhook-id']).toBe(
      b.receiver.requests.find((r) => JSON.parse(r.body).draft.id === approved.id)!.headers['webhook-id'],
    );
  }, 60_000);

  it('retries a failing endpoint 3 times with growing backoff, then dead; healthy endpoints get exactly one copy', async () => {
    const healthy = await receiverEndpoint('ok');
    const failing = await receiverEndpoint('fail');
    const draft = await decidedDraft('approve');
    const attempts = await eventually(
      async () => {
        const items = await deliveries(failing.endpoint.id);
        return items.some((d) => d.outcome === 'dead') && items;
      },
      40_000,
      'a dead delivery',
    );
    const mine = attempts.filter((d) => d.draftId === draft.id).reverse();
    expect(mine.map((d) => [d.attempt, d.outcome, d.httpStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'failed', 500],
      [4, 'dead', 500],
    ]);
    expect(mine[0]!.error).toContain('HTTP 500');
    const sent = failing.receiver.forEvent(mine[0]!.eventId).map((r) => r.at);
    expect(sent).toHaveLength(4);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    // Backoff base 1 s with equal jitter: ≥0.5 s, ≥1 s, ≥2 s.
    expect(gaps[0]).toBeGreaterThanOrEqual(450);
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    expect(gaps[2]).toBeGreaterThanOrEqual(1950);
    // Same webhook-id on every retry.
    expect(new Set(failing.receiver.forEvent(mine[0]!.eventId).map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(healthy.receiver.forEvent(mine[0]!.eventId)).toHaveLength(1);

    // `since` must be a time; one after the death finds nothing to redrive.
    const badSince = await admin('POST', `/v1/webhooks/${failing.endpoint.id}/redrive`, { since: 'yesterday' });
    expect(badSince.status).toBe(400);
    expect(badSince.body.error.details.fields).toEqual([expect.objectContaining({ field: 'since' })]);
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await admin('POST', `/v1/webhooks/${failing.endpoint.id}/redrive`, { since: later })).body).toEqual({ redriven: 0, complete: true });

    // Once the receiver is fixed, redrive delivers the dead message once, and only once.
    failing.receiver.setMode('ok');
    const redrive = await admin('POST', `/v1/webhooks/${failing.endpoint.id}/redrive`, { since: mine[0]!.attemptedAt });
    expect(redrive.status).toBe(200);
    expect(redrive.body).toEqual({ redriven: 1, complete: true });
    await eventually(
      async () => (await deliveries(failing.endpoint.id)).some((d) => d.draftId === draft.id && d.outcome === 'succeeded'),
      20_000,
      'redriven delivery',
    );
    expect(failing.receiver.forEvent(mine[0]!.eventId)).toHaveLength(5);
    expect((await admin('POST', `/v1/webhooks/${failing.endpoint.id}/redrive`)).body).toEqual({ redriven: 0, complete: true });
  }, 90_000);

  it('npm run redrive sends dead deliveries of the dev runtime out again', async () => {
    const { receiver, endpoint } = await receiverEndpoint('fail');
    const test = await admin('POST', `/v1/webhooks/${endpoint.id}/test`);
    await eventually(async () => (await deliveries(endpoint.id)).some((d) => d.outcome === 'dead'), 40_000, 'a dead delivery');
    receiver.setMode('ok');
    const { stdout } = await promisify(execFile)(tsxBin, ['infra/cli/redrive.ts', '--endpoint', endpoint.id], {
      cwd: repoRoot,
      env: { ...process.env, PROCESSA_DATA_DIR: runtime.dataDir },
    });
    expect(stdout).toContain(`Redrove 1 dead delivery of ${endpoint.id}`);
    await eventually(
      async () => (await deliveries(endpoint.id)).some((d) => d.eventId === test.body.eventId && d.outcome === 'succeeded'),
      20_000,
      'redriven delivery',
    );
    expect(receiver.forEvent(test.body.eventId)).toHaveLength(5);
    // Without --endpoint it goes through every endpoint, and finishes.
    const all = await promisify(execFile)(tsxBin, ['infra/cli/redrive.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PROCESSA_DATA_DIR: runtime.dataDir },
      timeout: 60_000,
    });
    expect(all.stdout).toMatch(/^Redrove \d+ dead deliver(y|ies)\.$/m);
    expect(receiver.forEvent(test.body.eventId)).toHaveLength(5);
  }, 90_000);

  it('records timeouts, refused connections and redirects as failed attempts', async () => {
    const hanging = await receiverEndpoint('hang');
    const redirecting = await receiverEndpoint('redirect');
    const closed = await receiverEndpoint('ok');
    await closed.receiver.stop();
    await decidedDraft('reject', { reason: 'x' });
    const firstError = async (id: string) => (await deliveries(id)).find((d) => d.attempt === 1)?.error;
    expect(await eventually(() => firstError(hanging.endpoint.id), 20_000)).toBe('timed out after 1500 ms');
    expect(await eventually(() => firstError(redirecting.endpoint.id), 20_000)).toBe('HTTP 307: redirects are not followed');
    expect(await eventually(() => firstError(closed.endpoint.id), 20_000)).toBe('connection refused');
    expect(redirecting.receiver.requests).toHaveLength(1);
  }, 60_000);

  it('sends a test event through the same queue, signing and log: a draft.rejected unless a draft.approved is asked for', async () => {
    const { receiver, endpoint } = await receiverEndpoint();
    const res = await admin('POST', `/v1/webhooks/${endpoint.id}/test`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ eventType: 'draft.rejected', draftId: expect.stringMatching(/^test_/) });
    const request = await eventually(() => receiver.forEvent(res.body.eventId)[0]);
    const payload = new Webhook(endpoint.secret).verify(request.body, request.headers as Record<string, string>) as Record<string, any>;
    expect(payload).toMatchObject({ event: 'draft.rejected', test: true, draft: { id: res.body.draftId, rejectionReason: expect.stringMatching(/test/i) } });
    const log = await eventually(async () => (await deliveries(endpoint.id)).find((d) => d.eventId === res.body.eventId));
    expect(log).toMatchObject({ outcome: 'succeeded', httpStatus: 200, attempt: 1, test: true, eventType: 'draft.rejected' });

    const sample = await admin('POST', `/v1/webhooks/${endpoint.id}/test`, { event: 'draft.approved' });
    expect(sample.status).toBe(202);
    expect(sample.body.eventType).toBe('draft.approved');
    const sampleRequest = await eventually(() => receiver.forEvent(sample.body.eventId)[0]);
    expect(JSON.parse(sampleRequest.body)).toMatchObject({
      event: 'draft.approved',
      test: true,
      draft: { id: expect.stringMatching(/^test_/), content: expect.any(Object) },
    });
  });

  it('after a secret rotation signs with both secrets for the grace period', async () => {
    const { receiver, endpoint } = await receiverEndpoint();
    const rotated = await admin('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const test = await admin('POST', `/v1/webhooks/${endpoint.id}/test`);
    const request = await eventually(() => receiver.forEvent(test.body.eventId)[0]);
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [endpoint.secret, rotated.body.secret]) {
      expect(() => new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
    }
  });

  it('expires a draft past its expiresAt: draft.expired goes to subscribers only, decisions get 409', async () => {
    const subscriber = await receiverEndpoint('ok', { events: ['draft.expired'] });
    const defaults = await receiverEndpoint('ok');
    // The API requires a minute's notice; write a draft due in 2 s straight into the dev runtime's table.
    const info = runtime.info();
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
    const store = new DynamoDraftStore(createDocumentClient(client), info.tables.drafts, info.tables.idempotency);
    const now = new Date();
    const draft = newDraft({ title: 'Short-lived', content: {}, metadata: { source: 'e2e' } }, { keyId: 'key_x', name: 'bot', role: 'agent' }, now);
    draft.expiresAt = new Date(now.getTime() + 2000).toISOString();
    await store.create(draft);
    client.destroy();

    const request = await eventually(() => subscriber.receiver.requests.find((r) => JSON.parse(r.body).draft.id === draft.id), 20_000, 'draft.expired');
    expect(new Webhook(subscriber.endpoint.secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({
      event: 'draft.expired',
      draft: { id: draft.id, title: 'Short-lived', metadata: { source: 'e2e' }, expiresAt: draft.expiresAt },
    });
    expect((await admin('GET', `/v1/drafts/${draft.id}`)).body.status).toBe('expired');
    const late = await admin('POST', `/v1/drafts/${draft.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('draft_expired');
    expect(defaults.receiver.requests.some((r) => JSON.parse(r.body).draft.id === draft.id)).toBe(false);
  }, 40_000);

  it('paginates the delivery log newest first', async () => {
    const { endpoint } = await receiverEndpoint();
    for (let i = 0; i < 3; i++) await admin('POST', `/v1/webhooks/${endpoint.id}/test`);
    await eventually(async () => (await deliveries(endpoint.id)).length === 3);
    const page1 = await admin('GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=2`);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await admin('GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.nextCursor).toBeNull();
    expect(page1.body.items[0].attemptedAt >= page1.body.items[1].attemptedAt).toBe(true);
  });
});
