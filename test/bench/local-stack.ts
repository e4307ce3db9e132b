/**
 * DynamoDB Local and the SQS emulator in this process's reach, with the tables and queues of the
 * definition, each handler's own environment (infra/local/pipeline.ts, as the dev runtime), one
 * webhook endpoint pointing at a keep-alive loopback receiver, and counters on the SDK clients the
 * handlers share (documentClient(), sqsClient()) — so the real handlers can be invoked in-process.
 */
import type { DynamoDBClient as DynamoDBClientType } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { deliveryRetry, type QueueName, type TableName } from '../../infra/app-definition.js';
import { startPipeline } from '../../infra/local/pipeline.js';
import { startBenchReceiver } from './bench-receiver.js';

export interface ConsumedCapacityLike {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

export interface CallRecord {
  service: 'dynamodb' | 'sqs';
  command: string;
  /** Items written by a BatchWriteItem, entries of an SQS batch call. */
  entries?: number;
  consumed?: ConsumedCapacityLike[];
  /** Time the call took, as the handler waited for it. */
  ms: number;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
export const isRead = (command: string) => READS.has(command);
export const isWrite = (command: string) => WRITES.has(command);

/** Capacity units of one call, summed over the tables it touched (indexes included). */
export function capacityUnits(record: CallRecord): number | undefined {
  if (!record.consumed) return undefined;
  return record.consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/** Calls made by the handlers, collected while a bucket is open. */
export class CallLog {
  private records: CallRecord[] | undefined;
  returnConsumedCapacity = false;
  /**
   * Answer the delivery handler's DynamoDB calls in-process (GetItem from the last real answer for
   * the same key, BatchWriteItem as fully processed), to see the handler's own cost without DynamoDB Local.
   */
  stubDeliveryStore = false;
  readonly lastAnswers = new Map<string, unknown>();

  open(): void {
    this.records = [];
  }
  close(): CallRecord[] {
    const records = this.records ?? [];
    this.records = undefined;
    return records;
  }
  push(record: CallRecord): void {
    this.records?.push(record);
  }
}

function batchEntries(command: string, input: Record<string, unknown>): number | undefined {
  if (command === 'BatchWriteItemCommand') {
    const items = input.RequestItems as Record<string, unknown[]> | undefined;
    return Object.values(items ?? {}).reduce((n, list) => n + list.length, 0);
  }
  if (Array.isArray(input.Entries)) return input.Entries.length;
  return undefined;
}

/** What Powertools Metrics prints when logMetrics flushes an invocation that added no metric. */
export const EMPTY_METRICS_WARNING = 'No application metrics to publish';

/**
 * Replaces process.stdout.write and process.stderr.write while capturing: counts the bytes and
 * lines (what CloudWatch Logs would ingest from a function) and swallows them.
 */
export function outputMeter() {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  let bytes = 0;
  let lines = 0;
  let emptyMetricsWarnings = 0;
  let capturing = false;
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (!capturing) return originals[i]!(chunk as never, ...(rest as [never]));
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      bytes += Buffer.byteLength(text);
      lines += text.split('\n').length - 1;
      if (text.includes(EMPTY_METRICS_WARNING)) emptyMetricsWarnings++;
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (callback) process.nextTick(callback);
      return true;
    }) as typeof stream.write;
  });
  return {
    start() {
      capturing = true;
      bytes = 0;
      lines = 0;
      emptyMetricsWarnings = 0;
    },
    stop() {
      capturing = false;
      return { bytes, lines, emptyMetricsWarnings };
    },
    restore() {
      capturing = false;
      streams.forEach((stream, i) => (stream.write = originals[i] as typeof stream.write));
    },
  };
}

export interface LocalStack {
  tables: Record<TableName, string>;
  queues: Record<QueueName, string>;
  rawDynamo: DynamoDBClientType;
  rawSqs: SQSClient;
  receiver: Awaited<ReturnType<typeof startBenchReceiver>>;
  endpointId: string;
  calls: CallLog;
  output: ReturnType<typeof outputMeter>;
  stop(): Promise<void>;
}

let started: Promise<LocalStack> | undefined;

