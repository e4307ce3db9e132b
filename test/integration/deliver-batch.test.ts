/**
 * The delivery handler's batch: its reads in one round trip's time (one BatchGetItem of the states,
 * one read per endpoint and breaker), one health update per endpoint per batch, and no endpoint
 * read kept past its invocation: a rotated secret signs the very next delivery, a URL change or a
 * disable applies at once. Real DynamoDB Local and the SQS emulator, the real handler module.
 */
import { jest } from '@jest/globals';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { queues, type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues } from '../../infra/local/provision.js';
import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { queuedState } from '../../shared/webhooks/delivery-state.js';
import { createEndpoint, disableEndpoint, rotateSecret, updateEndpoint, type EndpointStore } from '../../shared/webhooks/endpoints.js';
import { endpointHealth } from '../../shared/webhooks/endpoint-health.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { startReceiver } from '../support/receiver.js';
import { sqsRecord } from '../support/sqs-records.js';

type Deliver = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let sqs: LocalSqs;
let client: SQSClient;
let deliver: Deliver;
let endpoints: EndpointStore;
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];
const calls: string[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  const urls = await provisionQueues(client, `batch${Math.random().toString(36).slice(2, 8)}`);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
    PROCESSA_RETRY_BASE_SECONDS: '30',
    // Generous: on a loaded 2-core machine 100 concurrent POSTs to one local receiver can take seconds, and
    // timeouts would open the breaker and defer the rest (these tests count reads and writes, not latency).
    PROCESSA_WEBHOOK_TIMEOUT_MS: '10000',
    ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, urls[q]])),
  });
  const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
  const { documentClient } = await import('../../shared/store/dynamo-client.js');
  endpoints = new DynamoEndpointStore(documentClient(), process.env.WEBHOOKS_TABLE_NAME!);
  // Counts the handler's DynamoDB calls (it shares this client).
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'testCallCounter' },
  );
  deliver = (await import('../../functions/deliver-webhooks/handler.js')).handler as unknown as Deliver;
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  client?.destroy();
  await sqs?.stop();
  process.env = savedEnv;
});

async function receiver() {
  const r = await startReceiver('ok');
  receivers.push(r);
  return r;
}

const invoke = (messages: DeliveryMessage[]) => deliver({ Records: messages.map((m) => sqsRecord(m)) }, lambdaContext('deliverWebhooks'));

const verifies = (secret: string, request: { headers: Record<string, unknown>; body: string }) => {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

describe('the delivery handler reads and writes per batch', () => {
  it('a batch of 10 to one endpoint: one BatchGetItem of the states and the breaker, one endpoint read, one health update, one log write', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    // As in production, the fan-out recorded each delivery's queued state before queueing it.
    const messages = Array.from({ length: 10 }, () => deliveryMessage(testEvent(), endpoint.id));
    const { deliveryStateStoreFromEnv } = await import('../../shared/store-factories.js');
    const states = deliveryStateStoreFromEnv();
    for (const m of messages) expect(await states.save(queuedState(m, new Date()), undefined)).toBe(true);
    calls.length = 0;
    const response = await invoke(messages);
    expect(response.batchItemFailures).toEqual([]);
    expect(r.requests).toHaveLength(10);
    const counts = Object.fromEntries([...new Set(calls)].map((c) => [c, calls.filter((x) => x === c).length]));
    expect(counts).toEqual({ BatchGetItemCommand: 1, GetItemCommand: 1, UpdateItemCommand: 1, PutItemCommand: 10, BatchWriteItemCommand: 1 });
    const { DynamoEndpointHealthStore } = await import('../../shared/store/endpoint-health-store.js');
    const { documentClient } = await import('../../shared/store/dynamo-client.js');
    const health = await new DynamoEndpointHealthStore(documentClient(), process.env.DELIVERIES_TABLE_NAME!).get(endpoint.id);
    expect(endpointHealth(endpoint, health, 0, new Date()).attempts24h).toBe(10);
  }, 30_000);

  it('messages without a queued state (test events): created after the batch read, with no read of its own per message', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    calls.length = 0;
    const response = await invoke(Array.from({ length: 10 }, () => deliveryMessage(testEvent(), endpoint.id)));
    expect(response.batchItemFailures).toEqual([]);
    expect(r.requests).toHaveLength(10);
    const counts = Object.fromEntries([...new Set(calls)].map((c) => [c, calls.filter((x) => x === c).length]));
    expect(counts).toEqual({ BatchGetItemCommand: 1, GetItemCommand: 1, UpdateItemCommand: 1, PutItemCommand: 10, BatchWriteItemCommand: 1 });
  });

  it('the breaker read with the states gates the batch: open, nothing is posted and no other breaker read is made', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { documentClient } = await import('../../shared/store/dynamo-client.js');
    await documentClient().send(
      new UpdateCommand({
        TableName: process.env.DELIVERIES_TABLE_NAME!,
        Key: { endpointId: endpoint.id, attemptKey: '~breaker' },
        UpdateExpression: 'SET consecutiveFailures = :k, openUntil = :until',
        ExpressionAttributeValues: { ':k': 5, ':until': new Date(Date.now() + 60_000).toISOString() },
      }),
    );
    calls.length = 0;
    const response = await invoke(Array.from({ length: 3 }, () => deliveryMessage(testEvent(), endpoint.id)));
    expect(response.batchItemFailures).toHaveLength(3);
    expect(r.requests).toHaveLength(0);
    expect(calls.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(1);
    // The endpoint's own read only.
    expect(calls.filter((c) => c === 'GetItemCommand')).toHaveLength(1);
  }, 30_000);

  it('20 batches at once to one endpoint: every POST made once, every attempt counted in its health (no lost update)', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    const responses = await Promise.all(Array.from({ length: 20 }, () => invoke(Array.from({ length: 5 }, () => deliveryMessage(testEvent(), endpoint.id)))));
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    expect(r.requests).toHaveLength(100);
    const { DynamoEndpointHealthStore } = await import('../../shared/store/endpoint-health-store.js');
    const { documentClient } = await import('../../shared/store/dynamo-client.js');
    const health = await new DynamoEndpointHealthStore(documentClient(), process.env.DELIVERIES_TABLE_NAME!).get(endpoint.id);
    expect(endpointHealth(endpoint, health, 0, new Date()).attempts24h).toBe(100);
  }, 30_000);
});

