import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { queueConsumer } from '../app-definition.js';
import { LOCAL_AWS } from './dynamodb-local.js';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface QueuePumpOptions {
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: QueueHandler;
  context: () => Context;
  onError?: (error: unknown) => void;
}

function toLambdaRecord(message: Message, queueArn: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_AWS.region,
  };
}

/**
 * Lambda's SQS event source, locally: several pollers receive batches, invoke the handler, and
 * delete only the messages it did not report as failed. Failed ones stay for the visibility
 * timeout the handler gave them. Pollers overlap, so the handler must be reentrant. After the
 * last attempt the handler moves a message to the DLQ itself; the queue's redrive policy is only
 * a backstop, as on AWS.
 */
export function startQueuePump(options: QueuePumpOptions): { stop(): Promise<void> } {
  let running = true;
  const poll = async () => {
    while (running) {
      try {
        const { Messages = [] } = await options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: queueConsumer.batchSize,
            // AttributeNames (not only MessageSystemAttributeNames): the unpatched emulator honoured only this one.
            AttributeNames: ['All'],
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) {
          await sleep(50);
          continue;
        }
        const records = Messages.map((m) => toLambdaRecord(m, options.queueArn));
        let failed: Set<string>;
        try {
          const result = await options.handler({ Records: records }, options.context());
          failed = new Set(result?.batchItemFailures?.map((f) => f.itemIdentifier) ?? []);
        } catch (error) {
          options.onError?.(error);
          failed = new Set(records.map((r) => r.messageId));
        }
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length > 0) {
          await options.client.send(
            new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }),
          );
        }
      } catch (error) {
        if (running) options.onError?.(error);
        await sleep(200);
      }
    }
  };
  const pollers = Array.from({ length: queueConsumer.maxConcurrency }, poll);
  return {
    async stop() {
      running = false;
      await Promise.all(pollers);
    },
  };
}
