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

/**
 * Pumps the real DynamoDB Local stream into the stream handler with Lambda's semantics: the
 * definition's filters and batch size, partial batch failures retried from the failed record
 * up to retryAttempts, then the record is sent to the onFailure queue and the shard moves on.
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

  async function pumpShard(shardId: string): Promise<void> {
    let iterator = await iteratorAfter(shardId);
    const retries = new Map<string, number>();
    while (running && iterator) {
      let response;
      try {
        response = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: streamConsumer.batchSize }));
      } catch (error) {
        // DynamoDB Local answers a fresh TRIM_HORIZON iterator on an empty shard with "trimmed":
        // like an expired iterator, take a new one from the checkpoint and go on.
        if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
          await sleep(100);
          iterator = await iteratorAfter(shardId);
          continue;
        }
        throw error;
      }
      const records = response.Records ?? [];
      if (records.length === 0) {
        iterator = response.NextShardIterator;
        await sleep(100);
        continue;
      }
      const batch = records.map((r) => toLambdaRecord(r, options.streamArn)).filter((r) => matchesAny(filters, r));
      let failedAt: string | undefined;
      if (batch.length > 0) {
        try {
          const result = await options.handler({ Records: batch }, options.context());
          failedAt = result?.batchItemFailures?.[0]?.itemIdentifier;
        } catch (error) {
          options.onError?.(error);
          failedAt = batch[0]!.dynamodb!.SequenceNumber;
        }
      }
      if (!failedAt) {
        saveCheckpoint(shardId, records.at(-1)!.dynamodb!.SequenceNumber!);
        iterator = response.NextShardIterator;
        continue;
      }
      const attempts = (retries.get(failedAt) ?? 0) + 1;
      retries.set(failedAt, attempts);
      if (attempts <= streamConsumer.retryAttempts) {
        await sleep(Math.min(5000, 100 * 2 ** attempts));
        iterator = await iteratorAfter(shardId, { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: failedAt });
        continue;
      }
      // Out of retries: park the record's coordinates for an operator, as Lambda's on-failure destination does.
      await options.failures.client.send(
        new SendMessageCommand({
          QueueUrl: options.failures.queueUrl,
          MessageBody: JSON.stringify({
            requestContext: { condition: 'RetryAttemptsExhausted' },
            DDBStreamBatchInfo: { shardId, startSequenceNumber: failedAt, streamArn: options.streamArn },
          }),
        }),
      );
      retries.delete(failedAt);
      saveCheckpoint(shardId, failedAt);
      iterator = await iteratorAfter(shardId, { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: failedAt });
    }
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
