import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Draft } from '../domain/draft.js';
import type { PendingDraftsByAge } from '../notifications/reminders.js';
import { withStoreErrors } from './dynamo-client.js';
import { fromItem } from './drafts-store.js';

/**
 * Pending drafts by creation time, from the by-status index (status = pending, listKey =
 * createdAt#id): a key range, so the reminder sweep reads only the drafts in its window.
 */
export class DynamoPendingDrafts implements PendingDraftsByAge {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  createdBetween(from: string, to: string, limit: number, cursor?: Record<string, unknown>): Promise<{ items: Draft[]; cursor?: Record<string, unknown> }> {
    return withStoreErrors(async () => {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'by-status',
          // listKey is createdAt#id; "$" sorts right after "#", so every draft created at `to` is included.
          KeyConditionExpression: '#status = :pending AND listKey BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':from': from, ':to': `${to}$` },
          Limit: limit,
          ExclusiveStartKey: cursor,
        }),
      );
      return { items: Items.map(fromItem), cursor: LastEvaluatedKey };
    });
  }
}
