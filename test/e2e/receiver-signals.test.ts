import { createServer, type Server } from 'node:http';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';

/**
 * What receivers say back, honoured on the real pipeline (dev runtime, 1 s retry base):
 * 410 Gone disables the endpoint, 503 + Retry-After waits at least that long, and an endpoint's own
 * retry policy sets its number of attempts.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
const servers: Server[] = [];

beforeAll(async () => {
  // Auto-disable after 0.00004 days (about 3.5 s) of nothing but failures, instead of 5 days.
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500', PROCESSA_AUTO_DISABLE_DAYS: '0.00004' } });
  admin = apiClient(runtime.url, runtime.adminKey);
}, 90_000);

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await runtime?.stop();
});

/** A receiver that answers each request with the next scripted response (the last one repeats). */
async function scriptedReceiver(script: Array<{ status: number; headers?: Record<string, string> }>) {
  const arrivals: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrivals.push(Date.now());
      const answer = script[Math.min(arrivals.length, script.length) - 1]!;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end('{}');
    });
  });
  servers.push(server);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}/webhooks/processa`, arrivals };
}

async function approveOne() {
  const { body: draft } = await admin('POST', '/v1/drafts', { title: `Draft ${Math.random()}`, content: { n: 1 } });
  expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
  return draft.id as string;
}

const deliveries = async (endpointId: string) => (await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items as Array<Record<string, any>>;

describe('receiver signals', () => {
  it('410 Gone disables the endpoint after one attempt; nothing more is posted until it is enabled again', async () => {
    const receiver = await scriptedReceiver([{ status: 410 }]);
    const { body: endpoint } = await admin('POST', '/v1/webhooks', { url: receiver.url });
    await approveOne();
    const disabled = await eventually(async () => {
      const { body } = await admin('GET', `/v1/webhooks/${endpoint.id}`);
      return body.enabled === false && body;
    });
    expect(disabled).toMatchObject({ disabledReason: 'gone', disabledAt: expect.any(String) });
    expect(await eventually(async () => (await deliveries(endpoint.id)).find((d) => d.outcome === 'dead'))).toMatchObject({ httpStatus: 410, attempt: 1 });
    await approveOne();
    // Deliberately a fixed wait: the claim is that nothing reaches the disabled endpoint for 2.5 s.
    await new Promise((r) => setTimeout(r, 2500));
    expect(receiver.arrivals).toHaveLength(1);
    // Enabling clears the record.
    const enabled = await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
  }, 60_000);

  it('503 with Retry-After: 3 is retried no sooner than 3 s later', async () => {
    const receiver = await scriptedReceiver([{ status: 503, headers: { 'retry-after': '3' } }, { status: 200 }]);
    const { body: endpoint } = await admin('POST', '/v1/webhooks', { url: receiver.url });
    await approveOne();
    await eventually(() => receiver.arrivals.length >= 2, 30_000, 'the retry');
    expect(receiver.arrivals[1]! - receiver.arrivals[0]!).toBeGreaterThanOrEqual(3000);
    expect(await eventually(async () => (await deliveries(endpoint.id)).find((d) => d.outcome === 'succeeded'))).toMatchObject({ attempt: 2 });
    // Its health: healthy again, one of two attempts succeeded, the failure and its error kept.
    const { body } = await admin('GET', `/v1/webhooks/${endpoint.id}`);
    expect(body.health).toMatchObject({
      state: 'healthy',
      successRate24h: 0.5,
      attempts24h: 2,
      lastSuccessAt: expect.any(String),
      lastFailure: { error: expect.stringContaining('HTTP 503') },
      failingSince: null,
      waitingForRetry: 0,
    });
  }, 60_000);

  it("an endpoint's own retry policy sets its attempts; a bad one is refused naming the field", async () => {
    const receiver = await scriptedReceiver([{ status: 500 }]);
    const { status, body: endpoint } = await admin('POST', '/v1/webhooks', { url: receiver.url, retry: { attempts: 2, baseSeconds: 1, maxDelaySeconds: 1 } });
    expect(status).toBe(201);
    expect(endpoint.retry).toEqual({ attempts: 2, baseSeconds: 1, maxDelaySeconds: 1 });
    await approveOne();
    expect(await eventually(async () => (await deliveries(endpoint.id)).find((d) => d.outcome === 'dead'), 30_000)).toMatchObject({ attempt: 2 });
    expect(receiver.arrivals).toHaveLength(2);

    const refused = await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { retry: { attempts: 3, baseSeconds: 60, maxDelaySeconds: 30 } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('retry.maxDelaySeconds');
    expect((await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { retry: 'extended' })).body.retry).toBe('extended');
    expect((await admin('GET', '/v1/webhooks')).body.items.find((e: { id: string }) => e.id === endpoint.id).retry).toBe('extended');
  }, 60_000);

  it('an endpoint whose every attempt failed for the auto-disable window is disabled (failing), with its health saying so', async () => {
    const receiver = await scriptedReceiver([{ status: 500 }]);
    const { body: endpoint } = await admin('POST', '/v1/webhooks', { url: receiver.url, retry: { attempts: 10, baseSeconds: 1, maxDelaySeconds: 1 } });
    await approveOne();
    const disabled = await eventually(
      async () => {
        const { body } = await admin('GET', `/v1/webhooks/${endpoint.id}`);
        return body.enabled === false && body;
      },
      30_000,
      'the auto-disable',
    );
    expect(disabled).toMatchObject({
      disabledReason: 'failing',
      health: { state: 'disabled', successRate24h: 0, failingSince: expect.any(String), lastFailure: { error: expect.stringContaining('HTTP 500') } },
    });
    const dead = await eventually(async () => (await deliveries(endpoint.id)).find((d) => d.outcome === 'dead'));
    expect(dead.error).toContain('every attempt failed for');
    expect(receiver.arrivals.length).toBeLessThan(10);
    // Enabled again: the record clears; what it missed can be redriven.
    expect((await admin('PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true })).body).toMatchObject({ enabled: true, disabledReason: null });
  }, 60_000);
});
