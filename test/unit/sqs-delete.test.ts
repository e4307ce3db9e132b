/**
 * Deleting handled messages: SQS answers DeleteMessageBatch with per-entry failures instead of an
 * error, so a caller that ignores them believes a message gone that returns after its timeout.
 */
import { DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { deleteMessages } from '../../shared/store/sqs-queues.js';

const sqs = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const sentHandles = () => sqs.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => e.ReceiptHandle));

beforeEach(() => sqs.reset());

it('deletes in batches of ten', async () => {
  sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  const handles = Array.from({ length: 23 }, (_, i) => `h${i}`);
  await deleteMessages(client, 'q', handles);
  expect(sentHandles().map((batch) => batch.length)).toEqual([10, 10, 3]);
  expect(sentHandles().flat()).toEqual(handles);
});

it('resends only the entries SQS failed on its side, until they are deleted', async () => {
  sqs
    .on(DeleteMessageBatchCommand)
    .resolvesOnce({ Successful: [], Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError' }] })
    .resolves({ Successful: [], Failed: [] });
  await deleteMessages(client, 'q', ['a', 'b', 'c']);
  expect(sentHandles()).toEqual([['a', 'b', 'c'], ['b']]);
});

it('throws naming how many are left when SQS refuses an entry (a sender fault is not resent)', async () => {
  sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }] });
  await expect(deleteMessages(client, 'queue-url', ['a', 'b'])).rejects.toThrow('SQS did not delete 1 of 2 messages from queue-url');
  expect(sentHandles()).toEqual([['a', 'b']]);
});

it('throws when a failure outlasts the resends', async () => {
  sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: false, Code: 'InternalError' }] });
  await expect(deleteMessages(client, 'q', ['a'])).rejects.toThrow('SQS did not delete 1 of 1 messages');
  expect(sentHandles().length).toBeGreaterThan(1);
});
