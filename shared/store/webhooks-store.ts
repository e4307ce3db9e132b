import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { EndpointStore, ReplaceResult, WebhookEndpoint } from '../webhooks/endpoints.js';
import { withStoreErrors } from './dynamo-client.js';

const KIND = 'endpoint';

export class DynamoEndpointStore implements EndpointStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  put(endpoint: WebhookEndpoint): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { ...endpoint, version: 1, kind: KIND }, ConditionExpression: 'attribute_not_exists(id)' }),
      );
    });
  }

  get(id: string): Promise<WebhookEndpoint | undefined> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
      return Item ? strip(Item) : undefined;
    });
  }

  replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<ReplaceResult> {
    return withStoreErrors(async () => {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...endpoint, version: expectedVersion + 1, kind: KIND },
            // Endpoints stored before versions existed count as version 0.
            ConditionExpression: expectedVersion === 0 ? 'attribute_exists(id) AND attribute_not_exists(version)' : 'version = :expected',
            ...(expectedVersion === 0 ? {} : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'replaced';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return error.Item ? 'conflict' : 'missing';
        throw error;
      }
    });
  }

  delete(id: string): Promise<boolean> {
    return withStoreErrors(async () => {
      const { Attributes } = await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: 'ALL_OLD' }));
      return Attributes !== undefined;
    });
  }

  /** Endpoints are few per deployment; the kind index returns them oldest first without a scan. */
  listAll(): Promise<WebhookEndpoint[]> {
    return withStoreErrors(async () => {
      const all: WebhookEndpoint[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'by-kind',
            KeyConditionExpression: 'kind = :k',
            ExpressionAttributeValues: { ':k': KIND },
            ExclusiveStartKey: start,
          }),
        );
        all.push(...(page.Items ?? []).map(strip));
        start = page.LastEvaluatedKey;
      } while (start);
      return all;
    });
  }
}

function strip(item: Record<string, unknown>): WebhookEndpoint {
  const { kind: _kind, ...endpoint } = item;
  return { ...endpoint, version: typeof endpoint.version === 'number' ? endpoint.version : 0 } as unknown as WebhookEndpoint;
}
