import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { streamConsumer } from '../app-definition.js';
import { LOCAL_AWS } from './dynamodb-local.js';
import { matchesAny, type FilterPattern } from './event-filter.js';
import { shardOf } from '../../shared/store/shards.js';

type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPumpOptions {
  dynamodbEndpoint: string;
  streamArn: string;
  handler: StreamHandler;
  context: () => Context;
  /** Where records that failed every retry go (the definition's onFailure queue). */
  failures: { client: SQSClient; queueUrl: string };
  /** Remembers the last processed record per shard, so --persist restarts do not replay decisions. */
  checkpointFile?: string;
  onError?: (error: unknown) => void;
}

/** Lambda's record shape, from the DynamoDB Streams API's. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: LOCAL_AWS.region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime ? Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000) : undefined,
      Keys: d.Keys as never,
      NewImage: d.NewImage as never,
      OldImage: d.OldImage as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as never,
    },
  };
}

const sequenceOf = (record: DynamoDBRecord): string => record.dynamodb!.SequenceNumber!;

/** The lane of a record's partition key (FNV-1a over its key attributes): one key, one lane, so its records stay in order. */
export const laneOf = (record: DynamoDBRecord, lanes: number): number => shardOf(JSON.stringify(record.dynamodb?.Keys ?? {}), lanes);

/**
 * Pumps the real DynamoDB Local stream into the stream handler with Lambda's semantics: the
 * definition's filters, batch size and parallelization factor, partial batch failures retried from
 * the failed record up to retryAttempts, then the record is sent to the onFailure queue and its
 * lane moves on.
 */
