/**
 * 4. What one draft costs on AWS. Each draft's life is replayed in-process through the four
 * handlers it touches (create → decide → stream fan-out → delivery), against DynamoDB Local and
 * the SQS emulator, with every DynamoDB call asking for ReturnConsumedCapacity. Per invocation:
 * duration, DynamoDB calls and capacity units, SQS requests, log bytes. The model then prices
 * them, next to a Step Functions waitForTaskToken flow doing the same job.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { functions, tables, type FunctionName } from '../../infra/app-definition.js';
import { lambdaContext, loadHandler } from '../../infra/local/lambda-context.js';
import { createApiKey } from '../../shared/domain/api-keys.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { apiEvent } from '../support/api-events.js';
import { capacityUnits, isRead, isWrite, localStack, type CallRecord, type LocalStack } from './local-stack.js';
import type { BenchOptions } from './options.js';
import { PRICES, STEP_FUNCTIONS_FLOW, XRAY_MARGINAL_SAMPLING } from './prices.js';
import { DEFAULT_TRACING, LAMBDA_SAMPLING } from '../../infra/stacks/tracing.js';
import { progress, say } from './progress.js';
import { percentiles, type Percentiles } from './stats.js';
import { sqsRecord } from './worker.js';

export const LIFECYCLE = ['createDraft', 'decideDraft', 'fanOutDecisions', 'deliverWebhooks'] as const;
export type LifecycleFunction = (typeof LIFECYCLE)[number];

export interface Invocation {
  ms: number;
  wru: number;
  rru: number;
  /** False when a DynamoDB call came back without ConsumedCapacity. */
  capacityReturned: boolean;
  dynamoCalls: Record<string, number>;
  sqsRequests: number;
  logBytes: number;
  /** Powertools' "No application metrics to publish" warnings the invocation printed. */
  emptyMetricsWarnings: number;
}

export interface FunctionCost {
  invocations: number;
  ms: Percentiles;
  /** Mean of the per-invocation billed duration (each rounded up to 1 ms), as Lambda bills. */
  billedMsMean: number;
  wru: number;
  rru: number;
  dynamoCalls: Record<string, number>;
  sqsRequests: number;
  logBytes: number;
  /** Share of invocations that printed Powertools' empty-metrics warning. */
  emptyMetricsWarningRate: number;
}

/**
 * The draft lives the cost model prices: `plain` (a small draft, no Idempotency-Key), `kb4` (~4 KB of
 * content) and `idempotent` (created with an Idempotency-Key, as the typed client does by default).
 */
export const COST_VARIANTS = ['plain', 'kb4', 'idempotent'] as const;
export type CostVariant = (typeof COST_VARIANTS)[number];
export const COST_VARIANT_LABELS: Record<CostVariant, string> = {
  plain: 'a small draft, no Idempotency-Key',
  kb4: 'a draft with ~4 KB of content',
  idempotent: 'created with an Idempotency-Key (the typed client sends one by default)',
};
/** Serialized size of the `kb4` draft's content. */
export const KB4_CONTENT_BYTES = 4096;

export interface CostRun {
  drafts: number;
  perFunction: Record<LifecycleFunction, FunctionCost>;
  /** Whole lives of the other variants (`plain` is perFunction above), each through the same four handlers. */
  variants?: Partial<Record<Exclude<CostVariant, 'plain'>, { drafts: number; perFunction: Record<LifecycleFunction, FunctionCost> }>>;
  /** Other calls worth knowing: a create with Idempotency-Key (a transaction), and GET /v1/drafts/{id}. */
  idempotentCreate: FunctionCost;
  readDraft: FunctionCost;
  capacityReturned: boolean;
  /** Replays that failed and were replaced (should be none), with their errors. */
  replayFailures: string[];
  /** Item sizes by DynamoDB's rules, and the write units those rules predict, as a cross-check. */
  itemBytes: { pendingDraft: number; decidedDraft: number; deliveryLogItem: number };
  ruleWru: { create: number; decide: number; deliveryLog: number };
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** An item's size by DynamoDB's rules: names and values in UTF-8 bytes, numbers ~ digits/2 + 1, containers 3 bytes + 1 per element. */
export function itemSize(item: Record<string, AttributeValue>): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2) + 1;
    if (v.B !== undefined) return v.B.length;
    if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
    if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + value(e), 0);
    if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + value(e), 0);
    if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
    if (v.NS !== undefined) return v.NS.reduce((n, s) => n + Math.ceil(s.length / 2) + 1, 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}
const kbUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** The drafts table's listing indexes as defined: [by status, by creation, …], with their projections (ALL when unset). */
const draftIndexes = tables.drafts.indexes as ReadonlyArray<{ name: string; projection?: { type: string } }>;
const [statusIndex, createdIndex] = [draftIndexes[0]!, draftIndexes[1]!];
/** A key-only (or INCLUDE) entry is a few keys: 1 WRU; a projection ALL entry is the item's size. */
const copiesItem = (index: { projection?: { type: string } }) => (index.projection?.type ?? 'ALL') === 'ALL';
/** What the cross-check assumes of each index, in words, for the report. */
export const INDEX_RULES = {
  status: statusIndex.name,
  created: createdIndex.name,
  createdRewritten: copiesItem(createdIndex),
  projections: draftIndexes.map((i) => `${i.name} ${i.projection?.type ?? 'ALL'}`).join(', '),
};

function summarise(calls: CallRecord[]): Omit<Invocation, 'ms' | 'logBytes' | 'emptyMetricsWarnings'> {
  const dynamoCalls: Record<string, number> = {};
  let wru = 0;
  let rru = 0;
  let capacityReturned = true;
  let sqsRequests = 0;
  for (const c of calls) {
    if (c.service === 'sqs') {
      sqsRequests++;
      continue;
    }
    dynamoCalls[c.command] = (dynamoCalls[c.command] ?? 0) + 1;
    const units = capacityUnits(c);
    if (units === undefined) {
      if (isRead(c.command) || isWrite(c.command)) capacityReturned = false;
      continue;
    }
    if (isWrite(c.command)) wru += units;
    else rru += units;
  }
  return { wru, rru, capacityReturned, dynamoCalls, sqsRequests };
}

async function measure<T>(stack: LocalStack, run: () => Promise<T>): Promise<{ result: T; invocation: Invocation }> {
  stack.calls.open();
  stack.output.start();
  const started = performance.now();
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await run() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const ms = performance.now() - started;
  const { bytes: logBytes, emptyMetricsWarnings } = stack.output.stop();
  const calls = stack.calls.close();
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value, invocation: { ms, logBytes, emptyMetricsWarnings, ...summarise(calls) } };
}

function aggregate(invocations: Invocation[]): FunctionCost {
  const n = Math.max(1, invocations.length);
  const sum = (pick: (i: Invocation) => number) => invocations.reduce((a, i) => a + pick(i), 0) / n;
  const dynamoCalls: Record<string, number> = {};
  for (const i of invocations) for (const [k, v] of Object.entries(i.dynamoCalls)) dynamoCalls[k] = (dynamoCalls[k] ?? 0) + v / n;
  return {
    invocations: invocations.length,
    ms: percentiles(invocations.map((i) => i.ms)),
    billedMsMean: sum((i) => Math.ceil(i.ms)),
    wru: sum((i) => i.wru),
    rru: sum((i) => i.rru),
    dynamoCalls,
    sqsRequests: sum((i) => i.sqsRequests),
    logBytes: sum((i) => i.logBytes),
    emptyMetricsWarningRate: sum((i) => (i.emptyMetricsWarnings > 0 ? 1 : 0)),
  };
}

const handlers = new Map<FunctionName, Promise<Handler>>();
const handlerFor = (name: FunctionName) => {
  let h = handlers.get(name);
  if (!h) handlers.set(name, (h = loadHandler<Handler>(name)));
  return h;
};

let keys: Promise<{ agent: string; reviewer: string }> | undefined;

const draftInput = (i: number) => ({
  title: `Cost model draft ${i}`,
  content: { to: `user${i}@example.com`, subject: 'Welcome!', body: 'Hello from the Processa benchmark. This is what an agent would send.' },
  metadata: { source: 'bench', run: 'cost', index: i },
});

