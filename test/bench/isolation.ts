/**
 * 5. Isolation: one endpoint that never answers beside a healthy one. The healthy endpoint's
 * decision → webhook latency at 20 decisions/s is measured alone (baseline), then with the hanging
 * endpoint subscribed too, in the same run on the same dev runtime, with the stack's default
 * 10 s POST timeout (so the breaker's hang detection is the deployed one).
 */
import { createServer, type Server } from 'node:http';
import { Pool } from 'undici';
import { breakerPolicy } from '../../shared/webhooks/circuit-breaker.js';
import { deliveryRetry, queueConsumer } from '../../infra/app-definition.js';
import { apiClient, startDevRuntime } from '../support/dev-runtime.js';
import { startBenchReceiver } from './bench-receiver.js';
import type { BenchOptions } from './options.js';
import { createDrafts, decideAndDrain, DECIDE_CONNECTIONS, trackReceipts, CREATE_CONCURRENCY, type DecidePhase } from './pipeline.js';
import { say } from './progress.js';

/** The figure: decisions per second offered in both phases. */
export const ISOLATION_RATE = 20;
/** Decisions per phase: --n, at most this many (20 s at 20/s). */
export const ISOLATION_MAX_DECISIONS = 400;
export const isolationDecisions = (options: BenchOptions) => Math.min(options.n, ISOLATION_MAX_DECISIONS);
/** The POST timeout the stack deploys by default, and the hang detection it implies. */
export const ISOLATION_TIMEOUT_MS = deliveryRetry.timeoutMs;
export const ISOLATION_HANG_AFTER_MS = breakerPolicy(ISOLATION_TIMEOUT_MS).hangAfterMs;
export const ISOLATION_CONCURRENCY = queueConsumer.maxConcurrency;

export interface IsolationRun {
  decisions: number;
  baseline: DecidePhase;
  withHanging: DecidePhase;
  /** POSTs the hanging endpoint received during the second phase (each of its deliveries' first attempts would be `decisions`). */
  hangingPosts: number;
  /** Drafts the run could not create (their decisions are missing from both phases). */
  createErrors: number;
}

/** A run whose two phases both have a p99 to compare (a run whose creates all failed has none). */
export const measured = (run: IsolationRun): boolean =>
  Number.isFinite(run.baseline.decisionToWebhook.p99) && Number.isFinite(run.withHanging.decisionToWebhook.p99);

/** A receiver that reads each request and never answers. */
async function startHangingReceiver() {
  let posts = 0;
  const server: Server = createServer((req) => {
    req.resume();
    req.on('end', () => posts++);
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    url: `http://127.0.0.1:${port}/webhooks/processa`,
    posts: () => posts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function runIsolation(options: BenchOptions, runIndex: number): Promise<IsolationRun> {
  const label = `isolation ${runIndex}/${options.runs}`;
  const decisions = isolationDecisions(options);
  const healthy = await startBenchReceiver();
  const hanging = await startHangingReceiver();
  const runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: String(ISOLATION_TIMEOUT_MS) } });
  const origin = runtime.url.replace('//localhost:', '//127.0.0.1:');
  const createPool = new Pool(origin, { connections: CREATE_CONCURRENCY, keepAliveTimeout: 60_000 });
  const decidePool = new Pool(origin, { connections: DECIDE_CONNECTIONS, keepAliveTimeout: 60_000 });
  try {
    const admin = apiClient(origin, runtime.adminKey);
    const agent = await admin('POST', '/v1/keys', { role: 'agent', name: 'bench-agent' });
    const reviewer = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'bench-reviewer' });
    const endpoint = await admin('POST', '/v1/webhooks', { url: healthy.url, description: 'healthy receiver' });
    if (agent.status !== 201 || reviewer.status !== 201 || endpoint.status !== 201) {
      throw new Error(`setup failed: keys ${agent.status}/${reviewer.status}, endpoint ${endpoint.status} ${JSON.stringify(endpoint.body)}`);
    }
    const agentKey = String(agent.body.key);
    const reviewerKey = String(reviewer.body.key);
    healthy.setSecret(String(endpoint.body.secret));
    const tracker = trackReceipts(healthy);
    const info = runtime.info();
    const pids = { dynamodbLocal: info.dynamodbPid, runtime: info.pid };

    const created = await createDrafts(createPool, agentKey, 20 + 2 * decisions, `${label}: create`, 0);
    const warmIds = created.ids.slice(0, 20);
    const baselineIds = created.ids.slice(20, 20 + decisions);
    const hangingIds = created.ids.slice(20 + decisions);
    await decideAndDrain(decidePool, reviewerKey, warmIds, ISOLATION_RATE, tracker, healthy, 15, `${label}: warm-up`, pids);
    const baseline = await decideAndDrain(
      decidePool,
      reviewerKey,
      baselineIds,
      ISOLATION_RATE,
      tracker,
      healthy,
      options.drainSeconds,
      `${label}: baseline`,
      pids,
    );

    // The bad endpoint joins just before the second phase: its breaker starts closed, as after a receiver's sudden failure.
    const bad = await admin('POST', '/v1/webhooks', { url: hanging.url, description: 'never answers' });
    if (bad.status !== 201) throw new Error(`hanging endpoint not created: ${bad.status} ${JSON.stringify(bad.body)}`);
    const withHanging = await decideAndDrain(
      decidePool,
      reviewerKey,
      hangingIds,
      ISOLATION_RATE,
      tracker,
      healthy,
      options.drainSeconds,
      `${label}: with a hanging endpoint`,
      pids,
    );
    return { decisions, baseline, withHanging, hangingPosts: hanging.posts(), createErrors: created.errors };
  } finally {
    await Promise.allSettled([createPool.close(), decidePool.close()]);
    const code = await runtime.stop();
    if (code !== 0 && code !== null) say(`  (dev runtime exited with code ${code})`);
    await Promise.all([healthy.stop(), hanging.stop()]);
  }
}
