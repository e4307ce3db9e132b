import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmailLinkUse, EmailLinkUseStore } from '../notifications/email-links-decision.js';
import { withStoreErrors } from './dynamo-client.js';

/** Its own prefix in the sessions table (beside s# sessions and rl# sign-in counters); TTL removes it once the link has expired. */
const useId = (tokenId: string) => `el#${tokenId}`;

export class DynamoEmailLinkUseStore implements EmailLinkUseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(use: EmailLinkUse): Promise<boolean> {
    return withStoreErrors(async () => {
      try {
        await this.client.send(
          new PutCommand({ TableName: this.tableName, Item: { id: useId(use.tokenId), ...use }, ConditionExpression: 'attribute_not_exists(id)' }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    });
  }

  get(tokenId: string): Promise<EmailLinkUse | undefined> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id: useId(tokenId) }, ConsistentRead: true }));
      if (!Item) return undefined;
      const { id: _id, ...use } = Item;
      return use as EmailLinkUse;
    });
  }
}
