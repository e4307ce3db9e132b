import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { deliveryRetry } from '../../shared/webhooks/delivery-policy.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * The breaker's fresh-copy path on the real pipeline: a delivery deferred by an open breaker again
 * and again reaches the receive count at which SQS would dead-letter it for that alone; the delivery
 * function then queues a fresh copy and acknowledges the old one. When the breaker closes, the
 * delivery arrives exactly once, as its first attempt, and nothing is dead-lettered.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // DEBUG: the runtime's log shows each deferral and the re-queue, with the receive count (at INFO only the batch's summary line counts them).
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
  admin = apiClient(runtime.url, runtime.adminKey);
}, 90_000);
afterAll(async () => {
  await runtime?.stop();
});

const logLines = (message: string) =>
  runtime
    .output()
    .split('\n')
    .filter((l) => l.includes(`"message":"${message}"`))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, any>);

it('a delivery deferred up to the receive limit is replaced by a fresh copy and still delivered exactly once', async () => {
  const receiver = await startReceiver('ok');
  const info = runtime.info();
  const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
  const documents = createDocumentClient(dynamo);
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: info.sqsEndpoint });
  let holdOpen = true;
  let holding: Promise<void> = Promise.resolve();
  try {
    const endpoint = (await admin('POST', '/v1/webhooks', { url: receiver.url, events: ['draft.approved'] })).body;
    // The endpoint's breaker, held open from outside: always about 1.5 s of cooldown left, so each
    // receive of the message is deferred for a second or two, as a long outage would do over hours.
    const breakerKey = { endpointId: endpoint.id, attemptKey: '~breaker' };
    const reopen = () =>
      documents.send(
        new UpdateCommand({
          TableName: info.tables.deliveries,
          Key: breakerKey,
          UpdateExpression: 'SET consecutiveFailures = :k, openUntil = :until REMOVE probeUntil',
          ExpressionAttributeValues: { ':k': 5, ':until': new Date(Date.now() + 1500).toISOString() },
        }),
      );
    await reopen();
    holding = (async () => {
      while (holdOpen) {
        await reopen();
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    const { body: draft } = await admin('POST', '/v1/drafts', { title: 'Deferred for long', content: { n: 1 } });
    expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    const ofDraft = (l: Record<string, any>) => l.draftId === draft.id;

    // Deferred receive after receive, until the one at the limit re-queues it as a fresh copy.
    const requeued = await eventually(() => logLines('circuit open; delivery re-queued').find(ofDraft), 90_000, 'the fresh copy');
    expect(requeued.receiveCount).toBe(deliveryRetry.backstopReceives - 2);
    const deferrals = logLines('circuit open; delivery deferred').filter(ofDraft);
    expect(deferrals.length).toBeGreaterThanOrEqual(deliveryRetry.backstopReceives - 3);
    expect(receiver.requests).toHaveLength(0);
    // The fresh copy starts its receive count again.
    await eventually(() => logLines('circuit open; delivery deferred').some((l) => ofDraft(l) && l.receiveCount === 1), 20_000, 'the fresh copy deferred');

    // The outage ends: the breaker closes, and the delivery goes out.
    holdOpen = false;
    await holding;
    await documents.send(new DeleteCommand({ TableName: info.tables.deliveries, Key: breakerKey }));
    const ofThisDraft = () => receiver.requests.filter((r) => JSON.parse(r.body).draft?.id === draft.id);
    await eventually(() => ofThisDraft().length > 0, 30_000, 'the delivery');
    expect(ofThisDraft()).toHaveLength(1);

    // Exactly once: one succeeded attempt, the first (deferrals cost none), and nothing dead-lettered.
    const log = await eventually(async () => {
      const items = (await admin('GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;
      return items.some((d) => d.draftId === draft.id) && items.filter((d) => d.draftId === draft.id);
    });
    expect(log.map((d) => ({ outcome: d.outcome, attempt: d.attempt }))).toEqual([{ outcome: 'succeeded', attempt: 1 }]);
    const dlq = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: info.queues.deliveriesDlq,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(dlq.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    // Deliberately a fixed wait: the claim is that no second copy arrives within 3 s (the old copy was acknowledged).
    await new Promise((r) => setTimeout(r, 3000));
    expect(ofThisDraft()).toHaveLength(1);
  } finally {
    holdOpen = false;
    await holding;
    dynamo.destroy();
    sqs.destroy();
    await receiver.stop();
  }
}, 150_000);
