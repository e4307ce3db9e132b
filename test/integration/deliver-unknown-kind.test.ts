/**
 * An endpoint item of a kind no worker sends (a channel kind added then rolled back, a hand-edited
 * item): both delivery workers mark its delivery dead with an ERROR line and acknowledge it, and
 * neither forwards it (a forward is a fresh message each time, so a loop would never end). Real
 * DynamoDB Local and the SQS emulator, the real handler modules.
 */
import { jest } from '@jest/globals';
import { SQSClient } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { queues, type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues } from '../../infra/local/provision.js';
import { deliveryMessage, parseDeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { createEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { drainQueue, sqsRecord } from '../support/sqs-records.js';

type Deliver = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let sqs: LocalSqs;
let client: SQSClient;
let urls: Record<QueueName, string>;
const savedEnv = { ...process.env };

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  urls = await provisionQueues(client, `kind${Math.random().toString(36).slice(2, 8)}`);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
    ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, urls[q]])),
  });
});

afterAll(async () => {
  jest.restoreAllMocks();
  client?.destroy();
  await sqs?.stop();
  process.env = savedEnv;
});

const drain = (queue: QueueName) => drainQueue(client, urls[queue]);

/** A webhook endpoint whose stored item then says channel "teams", written straight to the table. */
async function teamsEndpoint() {
  const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
  const { documentClient } = await import('../../shared/store/dynamo-client.js');
  const endpoints = new DynamoEndpointStore(documentClient(), process.env.WEBHOOKS_TABLE_NAME!);
  const endpoint = await createEndpoint(endpoints, { url: 'http://127.0.0.1:9/never' }, { allowLocalhostHttp: true });
  await documentClient().send(
    new UpdateCommand({
      TableName: process.env.WEBHOOKS_TABLE_NAME!,
      Key: { id: endpoint.id },
      UpdateExpression: 'SET channel = :c',
      ExpressionAttributeValues: { ':c': 'teams' },
    }),
  );
  return endpoint;
}

describe.each([
  ['deliverWebhooks', 'deliver-webhooks', undefined],
  ['deliverNotifications', 'deliver-notifications', 'channel'],
] as const)('%s and an endpoint of a kind no worker sends', (name, folder, target) => {
  it('marks the delivery dead with an ERROR line and acknowledges it; nothing is forwarded to either queue', async () => {
    const { logger } = await import('../../shared/observability.js');
    const errors = jest.spyOn(logger, 'error');
    const deliver = (await import(`../../functions/${folder}/handler.js`)).handler as unknown as Deliver;
    const endpoint = await teamsEndpoint();
    const message = { ...deliveryMessage(testEvent(), endpoint.id), ...(target ? { target } : {}) };
    await Promise.all([drain('deliveries'), drain('notifications'), drain('deliveriesDlq')]);

    const response = await deliver({ Records: [sqsRecord(message)] }, lambdaContext(name));
    expect(response.batchItemFailures).toEqual([]);
    expect(await drain('deliveries')).toEqual([]);
    expect(await drain('notifications')).toEqual([]);
    // Dead like any other (its DLQ copy raises the alarm) and so redrivable once the item is mended.
    expect((await drain('deliveriesDlq')).map((b) => parseDeliveryMessage(b)?.eventId)).toEqual([message.eventId]);
    const { deliveryStateStoreFromEnv } = await import('../../shared/store-factories.js');
    expect(await deliveryStateStoreFromEnv().get(endpoint.id, message.eventId)).toMatchObject({
      status: 'dead',
      deadReason: expect.stringContaining('"teams"'),
    });
    expect(errors).toHaveBeenCalledWith(
      'webhook delivery dead',
      expect.objectContaining({ eventId: message.eventId, reason: expect.stringContaining('"teams"') }),
    );

    // A second copy (SQS delivers at least once) is acknowledged the same way, still not forwarded.
    expect((await deliver({ Records: [sqsRecord(message)] }, lambdaContext(name))).batchItemFailures).toEqual([]);
    expect([...(await drain('deliveries')), ...(await drain('notifications'))]).toEqual([]);
    errors.mockRestore();
  }, 30_000);
});
