import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { deleteMessages } from '../../shared/store/sqs-queues.js';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueConsumerDefinition } from '../app-definition.js';
import { LOCAL_AWS } from './dynamodb-local.js';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface QueuePumpOptions {
  /** The definition's mapping (batch size, concurrency) this pump plays. */
  consumer: Pick<QueueConsumerDefinition, 'batchSize' | 'maxConcurrency'>;
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

/** Receive loops: each asks SQS for a batch whenever an invocation slot is free, and sleeps briefly when the queue is empty. */
export const QUEUE_PUMP_RECEIVERS = 5;
export const QUEUE_PUMP_IDLE_SLEEP_MS = 50;

/**
 * Lambda's SQS event source, locally: up to the definition's maxConcurrency invocations run at
 * once, each on one received batch, and the messages it did not report as failed are deleted when
 * it returns. Failed ones stay for the visibility timeout the handler gave them. A batch holds only
 * its own slot: while one invocation waits on a hanging POST, the receive loops keep taking new
 * batches into the free slots (as Lambda's pollers invoke further instances), so one slow batch
 * never stops the queue. Invocations overlap, so the handler must be reentrant. After the last
 * attempt the handler moves a message to the DLQ itself; the queue's redrive policy is only a
 * backstop, as on AWS.
 */
export function startQueuePump(options: QueuePumpOptions): { stop(): Promise<void> } {
  let running = true;
  const slots = slotPool(options.consumer.maxConcurrency);
  const invocations = new Set<Promise<void>>();

  const invoke = async (records: SQSRecord[]) => {
    let failed: Set<string>;
    try {
      const result = await options.handler({ Records: records }, options.context());
      failed = new Set(result?.batchItemFailures?.map((f) => f.itemIdentifier) ?? []);
    } catch (error) {
      options.onError?.(error);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    // As Lambda's event source mapping does: what the handler finished is deleted, with SQS's partial failures resent.
    if (done.length > 0)
      await deleteMessages(
        options.client,
        options.queueUrl,
        done.map((r) => r.receiptHandle),
      );
  };

  const receive = async () => {
    while (running) {
      await slots.acquire();
      if (!running) {
        slots.release();
        break;
      }
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.consumer.batchSize,
            // AttributeNames (not only MessageSystemAttributeNames): the unpatched emulator honoured only this one.
            AttributeNames: ['All'],
            WaitTimeSeconds: 0,
          }),
        ));
      } catch (error) {
        slots.release();
        if (running) options.onError?.(error);
        await sleep(200);
        continue;
      }
      if (messages.length === 0) {
        slots.release();
        await sleep(QUEUE_PUMP_IDLE_SLEEP_MS);
        continue;
      }
      // Not awaited: this loop goes back for the next batch while the invocation holds its slot.
      const invocation = invoke(messages.map((m) => toLambdaRecord(m, options.queueArn)))
        .catch((error: unknown) => {
          if (running) options.onError?.(error);
        })
        .finally(() => {
          slots.release();
          invocations.delete(invocation);
        });
      invocations.add(invocation);
    }
  };
  const receivers = Array.from({ length: Math.min(QUEUE_PUMP_RECEIVERS, options.consumer.maxConcurrency) }, receive);
  return {
    async stop() {
      running = false;
      slots.wake();
      await Promise.all(receivers);
      await Promise.all([...invocations]);
    },
  };
}

/** A counting semaphore: `size` slots; acquire waits for a free one. */
function slotPool(size: number) {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    async acquire() {
      while (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      free -= 1;
    },
    release() {
      free += 1;
      waiting.shift()?.();
    },
    /** On stop: let every waiter look at `running` again. */
    wake() {
      free = Math.max(free, waiting.length);
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}
