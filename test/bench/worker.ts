/**
 * 2. The delivery worker against the wire: the real delivery handler, imported in-process and fed
 * SQS-shaped batches directly, against raw POSTs of the same bodies at the same concurrency.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Pool } from 'undici';
import { queueConsumer } from '../../infra/app-definition.js';
import { lambdaContext, loadHandler } from '../../infra/local/lambda-context.js';
import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { localStack, type CallRecord, type LocalStack } from './local-stack.js';
import { memoryDynamo, type MemoryDynamo } from './memory-dynamo.js';
import type { BenchOptions } from './options.js';
import { progress } from './progress.js';
import { percentiles, type Percentiles } from './stats.js';
import { sqsRecord as sqsRecordOf } from '../support/sqs-records.js';

export const BATCH_SIZE = queueConsumer.batchSize;
/**
 * Batches in flight at once: the 5 Lambda starts an SQS event source with (and the local pump's
 * receive loops), not the maxConcurrency it may scale to, so the figures stay comparable run to run.
 */
export const CONCURRENT_BATCHES = Math.min(5, queueConsumer.maxConcurrency);
export const POSTS_IN_FLIGHT = BATCH_SIZE * CONCURRENT_BATCHES;
/** Longest any phase may run. */
const PHASE_MAX_SECONDS = 30;

export const workerPhaseSeconds = (options: BenchOptions) => (options.quick ? 1 : 3);

