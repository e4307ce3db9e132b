import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { DynamoDeliveryStateStore } from '../../shared/store/deliveries-store.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { deadState, queuedState } from '../../shared/webhooks/delivery-state.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { verifyWebhookDelivery } from '../../shared/client/webhooks.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * Operational events on the real pipeline (dev runtime, 1 s retry base, auto-disable after about
 * 3.5 s of failures): endpoint.disabled and delivery.exhausted reach subscribed endpoints, signed,
 * through the delivery queue, and the operator's outbox; never the endpoint disabled, never as a cascade.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let watcher: Awaited<ReturnType<typeof startReceiver>>;
let watcherId: string;
let watcherSecret: string;
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500', PROCESSA_AUTO_DISABLE_DAYS: '0.00004' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  watcher = await startReceiver('ok');
  receivers.push(watcher);
  // Operational events only: it hears about the others' troubles, never about drafts.
  const created = await admin('POST', '/v1/webhooks', { url: watcher.url, events: ['endpoint.disabled', 'delivery.exhausted'], description: 'operations' });
  expect(created.status).toBe(201);
  expect(created.body.events).toEqual(['endpoint.disabled', 'delivery.exhausted']);
  watcherId = created.body.id;
  watcherSecret = created.body.secret;
}, 90_000);

afterAll(async () => {
  for (const receiver of receivers) await receiver.stop();
  await runtime?.stop();
});

async function endpointFor(mode: 'ok' | 'fail', body: Record<string, unknown> = {}) {
  const receiver = await startReceiver(mode);
  receivers.push(receiver);
  const created = await admin('POST', '/v1/webhooks', { url: receiver.url, ...body });
  expect(created.status).toBe(201);
  return { receiver, id: created.body.id as string };
}

async function approveOne() {
  const { body: draft } = await admin('POST', '/v1/drafts', { title: `Draft ${Math.random()}`, content: { n: 1 } });
  expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
  return draft.id as string;
}

/** The watcher's verified events (every request must carry a valid signature). */
const watched = () =>
  watcher.requests.map((r) => {
    const verified = verifyWebhookDelivery(r.body, r.headers as Record<string, string>, watcherSecret);
    return { id: verified.id, ...verified.event } as Record<string, any>;
  });