export function startStreamPump(options: StreamPumpOptions): { stop(): Promise<void> } {
  const client = new DynamoDBStreamsClient({ ...LOCAL_AWS, endpoint: options.dynamodbEndpoint });
  const checkpoints: Record<string, string> =
    options.checkpointFile && existsSync(options.checkpointFile) ? JSON.parse(readFileSync(options.checkpointFile, 'utf8')) : {};
  const saveCheckpoint = (shardId: string, sequenceNumber: string) => {
    checkpoints[shardId] = sequenceNumber;
    if (options.checkpointFile) writeFileSync(options.checkpointFile, JSON.stringify(checkpoints));
  };
  const filters = streamConsumer.filters as unknown as FilterPattern[];
  let running = true;

  const iteratorAfter = async (shardId: string, position?: { type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string }) => {
    const start = position ?? (checkpoints[shardId] ? { type: 'AFTER_SEQUENCE_NUMBER' as const, sequenceNumber: checkpoints[shardId]! } : undefined);
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: options.streamArn,
        ShardId: shardId,
        ShardIteratorType: start ? start.type : streamConsumer.startingPosition,
        SequenceNumber: start?.sequenceNumber,
      }),
    );
    return ShardIterator;
  };

  /**
   * One shard, as Lambda reads it with the definition's parallelizationFactor: its records are dealt
   * to that many lanes by partition key, so one key's records stay in order in one lane while the
   * lanes' batches run at once; reading goes on while they run (up to a factor × batchSize records
   * held). A lane's failed record is retried with the records after it in that lane (up to
   * retryAttempts), then parked in the onFailure queue, and the lane moves on. The checkpoint is the
   * last record before which every record is done, so a restart never skips an unfinished one.
   */
  async function pumpShard(shardId: string): Promise<void> {
    const factor = streamConsumer.parallelizationFactor;
    const lanes = Array.from({ length: factor }, () => ({ records: [] as DynamoDBRecord[], running: undefined as Promise<void> | undefined }));
    // Sequence numbers read and not yet done, in stream order; done ones wait here for those before them.
    const outstanding: string[] = [];
    const done = new Set<string>();
    let progressed: () => void = () => undefined;
    const progress = () => new Promise<void>((resolve) => (progressed = resolve));

    const finish = (sequenceNumbers: string[]) => {
      for (const sequenceNumber of sequenceNumbers) done.add(sequenceNumber);
      let last: string | undefined;
      while (outstanding.length > 0 && done.has(outstanding[0]!)) {
        last = outstanding.shift()!;
        done.delete(last);
      }
      if (last) saveCheckpoint(shardId, last);
      progressed();
    };

    const runLane = async (lane: (typeof lanes)[number]) => {
      const retries = new Map<string, number>();
      while (running && lane.records.length > 0) {
        const batch = lane.records.slice(0, streamConsumer.batchSize);
        let failedAt: string | undefined;
        try {
          const result = await options.handler({ Records: batch }, options.context());
          failedAt = result?.batchItemFailures?.[0]?.itemIdentifier;
        } catch (error) {
          options.onError?.(error);
          failedAt = sequenceOf(batch[0]!);
        }
        // Lambda retries from the failed record: the ones before it are done.
        const failed =
          failedAt === undefined
            ? -1
            : Math.max(
                0,
                batch.findIndex((r) => sequenceOf(r) === failedAt),
              );
        const succeeded = lane.records.splice(0, failed === -1 ? batch.length : failed);
        finish(succeeded.map(sequenceOf));
        if (failed === -1) continue;
        const record = lane.records[0]!;
        const attempts = (retries.get(sequenceOf(record)) ?? 0) + 1;
        retries.set(sequenceOf(record), attempts);
        if (attempts <= streamConsumer.retryAttempts) {
          await sleep(Math.min(5000, 100 * 2 ** attempts));
          continue;
        }
        // Out of retries: park the record's coordinates for an operator, as Lambda's on-failure destination does.
        try {
          await options.failures.client.send(
            new SendMessageCommand({
              QueueUrl: options.failures.queueUrl,
              MessageBody: JSON.stringify({
                requestContext: { condition: 'RetryAttemptsExhausted' },
                DDBStreamBatchInfo: { shardId, startSequenceNumber: sequenceOf(record), streamArn: options.streamArn },
              }),
            }),
          );
        } catch (error) {
          // Not parked: kept at the head of its lane and tried again.
          options.onError?.(error);
          await sleep(1000);
          continue;
        }
        retries.delete(sequenceOf(record));
        lane.records.shift();
        finish([sequenceOf(record)]);
      }
      lane.running = undefined;
      // A reader waiting for room must see a lane that stopped.
      progressed();
    };

    let lastRead = checkpoints[shardId];
    let iterator = await iteratorAfter(shardId);
    while (running && iterator) {
      if (outstanding.length >= factor * streamConsumer.batchSize) {
        await progress();
        continue;
      }
      let response;
      try {
        response = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: streamConsumer.batchSize }));
      } catch (error) {
        // DynamoDB Local answers a fresh TRIM_HORIZON iterator on an empty shard with "trimmed":
        // like an expired iterator, take a new one after the last record read and go on. Other
        // errors too, after a report and a pause: the lanes hold records read, so no re-read from the checkpoint.
        const expected = error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException;
        if (!expected) options.onError?.(error);
        await sleep(expected ? 100 : 1000);
        const position = lastRead ? { type: 'AFTER_SEQUENCE_NUMBER' as const, sequenceNumber: lastRead } : undefined;
        iterator = await iteratorAfter(shardId, position).catch((failure: unknown) => {
          options.onError?.(failure);
          return iterator;
        });
        continue;
      }
      iterator = response.NextShardIterator;
      const records = response.Records ?? [];
      if (records.length === 0) {
        await sleep(100);
        continue;
      }
      lastRead = records.at(-1)!.dynamodb!.SequenceNumber!;
      outstanding.push(...records.map((r) => r.dynamodb!.SequenceNumber!));
      const passed = records.map((r) => toLambdaRecord(r, options.streamArn)).filter((r) => matchesAny(filters, r));
      const kept = new Set(passed.map(sequenceOf));
      // Records the filters drop are done as they are read.
      finish(records.map((r) => r.dynamodb!.SequenceNumber!).filter((n) => !kept.has(n)));
      for (const record of passed) lanes[laneOf(record, factor)]!.records.push(record);
      for (const lane of lanes) if (lane.records.length > 0 && !lane.running) lane.running = runLane(lane);
    }
    await Promise.all(lanes.flatMap((lane) => (lane.running ? [lane.running] : [])));
  }

  const loop = (async () => {
    const pumping = new Map<string, Promise<void>>();
    while (running) {
      try {
        const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: options.streamArn }));
        for (const shard of StreamDescription?.Shards ?? []) {
          const id = shard.ShardId!;
          if (pumping.has(id)) continue;
          pumping.set(
            id,
            pumpShard(id).catch((error: unknown) => {
              options.onError?.(error);
              pumping.delete(id); // picked up again on the next pass
            }),
          );
        }
      } catch (error) {
        if (running) options.onError?.(error);
      }
      await sleep(1000);
    }
    await Promise.all(pumping.values());
  })();

  return {
    async stop() {
      running = false;
      await loop;
      client.destroy();
    },
  };
}
