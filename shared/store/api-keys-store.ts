import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import type { ApiKeyRecord, ApiKeyStore } from '../domain/api-keys.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { withStoreErrors } from './dynamo-client.js';

const positionSchema = z.strictObject({ keyHash: z.string().regex(/^[0-9a-f]{64}$/) });

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  put(record: ApiKeyRecord): Promise<void> {
    return withStoreErrors(async () => {
      // Never overwrites: a key, once revoked, can only be revoked (a put over it would revive it).
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(keyHash)' }));
    });
  }

  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return withStoreErrors(async () => {
      // Strongly consistent: a key revoked a moment ago must already be refused.
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { keyHash }, ConsistentRead: true }));
      return Item as ApiKeyRecord | undefined;
    });
  }

  findById(id: string): Promise<ApiKeyRecord | undefined> {
    return withStoreErrors(async () => {
      const { Items = [] } = await this.client.send(
        new QueryCommand({ TableName: this.tableName, IndexName: 'by-id', KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': id } }),
      );
      return Items[0] as ApiKeyRecord | undefined;
    });
  }

  /** The keys table holds only API keys (a handful per team), so an admin listing may scan it. */
  list(limit: number, cursor?: string): Promise<{ items: ApiKeyRecord[]; nextCursor?: string }> {
    const start = cursor !== undefined ? decodeCursor(cursor, 'keys', positionSchema) : undefined;
    return withStoreErrors(async () => {
      const { Items = [], LastEvaluatedKey } = await this.client.send(new ScanCommand({ TableName: this.tableName, Limit: limit, ExclusiveStartKey: start }));
      return {
        items: Items as ApiKeyRecord[],
        nextCursor: LastEvaluatedKey ? encodeCursor('keys', { keyHash: String(LastEvaluatedKey.keyHash) }) : undefined,
      };
    });
  }

  revoke(keyHash: string, at: string): Promise<ApiKeyRecord> {
    return withStoreErrors(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { keyHash },
          // Revoking twice keeps the first revocation time.
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(keyHash)',
          ExpressionAttributeValues: { ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as ApiKeyRecord;
    });
  }
}
