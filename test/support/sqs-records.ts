import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';

/**
 * One record of an SQS event as Lambda hands it to a queue consumer: the body is the message's JSON
 * (a string is taken as it is); ids are fresh unless given (a record built from a received message).
 */
export function sqsRecord(
  body: unknown,
  options: { messageId?: string; receiptHandle?: string; receiveCount?: string; queueArn?: string; region?: string } = {},
): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: options.receiptHandle ?? `h-${randomUUID()}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: options.receiveCount ?? '1', SentTimestamp: now, SenderId: 'test', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:deliveries',
    awsRegion: options.region ?? 'us-east-1',
  };
}

/** Every body a queue holds now, received (and so hidden) until it is empty. */
export async function drainQueue(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
  }
}