const outbox = (): Array<Record<string, any>> => {
  const file = join(runtime.dataDir, 'outbox', 'operator-notices.jsonl');
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
};
const deliveries = async (endpointId: string) =>
  (await admin('GET', `/v1/webhooks/${endpointId}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;

describe('endpoint.disabled', () => {
  it('a receiver answering 410 is disabled; a subscribed endpoint receives endpoint.disabled once, signed; the operator outbox too', async () => {
    // A receiver that answers 410 Gone: the receiver helper has no such mode, so a tiny server.
    const { createServer } = await import('node:http');
    let posts = 0;
    // 410 until the receiver is back (then 200, and the drafts it received are noted).
    let answer = 410;
    const received = new Set<string>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        posts++;
        if (answer === 200) received.add((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { draft: { id: string } }).draft.id);
        res.writeHead(answer).end();
      });
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      // It too subscribes to endpoint.disabled: it must still never hear of its own disabling.
      const gone = await admin('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/hook`, events: ['draft.approved', 'endpoint.disabled'] });
      // Several deliveries find it gone at about the same time: one disable, one event.
      const approved = await Promise.all([approveOne(), approveOne(), approveOne()]);
      const event = await eventually(
        () => watched().find((e) => e.event === 'endpoint.disabled' && e.endpoint.id === gone.body.id),
        20_000,
        'endpoint.disabled',
      );
      const { body: endpoint } = await admin('GET', `/v1/webhooks/${gone.body.id}`);
      expect(endpoint).toMatchObject({ enabled: false, disabledReason: 'gone' });
      expect(event).toEqual({
        id: expect.stringMatching(/^msg_/),
        event: 'endpoint.disabled',
        endpoint: { id: gone.body.id, url: `http://127.0.0.1:${port}/hook`, disabledReason: 'gone', disabledAt: endpoint.disabledAt },
        timestamp: endpoint.disabledAt,
      });
      // In the watcher's delivery log: an event without a draft.
      const logged = await eventually(async () => (await deliveries(watcherId)).find((d) => d.eventId === event.id && d.outcome === 'succeeded'));
      expect(logged).toMatchObject({ eventType: 'endpoint.disabled', draftId: null, attempt: 1, test: false });
      // The operator hears it too (locally: the outbox file).
      expect(await eventually(() => outbox().find((n) => n.eventId === event.id))).toMatchObject({
        subject: `webhook endpoint ${gone.body.id} disabled (gone)`,
        event: { event: 'endpoint.disabled' },
      });
      // Deliberately a fixed wait: the claim is that no second endpoint.disabled follows within 1.5 s.
      await new Promise((r) => setTimeout(r, 1500));
      expect(watched().filter((e) => e.event === 'endpoint.disabled' && e.endpoint.id === gone.body.id)).toHaveLength(1);
      expect(posts).toBeLessThanOrEqual(3);
      // Nothing was ever queued for the disabled endpoint about itself.
      expect((await deliveries(gone.body.id)).filter((d) => d.eventType === 'endpoint.disabled')).toEqual([]);

      // The receiver is back: enabled again and redriven `since` its disabledAt (as the notice suggests),
      // every approval goes out, the ones the 410s answered included.
      answer = 200;
      expect((await admin('PATCH', `/v1/webhooks/${gone.body.id}`, { enabled: true })).status).toBe(200);
      expect((await admin('POST', `/v1/webhooks/${gone.body.id}/redrive`, { since: endpoint.disabledAt })).body).toEqual({ redriven: 3, complete: true });
      await eventually(() => received.size === 3, 20_000, 'the three approvals after the redrive');
      expect([...received].sort()).toEqual([...approved].sort());
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 60_000);

  it('an endpoint failing past the (shortened) disable window is disabled as failing, and announced', async () => {
    const failing = await endpointFor('fail', { retry: { attempts: 10, baseSeconds: 1, maxDelaySeconds: 2 } });
    await approveOne();
    const event = await eventually(() => watched().find((e) => e.event === 'endpoint.disabled' && e.endpoint.id === failing.id), 30_000, 'endpoint.disabled');
    expect(event.endpoint).toMatchObject({ disabledReason: 'failing' });
  }, 60_000);

  it('an admin disabling an endpoint by hand sends no endpoint.disabled', async () => {
    const manual = await endpointFor('ok');
    expect((await admin('PATCH', `/v1/webhooks/${manual.id}`, { enabled: false })).body.disabledReason).toBe('manual');
    // Deliberately a fixed wait: the claim is that no endpoint.disabled arrives within 2 s.
    await new Promise((r) => setTimeout(r, 2000));
    expect(watched().filter((e) => e.event === 'endpoint.disabled' && e.endpoint.id === manual.id)).toEqual([]);
  }, 30_000);
});

describe('delivery.exhausted', () => {
  it('a delivery that runs out of attempts reaches a subscribed endpoint; a dead delivery of it reaches the operator only (no cascade)', async () => {
    // A second watcher that always fails after one attempt: its delivery.exhausted dies too.
    const brokenWatcher = await endpointFor('fail', { events: ['delivery.exhausted'], retry: { attempts: 1, baseSeconds: 1, maxDelaySeconds: 1 } });
    const dying = await endpointFor('fail', { retry: { attempts: 2, baseSeconds: 1, maxDelaySeconds: 1 } });
    const draftId = await approveOne();
    const event = await eventually(
      () => watched().find((e) => e.event === 'delivery.exhausted' && e.delivery.endpointId === dying.id),
      30_000,
      'delivery.exhausted',
    );
    const dead = (await deliveries(dying.id)).find((d) => d.outcome === 'dead')!;
    expect(event).toEqual({
      id: expect.stringMatching(/^msg_/),
      event: 'delivery.exhausted',
      delivery: {
        endpointId: dying.id,
        eventId: dead.eventId,
        eventType: 'draft.approved',
        draftId,
        attempts: 2,
        lastError: 'HTTP 500',
        diedAt: dead.attemptedAt,
      },
      timestamp: dead.attemptedAt,
    });
    // The broken watcher got it once and failed: that death is an operator notice, not another event.
    await eventually(async () => (await deliveries(brokenWatcher.id)).some((d) => d.eventId === event.id && d.outcome === 'dead'), 20_000, 'the dead copy');
    const notice = await eventually(
      () => outbox().find((n) => n.event.event === 'delivery.exhausted' && n.event.delivery.endpointId === brokenWatcher.id),
      10_000,
      'the operator notice of the dead delivery.exhausted',
    );
    expect(notice.event.delivery).toMatchObject({ eventType: 'delivery.exhausted', eventId: event.id, draftId: null });
    // Deliberately a fixed wait: the claim is that no cascading delivery.exhausted arrives within 2 s.
    await new Promise((r) => setTimeout(r, 2000));
    expect(watched().filter((e) => e.event === 'delivery.exhausted' && e.delivery.endpointId === brokenWatcher.id)).toEqual([]);
  }, 60_000);
});

