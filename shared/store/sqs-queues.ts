import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { tracer } from '../observability.js';
import { parseDeliveryMessage, type DeadLetter, type DeadLetterQueue, type DeliveryMessage, type DeliveryQueue } from '../webhooks/delivery-message.js';

let shared: SQSClient | undefined;
/** Built once per process; AWS_ENDPOINT_URL_SQS points it at the emulator locally. */
export const sqsClient = (): SQSClient => (shared ??= tracer.captureAWSv3Client(new SQSClient({})));

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

export class SqsDeliveryQueue implements DeliveryQueue {
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
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** How long received messages stay hidden while a redrive works through them. */
    private readonly holdSeconds = 60,
  ) {}

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
