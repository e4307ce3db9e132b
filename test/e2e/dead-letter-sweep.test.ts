import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { localCommonEnv, localFunctionEnvironments, localSettingValues } from '../../infra/local/handler-env.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { operatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { DynamoDeliveryStateStore } from '../../shared/store/deliveries-store.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { OUTBOX_FILE } from '../../shared/store/operator-notices.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { queuedState } from '../../shared/webhooks/delivery-state.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { endpointDisabledEvent, operatorNotice } from '../../shared/webhooks/operational-events.js';
import { verifyWebhookDelivery } from '../../shared/client/webhooks.js';
import { sampleEndpoint } from '../support/endpoint-fixture.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * The scheduled DLQ sweep (sweepDeadLetters) on the dev runtime, its schedule shortened to a second:
 * what SQS dead-letters on its own is found and announced, and dead-lettered operator notices are
 * sent again, without anyone redriving.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_SCHEDULE_SECONDS: '1', PROCESSA_RETRY_BASE_SECONDS: '1' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  const info = runtime.info();
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
  sqs = new SQSClient({ ...LOCAL_AWS, endpoint: info.sqsEndpoint });
}, 90_000);

afterAll(async () => {
  dynamo?.destroy();
  sqs?.destroy();
  for (const receiver of receivers) await receiver.stop();
  await runtime?.stop();
});

async function endpoint(body: Record<string, unknown> = {}) {
  const receiver = await startReceiver('ok');
  receivers.push(receiver);
  const created = await admin('POST', '/v1/webhooks', { url: receiver.url, ...body });
  expect(created.status).toBe(201);
  return { receiver, id: created.body.id as string, secret: created.body.secret as string };
}

const outbox = (): Array<Record<string, any>> => {
  const file = join(runtime.dataDir, 'outbox', OUTBOX_FILE);
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
};

it('a delivery SQS dead-lettered on its own is recorded dead and announced (subscribers and operator) by the schedule, with no redrive', async () => {
  const watcher = await endpoint({ events: ['delivery.exhausted'] });
  const victim = await endpoint();
  // What SQS's redrive policy leaves behind: the state still waiting, the message itself in the DLQ.
  const message = deliveryMessage(testEvent({ event: 'draft.approved' }), victim.id);
  const states = new DynamoDeliveryStateStore(createDocumentClient(dynamo), runtime.info().tables.deliveries);
  expect(await states.save(queuedState(message, new Date()), undefined)).toBe(true);
  await sqs.send(new SendMessageCommand({ QueueUrl: runtime.info().queues.deliveriesDlq, MessageBody: JSON.stringify(message) }));

  const announced = await eventually(
    () =>
      watcher.receiver.requests
        .map((r) => verifyWebhookDelivery(r.body, r.headers as Record<string, string>, watcher.secret).event as Record<string, any>)
        .find((e) => e.event === 'delivery.exhausted' && e.delivery.eventId === message.eventId),
    30_000,
    'delivery.exhausted from the scheduled sweep',
  );
  expect(announced.delivery).toMatchObject({
    endpointId: victim.id,
    eventId: message.eventId,
    attempts: 0,
    lastError: expect.stringContaining('receive limit'),
  });
  await eventually(
    () => outbox().find((n) => n.event.event === 'delivery.exhausted' && n.event.delivery.eventId === message.eventId),
    20_000,
    'the operator notice',
  );
  expect((await states.get(victim.id, message.eventId))?.status).toBe('dead');
  const log = (await admin('GET', `/v1/webhooks/${victim.id}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;
  expect(log.filter((d) => d.eventId === message.eventId).map((d) => d.outcome)).toEqual(['dead']);
  // Recorded dead, not redriven: the receiver never got it.
  expect(victim.receiver.forEvent(message.eventId)).toEqual([]);
}, 90_000);

it('an operator notice SQS dead-lettered from the notifications queue is sent again by the schedule', async () => {
  const notice = operatorNotice(endpointDisabledEvent({ ...sampleEndpoint(), disabledReason: 'failing', disabledAt: new Date().toISOString() }));
  await sqs.send(new SendMessageCommand({ QueueUrl: runtime.info().queues.deliveriesDlq, MessageBody: JSON.stringify(operatorNoticeMessage(notice)) }));
  await eventually(() => outbox().find((n) => n.eventId === notice.event.id), 30_000, 'the re-sent operator notice');
}, 60_000);

it('20 runs of the function at once, beside the schedule and a redrive, record a dead-lettered delivery dead once, and all succeed', async () => {
  const victim = await endpoint();
  const message = deliveryMessage(testEvent({ event: 'draft.approved' }), victim.id);
  const info = runtime.info();
  const states = new DynamoDeliveryStateStore(createDocumentClient(dynamo), info.tables.deliveries);
  expect(await states.save(queuedState(message, new Date()), undefined)).toBe(true);
  await sqs.send(new SendMessageCommand({ QueueUrl: info.queues.deliveriesDlq, MessageBody: JSON.stringify(message) }));

  // The handler in this process with only its own environment, as the runtime loads it.
  const saved = { ...process.env };
  Object.assign(process.env, localCommonEnv(info), localFunctionEnvironments(info, localSettingValues()).sweepDeadLetters, {
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  try {
    const { handler } = await import('../../functions/sweep-dead-letters/handler.js');
    const runs = Array.from({ length: 20 }, () => handler({ source: 'aws.events' }, lambdaContext('sweepDeadLetters')) as Promise<{ markedDead: number }>);
    const [redrive, ...swept] = await Promise.all([admin('POST', `/v1/webhooks/${victim.id}/redrive`, {}), ...runs]);
    expect(redrive.status).toBe(200);
    expect(swept.reduce((n, r) => n + r.markedDead, 0)).toBeLessThanOrEqual(1);
  } finally {
    process.env = saved;
  }
  // Whichever sweep won, the delivery died once: one dead entry in its log.
  const dead = await eventually(
    async () => {
      const log = (await admin('GET', `/v1/webhooks/${victim.id}/deliveries?limit=100`)).body.items as Array<Record<string, any>>;
      const entries = log.filter((d) => d.eventId === message.eventId && d.outcome === 'dead');
      return entries.length > 0 && entries;
    },
    20_000,
    'the dead entry',
  );
  expect(dead).toHaveLength(1);
}, 90_000);
