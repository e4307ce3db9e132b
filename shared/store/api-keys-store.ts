import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { SlackUserLinkedError, type ApiKeyRecord, type ApiKeyStore, type SlackLinkResult } from '../domain/api-keys.js';
import { ServiceUnavailableError } from '../domain/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { retryUnprocessed } from './batch-retry.js';
import { withStoreErrors } from './dynamo-client.js';

const positionSchema = z.strictObject({ keyHash: z.string().check(z.regex(/^(?:[0-9a-f]{64}|slack-user#[UW][A-Z0-9]{2,31})$/)) });

/**
 * A Slack user's link to its key lives in the keys table as its own item, keyed by the user: a
 * conditional put of it in the same transaction as the key's change makes "one key per Slack
 * user" hold under concurrent requests. Its key never looks like a key hash (64 hex digits), and
 * it has no `id`, so the by-id index never holds it.
 */
const slackLinkKey = (slackUserId: string) => `slack-user#${slackUserId}`;
const isLink = (item: Record<string, unknown>) => typeof item.linkedKeyHash === 'string';

/** Tries of one write to a key item (jittered backoff between, about 1.6 s at most in all). */
const KEY_WRITE_ATTEMPTS = 8;

/** Refused only because another transaction held the item at that moment: nothing was written, and nothing was judged. */
const isConflict = (error: unknown): boolean => {
  if (error instanceof TransactionConflictException) return true;
  if (!(error instanceof TransactionCanceledException)) return false;
  const reasons = error.CancellationReasons?.map((r) => r.Code) ?? [];
  return reasons.includes('TransactionConflict') && !reasons.includes('ConditionalCheckFailed');
};

/**
 * Every decision by a key is a transaction that checks the key's item, and DynamoDB refuses a write
 * to an item such a transaction holds (the SDK does not retry that). A key deciding in a loop must
 * still be revocable: the write is tried again, and a key still busy after that is a 503, not a 500.
 */
async function retryingConflicts<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt >= KEY_WRITE_ATTEMPTS) throw new ServiceUnavailableError(1);
    }
    await sleep(Math.random() * Math.min(500, 10 * 2 ** attempt));
  }
}

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  put(record: ApiKeyRecord): Promise<void> {
    return withStoreErrors(async () => {
      // Never overwrites: a key, once revoked, can only be revoked (a put over it would revive it).
      const put = { TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(keyHash)' };
      if (!record.slackUserId) {
        await this.client.send(new PutCommand(put));
        return;
      }
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, { Put: this.linkPut(record.slackUserId, record) }] }));
      } catch (error) {
        if (error instanceof TransactionCanceledException && error.CancellationReasons?.[1]?.Code === 'ConditionalCheckFailed')
          throw new SlackUserLinkedError(record.slackUserId);
        throw error;
      }
    });
  }

  private linkPut(slackUserId: string, record: ApiKeyRecord) {
    return {
      TableName: this.tableName,
      Item: { keyHash: slackLinkKey(slackUserId), linkedKeyHash: record.keyHash, keyId: record.id, slackUserId },
      ConditionExpression: 'attribute_not_exists(keyHash)',
    };
  }

  findBySlackUser(slackUserId: string): Promise<ApiKeyRecord | undefined> {
    return withStoreErrors(async () => {
      const { Item: link } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { keyHash: slackLinkKey(slackUserId) }, ConsistentRead: true }),
      );
      if (!link || !isLink(link)) return undefined;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { keyHash: link.linkedKeyHash }, ConsistentRead: true }));
      return Item as ApiKeyRecord | undefined;
    });
  }

  setSlackUser(record: ApiKeyRecord, slackUserId: string | undefined): Promise<SlackLinkResult> {
    const previous = record.slackUserId;
    return withStoreErrors(async () => {
      // Only while the key is live and still linked as read: a concurrent change makes this fail, not overwrite.
      const unchanged = previous ? 'slackUserId = :previous' : 'attribute_not_exists(slackUserId)';
      const update = {
        TableName: this.tableName,
        Key: { keyHash: record.keyHash },
        UpdateExpression: slackUserId ? 'SET slackUserId = :next' : 'REMOVE slackUserId',
        ConditionExpression: `attribute_exists(keyHash) AND attribute_not_exists(revokedAt) AND ${unchanged}`,
        ExpressionAttributeValues: { ...(previous ? { ':previous': previous } : {}), ...(slackUserId ? { ':next': slackUserId } : {}) },
      };
      if (previous === slackUserId) {
        // Nothing to write: a strong read confirms the key is still live and linked as asked.
        const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { keyHash: record.keyHash }, ConsistentRead: true }));
        const current = Item as ApiKeyRecord | undefined;
        return current && !current.revokedAt && current.slackUserId === previous ? { kind: 'updated', record: current } : { kind: 'changed' };
      }
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [{ Update: update }];
      if (slackUserId) items.push({ Put: this.linkPut(slackUserId, record) });
      if (previous)
        items.push({
          Delete: {
            TableName: this.tableName,
            Key: { keyHash: slackLinkKey(previous) },
            ConditionExpression: 'linkedKeyHash = :keyHash',
            ExpressionAttributeValues: { ':keyHash': record.keyHash },
          },
        });
      try {
        await retryingConflicts(() => this.client.send(new TransactWriteCommand({ TransactItems: items })));
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons?.map((r) => r.Code) ?? [];
        if (slackUserId && reasons[1] === 'ConditionalCheckFailed' && reasons[0] !== 'ConditionalCheckFailed') return { kind: 'taken' };
        if (reasons.includes('ConditionalCheckFailed')) return { kind: 'changed' };
        throw error;
      }
      const { slackUserId: _previous, ...rest } = record;
      return { kind: 'updated', record: slackUserId ? { ...rest, slackUserId } : rest };
    });
  }

  setGroups(keyHash: string, groups: string[]): Promise<ApiKeyRecord | undefined> {
    return withStoreErrors(async () => {
      try {
        const { Attributes } = await retryingConflicts(() =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { keyHash },
              UpdateExpression: groups.length > 0 ? 'SET #groups = :groups' : 'REMOVE #groups',
              // A revoked key stays as it was revoked; the condition makes a concurrent revocation win.
              ConditionExpression: 'attribute_exists(keyHash) AND attribute_not_exists(revokedAt)',
              ExpressionAttributeNames: { '#groups': 'groups' },
              ExpressionAttributeValues: groups.length > 0 ? { ':groups': groups } : undefined,
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return Attributes as ApiKeyRecord;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    });
  }

  releaseSlackUser(slackUserId: string, keyHash: string): Promise<void> {
    return withStoreErrors(async () => {
      await this.client
        .send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: { keyHash: slackLinkKey(slackUserId) },
            ConditionExpression: 'linkedKeyHash = :keyHash',
            ExpressionAttributeValues: { ':keyHash': keyHash },
          }),
        )
        .catch((error: unknown) => {
          // Already released, or linked to another key since: nothing of this key's to free.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
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

  findByHashes(keyHashes: readonly string[]): Promise<ApiKeyRecord[]> {
    return withStoreErrors(async () => {
      const found: ApiKeyRecord[] = [];
      for (let i = 0; i < keyHashes.length; i += 100) {
        const unread = await retryUnprocessed(
          keyHashes.slice(i, i + 100).map((keyHash) => ({ keyHash })),
          async (pending) => {
            const { Responses, UnprocessedKeys } = await this.client.send(
              new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...pending], ConsistentRead: true } } }),
            );
            found.push(...((Responses?.[this.tableName] ?? []) as ApiKeyRecord[]));
            return (UnprocessedKeys?.[this.tableName]?.Keys as Array<{ keyHash: string }> | undefined) ?? [];
          },
        );
        // Keys left unread (throttling) are not judged missing (that would drop their approvals): a 503 instead.
        if (unread.length > 0) throw new ServiceUnavailableError(1);
      }
      return found;
    });
  }

  findByIdsConsistently(ids: readonly string[]): Promise<ApiKeyRecord[]> {
    return withStoreErrors(async () => {
      // A strongly consistent scan: the table holds a handful of keys, and only keys created a moment ago come here.
      const values = Object.fromEntries(ids.map((id, i) => [`:id${i}`, id]));
      const found: ApiKeyRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: `id IN (${Object.keys(values).join(', ')})`,
            ExpressionAttributeValues: values,
            ExclusiveStartKey: start,
          }),
        );
        found.push(...((page.Items ?? []) as ApiKeyRecord[]));
        start = page.LastEvaluatedKey;
      } while (start);
      return found;
    });
  }

  /** The keys table holds only API keys (a handful per team), so an admin listing may scan it. */
  list(limit: number, cursor?: string): Promise<{ items: ApiKeyRecord[]; nextCursor?: string }> {
    const start = cursor !== undefined ? decodeCursor(cursor, 'keys', positionSchema) : undefined;
    return withStoreErrors(async () => {
      const { Items = [], LastEvaluatedKey } = await this.client.send(new ScanCommand({ TableName: this.tableName, Limit: limit, ExclusiveStartKey: start }));
      return {
        // Slack links share the table; they are not keys.
        items: Items.filter((item) => !isLink(item)) as ApiKeyRecord[],
        nextCursor: LastEvaluatedKey ? encodeCursor('keys', { keyHash: String(LastEvaluatedKey.keyHash) }) : undefined,
      };
    });
  }

  revoke(keyHash: string, at: string): Promise<ApiKeyRecord> {
    return withStoreErrors(async () => {
      const { Attributes } = await retryingConflicts(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { keyHash },
            // Revoking twice keeps the first revocation time.
            UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
            ConditionExpression: 'attribute_exists(keyHash)',
            ExpressionAttributeValues: { ':at': at },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return Attributes as ApiKeyRecord;
    });
  }
}
