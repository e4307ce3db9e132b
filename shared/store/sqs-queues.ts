import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { retryUnprocessed } from './batch-retry.js';
import { tracer } from '../observability.js';
import {
  isChannelMessage,
  parseDeliveryMessage,
  type DeadLetter,
  type DeadLetterQueue,
  type DeliveryMessage,
  type DeliveryQueue,
  type RetryLater,
  type RetryQueue,
} from '../webhooks/delivery-message.js';

let shared: SQSClient | undefined;
/** Built once per process; AWS_ENDPOINT_URL_SQS points it at the emulator locally. */
export const sqsClient = (): SQSClient => (shared ??= tracer.captureAWSv3Client(new SQSClient({})));

/** SendMessageBatch, resending the entries that failed; returns those SQS still refused. */
export const sendBatch = <E extends SendMessageBatchRequestEntry>(client: SQSClient, queueUrl: string, entries: E[]) =>
  retryUnprocessed(entries, async (pending) => {
    const { Failed = [] } = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...pending] }));
    const failed = new Set(Failed.map((f) => f.Id));
    return pending.filter((p) => failed.has(p.Id));
  });

/**
 * DeleteMessageBatch in tens, resending entries SQS failed for its own reasons (a sender fault,
 * such as an expired receipt handle, will not succeed on a resend). Throws naming how many are
 * left: an undeleted message comes back after its visibility timeout, so a caller must not
 * believe it gone.
 */
export async function deleteMessages(client: SQSClient, queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  let left = 0;
  for (const batch of chunks([...receiptHandles], 10)) {
    const entries = batch.map((h, i) => ({ Id: String(i), ReceiptHandle: h }));
    let given = 0;
    const unprocessed = await retryUnprocessed(entries, async (pending) => {
      const { Failed = [] } = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...pending] }));
      given += Failed.filter((f) => f.SenderFault).length;
      const retry = new Set(Failed.filter((f) => !f.SenderFault).map((f) => f.Id));
      return pending.filter((p) => retry.has(p.Id));
    });
    left += given + unprocessed.length;
  }
  if (left > 0) throw new Error(`SQS did not delete ${left} of ${receiptHandles.length} messages from ${queueUrl}; they return after their visibility timeout`);
}

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/**
 * The delivery queues' producer side: webhook endpoints' messages go to the deliveries queue,
 * channels' (Slack, email) to the notifications queue, each consumed by its own worker.
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    /** The deliveries queue. */
    private readonly queueUrl: string,
    /** The notifications queue, for channels' messages; the deliveries queue when left out. */
    private readonly channelQueueUrl: string = queueUrl,
  ) {}

  async send(messages: DeliveryMessage[]): Promise<void> {
    const channels = messages.filter(isChannelMessage);
    const endpoints = messages.filter((m) => !isChannelMessage(m));
    await Promise.all([this.sendTo(this.queueUrl, endpoints), this.sendTo(this.channelQueueUrl, channels)]);
  }

  private async sendTo(queueUrl: string, messages: DeliveryMessage[]): Promise<void> {
    for (const batch of chunks(messages, 10)) {
      // SendMessageBatch succeeds per entry: resend only the entries that failed.
      const refused = await sendBatch(
        this.client,
        queueUrl,
        batch.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) })),
      );
      if (refused.length > 0) throw new Error(`SQS refused ${refused.length} delivery messages: ${refused.map((p) => p.Id).join(',')}`);
    }
  }
}

/** A consumer's backoff: hides received messages of its own queue for their delays. */
export class SqsRetryQueue implements RetryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async retryLater(messages: RetryLater[]): Promise<string[]> {
    const failed: string[] = [];
    for (const batch of chunks(messages, 10)) {
      const entries = batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: m.delaySeconds }));
      // Entries fail one by one (and the call may throw): retry the failed ones a few times, then give up
      // on them quietly. A message whose backoff could not be set only comes back sooner; its attempt
      // count lives in the delivery state, so nothing is attempted twice by mistake.
      const unchanged = await retryUnprocessed(entries, async (pending) => {
        try {
          const { Failed = [] } = await this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: [...pending] }));
          // Sender faults (e.g. a receipt handle that expired) will not succeed on a retry.
          const senderFaults = new Set(Failed.filter((f) => f.SenderFault).map((f) => f.Id));
          const retry = new Set(Failed.filter((f) => !f.SenderFault).map((f) => f.Id));
          failed.push(...pending.filter((p) => senderFaults.has(p.Id)).map((p) => p.ReceiptHandle));
          return pending.filter((p) => retry.has(p.Id));
        } catch {
          // The whole call failed: every entry of this batch is retried.
          return pending;
        }
      });
      failed.push(...unchanged.map((p) => p.ReceiptHandle));
    }
    return failed;
  }
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** How long received messages stay hidden while a redrive works through them. */
    private readonly holdSeconds = 60,
  ) {}

  async send(letters: Array<{ message: DeliveryMessage; reason: string }>): Promise<void> {
    for (const batch of chunks(letters, 10)) {
      const refused = await sendBatch(
        this.client,
        this.queueUrl,
        batch.map((l, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(l.message),
          // Why it died, for whoever reads the DLQ in the console; the delivery log says it too.
          MessageAttributes: { reason: { DataType: 'String', StringValue: l.reason.slice(0, 1000) || 'dead' } },
        })),
      );
      if (refused.length > 0) throw new Error(`SQS refused ${refused.length} dead letters`);
    }
  }

  async receive(): Promise<DeadLetter[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: this.holdSeconds, WaitTimeSeconds: 0 }),
    );
    // The body too: the sweep recognises the operator notices SQS dead-letters from the notifications queue.
    return Messages.map((m) => ({ message: parseDeliveryMessage(m.Body ?? ''), receiptHandle: m.ReceiptHandle!, body: m.Body ?? '' }));
  }

  async delete(receiptHandles: string[]): Promise<void> {
    await deleteMessages(this.client, this.queueUrl, receiptHandles);
  }

  async release(receiptHandles: string[]): Promise<void> {
    for (const batch of chunks(receiptHandles, 10)) {
      await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((h, i) => ({ Id: String(i), ReceiptHandle: h, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}