export interface WorkerRun {
  /** Messages per phase: at least --n, and at least the phase's minimum duration. */
  handlerMessages: number;
  handlerRate: number;
  rawRate: number;
  ratio: number;
  /** Raw POSTs through node:http with a keep-alive agent, the HTTP client the delivery poster uses. */
  nodeHttpRate: number;
  /** The same handler with every DynamoDB call answered in-process (test/bench/memory-dynamo.ts): its own cost, without DynamoDB Local. */
  stubbedRate: number;
  stubbedRatio: number;
  /** How long the handler waited for DynamoDB Local per call. */
  getItemMs: Percentiles;
  batchWriteMs: Percentiles;
  /** One invocation with a batch of 10. */
  invocationMs: Percentiles;
  failures: number;
  /** Receiver count minus messages sent, over all phases (0: every POST arrived once). */
  receiverMismatch: number;
  dynamoCallsPerMessage: number;
  dynamoCallsByCommand: Record<string, number>;
  logItemsWritten: number;
  batchWritesPerInvocation: number;
  sqsCallsPerMessage: number;
  logBytesPerMessage: number;
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export const sqsRecord = (message: DeliveryMessage | string, queueArn = 'arn:aws:sqs:us-east-1:000000000000:processa-bench-deliveries'): SQSRecord =>
  sqsRecordOf(message, { queueArn });

let handler: SqsHandler | undefined;
let javaWarm = false;
let memory: MemoryDynamo | undefined;
export async function deliveryHandler(): Promise<SqsHandler> {
  await localStack();
  return (handler ??= await loadHandler<SqsHandler>('deliverWebhooks'));
}

interface PhaseResult {
  processed: number;
  rate: number;
  failures: number;
  received: number;
  durations: number[];
  calls: CallRecord[];
  logBytes: number;
}

/**
 * Runs `workers` loops that each take `unit` items at a time from a pool of `available` items
 * until at least `minCount` were processed and `minSeconds` passed (or the pool or PHASE_MAX_SECONDS ran out).
 */
async function drive(
  stack: LocalStack,
  label: string,
  options: { workers: number; unit: number; available: number; minCount: number; minSeconds: number },
  work: (from: number, to: number) => Promise<{ failures: number; ms?: number }>,
): Promise<PhaseResult> {
  const bar = progress(label, options.minCount);
  let next = 0;
  let processed = 0;
  let failures = 0;
  const durations: number[] = [];
  const before = stack.receiver.count();
  stack.calls.open();
  stack.output.start();
  const started = performance.now();
  const enough = () => {
    const elapsed = (performance.now() - started) / 1000;
    return elapsed > PHASE_MAX_SECONDS || (processed >= options.minCount && elapsed >= options.minSeconds);
  };
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (!enough() && next + options.unit <= options.available) {
        const from = next;
        next += options.unit;
        const result = await work(from, from + options.unit);
        failures += result.failures;
        if (result.ms !== undefined) durations.push(result.ms);
        processed += options.unit;
        bar.set(processed);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const logBytes = stack.output.stop().bytes;
  const calls = stack.calls.close();
  bar.done(`${(processed / seconds).toFixed(0)} msg/s`);
  return { processed, rate: processed / seconds, failures, received: stack.receiver.count() - before, durations, calls, logBytes };
}

function handlerPhase(stack: LocalStack, deliver: SqsHandler, messages: DeliveryMessage[], minCount: number, minSeconds: number, label: string) {
  return drive(stack, label, { workers: CONCURRENT_BATCHES, unit: BATCH_SIZE, available: messages.length, minCount, minSeconds }, async (from, to) => {
    // Built at "receive" time, with fresh timestamps, as the event source mapping would.
    const records = messages.slice(from, to).map((m) => sqsRecord(m));
    const t0 = performance.now();
    const result = await deliver({ Records: records }, lambdaContext('deliverWebhooks'));
    return { failures: result?.batchItemFailures?.length ?? 0, ms: performance.now() - t0 };
  });
}

type Post = (body: string) => Promise<number>;

/** Raw POSTs through undici's Pool, or node:http with a keep-alive agent (what the delivery poster uses). */
function rawClient(kind: 'undici' | 'node:http', origin: string): { post: Post; close(): Promise<void> } {
  if (kind === 'undici') {
    const pool = new Pool(origin, { connections: POSTS_IN_FLIGHT, keepAliveTimeout: 60_000 });
    return {
      post: async (body) => {
        const res = await pool.request({
          path: '/webhooks/processa',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        return res.statusCode;
      },
      close: () => pool.close(),
    };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: POSTS_IN_FLIGHT });
  const url = new URL('/webhooks/processa', origin);
  return {
    post: (body) =>
      new Promise<number>((resolve) => {
        const req = http.request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 },
          (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.once('error', () => resolve(0));
        req.end(body);
      }),
    close: async () => agent.destroy(),
  };
}

async function rawPhase(stack: LocalStack, bodies: string[], kind: 'undici' | 'node:http', minCount: number, minSeconds: number, label: string) {
  const client = rawClient(kind, stack.receiver.origin);
  try {
    // Open the connections first: the handler's keep-alive agent has them open from its warm-up too.
    await Promise.all(bodies.slice(0, POSTS_IN_FLIGHT).map(client.post));
    return await drive(stack, label, { workers: POSTS_IN_FLIGHT, unit: 1, available: bodies.length, minCount, minSeconds }, async (from) => ({
      failures: (await client.post(bodies[from]!)) === 200 ? 0 : 1,
    }));
  } finally {
    await client.close();
  }
}

const countBy = (calls: CallRecord[], service: CallRecord['service']) => {
  const counts: Record<string, number> = {};
  for (const c of calls) if (c.service === service) counts[c.command] = (counts[c.command] ?? 0) + 1;
  return counts;
};

export async function runWorker(options: BenchOptions, runIndex: number): Promise<WorkerRun> {
  const stack = await localStack();
  const deliver = await deliveryHandler();
  const label = `worker ${runIndex}/${options.runs}`;
  const make = (count: number) => Array.from({ length: count }, () => deliveryMessage(testEvent(), stack.endpointId));
  const minSeconds = workerPhaseSeconds(options);

  // Warm-up (not measured): handler modules, both JITs (DynamoDB Local's java needs the longer one), the poster's keep-alive connections.
  const warmUp = make(javaWarm ? 200 : 2000);
  await handlerPhase(stack, deliver, warmUp, warmUp.length, 0, `${label}: warm-up`);
  javaWarm = true;

  // A pool large enough for the fastest phase to run its minimum time; every message is distinct.
  const pool = make(Math.max(options.n, options.quick ? 10_000 : 40_000));
  const bodies = pool.map((m) => m.body);
  const phases = {
    handler: () => handlerPhase(stack, deliver, pool, options.n, minSeconds, `${label}: handler`),
    raw: () => rawPhase(stack, bodies, 'undici', options.n, minSeconds, `${label}: raw undici`),
    nodeHttp: () => rawPhase(stack, bodies, 'node:http', options.n, minSeconds, `${label}: raw node:http`),
    stubbed: async () => {
      // Every DynamoDB call answered in-process (conditions evaluated), starting from the endpoint alone.
      memory ??= await memoryDynamo(documentClient(), stack.rawDynamo, Object.values(stack.tables));
      const { Item: endpoint } = await documentClient().send(new GetCommand({ TableName: stack.tables.webhooks, Key: { id: stack.endpointId } }));
      memory.clear();
      memory.seed(stack.tables.webhooks, endpoint ? [endpoint] : []);
      memory.active = true;
      try {
        return await handlerPhase(stack, deliver, pool, options.n, minSeconds, `${label}: handler, store stubbed`);
      } finally {
        memory.active = false;
        memory.clear();
      }
    },
  };
  // Alternate the order between runs, so neither side always runs on a warmer (or busier) process;
  // a pause between phases lets DynamoDB Local finish background work from the previous one.
  const order: Array<keyof typeof phases> = runIndex % 2 === 1 ? ['handler', 'raw', 'nodeHttp', 'stubbed'] : ['stubbed', 'nodeHttp', 'raw', 'handler'];
  const results = {} as Record<keyof typeof phases, PhaseResult>;
  for (const phase of order) {
    await sleep(1000);
    results[phase] = await phases[phase]();
  }
  const { handler: h, raw, nodeHttp, stubbed } = results;

  const dynamo = countBy(h.calls, 'dynamodb');
  const sqs = countBy(h.calls, 'sqs');
  const dynamoCalls = Object.values(dynamo).reduce((a, b) => a + b, 0);
  const sqsCalls = Object.values(sqs).reduce((a, b) => a + b, 0);
  const callMs = (command: string) => percentiles(h.calls.filter((c) => c.command === command).map((c) => c.ms));
  const all = Object.values(results);
  return {
    handlerMessages: h.processed,
    handlerRate: h.rate,
    rawRate: raw.rate,
    ratio: h.rate / raw.rate,
    nodeHttpRate: nodeHttp.rate,
    stubbedRate: stubbed.rate,
    stubbedRatio: stubbed.rate / raw.rate,
    getItemMs: callMs('GetItemCommand'),
    batchWriteMs: callMs('BatchWriteItemCommand'),
    invocationMs: percentiles(h.durations),
    failures: all.reduce((n, r) => n + r.failures, 0),
    receiverMismatch: all.reduce((n, r) => n + (r.received - r.processed), 0),
    dynamoCallsPerMessage: dynamoCalls / h.processed,
    dynamoCallsByCommand: dynamo,
    logItemsWritten: h.calls.filter((c) => c.command === 'BatchWriteItemCommand').reduce((n, c) => n + (c.entries ?? 0), 0),
    batchWritesPerInvocation: (dynamo.BatchWriteItemCommand ?? 0) / h.durations.length,
    sqsCallsPerMessage: sqsCalls / h.processed,
    logBytesPerMessage: h.logBytes / h.processed,
  };
}