describe('delivery.exhausted from the DLQ sweep', () => {
  it('a delivery SQS dead-lettered on its own (receive limit, no attempt finished) is found by the sweep: delivery.exhausted to subscribers and the operator, and the redrive then sends it', async () => {
    const victim = await endpointFor('ok');
    const info = runtime.info();
    const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
    const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: info.sqsEndpoint });
    try {
      // What SQS's redrive policy leaves behind: the delivery state still waiting (the fan-out wrote
      // it), the message itself in the DLQ, moved there by SQS, not by the delivery function.
      const message = deliveryMessage(testEvent({ event: 'draft.approved' }), victim.id);
      const states = new DynamoDeliveryStateStore(createDocumentClient(dynamo), info.tables.deliveries);
      expect(await states.save(queuedState(message, new Date()), undefined)).toBe(true);
      await sqs.send(new SendMessageCommand({ QueueUrl: info.queues.deliveriesDlq, MessageBody: JSON.stringify(message) }));

      // The redrive sweeps the DLQ first: the delivery is recorded dead with the reason, and announced.
      const redrive = await admin('POST', `/v1/webhooks/${victim.id}/redrive`, {});
      expect(redrive.status).toBe(200);
      const event = await eventually(
        () => watched().find((e) => e.event === 'delivery.exhausted' && e.delivery.eventId === message.eventId),
        20_000,
        'delivery.exhausted from the sweep',
      );
      expect(event.delivery).toMatchObject({
        endpointId: victim.id,
        eventId: message.eventId,
        eventType: 'draft.approved',
        attempts: 0,
        lastError: expect.stringContaining('receive limit'),
      });
      const notice = await eventually(
        () => outbox().find((n) => n.event.event === 'delivery.exhausted' && n.event.delivery.eventId === message.eventId),
        10_000,
        'the operator notice',
      );
      expect(notice.event.delivery).toMatchObject({ endpointId: victim.id, attempts: 0 });
      // The same redrive then re-queued it, and the receiver gets it.
      expect(redrive.body).toMatchObject({ redriven: 1 });
      await eventually(() => victim.receiver.forEvent(message.eventId).length === 1, 20_000, 'the redriven delivery');
      // Swept once: a second redrive finds nothing dead there.
      expect((await admin('POST', `/v1/webhooks/${victim.id}/redrive`, {})).body).toMatchObject({ redriven: 0 });
    } finally {
      dynamo.destroy();
      sqs.destroy();
    }
  }, 60_000);
});

