import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Draft } from '../domain/draft.js';
import type { PendingDraftsByAge } from '../notifications/reminders.js';
import { withStoreErrors } from './dynamo-client.js';
import { DynamoDraftStore } from './drafts-store.js';
import { DRAFT_LIST_SHARDS, draftShardKeys, draftShards } from './draft-shards.js';

/** Where each shard's read stopped; a shard missing from it is finished. */
type ShardCursor = Record<string, Record<string, unknown>>;

/**
 * Pending drafts by creation time, from the by-status-shard index (statusShard = pending#<n>,
 * listKey = createdAt#id): a key range per shard, so the reminder sweep reads only the drafts in
 * its window. The index holds keys only; the drafts are then read by id (the reminder sweep
 * re-reads each one's status before it sends anyway).
 */
export class DynamoPendingDrafts implements PendingDraftsByAge {
  private readonly drafts: DynamoDraftStore;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.drafts = new DynamoDraftStore(client, tableName);
  }

  /**
   * One page: every shard not yet finished gives up to its share of `limit`. The cursor keeps
   * each unfinished shard's own position, so no draft in the window is skipped or read twice.
   */
  createdBetween(from: string, to: string, limit: number, cursor?: Record<string, unknown>): Promise<{ items: Draft[]; cursor?: Record<string, unknown> }> {
    const positions = cursor as ShardCursor | undefined;
    const open = positions ? draftShards.filter((n) => positions[n] !== undefined) : draftShards;
    const share = Math.max(1, Math.ceil(limit / DRAFT_LIST_SHARDS));
    return withStoreErrors(async () => {
      const pages = await Promise.all(
        open.map(async (n) => {
          const { Items = [], LastEvaluatedKey } = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: 'by-status-shard',
              // listKey is createdAt#id; "$" sorts right after "#", so every draft created at `to` is included.
              KeyConditionExpression: 'statusShard = :shard AND listKey BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':shard': draftShardKeys('pending')[n], ':from': from, ':to': `${to}$` },
              Limit: share,
              ExclusiveStartKey: positions?.[n],
            }),
          );
          return { n, ids: Items.map((item) => String(item.id)), next: LastEvaluatedKey };
        }),
      );
      const next: ShardCursor = {};
      for (const page of pages) if (page.next) next[page.n] = page.next;
      // The index lags the table: a draft decided since is not pending any more.
      const items = (await this.drafts.getByIds(pages.flatMap((p) => p.ids))).filter((d) => d.status === 'pending');
      return { items, ...(Object.keys(next).length > 0 ? { cursor: next } : {}) };
    });
  }
}
