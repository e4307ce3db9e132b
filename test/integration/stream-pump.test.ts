/**
 * The dev runtime's stream pump against DynamoDB Local's real stream, on a table of its own: the
 * definition's parallelizationFactor (batches of one shard at once, one key's records in order in
 * one lane), a partial failure retried from its record without holding the other lanes or redoing
 * the records before it, and a checkpoint that never passes a record still being retried.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { streamConsumer } from '../../infra/app-definition.js';
import { streamArn } from '../../infra/local/provision.js';
import { laneOf, startStreamPump } from '../../infra/local/stream-pump.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { eventually } from '../support/receiver.js';

const raw = new DynamoDBClient({});
const client = createDocumentClient(raw);
const tableName = `stream-pump-${Math.random().toString(36).slice(2, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'stream-pump-'));
const checkpointFile = join(dir, 'checkpoints.json');
let arn: string;

beforeAll(async () => {
  await raw.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  arn = await streamArn(raw, tableName);
});

afterAll(async () => {
  await raw.send(new DeleteTableCommand({ TableName: tableName }));
  client.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** Each key's life as records the fan-out's filters pass: created pending (INSERT), approved (MODIFY), deleted (dropped by the filters), again. */
async function writeLives(keys: string[], rounds: number) {
  await Promise.all(
    keys.map(async (id) => {
      for (let n = 0; n < rounds; n++) {
        await client.send(new PutCommand({ TableName: tableName, Item: { id, status: 'pending', n: 2 * n } }));
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { id },
            UpdateExpression: 'SET #s = :a, n = :n',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':a': 'approved', ':n': 2 * n + 1 },
          }),
        );
        await client.send(new DeleteCommand({ TableName: tableName, Key: { id } }));
      }
    }),
  );
}

const keyOf = (r: DynamoDBRecord) => r.dynamodb!.Keys!.id!.S!;
const nOf = (r: DynamoDBRecord) => Number(r.dynamodb!.NewImage!.n!.N);
/** The shard's checkpoint (the table has one shard here). */
const checkpoint = (): string | undefined => {
  try {
    return Object.values(JSON.parse(readFileSync(checkpointFile, 'utf8')) as Record<string, string>)[0];
  } catch {
    return undefined;
  }
};
const laneOfKey = (id: string) => laneOf({ dynamodb: { Keys: { id: { S: id } } } }, streamConsumer.parallelizationFactor);

test('batches of one shard run at once (up to the factor), each key in order, a failed record retried alone in its lane, the checkpoint held before it', async () => {
  expect(streamConsumer.parallelizationFactor).toBeGreaterThan(1);
  const keys = Array.from({ length: 24 }, (_, i) => `k${String(i).padStart(2, '0')}`);
  await writeLives(keys, 3);
  // The poisoned record: the first approval of one key fails until released.
  const poisoned = keys[5]!;
  let released = false;
  let failures = 0;
  let poisonedSequence = '';
  let lastSequence = 0n;
  const seen = new Map<string, number[]>();
  let inFlight = 0;
  let maxInFlight = 0;
  let secondArrived: () => void = () => undefined;
  const second = new Promise<void>((resolve) => (secondArrived = resolve));
  let invocations = 0;

  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    invocations += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      // The first batch waits for a second one to start: proof that batches overlap, with no clock.
      if (invocations === 1) await second;
      else secondArrived();
      for (const record of event.Records) {
        if (keyOf(record) === poisoned && nOf(record) === 1 && !released) {
          failures += 1;
          poisonedSequence = record.dynamodb!.SequenceNumber!;
          return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
        }
        seen.set(keyOf(record), [...(seen.get(keyOf(record)) ?? []), nOf(record)]);
        if (BigInt(record.dynamodb!.SequenceNumber!) > lastSequence) lastSequence = BigInt(record.dynamodb!.SequenceNumber!);
      }
      return { batchItemFailures: [] };
    } finally {
      inFlight -= 1;
    }
  };

  const parked: unknown[] = [];
  const pump = startStreamPump({
    dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
    streamArn: arn,
    handler: handler as never,
    context: () => ({}) as Context,
    failures: { client: { send: async (command: unknown) => parked.push(command) } as unknown as SQSClient, queueUrl: 'unused' },
    checkpointFile,
  });
  try {
    // The keys of the other lanes get all their records, in order, while the poisoned one still fails;
    // the keys in its lane get a prefix of theirs (Lambda retries the lane's batch from the failed record).
    const otherLanes = keys.filter((k) => laneOfKey(k) !== laneOfKey(poisoned));
    expect(otherLanes.length).toBeGreaterThan(0);
    await eventually(() => otherLanes.every((k) => seen.get(k)?.length === 6), 30_000, 'the other lanes delivered');
    for (const k of otherLanes) expect(seen.get(k)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const k of keys.filter((key) => laneOfKey(key) === laneOfKey(poisoned))) {
      const got = seen.get(k) ?? [];
      expect(got).toEqual([0, 1, 2, 3, 4, 5].slice(0, got.length));
    }
    expect(seen.get(poisoned)).toEqual([0]);
    expect(failures).toBeGreaterThan(0);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(streamConsumer.parallelizationFactor);
    // The checkpoint has not passed the failing record.
    const held = checkpoint();
    expect(held === undefined || BigInt(held) < BigInt(poisonedSequence)).toBe(true);
    released = true;
    // Released: the failed record is retried with the rest of its lane, in order; nothing before it is redone.
    await eventually(() => keys.every((k) => seen.get(k)?.length === 6), 30_000, 'every key delivered');
    for (const k of keys) expect(seen.get(k)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(parked).toEqual([]);
    // Then the checkpoint moves past every record delivered.
    await eventually(() => checkpoint() !== undefined && BigInt(checkpoint()!) >= lastSequence, 30_000, 'the checkpoint past the last record');
  } finally {
    await pump.stop();
  }
}, 90_000);
