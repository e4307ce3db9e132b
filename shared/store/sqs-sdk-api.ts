import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SqsApi, SqsOperation } from './sqs-api.js';

const commands: Record<SqsOperation, new (input: never) => object> = {
  SendMessageBatch: SendMessageBatchCommand,
  ChangeMessageVisibilityBatch: ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatch: DeleteMessageBatchCommand,
  ReceiveMessage: ReceiveMessageCommand,
};

/** The SQS port over the SDK client: for the CLIs and local tooling, which use the caller's credential chain (never bundled into a function). */
export const sdkSqsApi = (client: SQSClient): SqsApi => ({
  send: ({ operation, input }) => client.send(new commands[operation](input as never) as never),
});
