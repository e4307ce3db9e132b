import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DraftStatus } from '../domain/draft.js';
import { draftShard } from './draft-shards.js';

/**
 * Gives drafts stored before the sharded listing indexes their shard attributes (statusShard,
 * createdShard, and expiryShard for pending drafts with an expiresAt), so they appear in the new
 * indexes. Each update is conditional on the status it read: a draft decided meanwhile by the
 * current code already carries the right statusShard, and is skipped. Safe to run again.
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
      const id = String(item.id);
      const status = item.status as DraftStatus;
      const shard = draftShard(id);
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
              ':statusShard': `${status}#${shard}`,
              ':createdShard': `all#${shard}`,
              ...(queued ? { ':expiryShard': `pending#${shard}` } : {}),
            },
          }),
        );
        updated++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        skipped++;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { updated, skipped };
}
