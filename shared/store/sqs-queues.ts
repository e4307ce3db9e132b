import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { tracer } from '../observability.js';
import {
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

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

export class SqsDeliveryQueue implements DeliveryQueue, RetryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: DeliveryMessage[]): Promise<void> {
    for (const batch of chunks(messages, 10)) {
      let pending = batch.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) }));
      // SendMessageBatch succeeds per entry: resend only the entries that failed.
      for (let round = 0; pending.length > 0; round++) {
        if (round >= 5) throw new Error(`SQS refused ${pending.length} delivery messages: ${pending.map((p) => p.Id).join(',')}`);
        if (round > 0) await sleep(50 * 2 ** round);
        const { Failed = [] } = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set(Failed.map((f) => f.Id));
        pending = pending.filter((p) => failed.has(p.Id));
      }
    }
  }

  async retryLater(messages: RetryLater[]): Promise<string[]> {
    const failed: string[] = [];
    for (const batch of chunks(messages, 10)) {
      let pending = batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: m.delaySeconds }));
      // Entries fail one by one (and the call may throw): retry the failed ones a few times, then give up
      // on them quietly. A message whose backoff could not be set only comes back sooner; its attempt
      // count lives in the delivery state, so nothing is attempted twice by mistake.
      for (let round = 0; pending.length > 0 && round < 4; round++) {
        if (round > 0) await sleep(50 * 2 ** round);
        try {
          const { Failed = [] } = await this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
          // Sender faults (e.g. a receipt handle that expired) will not succeed on a retry.
          const retry = new Set(Failed.filter((f) => !f.SenderFault).map((f) => f.Id));
          failed.push(...Failed.filter((f) => f.SenderFault).map((f) => pending.find((p) => p.Id === f.Id)!.ReceiptHandle));
          pending = pending.filter((p) => retry.has(p.Id));
        } catch {
          // The whole call failed: every entry of this batch is retried.
        }
      }
      failed.push(...pending.map((p) => p.ReceiptHandle));
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
      let pending = batch.map((l, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify(l.message),
        // Why it died, for whoever reads the DLQ in the console; the delivery log says it too.
        MessageAttributes: { reason: { DataType: 'String', StringValue: l.reason.slice(0, 1000) || 'dead' } },
      }));
      for (let round = 0; pending.length > 0; round++) {
        if (round >= 5) throw new Error(`SQS refused ${pending.length} dead letters`);
        if (round > 0) await sleep(50 * 2 ** round);
        const { Failed = [] } = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set(Failed.map((f) => f.Id));
        pending = pending.filter((p) => failed.has(p.Id));
      }
    }
  }

  async receive(): Promise<DeadLetter[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: this.holdSeconds, WaitTimeSeconds: 0 }),
    );
    return Messages.map((m) => ({ message: parseDeliveryMessage(m.Body ?? ''), receiptHandle: m.ReceiptHandle! }));
  }

  async delete(receiptHandles: string[]): Promise<void> {
    for (const batch of chunks(receiptHandles, 10)) {
      await this.client.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((h, i) => ({ Id: String(i), ReceiptHandle: h })) }));
    }
  }

  async release(receiptHandles: string[]): Promise<void> {
    for (const batch of chunks(receiptHandles, 10)) {
      await this.client.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((h, i) => ({ Id: String(i), ReceiptHandle: h, VisibilityTimeout: 0 })) }),
      );
    }
  }
}