/** The same draft with its content padded to KB4_CONTENT_BYTES serialized (a longer email body). */
const draftInput4kb = (i: number) => {
  const input = draftInput(i);
  const filler = KB4_CONTENT_BYTES - Buffer.byteLength(JSON.stringify({ ...input.content, body: '' }));
  return { ...input, content: { ...input.content, body: 'Lorem ipsum dolor sit amet. '.repeat(Math.ceil(filler / 28)).slice(0, filler) } };
};

async function getRaw(stack: LocalStack, id: string): Promise<Record<string, AttributeValue>> {
  const { Item } = await stack.rawDynamo.send(new GetItemCommand({ TableName: stack.tables.drafts, Key: { id: { S: id } }, ConsistentRead: true }));
  if (!Item) throw new Error(`draft ${id} not found`);
  return Item;
}

async function receiveOne(stack: LocalStack) {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const { Messages = [] } = await stack.rawSqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues.deliveries, MaxNumberOfMessages: 10, AttributeNames: ['All'], WaitTimeSeconds: 0 }),
    );
    if (Messages.length > 0) return Messages;
    await sleep(10);
  }
  return [];
}

/** One draft's whole life through the real handlers; returns an invocation per function. */
async function lifecycle(
  stack: LocalStack,
  i: number,
  variant: CostVariant = 'plain',
): Promise<{ id: string; invocations: Record<LifecycleFunction, Invocation> }> {
  const { agent, reviewer } = await (keys ??= (async () => {
    const store = apiKeyStoreFromEnv();
    const [a, r] = await Promise.all([
      createApiKey(store, { name: 'cost-agent', role: 'agent' }, null),
      createApiKey(store, { name: 'cost-reviewer', role: 'reviewer' }, null),
    ]);
    return { agent: a!.key, reviewer: r!.key };
  })());
  const create = await handlerFor('createDraft');
  const decide = await handlerFor('decideDraft');
  const fanOut = await handlerFor('fanOutDecisions');
  const deliver = await handlerFor('deliverWebhooks');

  const created = await measure(
    stack,
    async () =>
      (await create(
        apiEvent({
          routeKey: 'POST /v1/drafts',
          headers: { authorization: `Bearer ${agent}`, ...(variant === 'idempotent' ? { 'idempotency-key': `bench-life-${i}-${randomUUID()}` } : {}) },
          body: variant === 'kb4' ? draftInput4kb(i) : draftInput(i),
        }),
        lambdaContext('createDraft'),
      )) as APIGatewayProxyStructuredResultV2,
  );
  if (created.result.statusCode !== 201) throw new Error(`create answered ${created.result.statusCode}: ${created.result.body}`);
  const id = (JSON.parse(String(created.result.body)) as { id: string }).id;
  const oldImage = await getRaw(stack, id);

  const approve = i % 2 === 0;
  const decided = await measure(
    stack,
    async () =>
      (await decide(
        apiEvent({
          routeKey: `POST /v1/drafts/{id}/${approve ? 'approve' : 'reject'}`,
          pathParameters: { id },
          headers: { authorization: `Bearer ${reviewer}` },
          body: approve ? {} : { reason: 'Rejected by the benchmark' },
        }),
        lambdaContext('decideDraft'),
      )) as APIGatewayProxyStructuredResultV2,
  );
  if (decided.result.statusCode !== 200) throw new Error(`decide answered ${decided.result.statusCode}: ${decided.result.body}`);
  const newImage = await getRaw(stack, id);

  // The stream record Lambda would deliver for this update (the filter lets pending → decided through).
  const streamEvent: DynamoDBStreamEvent = {
    Records: [
      {
        eventID: randomUUID(),
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${stack.tables.drafts}/stream/bench`,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
          Keys: { id: { S: id } },
          OldImage: oldImage as never,
          NewImage: newImage as never,
          SequenceNumber: String(Date.now()),
          SizeBytes: itemSize(oldImage) + itemSize(newImage),
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
    ],
  };
  const fannedOut = await measure(stack, () => fanOut(streamEvent, lambdaContext('fanOutDecisions'))).catch((error: unknown) => {
    // Powertools wraps a failed record in FullBatchFailureError; keep the record's own error.
    const inner = (error as { errors?: unknown[] }).errors?.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))).join('; ');
    throw new Error(`fan-out failed: ${(error as Error).message}${inner ? ` (${inner})` : ''}`);
  });

  // What the queue's event source mapping would hand the delivery function: the message just sent.
  const messages = await receiveOne(stack);
  if (messages.length !== 1) throw new Error(`expected 1 delivery message on the queue, found ${messages.length}`);
  const message = messages[0]!;
  const record = { ...sqsRecord(message.Body ?? ''), messageId: message.MessageId!, receiptHandle: message.ReceiptHandle! };
  const delivered = await measure(stack, () => deliver({ Records: [record] } satisfies SQSEvent, lambdaContext('deliverWebhooks')));
  const failures = (delivered.result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures ?? [];
  if (failures.length > 0) throw new Error('delivery failed in the cost replay');
  await stack.rawSqs.send(new DeleteMessageCommand({ QueueUrl: stack.queues.deliveries, ReceiptHandle: message.ReceiptHandle! }));

  return {
    id,
    invocations: {
      createDraft: created.invocation,
      decideDraft: decided.invocation,
      fanOutDecisions: fannedOut.invocation,
      deliverWebhooks: delivered.invocation,
    },
  };
}

export const costDrafts = (options: BenchOptions) => (options.quick ? 10 : 40);
/** Whole lives per run of each other variant (kb4, idempotent). */
export const costVariantDrafts = (options: BenchOptions) => (options.quick ? 5 : 20);
const MAX_REPLAY_FAILURES = 3;

/** Deletes whatever is on the delivery queue (bounded). */
async function drainQueue(stack: LocalStack): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { Messages = [] } = await stack.rawSqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues.deliveries, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return;
    await stack.rawSqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: stack.queues.deliveries,
        Entries: Messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

export async function runCost(options: BenchOptions, runIndex: number): Promise<CostRun> {
  const stack = await localStack();
  stack.calls.returnConsumedCapacity = true;
  try {
    // Anything left on the queue would be taken for this replay's message.
    await drainQueue(stack);

    const count = costDrafts(options);
    const warmUp = 5;
    const variantCount = costVariantDrafts(options);
    const bar = progress(`cost ${runIndex}/${options.runs}: draft lifecycles`, warmUp + count + 2 * variantCount + 10);
    // A replay that fails (it should not) is recorded and replaced by a fresh draft, up to MAX_REPLAY_FAILURES.
    const failures: string[] = [];
    const replay = async (i: number, variant: CostVariant = 'plain') => {
      for (;;) {
        try {
          return await lifecycle(stack, i, variant);
        } catch (error) {
          failures.push((error as Error).message);
          say(`  cost replay of draft ${i} failed: ${(error as Error).message}`);
          if (failures.length > MAX_REPLAY_FAILURES) throw error;
          // Whatever the failed attempt left on the queue must not be taken for the next draft's message.
          await drainQueue(stack);
        }
      }
    };
    for (let i = 0; i < warmUp; i++) {
      await replay(-1 - i);
      bar.tick();
    }
    const samples: Record<LifecycleFunction, Invocation[]> = { createDraft: [], decideDraft: [], fanOutDecisions: [], deliverWebhooks: [] };
    let decidedId = '';
    for (let i = 0; i < count; i++) {
      const one = await replay(i);
      decidedId = one.id;
      for (const f of LIFECYCLE) samples[f].push(one.invocations[f]);
      bar.tick();
    }
    // The other variants' whole lives, measured the same way (fewer of them: only their totals are reported).
    const variantSamples = { kb4: [] as Array<Record<LifecycleFunction, Invocation>>, idempotent: [] as Array<Record<LifecycleFunction, Invocation>> };
    for (let i = 0; i < variantCount; i++) {
      for (const variant of ['kb4', 'idempotent'] as const) {
        variantSamples[variant].push((await replay(2000 + i, variant)).invocations);
        bar.tick();
      }
    }

    // Representative extras: a create with Idempotency-Key (transaction + claim), and a GET of one draft.
    const create = await handlerFor('createDraft');
    const read = await handlerFor('readDrafts');
    const { agent } = await keys!;
    const idem: Invocation[] = [];
    const reads: Invocation[] = [];
    let lastId = '';
    for (let i = 0; i < 5; i++) {
      const r = await measure(
        stack,
        async () =>
          (await create(
            apiEvent({
              routeKey: 'POST /v1/drafts',
              headers: { authorization: `Bearer ${agent}`, 'idempotency-key': `bench-${runIndex}-${i}-${randomUUID()}` },
              body: draftInput(1000 + i),
            }),
            lambdaContext('createDraft'),
          )) as APIGatewayProxyStructuredResultV2,
      );
      lastId = (JSON.parse(String(r.result.body)) as { id: string }).id;
      idem.push(r.invocation);
      const g = await measure(stack, () =>
        read(
          apiEvent({ routeKey: 'GET /v1/drafts/{id}', pathParameters: { id: lastId }, headers: { authorization: `Bearer ${agent}` } }),
          lambdaContext('readDrafts'),
        ),
      );
      reads.push(g.invocation);
      bar.tick(2);
    }
    bar.done();

    // Item sizes for the rule-based cross-check.
    const pending = await getRaw(stack, lastId);
    // The last plain draft replayed, read by key (not through a listing index, whose name and shape may change).
    const decidedItem = await getRaw(stack, decidedId);
    const { Items: logItems = [] } = await stack.rawDynamo.send(
      new QueryCommand({
        TableName: stack.tables.deliveries,
        KeyConditionExpression: 'endpointId = :e',
        ExpressionAttributeValues: { ':e': { S: stack.endpointId } },
        Limit: 1,
        ScanIndexForward: false,
      }),
    );
    const itemBytes = {
      pendingDraft: itemSize(pending),
      decidedDraft: itemSize(decidedItem),
      deliveryLogItem: logItems[0] ? itemSize(logItems[0]) : Number.NaN,
    };
    // Drafts table: the base item plus its status and creation index entries (the expiry index only with expiresAt). A
    // decision moves the status entry (delete + put); the creation entry is rewritten only when it copies the item.
    const entry = (index: typeof statusIndex, bytes: number) => (copiesItem(index) ? kbUnits(bytes) : 1);
    const ruleWru = {
      create: kbUnits(itemBytes.pendingDraft) + entry(statusIndex, itemBytes.pendingDraft) + entry(createdIndex, itemBytes.pendingDraft),
      decide:
        kbUnits(Math.max(itemBytes.pendingDraft, itemBytes.decidedDraft)) +
        entry(statusIndex, itemBytes.pendingDraft) +
        entry(statusIndex, itemBytes.decidedDraft) +
        (copiesItem(createdIndex) ? kbUnits(itemBytes.decidedDraft) : 0),
      deliveryLog: kbUnits(itemBytes.deliveryLogItem),
    };

    const perFunction = Object.fromEntries(LIFECYCLE.map((f) => [f, aggregate(samples[f])])) as Record<LifecycleFunction, FunctionCost>;
    const variantLives = (lives: Array<Record<LifecycleFunction, Invocation>>) => ({
      drafts: lives.length,
      perFunction: Object.fromEntries(LIFECYCLE.map((f) => [f, aggregate(lives.map((life) => life[f]))])) as Record<LifecycleFunction, FunctionCost>,
    });
    const everything = [
      ...Object.values(samples).flat(),
      ...Object.values(variantSamples).flatMap((lives) => lives.flatMap((life) => Object.values(life))),
      ...idem,
      ...reads,
    ];
    return {
      drafts: count,
      perFunction,
      variants: { kb4: variantLives(variantSamples.kb4), idempotent: variantLives(variantSamples.idempotent) },
      idempotentCreate: aggregate(idem),
      readDraft: aggregate(reads),
      capacityReturned: everything.every((i) => i.capacityReturned),
      replayFailures: failures,
      itemBytes,
      ruleWru,
    };
  } finally {
    stack.calls.returnConsumedCapacity = false;
  }
}

// ------------------------------------------------------------------------------------------------
// The model
// ------------------------------------------------------------------------------------------------

/** Per-function figures the model needs (medians over runs). */
export interface CostInputs {
  perFunction: Record<LifecycleFunction, { billedMsMean: number; wru: number; rru: number; sqsRequests: number; logBytes: number }>;
}

export interface CostLine {
  item: string;
  /** Quantity per draft, in `unit`. */
  processa: number;
  stepFunctions: number;
  unit: string;
  /** USD per million drafts. */
  processaUsd: number;
  stepFunctionsUsd: number;
  basis: string;
}

/** Lambda platform lines per invocation in the text log format: START, END, REPORT with the X-Ray line. */
export const TEXT_FORMAT_PLATFORM_LOG_BYTES = Buffer.byteLength(
  [
    'START RequestId: 0f4c2a6e-3b1d-4e5f-8a9b-0c1d2e3f4a5b Version: $LATEST',
    'END RequestId: 0f4c2a6e-3b1d-4e5f-8a9b-0c1d2e3f4a5b',
    'REPORT RequestId: 0f4c2a6e-3b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 98 MB\t',
    'XRAY TraceId: 1-6790abcd-0123456789abcdef01234567\tSegmentId: 0123456789abcdef\tSampled: true\t',
    '',
  ].join('\n'),
);

/**
 * Platform bytes the stack keeps per invocation: none. Its functions log in Lambda's JSON format with
 * the system log level at WARN (infra/stacks/processa-function.ts), which drops START, END and REPORT.
 */
export const PLATFORM_LOG_BYTES = 0;

/** A 30-day month's seconds: what a reservoir of one trace a second can fill. */
const SECONDS_PER_MONTH = 30 * 24 * 3600;

/**
 * Share of a function's invocations Lambda's sampling records at `perSecond` invocations a second
 * (Poisson arrivals): each second with any invocation spends the reservoir on one, and the rate takes
 * its share of the rest. At 1 M drafts a month (0.39 a second) that is about 84%.
 */
export function lambdaSampledShare(perSecond: number): number {
  const reservoirShare = Math.min(1, (LAMBDA_SAMPLING.reservoirPerSecond * (1 - Math.exp(-perSecond))) / perSecond);
  return reservoirShare + LAMBDA_SAMPLING.rate * (1 - reservoirShare);
}
/** The share at 1 M drafts a month, one invocation per function per draft. */
const SAMPLED_SHARE_AT_1M = lambdaSampledShare(1e6 / SECONDS_PER_MONTH);

/** One API Gateway access log line in the stack's format (infra/stacks/stateless.ts), for a decision. */
export const API_ACCESS_LOG_BYTES =
  Buffer.byteLength(
    JSON.stringify({
      requestId: 'Jx1a2B3c4D5e6F7=',
      ip: '203.0.113.10',
      requestTime: '10/Feb/2026:12:05:00 +0000',
      routeKey: 'POST /v1/drafts/{id}/approve',
      status: '200',
      protocol: 'HTTP/1.1',
      responseLength: '1187',
      responseLatency: '45',
      integrationLatency: '43',
      integrationError: '-',
    }),
  ) + 1;

/** Requests the SQS event source mapping makes per delivery batch: one ReceiveMessage, one DeleteMessageBatch. */
export const ESM_SQS_REQUESTS_PER_BATCH = 2;

/**
 * Cost per million drafts, conservatively assuming every stream batch and every delivery batch
 * holds one draft (an approval gate's traffic is people deciding one at a time): 1 invocation per
 * function per draft. Fuller batches only lower the Lambda request, SQS and X-Ray lines.
 */
export function costModel(inputs: CostInputs): { lines: CostLine[]; processaTotal: number; stepFunctionsTotal: number } {
  const f = inputs.perFunction;
  const gbSeconds = (name: LifecycleFunction) => (functions[name].memoryMb / 1024) * (f[name].billedMsMean / 1000);
  const lambdaBoth: LifecycleFunction[] = ['createDraft', 'decideDraft', 'deliverWebhooks'];
  const all = [...LIFECYCLE];
  const sum = (names: LifecycleFunction[], pick: (n: LifecycleFunction) => number) => names.reduce((a, n) => a + pick(n), 0);
  const million = 1e6;
  const line = (item: string, processa: number, stepFunctions: number, unit: string, price: number, basis: string): CostLine => ({
    item,
    processa,
    stepFunctions,
    unit,
    processaUsd: processa * price * million,
    stepFunctionsUsd: stepFunctions * price * million,
    basis,
  });
  const logBytes = (names: LifecycleFunction[]) => sum(names, (n) => f[n].logBytes + PLATFORM_LOG_BYTES) + 2 * API_ACCESS_LOG_BYTES;
  const lines: CostLine[] = [
    line('API Gateway HTTP API requests', 2, 2, 'requests', PRICES.apiGatewayHttpRequests.usd, 'create + decide (counted in the pipeline run: 2 per draft)'),
    line(
      'Lambda requests',
      all.length,
      lambdaBoth.length,
      'invocations',
      PRICES.lambdaRequests.usd,
      'one per function per draft (batches of 1); Step Functions: no fan-out function',
    ),
    line(
      'Lambda duration (arm64)',
      sum(all, gbSeconds),
      sum(lambdaBoth, gbSeconds),
      'GB-s',
      PRICES.lambdaArmGbSecond.usd,
      'measured mean billed ms × configured memory, per function',
    ),
    line(
      'DynamoDB writes',
      sum(all, (n) => f[n].wru),
      sum(lambdaBoth, (n) => f[n].wru),
      'WRU',
      PRICES.dynamoWriteRequestUnit.usd,
      'ReturnConsumedCapacity of every call the handlers made',
    ),
    line(
      'DynamoDB reads',
      sum(all, (n) => f[n].rru),
      sum(lambdaBoth, (n) => f[n].rru),
      'RRU',
      PRICES.dynamoReadRequestUnit.usd,
      'ReturnConsumedCapacity (auth lookups, endpoint reads, fan-out endpoint query)',
    ),
    line('DynamoDB Streams reads', 1, 0, 'GetRecords', PRICES.dynamoStreamsForLambda.usd, 'free for a Lambda trigger'),
    line(
      'SQS requests',
      sum(all, (n) => f[n].sqsRequests) + ESM_SQS_REQUESTS_PER_BATCH,
      0,
      'requests',
      PRICES.sqsRequests.usd,
      `measured SendMessageBatch + ${ESM_SQS_REQUESTS_PER_BATCH} by the event source mapping (receive, delete) per batch`,
    ),
    line(
      'Step Functions state transitions',
      0,
      STEP_FUNCTIONS_FLOW.length,
      'transitions',
      PRICES.stepFunctionsStandardTransitions.usd,
      `Standard workflow, ${STEP_FUNCTIONS_FLOW.length} states per draft (see below)`,
    ),
    line(
      'CloudWatch Logs ingestion',
      logBytes(all) / 1024 ** 3,
      logBytes(lambdaBoth) / 1024 ** 3,
      'GB',
      PRICES.logsIngestedGb.usd,
      `measured handler output (INFO, metrics on) + ${PLATFORM_LOG_BYTES > 0 ? `${PLATFORM_LOG_BYTES} B of Lambda platform lines per invocation` : 'no Lambda platform lines (system log level WARN drops START/END/REPORT)'} + ${API_ACCESS_LOG_BYTES} B API access log per request`,
    ),
    line(
      'X-Ray traces',
      // The stack's default (infra/stacks/tracing.ts); what tracing=sampled costs is in the basis.
      DEFAULT_TRACING === 'off' ? 0 : all.length * LAMBDA_SAMPLING.rate,
      lambdaBoth.length * XRAY_MARGINAL_SAMPLING + XRAY_MARGINAL_SAMPLING,
      'traces',
      PRICES.xrayTraces.usd,
      `tracing=${DEFAULT_TRACING} (the stack's default)${DEFAULT_TRACING === 'off' ? ': no traces' : ''}. tracing=sampled is Lambda's fixed rule, ` +
        `${LAMBDA_SAMPLING.reservoirPerSecond}/s per function then ${LAMBDA_SAMPLING.rate * 100}%: the reservoir costs ` +
        `up to $${(LAMBDA_SAMPLING.reservoirPerSecond * SECONDS_PER_MONTH * PRICES.xrayTraces.usd).toFixed(2)} a month per function, and at 1 M drafts a month ` +
        `(0.39 a second) it records ${Math.round(SAMPLED_SHARE_AT_1M * 100)}% of invocations: ` +
        `$${(all.length * SAMPLED_SHARE_AT_1M * PRICES.xrayTraces.usd * million).toFixed(2)} per million drafts. ` +
        `Step Functions: ${XRAY_MARGINAL_SAMPLING * 100}% marginal plus its own trace`,
    ),
  ];
  return {
    lines,
    processaTotal: lines.reduce((a, l) => a + l.processaUsd, 0),
    stepFunctionsTotal: lines.reduce((a, l) => a + l.stepFunctionsUsd, 0),
  };
}
