/**
 * 1. The pipeline, end to end on the dev runtime: drafts created by concurrent agents, decided at
 * a steady offered rate (open loop), delivered to a keep-alive loopback receiver.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { apiClient, startDevRuntime } from '../support/dev-runtime.js';
import { startBenchReceiver, type BenchReceiver } from './bench-receiver.js';
import { cpuMeter } from './cpu.js';
import type { BenchOptions } from './options.js';
import { progress, say } from './progress.js';
import { percentiles, type Percentiles } from './stats.js';

export const CREATE_CONCURRENCY = 20;
/** Connections for the decision clients: enough that the offered rate is never held back by the pool. */
export const DECIDE_CONNECTIONS = 64;
/** Drafts created, decided and delivered before measuring, so lazy handler loading (tsx) and JIT warm-up are not measured. */
const WARM_UP = 20;
/** Sequential decisions on an idle system after the drain: the latency floor the pumps' polling sets. */
const IDLE_PROBES = 10;
/** The dev runtime's pumps sleep this long when they find nothing (infra/local/stream-pump.ts, queue-pump.ts). */
export const STREAM_PUMP_IDLE_SLEEP_MS = 100;
export { QUEUE_PUMP_IDLE_SLEEP_MS } from '../../infra/local/queue-pump.js';

/** The unsaturated reference: a quarter of the offered rate, an eighth of the drafts (at least 50). */
export const referenceRate = (rate: number) => Math.max(1, Math.round(rate / 4));
export const referenceCount = (n: number) => Math.max(50, Math.round(n / 8));

export interface DecidePhase {
  offeredRate: number;
  count: number;
  decided: number;
  decideErrors: number;
  decideStatuses: Record<string, number>;
  /** From each decision's scheduled start (open loop), so queueing in the client counts too. */
  decideLatency: Percentiles;
  achievedDecisionRate: number;
  /** Worst lateness of the scheduler itself in firing a decision. */
  schedulerLagMaxMs: number;
  /** Receiver timestamp minus the decision's response time, per draft (first receipt). */
  decisionToWebhook: Percentiles;
  /** Receiver wall clock minus the payload's reviewedAt (set inside the decide handler). */
  commitToWebhook: Percentiles;
  /** Webhooks per second from the first decision sent to the last decision's webhook received. */
  deliveryThroughput: number;
  lost: number;
  /** Receipts beyond the first per webhook-id, and how many ids had them. */
  duplicateReceipts: number;
  duplicateIds: number;
  /** Time from the last decision's response to the last webhook. */
  drainMs: number;
  /** CPU use while the decisions were being sent and answered, in % of one core: DynamoDB Local (java), the dev runtime (node), this process. */
  cpu: { dynamodbLocal: number; runtime: number; bench: number };
}

export interface PipelineRun {
  n: number;
  startupMs: number;
  created: number;
  createErrors: number;
  createLatency: Percentiles;
  createThroughput: number;
  main: DecidePhase;
  reference: DecidePhase;
  /** Receipts for no decision of this run, and receipts whose signature did not verify (both should be 0). */
  unexpected: number;
  invalidSignatures: number;
  idleFloor: Percentiles;
  /** Succeeded attempts the delivery log shows for the decided drafts (GET /v1/webhooks/{id}/deliveries). */
  deliveryLogSucceeded: number;
  deliveryLogOther: number;
  runtimeWarnings: number;
  runtimeErrors: number;
  runtimeErrorSample: string[];
  /** API requests per measured draft: its create and its decision. */
  apiRequestsPerDraft: number;
}

const draftBody = (i: number) =>
  JSON.stringify({
    title: `Benchmark draft ${i}`,
    content: { to: `user${i}@example.com`, subject: 'Welcome!', body: 'Hello from the Processa benchmark. This is what an agent would send.' },
    metadata: { source: 'bench', run: 'pipeline', index: i },
  });

export interface Tracker {
  firstReceipt: Map<string, number>;
  receiptCounts: Map<string, number>;
}

export function trackReceipts(receiver: BenchReceiver): Tracker {
  const tracker: Tracker = { firstReceipt: new Map(), receiptCounts: new Map() };
  receiver.onReceipt((r) => {
    if (r.draftId && !tracker.firstReceipt.has(r.draftId)) tracker.firstReceipt.set(r.draftId, r.at);
    tracker.receiptCounts.set(r.webhookId, (tracker.receiptCounts.get(r.webhookId) ?? 0) + 1);
  });
  return tracker;
}

