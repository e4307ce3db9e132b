/**
 * Pins how the local SQS emulator (`local-aws-sqs`, patched by .patches/local-aws-sqs+2.0.2.patch,
 * applied by the `postinstall` script) counts receives, because the local runtime's retry budget
 * depends on it.
 *
 * Real SQS increments ApproximateReceiveCount only on ReceiveMessage; ChangeMessageVisibility
 * (what a consumer does to set a backoff) does not count. Unpatched, local-aws-sqs 2.0.2 counted
 * every ChangeMessageVisibility as a receive (1 → 3 after one backoff), so with maxReceiveCount 4
 * a message reached the DLQ after only 2 attempts. If this test fails after an upgrade of
 * local-aws-sqs, check whether the patch still applies and whether upstream fixed the count.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';

const MAX_RECEIVE_COUNT = 4;

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startLocalSqs();
  client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** A main queue whose redrive policy sends messages to its own DLQ after MAX_RECEIVE_COUNT receives. */
async function queuesWithDlq(): Promise<{ queueUrl: string; dlqUrl: string }> {
  const { QueueUrl: dlqUrl } = await client.send(new CreateQueueCommand({ QueueName: unique('quirks-dlq') }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const { QueueUrl: queueUrl } = await client.send(
    new CreateQueueCommand({
      QueueName: unique('quirks'),
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: MAX_RECEIVE_COUNT }) },
    }),
  );
  return { queueUrl: queueUrl!, dlqUrl: dlqUrl! };
}

async function messagesIn(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** One message, long-polled for up to `waitSeconds`. */
async function receiveOne(queueUrl: string, waitSeconds: number, visibilityTimeout = 30): Promise<Message | undefined> {
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, AttributeNames: ['All'], VisibilityTimeout: visibilityTimeout, WaitTimeSeconds: waitSeconds }),
  );
  return Messages[0];
}

describe('local SQS emulator: receive counting and redrive', () => {
  // 1 s is a consumer's backoff after a failed attempt (the case that used to count double); 0 s is the
  // same path without the wait.
  it.each([1, 0])(
    'with a %is backoff after each failed receive: exactly 4 receives, counted 1..4, then the DLQ',
    async (backoffSeconds) => {
      const { queueUrl, dlqUrl } = await queuesWithDlq();
      const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'fails every time' }));

      const counts: string[] = [];
      const firstReceiveTimestamps = new Set<string>();
      for (let attempt = 1; attempt <= MAX_RECEIVE_COUNT; attempt++) {
        const message = await receiveOne(queueUrl, 3, 1);
        if (!message) break; // redriven too early: the count assertion below shows how early
        expect(message.MessageId).toBe(MessageId);
        counts.push(message.Attributes!.ApproximateReceiveCount!);
        firstReceiveTimestamps.add(message.Attributes!.ApproximateFirstReceiveTimestamp!);
        // Not in the DLQ before the consumer has had all its attempts.
        expect(await messagesIn(dlqUrl)).toBe(0);
        // The consumer fails and sets its backoff, as the queue handlers do.
        await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: backoffSeconds }));
      }
      // Unpatched: ['1', '3'] (each ChangeMessageVisibility counted as a receive), then the DLQ.
      expect(counts).toEqual(['1', '2', '3', '4']);
      // ChangeMessageVisibility does not reset the first-receive time either.
      expect(firstReceiveTimestamps.size).toBe(1);

      // Real SQS moves the message when a 5th receive would exceed maxReceiveCount; the emulator moves it
      // when the 4th receive's visibility timeout ends. Either way the consumer never sees a 5th attempt.
      const deadLettered = await receiveOne(dlqUrl, 3);
      expect(deadLettered?.Body).toBe('fails every time');
      expect(await receiveOne(queueUrl, 0)).toBeUndefined();
      expect(await messagesIn(queueUrl)).toBe(0);
    },
    10_000,
  );
});

describe('local SQS emulator: system attributes on ReceiveMessage', () => {
  // Unpatched, local-aws-sqs 2.0.2 returned system attributes (ApproximateReceiveCount, SentTimestamp,
  // SenderId, ApproximateFirstReceiveTimestamp) only for the older, deprecated `AttributeNames`
  // parameter and silently ignored `MessageSystemAttributeNames`. The patch makes it honour both, as
  // real SQS does. The queue pump still asks with `AttributeNames`, which keeps working either way.
  const receiveWith = async (queueUrl: string, params: { AttributeNames?: ['All']; MessageSystemAttributeNames?: ['ApproximateReceiveCount' | 'All'] }) => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'attributes' }));
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 30, ...params }));
    expect(Messages).toHaveLength(1);
    return Messages[0]!.Attributes;
  };

  it('returns them for AttributeNames', async () => {
    const { queueUrl } = await queuesWithDlq();
    expect(await receiveWith(queueUrl, { AttributeNames: ['All'] })).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    });
  });

  it('returns them for MessageSystemAttributeNames (patched)', async () => {
    const { queueUrl } = await queuesWithDlq();
    expect(await receiveWith(queueUrl, { MessageSystemAttributeNames: ['ApproximateReceiveCount'] })).toEqual({ ApproximateReceiveCount: '1' });
    const { queueUrl: other } = await queuesWithDlq();
    expect(await receiveWith(other, { MessageSystemAttributeNames: ['All'] })).toMatchObject({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.any(String),
    });
  });

  it('returns none when neither is asked for', async () => {
    const { queueUrl } = await queuesWithDlq();
    expect(await receiveWith(queueUrl, {})).toBeUndefined();
  });
});
