/**
 * The DLQ sweep against the SQS emulator: an operator notice SQS dead-lettered from the
 * notifications queue goes back to that queue (once) and leaves the DLQ, through the real adapters.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues } from '../../infra/local/provision.js';
import { operatorNoticeMessage, parseOperatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { SqsOperatorNoticeQueue } from '../../shared/store/operator-notice-queue.js';
import { SqsDeadLetterQueue } from '../../shared/store/sqs-queues.js';
import { endpointDisabledEvent, operatorNotice } from '../../shared/webhooks/operational-events.js';
import { sweepDeadLetters } from '../../shared/webhooks/redrive.js';
import { sampleEndpoint } from '../support/endpoint-fixture.js';
import { MemoryDeliveryLog, MemoryDeliveryStateStore } from '../support/memory-deliveries.js';
import { drainQueue } from '../support/sqs-records.js';

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
