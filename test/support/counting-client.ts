import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';

/** A document client on DynamoDB Local that records the name of every command it sends (e.g. 'BatchGetItemCommand'), for tests that pin round trips. */
export function countingDocumentClient() {
  const client = createDocumentClient(new DynamoDBClient({}));
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'commandCounter' },
  );
  return { client, calls };
}
