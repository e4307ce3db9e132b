import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, isAlive, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * `npm run dev --persist` after a crash: the emulated SQS queues were in memory, but the delivery
 * states were not. A delivery waiting for its retry is re-queued at the restart (not stuck at
 * "failed, next …" forever), and a dead one stays redrivable from the log.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'processa-persist-deliveries-'));
const key = 'prk_persist_deliveries';
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

const start = (retryBaseSeconds: number) =>
  startDevRuntime({
    args: ['--persist'],
    dataDir,
    env: { PROCESSA_BOOTSTRAP_KEY: key, PROCESSA_RETRY_BASE_SECONDS: String(retryBaseSeconds), PROCESSA_WEBHOOK_TIMEOUT_MS: '1500' },
  });

/** Kills the runtime with SIGKILL (no cleanup at all), and DynamoDB Local too if it outlived it. */
async function crash(runtime: DevRuntime) {
  const { pid, dynamodbPid } = runtime.info();
  process.kill(pid, 'SIGKILL');
  await eventually(() => !isAlive(pid), 10_000, 'the runtime to die');
  // Whether java dies with its parent is the runtime's business (tested elsewhere); here it must not hold the files.
  if (dynamodbPid && isAlive(dynamodbPid)) process.kill(dynamodbPid, 'SIGKILL');
  await eventually(() => !dynamodbPid || !isAlive(dynamodbPid), 10_000, 'DynamoDB Local to die');
  await runtime.stop();
}

describe('--persist after a crash', () => {
  it('re-queues the delivery waiting for a retry and keeps the dead one redrivable', async () => {
    const dead = await startReceiver('fail');
    const waiting = await startReceiver('fail');
    receivers.push(dead, waiting);

    // Run 1: fast retries, so one delivery dies; then a crash.
    let runtime = await start(1);
    let api = apiClient(runtime.url, key);
    const deadEndpoint = (await api('POST', '/v1/webhooks', { url: dead.url })).body as { id: string };
    const deadEvent = (await api('POST', `/v1/webhooks/${deadEndpoint.id}/test`)).body as { eventId: string };
    await eventually(
      async () => (await api('GET', `/v1/webhooks/${deadEndpoint.id}/deliveries`)).body.items.some((d: any) => d.outcome === 'dead'),
      40_000,
      'a dead delivery',
    );
    await crash(runtime);

    // Run 2: slow retries (15-30 s), so a first failure leaves the delivery waiting; then a crash.
    runtime = await start(30);
    api = apiClient(runtime.url, key);
    const waitingEndpoint = (await api('POST', '/v1/webhooks', { url: waiting.url })).body as { id: string };
    const waitingEvent = (await api('POST', `/v1/webhooks/${waitingEndpoint.id}/test`)).body as { eventId: string };
    const failed = await eventually(
      async () => (await api('GET', `/v1/webhooks/${waitingEndpoint.id}/deliveries`)).body.items.find((d: any) => d.outcome === 'failed'),
      20_000,
      'a first failed attempt',
    );
    expect(failed).toMatchObject({ eventId: waitingEvent.eventId, attempt: 1, nextAttemptAt: expect.any(String) });
    await crash(runtime);

    // Run 3: both receivers fixed.
    dead.setMode('ok');
    waiting.setMode('ok');
    runtime = await start(1);
    try {
      api = apiClient(runtime.url, key);
      expect(runtime.output()).toContain('re-queued 1 pending delivery');
      // The waiting delivery goes out again on its own, as attempt 2, with the same webhook-id, when
      // its retry is due (15-30 s after attempt 1: a copy received earlier is hidden until then).
      const retried = await eventually(
        async () => (await api('GET', `/v1/webhooks/${waitingEndpoint.id}/deliveries`)).body.items.find((d: any) => d.outcome === 'succeeded'),
        45_000,
        'the retried delivery',
      );
      expect(Date.parse(retried.attemptedAt)).toBeGreaterThanOrEqual(Date.parse(failed.nextAttemptAt) - 250);
      expect(retried).toMatchObject({ eventId: waitingEvent.eventId, attempt: 2 });
      expect(new Set(waiting.forEvent(waitingEvent.eventId).map((r) => r.headers['webhook-id']))).toEqual(new Set([waitingEvent.eventId]));

      // The log still says dead, and redrive finds it although the DLQ it was in is gone.
      const log = (await api('GET', `/v1/webhooks/${deadEndpoint.id}/deliveries`)).body.items as Array<Record<string, unknown>>;
      expect(log[0]).toMatchObject({ eventId: deadEvent.eventId, attempt: 4, outcome: 'dead' });
      expect(dead.forEvent(deadEvent.eventId)).toHaveLength(4);
      expect((await api('POST', `/v1/webhooks/${deadEndpoint.id}/redrive`)).body).toEqual({ redriven: 1, complete: true });
      await eventually(
        async () => (await api('GET', `/v1/webhooks/${deadEndpoint.id}/deliveries`)).body.items.some((d: any) => d.outcome === 'succeeded'),
        20_000,
        'the redriven delivery',
      );
      expect(dead.forEvent(deadEvent.eventId)).toHaveLength(5);
    } finally {
      await runtime.stop();
    }
  }, 180_000);
});