/** Started once per bench process: handlers read their environment at import, and modules are imported once. */
export function localStack(): Promise<LocalStack> {
  return (started ??= start());
}

async function start(): Promise<LocalStack> {
  // What infra/local/runtime.ts starts, without the pumps (the bench invokes the handlers itself)
  // and without its log level and metrics: the deployed stack leaves both at their defaults
  // (INFO, metrics on), and the log bytes are part of the cost.
  const pipeline = await startPipeline({
    resourcePrefix: 'processa-bench',
    pumps: false,
    settings: { retryBaseSeconds: '1', webhookTimeoutMs: String(deliveryRetry.timeoutMs) },
    processEnv: {
      PUBLIC_BASE_URL: 'http://localhost:3000',
      POWERTOOLS_SERVICE_NAME: 'processa',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'false',
    },
    // The bench's own code (keys, endpoint) uses the stores directly; handlers still get only their own variables.
    exposeResources: true,
  });
  // Never leave a java child behind, whatever way this process ends.
  process.once('exit', () => {
    const java = pipeline.dynamoProcess();
    if (java.exitCode === null && java.signalCode === null) java.kill('SIGKILL');
  });
  const rawDynamo = pipeline.dynamoClient;
  const rawSqs = pipeline.sqsClient;
  const tableNames = pipeline.tables;
  const queueUrls = pipeline.queues;
  const receiver = await startBenchReceiver({ keepReceipts: false });
  delete process.env.POWERTOOLS_DEV;

  const { createEndpoint } = await import('../../shared/webhooks/endpoints.js');
  const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
  const { createDocumentClient, documentClient } = await import('../../shared/store/dynamo-client.js');
  const { sqsClient } = await import('../../shared/store/sqs-queues.js');
  const endpoint = await createEndpoint(
    new DynamoEndpointStore(createDocumentClient(rawDynamo), tableNames.webhooks),
    { url: receiver.url, description: 'benchmark receiver' },
    { allowLocalhostHttp: true },
  );

  // Counters on the clients every handler shares. initialize runs once per command (not per retry).
  const calls = new CallLog();
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const input = args.input as Record<string, unknown>;
      const started = performance.now();
      const key = command === 'GetItemCommand' ? `${String(input.TableName)}:${JSON.stringify(input.Key)}` : undefined;
      if (calls.stubDeliveryStore && (command === 'BatchWriteItemCommand' || (key && calls.lastAnswers.has(key)))) {
        const output = command === 'BatchWriteItemCommand' ? { UnprocessedItems: {}, $metadata: {} } : calls.lastAnswers.get(key!);
        calls.push({ service: 'dynamodb', command, entries: batchEntries(command, input), ms: performance.now() - started });
        return { output, response: {} } as never;
      }
      const wanted = calls.returnConsumedCapacity && (isRead(command) || isWrite(command));
      const result = await next(wanted ? { ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } } : args);
      const output = result.output as { ConsumedCapacity?: ConsumedCapacityLike | ConsumedCapacityLike[] };
      if (key) calls.lastAnswers.set(key, output);
      const consumed = output.ConsumedCapacity === undefined ? undefined : ([] as ConsumedCapacityLike[]).concat(output.ConsumedCapacity);
      calls.push({ service: 'dynamodb', command, entries: batchEntries(command, input), consumed, ms: performance.now() - started });
      return result;
    },
    { step: 'initialize', name: 'processaBenchCounter' },
  );
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const started = performance.now();
      const result = await next(args);
      calls.push({ service: 'sqs', command, entries: batchEntries(command, args.input as Record<string, unknown>), ms: performance.now() - started });
      return result;
    },
    { step: 'initialize', name: 'processaBenchCounter' },
  );

  const output = outputMeter();
  return {
    tables: tableNames,
    queues: queueUrls,
    rawDynamo,
    rawSqs,
    receiver,
    endpointId: endpoint.id,
    calls,
    output,
    async stop() {
      output.restore();
      await receiver.stop();
      documentClient().destroy();
      sqsClient().destroy();
      await pipeline.stop();
    },
  };
}

/** Stops the stack if a section started it. */
export async function stopLocalStack(): Promise<void> {
  if (!started) return;
  const stack = await started;
  started = undefined;
  await stack.stop();
}
