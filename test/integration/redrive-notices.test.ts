/**
 * The DLQ sweep against the SQS emulator: an operator notice SQS dead-lettered from the
 * notifications queue goes back to that queue (once) and leaves the DLQ, through the real adapters.
 */
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { tables, type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues } from '../../infra/local/provision.js';
import { operatorNoticeMessage, parseOperatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { SqsOperatorNoticeQueue } from '../../shared/store/operator-notice-queue.js';
import { DynamoDeliveryStateStore } from '../../shared/store/deliveries-store.js';
import { SqsDeadLetterQueue } from '../../shared/store/sqs-queues.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { queuedState, versionOf } from '../../shared/webhooks/delivery-state.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { endpointDisabledEvent, operatorNotice } from '../../shared/webhooks/operational-events.js';
import { sweepDeadLetters } from '../../shared/webhooks/redrive.js';
import { sampleEndpoint } from '../support/endpoint-fixture.js';
import { MemoryDeliveryLog, MemoryDeliveryStateStore } from '../support/memory-deliveries.js';
import { drainQueue } from '../support/sqs-records.js';
import { countingDocumentClient } from '../support/counting-client.js';

let sqs: LocalSqs;
let client: SQSClient;
let urls: Record<QueueName, string>;

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  urls = await provisionQueues(client, `notice${Math.random().toString(36).slice(2, 8)}`);
});

afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

const drain = (queue: QueueName) => drainQueue(client, urls[queue]);

it('re-sends a dead-lettered operator notice to the notifications queue and deletes it from the DLQ', async () => {
  const notice = operatorNotice(endpointDisabledEvent({ ...sampleEndpoint(), disabledReason: 'failing', disabledAt: new Date().toISOString() }));
  await client.send(new SendMessageCommand({ QueueUrl: urls.deliveriesDlq, MessageBody: JSON.stringify(operatorNoticeMessage(notice)) }));
  const dead = {
    states: new MemoryDeliveryStateStore(),
    dlq: new SqsDeadLetterQueue(client, urls.deliveriesDlq),
    log: new MemoryDeliveryLog(),
    notices: new SqsOperatorNoticeQueue(client, urls.notifications),
  };
  expect(await sweepDeadLetters(dead)).toEqual({ deleted: 1, markedDead: 0, noticesRequeued: 1 });
  expect((await drain('notifications')).map((b) => parseOperatorNoticeMessage(b))).toEqual([notice]);
  expect(await sweepDeadLetters(dead)).toEqual({ deleted: 0, markedDead: 0, noticesRequeued: 0 });
  expect(await drain('deliveriesDlq')).toEqual([]);
}, 30_000);

it("reads a DLQ batch's delivery states in one BatchGetItem, not a GetItem per message, and settles each as before", async () => {
  const { client: counted, calls } = countingDocumentClient();
  const states = new DynamoDeliveryStateStore(counted, process.env[tables.deliveries.envVar]!);
  const endpointId = `ep_sweep_${Math.random().toString(36).slice(2, 8)}`;
  // Ten copies in the DLQ: five of deliveries delivered since (deleted), five SQS dead-lettered on its own (marked dead).
  const messages = Array.from({ length: 10 }, () => deliveryMessage(testEvent(), endpointId));
  for (const [i, m] of messages.entries()) {
    const queued = queuedState(m, new Date());
    expect(await states.save(queued, undefined)).toBe(true);
    if (i < 5) expect(await states.save({ ...queued, status: 'delivered', attempts: 1 }, versionOf(queued))).toBe(true);
  }
  await client.send(
    new SendMessageBatchCommand({ QueueUrl: urls.deliveriesDlq, Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) })) }),
  );
  calls.length = 0;

  const dead = { states, dlq: new SqsDeadLetterQueue(client, urls.deliveriesDlq), log: new MemoryDeliveryLog() };
  expect(await sweepDeadLetters(dead)).toEqual({ deleted: 5, markedDead: 5, noticesRequeued: 0 });
  expect(calls.filter((c) => c === 'GetItemCommand')).toEqual([]);
  expect(calls.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(1);
  for (const m of messages.slice(5)) expect((await states.get(endpointId, m.eventId))?.status).toBe('dead');
  counted.destroy();
  await drain('deliveriesDlq');
}, 30_000);