describe('a message whose delivery throws', () => {
  it('is returned for a retry and logged at ERROR with its keys and cause, and the summary gets its own line', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    const [failing, fine] = [deliveryMessage(testEvent(), endpoint.id), deliveryMessage(testEvent(), endpoint.id)];
    const { documentClient } = await import('../../shared/store/dynamo-client.js');
    const { logger } = await import('../../shared/observability.js');
    // The failing message's state write (after its POST) is refused, as a throttled or failing table would.
    documentClient().middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutItemCommand' && JSON.stringify(args.input).includes(failing.eventId)) throw new Error('injected state write failure');
        return next(args);
      },
      { step: 'initialize', name: 'testStateWriteFault' },
    );
    // INFO, as deployed (the tests run silent), with the lines kept out of the test output.
    const level = logger.getLevelName();
    logger.setLogLevel('INFO');
    const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    try {
      const records = [sqsRecord(failing), sqsRecord(fine)];
      const response = await deliver({ Records: records }, lambdaContext('deliverWebhooks'));
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
      const logged = errors.mock.calls.find(([message]) => message === 'delivery message not settled; it returns after the visibility timeout');
      expect(logged?.[1]).toMatchObject({ messageId: records[0]!.messageId, eventId: failing.eventId, endpointId: endpoint.id, receiveCount: 1 });
      expect(String((logged?.[1] as { error: Error }).error)).toContain('injected state write failure');
      expect(info.mock.calls.find(([message]) => message === 'delivery batch done')?.[1]).toMatchObject({ messages: 2, errors: 1 });
    } finally {
      documentClient().middlewareStack.remove('testStateWriteFault');
      errors.mockRestore();
      info.mockRestore();
      logger.setLogLevel(level);
    }
  }, 30_000);
});

describe('no endpoint read outlives its invocation', () => {
  it('a secret rotated between two deliveries signs the second: it verifies with the new secret, the first did not', async () => {
    const r = await receiver();
    const created = await createEndpoint(endpoints, { url: r.url }, { allowLocalhostHttp: true });
    await invoke([deliveryMessage(testEvent(), created.id)]);
    const { secret } = await rotateSecret(endpoints, created.id);
    await invoke([deliveryMessage(testEvent(), created.id)]);
    expect(r.requests).toHaveLength(2);
    const [first, second] = r.requests as Array<{ headers: Record<string, unknown>; body: string }>;
    expect(verifies(created.secret, first!)).toBe(true);
    expect(verifies(secret, first!)).toBe(false);
    expect(verifies(secret, second!)).toBe(true);
  }, 30_000);

  it('a URL change applies to the next delivery; a disabled endpoint gets nothing posted', async () => {
    const before = await receiver();
    const after = await receiver();
    const created = await createEndpoint(endpoints, { url: before.url }, { allowLocalhostHttp: true });
    await invoke([deliveryMessage(testEvent(), created.id)]);
    await updateEndpoint(endpoints, created.id, { url: after.url }, { allowLocalhostHttp: true });
    await invoke([deliveryMessage(testEvent(), created.id)]);
    expect(before.requests).toHaveLength(1);
    expect(after.requests).toHaveLength(1);

    await disableEndpoint(endpoints, created.id, 'manual');
    const response = await invoke([deliveryMessage(testEvent(), created.id), deliveryMessage(testEvent(), created.id)]);
    expect(response.batchItemFailures).toEqual([]);
    expect(before.requests).toHaveLength(1);
    expect(after.requests).toHaveLength(1);
  }, 30_000);
});