export async function createDrafts(pool: Pool, agentKey: string, count: number, label: string, offset: number) {
  const ids: Array<string | undefined> = new Array(count);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const bar = progress(label, count);
  const started = performance.now();
  const deadline = started + Math.max(120_000, count * 200);
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < count && performance.now() < deadline) {
        const i = next++;
        const sent = performance.now();
        try {
          const res = await pool.request({
            path: '/v1/drafts',
            method: 'POST',
            headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
            body: draftBody(offset + i),
            headersTimeout: 30_000,
            bodyTimeout: 30_000,
          });
          const body = (await res.body.json()) as { id?: string };
          latencies.push(performance.now() - sent);
          if (res.statusCode === 201 && body.id) ids[i] = body.id;
          else errors++;
        } catch {
          errors++;
        }
        bar.tick();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  bar.done(`${(count / seconds).toFixed(0)} creates/s`);
  return { ids, latencies, errors, throughput: count / seconds };
}

/** Decides `ids` at `rate` per second, open loop (approve and reject alternate), then waits for their webhooks. */
export async function decideAndDrain(
  pool: Pool,
  reviewerKey: string,
  ids: Array<string | undefined>,
  rate: number,
  tracker: Tracker,
  receiver: BenchReceiver,
  drainSeconds: number,
  label: string,
  pids: { dynamodbLocal?: number; runtime?: number },
): Promise<DecidePhase> {
  const cpu = cpuMeter({ ...pids, bench: process.pid });
  const count = ids.length;
  const decidedAt = new Map<string, number>();
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let schedulerLagMaxMs = 0;
  let lastDecisionDone = 0;
  const interval = 1000 / rate;
  const bar = progress(`${label}: decide @${rate}/s`, count);
  const scheduleStart = performance.now() + 20;
  const deadline = scheduleStart + (count / rate) * 1000 + 120_000;
  const inflight = new Set<Promise<void>>();
  const outstanding = () => decidedAt.size - [...decidedAt.keys()].filter((id) => tracker.firstReceipt.has(id)).length;

  const decide = async (i: number, scheduledAt: number) => {
    const id = ids[i];
    if (!id) return;
    const approve = i % 2 === 0;
    schedulerLagMaxMs = Math.max(schedulerLagMaxMs, performance.now() - scheduledAt);
    try {
      const res = await pool.request({
        path: `/v1/drafts/${id}/${approve ? 'approve' : 'reject'}`,
        method: 'POST',
        headers: { authorization: `Bearer ${reviewerKey}`, 'content-type': 'application/json' },
        body: approve ? '{}' : JSON.stringify({ reason: 'Rejected by the benchmark' }),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await res.body.dump();
      const done = performance.now();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      latencies.push(done - scheduledAt);
      lastDecisionDone = Math.max(lastDecisionDone, done);
      if (res.statusCode === 200) decidedAt.set(id, done);
      else errors++;
    } catch {
      errors++;
      statuses.error = (statuses.error ?? 0) + 1;
    }
    bar.tick(1);
  };

  let next = 0;
  let ticks = 0;
  while (next < count && performance.now() < deadline) {
    const now = performance.now();
    while (next < count && scheduleStart + next * interval <= now) {
      const scheduledAt = scheduleStart + next * interval;
      const p: Promise<void> = decide(next, scheduledAt).finally(() => inflight.delete(p));
      inflight.add(p);
      next++;
    }
    if (++ticks % 25 === 0) bar.set(latencies.length, `${inflight.size} in flight, ${outstanding()} webhooks outstanding`);
    const wait = scheduleStart + next * interval - performance.now();
    await sleep(Math.max(0, Math.min(wait, 20)));
  }
  const giveUp = new AbortController();
  await Promise.race([Promise.all(inflight), sleep(Math.max(0, deadline - performance.now()), undefined, { signal: giveUp.signal }).catch(() => undefined)]);
  giveUp.abort();
  bar.done();
  const cpuUse = cpu();
  const decided = decidedAt.size;
  const achievedDecisionRate = decided / ((lastDecisionDone - scheduleStart) / 1000);

  // Drain: wait for every decided draft's webhook, bounded by --drain.
  const drainDeadline = performance.now() + drainSeconds * 1000;
  const drainBar = progress(`${label}: drain`, decided);
  while (performance.now() < drainDeadline) {
    const left = outstanding();
    drainBar.set(decided - left);
    if (left === 0) break;
    await sleep(20);
  }
  // A short grace period so that late duplicates (retries) are counted too.
  await sleep(1500);
  const lost = outstanding();
  drainBar.done(lost === 0 ? 'all delivered' : `${lost} not delivered`);

  const decisionToWebhook: number[] = [];
  let lastWebhook = 0;
  for (const [id, at] of decidedAt) {
    const received = tracker.firstReceipt.get(id);
    if (received === undefined) continue;
    decisionToWebhook.push(received - at);
    lastWebhook = Math.max(lastWebhook, received);
  }
  if (process.env.PROCESSA_BENCH_DUMP) {
    // Diagnostics only: per decision, when it was answered (s from the start) and how long its webhook took.
    const reviewedAt = new Map(receiver.receipts.map((r) => [r.draftId, r.payloadTimestamp]));
    const wall = (t: number | undefined) => (t === undefined ? '' : (performance.timeOrigin + t).toFixed(0));
    const rows = [...decidedAt].map(([id, at]) => [id, wall(at), reviewedAt.get(id) ?? '', wall(tracker.firstReceipt.get(id))].join(','));
    appendFileSync(process.env.PROCESSA_BENCH_DUMP, `# ${label} @${rate}/s\ndraftId,answeredAtMs,reviewedAtMs,receivedAtMs\n${rows.join('\n')}\n`);
  }
  const commitToWebhook: number[] = [];
  const seen = new Set<string>();
  const webhookIds = new Set<string>();
  for (const r of receiver.receipts) {
    if (!r.draftId || !decidedAt.has(r.draftId)) continue;
    webhookIds.add(r.webhookId);
    if (seen.has(r.draftId) || r.payloadTimestamp === undefined) continue;
    seen.add(r.draftId);
    commitToWebhook.push(r.wallAt - r.payloadTimestamp);
  }
  let duplicateReceipts = 0;
  let duplicateIds = 0;
  for (const id of webhookIds) {
    const c = tracker.receiptCounts.get(id) ?? 0;
    if (c > 1) {
      duplicateIds++;
      duplicateReceipts += c - 1;
    }
  }
  return {
    offeredRate: rate,
    count,
    decided,
    decideErrors: errors,
    decideStatuses: statuses,
    decideLatency: percentiles(latencies),
    achievedDecisionRate,
    schedulerLagMaxMs,
    decisionToWebhook: percentiles(decisionToWebhook),
    commitToWebhook: percentiles(commitToWebhook),
    deliveryThroughput: decisionToWebhook.length / ((lastWebhook - scheduleStart) / 1000),
    lost,
    duplicateReceipts,
    duplicateIds,
    drainMs: Math.max(0, lastWebhook - lastDecisionDone),
    cpu: { dynamodbLocal: cpuUse.dynamodbLocal ?? Number.NaN, runtime: cpuUse.runtime ?? Number.NaN, bench: cpuUse.bench ?? Number.NaN },
  };
}

export async function runPipeline(options: BenchOptions, runIndex: number): Promise<PipelineRun> {
  const n = options.n;
  const label = `pipeline ${runIndex}/${options.runs}`;
  const receiver = await startBenchReceiver();
  const startAt = performance.now();
  // With PROCESSA_BENCH_DUMP set (diagnostics), the runtime logs at INFO and its output is appended to the dump.
  const dump = process.env.PROCESSA_BENCH_DUMP;
  const runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', ...(dump ? { POWERTOOLS_LOG_LEVEL: 'INFO' } : {}) } });
  const startupMs = performance.now() - startAt;
  // The gateway listens on 127.0.0.1; connect there directly (no localhost → ::1 detour).
  const origin = runtime.url.replace('//localhost:', '//127.0.0.1:');
  const createPool = new Pool(origin, { connections: CREATE_CONCURRENCY, keepAliveTimeout: 60_000 });
  const decidePool = new Pool(origin, { connections: DECIDE_CONNECTIONS, keepAliveTimeout: 60_000 });
  try {
    const admin = apiClient(origin, runtime.adminKey);
    const agentRes = await admin('POST', '/v1/keys', { role: 'agent', name: 'bench-agent' });
    const reviewerRes = await admin('POST', '/v1/keys', { role: 'reviewer', name: 'bench-reviewer' });
    const endpointRes = await admin('POST', '/v1/webhooks', { url: receiver.url, description: 'benchmark receiver' });
    if (agentRes.status !== 201 || reviewerRes.status !== 201 || endpointRes.status !== 201) {
      throw new Error(`setup failed: keys ${agentRes.status}/${reviewerRes.status}, endpoint ${endpointRes.status} ${JSON.stringify(endpointRes.body)}`);
    }
    const agentKey = String(agentRes.body.key);
    const reviewerKey = String(reviewerRes.body.key);
    const endpointId = String(endpointRes.body.id);
    receiver.setSecret(String(endpointRes.body.secret));
    const tracker = trackReceipts(receiver);
    const info = runtime.info();
    const pids = { dynamodbLocal: info.dynamodbPid, runtime: info.pid };

    // Warm-up: load every handler module and let the JIT settle; not measured.
    const warm = await createDrafts(createPool, agentKey, WARM_UP, `${label}: warm-up`, -WARM_UP);
    await decideAndDrain(decidePool, reviewerKey, warm.ids, 20, tracker, receiver, 15, `${label}: warm-up`, pids);
    receiver.reset();

    const refCount = referenceCount(n);
    const created = await createDrafts(createPool, agentKey, n + refCount + IDLE_PROBES, `${label}: create`, 0);
    const mainIds = created.ids.slice(0, n);
    const refIds = created.ids.slice(n, n + refCount);
    const probeIds = created.ids.slice(n + refCount);

    const main = await decideAndDrain(decidePool, reviewerKey, mainIds, options.rate, tracker, receiver, options.drainSeconds, label, pids);
    const reference = await decideAndDrain(
      decidePool,
      reviewerKey,
      refIds,
      referenceRate(options.rate),
      tracker,
      receiver,
      options.drainSeconds,
      `${label} (reference)`,
      pids,
    );

    const decidedIds = new Set([...mainIds, ...refIds].filter((id): id is string => id !== undefined));
    let unexpected = 0;
    let invalidSignatures = 0;
    for (const r of receiver.receipts) {
      if (r.signatureValid === false) invalidSignatures++;
      if (!r.draftId || !decidedIds.has(r.draftId)) unexpected++;
    }

    // Idle floor: one decision at a time on a quiet system.
    const idle: number[] = [];
    const probeBar = progress(`${label}: idle probes`, probeIds.length);
    for (const id of probeIds) {
      probeBar.tick();
      if (!id) continue;
      await sleep(150 + Math.random() * 200);
      const res = await decidePool.request({
        path: `/v1/drafts/${id}/approve`,
        method: 'POST',
        headers: { authorization: `Bearer ${reviewerKey}`, 'content-type': 'application/json' },
        body: '{}',
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await res.body.dump();
      const done = performance.now();
      const deadline = done + 5000;
      while (!tracker.firstReceipt.has(id) && performance.now() < deadline) await sleep(1);
      const received = tracker.firstReceipt.get(id);
      if (res.statusCode === 200 && received !== undefined) idle.push(received - done);
    }
    probeBar.done();

    // The delivery log must agree with what arrived.
    let deliveryLogSucceeded = 0;
    let deliveryLogOther = 0;
    let cursor: string | undefined;
    for (let page = 0; page < Math.ceil(created.ids.length / 100) + 10; page++) {
      const res = await admin('GET', `/v1/webhooks/${endpointId}/deliveries?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.status !== 200) break;
      for (const item of res.body.items as Array<{ outcome: string; draftId: string }>) {
        if (!decidedIds.has(item.draftId)) continue;
        if (item.outcome === 'succeeded') deliveryLogSucceeded++;
        else deliveryLogOther++;
      }
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) break;
    }

    const output = runtime.output().split('\n');
    const errorLines = output.filter((l) => l.includes('"level":"ERROR"') || / pump: /.test(l) || l.startsWith('local gateway error'));
    return {
      n,
      startupMs,
      created: mainIds.filter(Boolean).length,
      createErrors: created.errors,
      createLatency: percentiles(created.latencies),
      createThroughput: created.throughput,
      main,
      reference,
      unexpected,
      invalidSignatures,
      idleFloor: percentiles(idle),
      deliveryLogSucceeded,
      deliveryLogOther,
      runtimeWarnings: output.filter((l) => l.includes('"level":"WARN"')).length,
      runtimeErrors: errorLines.length,
      runtimeErrorSample: errorLines.slice(0, 3).map((l) => l.slice(0, 300)),
      apiRequestsPerDraft: 2,
    };
  } finally {
    if (dump) appendFileSync(`${dump}.runtime.log`, runtime.output());
    await Promise.allSettled([createPool.close(), decidePool.close()]);
    const code = await runtime.stop();
    if (code !== 0 && code !== null) say(`  (dev runtime exited with code ${code})`);
    await receiver.stop();
  }
}
