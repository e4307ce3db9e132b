/**
 * Handlers must be reentrant: the local queue pump runs several pollers against one handler
 * module, and Lambda's multi-concurrency modes overlap invocations in one process too. A
 * batch processor kept at module scope let one invocation's prepare() wipe another's failures,
 * so failed messages were reported as successes and deleted (never retried, never dead).
 * Real DynamoDB Local and the SQS emulator, real handler modules, invocations overlapped.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { queues, type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues, type QueueUrls } from '../../infra/local/provision.js';
import { newDraft, type Actor } from '../../shared/domain/draft.js';
import { toItem } from '../../shared/store/drafts-store.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { createEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { startReceiver } from '../support/receiver.js';
import { sqsRecord } from '../support/sqs-records.js';

type Handler<E> = (event: E, context: Context) => Promise<SQSBatchResponse | { batchItemFailures: Array<{ itemIdentifier: string }> }>;

let sqs: LocalSqs;
let client: SQSClient;
let queueUrls: QueueUrls;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  queueUrls = await provisionQueues(client, `reentrant${Math.random().toString(36).slice(2, 8)}`);
  receiver = await startReceiver('fail');
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
    PROCESSA_RETRY_BASE_SECONDS: '30',
    PROCESSA_WEBHOOK_TIMEOUT_MS: '2000',
    ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, queueUrls[q]])),
  });
});

afterAll(async () => {
  await receiver?.stop();
  await Promise.all(receivers.map((r) => r.stop()));
  client?.destroy();
  await sqs?.stop();
  process.env = savedEnv;
});

const toRecord = (m: Message): SQSRecord =>
  sqsRecord(m.Body!, { messageId: m.MessageId!, receiptHandle: m.ReceiptHandle!, receiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' });

async function receiveAll(count: number): Promise<Message[]> {
  const received: Message[] = [];
  while (received.length < count) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrls.deliveries, MaxNumberOfMessages: 10, AttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    received.push(...Messages);
  }
  return received;
}

describe('overlapping invocations in one module', () => {
  it('delivery: every failing record of every concurrent batch is reported failed and scheduled for a retry', async () => {
    const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    const { DynamoDeliveryStateStore } = await import('../../shared/store/deliveries-store.js');
    const documents = createDocumentClient();
    const endpoint = await createEndpoint(
      new DynamoEndpointStore(documents, process.env.WEBHOOKS_TABLE_NAME!),
      { url: receiver.url },
      { allowLocalhostHttp: true },
    );
    const messages = Array.from({ length: 30 }, () => deliveryMessage(testEvent(), endpoint.id));
    for (let i = 0; i < messages.length; i += 10) {
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrls.deliveries,
          Entries: messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })),
        }),
      );
    }
    const received = await receiveAll(30);
    const batches = [received.slice(0, 10), received.slice(10, 20), received.slice(20, 30)].map((b) => b.map(toRecord));

    const deliver = (await import('../../functions/deliver-webhooks/handler.js')).handler as unknown as Handler<SQSEvent>;
    const responses = await Promise.all(batches.map((records) => deliver({ Records: records }, lambdaContext('deliverWebhooks'))));

    // Every record of every batch failed (the receiver answers 500), so every one must be reported.
    responses.forEach((response, i) => {
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(batches[i]!.map((r) => r.messageId).sort());
    });
    expect(receiver.requests).toHaveLength(30);
    // And each is counted as one attempt, waiting for its retry.
    const states = new DynamoDeliveryStateStore(documents, process.env.DELIVERIES_TABLE_NAME!);
    for (const m of messages) expect(await states.get(endpoint.id, m.eventId)).toMatchObject({ status: 'waiting', attempts: 1 });
  }, 30_000);

  it('delivery: when setting the backoff fails, the delivered records still count as successes (no second POST)', async () => {
    const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    const { sqsClient } = await import('../../shared/store/sqs-queues.js');
    const store = new DynamoEndpointStore(createDocumentClient(), process.env.WEBHOOKS_TABLE_NAME!);
    const healthy = await startReceiver('ok');
    receivers.push(healthy);
    const ok = await createEndpoint(store, { url: healthy.url }, { allowLocalhostHttp: true });
    const failing = await createEndpoint(store, { url: receiver.url }, { allowLocalhostHttp: true });
    const messages = [
      ...Array.from({ length: 5 }, () => deliveryMessage(testEvent(), ok.id)),
      ...Array.from({ length: 5 }, () => deliveryMessage(testEvent(), failing.id)),
    ];
    await client.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrls.deliveries, Entries: messages.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })) }),
    );
    const records = (await receiveAll(10)).map(toRecord);
    const byEndpoint = (id: string) =>
      records
        .filter((r) => JSON.parse(r.body).endpointId === id)
        .map((r) => r.messageId)
        .sort();

    // Every ChangeMessageVisibilityBatch call fails.
    let refused = 0;
    sqsClient().middlewareStack.add(
      ((next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'ChangeMessageVisibilityBatchCommand') {
          refused++;
          throw new Error('SQS: visibility change refused');
        }
        return next(args);
      }) as never,
      { step: 'initialize', name: 'refuse-visibility' },
    );
    try {
      const deliver = (await import('../../functions/deliver-webhooks/handler.js')).handler as unknown as Handler<SQSEvent>;
      const response = await deliver({ Records: records }, lambdaContext('deliverWebhooks'));
      expect(refused).toBeGreaterThan(1);
      // Only the failed ones are reported (they come back after the visibility timeout instead of the backoff).
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(byEndpoint(failing.id));
      expect(healthy.requests).toHaveLength(5);
    } finally {
      sqsClient().middlewareStack.remove('refuse-visibility');
    }
  }, 30_000);

  it('fan-out: every failing decision of every concurrent batch is reported failed', async () => {
    // Sends to a queue that does not exist fail after real I/O, so the invocations overlap.
    process.env.DELIVERIES_QUEUE_URL = `${sqs.endpoint}/000000000000/no-such-queue`;
    const fanOut = (await import('../../functions/fan-out-decisions/handler.js')).handler as unknown as Handler<DynamoDBStreamEvent>;
    const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    await createEndpoint(
      new DynamoEndpointStore(createDocumentClient(), process.env.WEBHOOKS_TABLE_NAME!),
      { url: receiver.url },
      { allowLocalhostHttp: true },
    );
    const actor: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
    let sequence = 0;
    const record = (): DynamoDBRecord => {
      const pending = newDraft({ title: 'reentrant', content: { n: 1 } }, actor, new Date());
      const approved = {
        ...pending,
        status: 'approved' as const,
        reviewedAt: new Date().toISOString(),
        reviewedBy: { keyId: 'key_r', name: 'alice', role: 'reviewer' as const },
      };
      return {
        eventName: 'MODIFY',
        dynamodb: {
          SequenceNumber: String(++sequence).padStart(21, '0'),
          OldImage: marshall(toItem(pending), { removeUndefinedValues: true }) as never,
          NewImage: marshall(toItem(approved), { removeUndefinedValues: true }) as never,
        },
      };
    };
    // Not a decision (no pending → decided change): succeeds at once, so no batch fails whole (which would throw instead).
    const unrelated = (): DynamoDBRecord => ({
      eventName: 'MODIFY',
      dynamodb: { SequenceNumber: String(++sequence).padStart(21, '0'), OldImage: {}, NewImage: {} },
    });
    const batches = Array.from({ length: 3 }, () => [unrelated(), ...Array.from({ length: 8 }, record)]);
    const responses = await Promise.all(batches.map((Records) => fanOut({ Records }, lambdaContext('fanOutDecisions'))));
    responses.forEach((response, i) => {
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
        batches[i]!.slice(1)
          .map((r) => r.dynamodb!.SequenceNumber!)
          .sort(),
      );
    });
  }, 30_000);
});
