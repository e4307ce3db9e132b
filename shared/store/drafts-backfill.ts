import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DraftStatus } from '../domain/draft.js';
import { draftShardKey } from './draft-shards.js';

/**
 * Gives drafts stored before the sharded listing indexes their shard attributes (statusShard,
 * createdShard, and expiryShard for pending drafts with an expiresAt), so they appear in the new
 * indexes. Each update is conditional on the status it read; a draft decided or expired meanwhile
 * (the current code writes only statusShard then) is read again and updated for its new status,
 * so no draft is left out of the all-drafts listing. `skipped` counts drafts deleted meanwhile.
 * Safe to run again, and while the app runs.
 */
export async function backfillDraftShards(client: DynamoDBDocumentClient, tableName: string): Promise<{ updated: number; skipped: number }> {
  let updated = 0;
  let skipped = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'kind = :draft AND (attribute_not_exists(statusShard) OR attribute_not_exists(createdShard) OR attribute_exists(expiryQueue))',
        ProjectionExpression: 'id, #status, expiresAt',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':draft': 'draft' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      if (await backfillOne(client, tableName, item)) updated++;
      else skipped++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { updated, skipped };
}

/** A status change is rare and final (pending → decided or expired), so a few rounds always settle. */
const BACKFILL_ATTEMPTS = 5;

/** Writes one draft's shard attributes for the status it has; false when it no longer exists. */
async function backfillOne(client: DynamoDBDocumentClient, tableName: string, read: Record<string, unknown>): Promise<boolean> {
  const id = String(read.id);
  let item: Record<string, unknown> | undefined = read;
  for (let attempt = 1; item && attempt <= BACKFILL_ATTEMPTS; attempt++) {
    const status = item.status as DraftStatus;
    const queued = status === 'pending' && item.expiresAt !== undefined;
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { id },
          UpdateExpression: `SET statusShard = :statusShard, createdShard = :createdShard${queued ? ', expiryShard = :expiryShard' : ''} REMOVE expiryQueue`,
          ConditionExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':statusShard': draftShardKey(status, id),
            ':createdShard': draftShardKey('all', id),
            ...(queued ? { ':expiryShard': draftShardKey('pending', id) } : {}),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Decided, expired or deleted since it was read: try again with the draft as the failed condition saw it.
      item = error.Item ? unmarshall(error.Item) : undefined;
    }
  }
  if (item) throw new Error(`Draft ${id} kept changing while its shard attributes were written; run the backfill again`);
  return false;
}
