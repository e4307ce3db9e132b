import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * Isolation on the real pipeline: one endpoint that never answers (each attempt hangs until the
 * 2 s timeout) must not starve a healthy one. Decisions at about 20/s all reach the healthy endpoint
 * (p99 with and without the bad endpoint is printed; `npm run bench -- --only isolation` is where
 * the figure is judged); the bad one's circuit breaker opens once 5 attempts have gone unanswered
 * for 0.5 s (a quarter of the timeout), and its messages are then deferred without a POST.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '2000' } });
  admin = apiClient(runtime.url, runtime.adminKey);
}, 90_000);
afterAll(async () => {
  for (const r of receivers) await r.stop();
  await runtime?.stop();
});

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.99) - 1)]!;

/** Decides `count` drafts at `perSecond`; returns each draft's decision time. */
async function decide(count: number, perSecond: number): Promise<Map<string, number>> {
  const decidedAt = new Map<string, number>();
  const drafts = await Promise.all(
    Array.from({ length: count }, async (_, i) => (await admin('POST', '/v1/drafts', { title: `iso ${i}`, content: { i } })).body.id as string),
  );
  const start = Date.now();
  await Promise.all(
    drafts.map(async (id, i) => {
      await new Promise((r) => setTimeout(r, Math.max(0, start + (i * 1000) / perSecond - Date.now())));
      const t = Date.now();
      expect((await admin('POST', `/v1/drafts/${id}/approve`, {})).status).toBe(200);
      decidedAt.set(id, t);
    }),
  );
  return decidedAt;
}

/** Latency from each decision to its arrival at the receiver. */
async function latencies(receiver: Awaited<ReturnType<typeof startReceiver>>, decidedAt: Map<string, number>) {
  const arrivals = await eventually(
    () => {
      const byDraft = new Map(receiver.requests.map((r) => [JSON.parse(r.body).draft?.id as string, r.at]));
      return [...decidedAt.keys()].every((id) => byDraft.has(id)) && byDraft;
    },
    60_000,
    'every decision at the healthy endpoint',
  );
  return [...decidedAt].map(([id, t]) => arrivals.get(id)! - t);
}

it('a hanging endpoint: the healthy endpoint gets every decision and the breaker stops posting to the hanging one', async () => {
  const healthy = await startReceiver('ok');
  const hanging = await startReceiver('hang');
  receivers.push(healthy, hanging);
  const healthyEndpoint = await admin('POST', '/v1/webhooks', { url: healthy.url, events: ['draft.approved'] });
  expect(healthyEndpoint.status).toBe(201);

  // Warm-up (handlers loaded, connections open), then the baseline without the bad endpoint.
  await latencies(healthy, await decide(20, 20));
  const baseline = await latencies(healthy, await decide(100, 20));
  const hangingEndpoint = await admin('POST', '/v1/webhooks', { url: hanging.url, events: ['draft.approved'] });
  expect(hangingEndpoint.status).toBe(201);
  const withBad = await latencies(healthy, await decide(200, 20));

  const figures = { baselineP99: p99(baseline), withHangingP99: p99(withBad), hangingPosts: hanging.requests.length };
  console.log(`isolation: ${JSON.stringify(figures)}`);
  // Latency is a benchmark figure, printed here, not asserted: timed assertions fail on a loaded
  // machine. What the test pins is behaviour: every decision reached the healthy endpoint (above)
  // and the breaker stopped posting to the hanging one.
  // The breaker stopped posting to it: far fewer POSTs than its 200 deliveries' first attempts
  // (5 to open it, those posted in the 0.5 s before, and one probe per 30 s cooldown).
  expect(figures.hangingPosts).toBeLessThan(60);
  // Deferred, not disabled: the endpoint stays enabled and shows as failing.
  const { body: bad } = await admin('GET', `/v1/webhooks/${hangingEndpoint.body.id}`);
  expect(bad).toMatchObject({ enabled: true, health: { state: 'failing' } });
}, 180_000);