describe('subscribing', () => {
  it('the API accepts the operational events; an unknown event name is 400 naming events', async () => {
    const receiver = await startReceiver('ok');
    receivers.push(receiver);
    const created = await admin('POST', '/v1/webhooks', { url: receiver.url, events: ['delivery.exhausted'] });
    expect(created.status).toBe(201);
    const patched = await admin('PATCH', `/v1/webhooks/${created.body.id}`, { events: ['endpoint.disabled', 'draft.approved'] });
    expect(patched.body.events).toEqual(['endpoint.disabled', 'draft.approved']);
    for (const events of [['endpoint.disable'], ['delivery.exhausted', 'delivery.dead']]) {
      const res = await admin('POST', '/v1/webhooks', { url: receiver.url, events });
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual([expect.stringMatching(/^events(\.\d+)?$/)]);
    }
    // A default endpoint does not get them.
    expect((await admin('POST', '/v1/webhooks', { url: receiver.url })).body.events).toEqual(['draft.approved', 'draft.rejected']);
  });

  it('the settings page offers them as checkboxes and creates an endpoint subscribed to them', async () => {
    const signInPage = await fetch(`${runtime.url}/settings/webhooks`, { redirect: 'manual' });
    const loginCookie = signInPage.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    const signInHtml = await signInPage.text();
    const fields = (html: string) =>
      Object.fromEntries([...html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const signIn = await fetch(`${runtime.url}${signInHtml.match(/<form[^>]*action="([^"]+)"/)![1]}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
      body: new URLSearchParams({ ...fields(signInHtml), key: runtime.adminKey }).toString(),
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers
      .getSetCookie()
      .find((c) => c.startsWith('processa_session='))!
      .split(';')[0]!;
    const page = await (await fetch(`${runtime.url}/settings/webhooks`, { headers: { cookie } })).text();
    for (const event of ['endpoint.disabled', 'delivery.exhausted']) expect(page).toContain(`name="events" value="${event}"`);
    const createForm = page.match(/<form class="card" method="post" action="\/settings\/webhooks">([\s\S]*?)<\/form>/)![1]!;
    const receiver = await startReceiver('ok');
    receivers.push(receiver);
    const body = new URLSearchParams({ _csrf: fields(createForm)._csrf!, url: receiver.url, description: 'ops from the page' });
    body.append('events', 'endpoint.disabled');
    body.append('events', 'delivery.exhausted');
    const created = await fetch(`${runtime.url}/settings/webhooks`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: body.toString(),
    });
    expect(created.status).toBe(303);
    const listed = (await admin('GET', '/v1/webhooks')).body.items.find((e: { description: string }) => e.description === 'ops from the page');
    expect(listed.events).toEqual(['endpoint.disabled', 'delivery.exhausted']);
  });
});

describe('redrive requests at once', () => {
  it('20 POST /redrive at once (an operator double-clicking, a client retrying): each dead delivery reaches the receiver once', async () => {
    const victim = await endpointFor('ok');
    const info = runtime.info();
    const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
    const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: info.sqsEndpoint });
    try {
      const states = new DynamoDeliveryStateStore(createDocumentClient(dynamo), info.tables.deliveries);
      // Dead approvals: the doc's receivers execute each copy they get, so a second copy is a second refund.
      const messages = Array.from({ length: 5 }, () => deliveryMessage(testEvent({ event: 'draft.approved' }), victim.id));
      for (const m of messages) expect(await states.save(deadState(m, 4, new Date().toISOString(), 'all 4 attempts failed'), undefined)).toBe(true);

      const responses = await Promise.all(Array.from({ length: 20 }, () => admin('POST', `/v1/webhooks/${victim.id}/redrive`, {})));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(responses.reduce((sum, r) => sum + (r.body.redriven as number), 0)).toBe(5);
      await eventually(() => messages.every((m) => victim.receiver.forEvent(m.eventId).length > 0), 20_000, 'the redriven deliveries');
      // Until the delivery queue holds nothing, visible or in flight: any second copy has been handled by then.
      const inQueue = async () => {
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: info.queues.deliveries,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      };
      await eventually(async () => (await inQueue()) === 0, 20_000, 'an empty delivery queue');
      expect(messages.map((m) => victim.receiver.forEvent(m.eventId).length)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      dynamo.destroy();
      sqs.destroy();
    }
  }, 60_000);
});

describe('decisions made while an endpoint is disabled', () => {
  it('are held (listed dead, not sent) and go out once on the redrive after it is enabled again', async () => {
    const paused = await endpointFor('ok', { events: ['draft.approved'] });
    const outageStart = new Date().toISOString();
    expect((await admin('PATCH', `/v1/webhooks/${paused.id}`, { enabled: false })).status).toBe(200);
    const draftId = await approveOne();
    const held = await eventually(async () => (await deliveries(paused.id)).find((d) => d.draftId === draftId), 20_000, 'the held delivery in the log');
    expect(held).toMatchObject({ eventType: 'draft.approved', outcome: 'dead', error: 'not sent: the endpoint is disabled (enable it, then redrive)' });
    expect(paused.receiver.requests).toHaveLength(0);

    expect((await admin('PATCH', `/v1/webhooks/${paused.id}`, { enabled: true })).status).toBe(200);
    expect((await admin('POST', `/v1/webhooks/${paused.id}/redrive`, { since: outageStart })).body).toEqual({ redriven: 1, complete: true });
    await eventually(() => paused.receiver.requests.length === 1, 20_000, 'the redriven decision');
    const [request] = paused.receiver.requests;
    expect(JSON.parse(request!.body)).toMatchObject({ event: 'draft.approved', draft: { id: draftId } });
  }, 60_000);
});
