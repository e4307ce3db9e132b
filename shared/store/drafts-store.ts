import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import type { Draft, DraftStatus, RejectionChange } from '../domain/draft.js';
import type { ApproveResult, CreateResult, DeciderKeyCheck, DraftPage, DraftStore, IdempotencyClaim, RejectResult } from '../domain/drafts-service.js';
import { asLeftByApproval, type ApprovalChange, type ApprovalLapse } from '../domain/approvals.js';
import { ServiceUnavailableError } from '../domain/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { draftShardKey, draftShardKeys } from './draft-shards.js';
import { mergeNewestFirst, mergeShards } from './shards.js';
import { withStoreErrors } from './dynamo-client.js';

/**
 * How a draft is laid out in DynamoDB. Content and metadata are stored as JSON strings: the
 * stored bytes are exactly what the agent sent, and DynamoDB's limits on number range and
 * nesting depth can never reject a valid JSON document.
 */
export interface DraftItem {
  id: string;
  kind: 'draft';
  status: DraftStatus;
  /** Sort key of both list indexes: newest first, ties broken by id. */
  listKey: string;
  /** Partition key of the by-status-shard index: <status>#<shard of the id>. */
  statusShard: string;
  /** Partition key of the by-created-shard index: all#<shard of the id>. */
  createdShard: string;
  title: string;
  contentJson: string;
  metadataJson: string;
  originalContentJson?: string;
  createdAt: string;
  createdBy: Draft['createdBy'];
  reviewedAt?: string;
  reviewedBy?: Draft['reviewedBy'];
  rejectionReason?: string;
  expiresAt?: string;
  /** pending#<shard>, set only while a draft with expiresAt is pending: the sparse expiry index holds exactly the drafts to sweep. */
  expiryShard?: string;
  reviewers?: string[];
  requiredApprovals?: number;
  approvals?: Draft['approvals'];
  /** The key ids of `approvals`, in the same order: what a condition can test with contains() and size(). */
  approvedBy?: string[];
  approvalRound?: number;
  history: Draft['history'];
}

const statusShardOf = (status: DraftStatus, id: string) => draftShardKey(status, id);
const expiryShardOf = (id: string) => draftShardKey('pending', id);

export function toItem(draft: Draft): DraftItem {
  return {
    id: draft.id,
    kind: 'draft',
    status: draft.status,
    listKey: `${draft.createdAt}#${draft.id}`,
    statusShard: statusShardOf(draft.status, draft.id),
    createdShard: draftShardKey('all', draft.id),
    title: draft.title,
    contentJson: JSON.stringify(draft.content),
    metadataJson: JSON.stringify(draft.metadata),
    ...(draft.originalContent ? { originalContentJson: JSON.stringify(draft.originalContent) } : {}),
    createdAt: draft.createdAt,
    createdBy: draft.createdBy,
    reviewedAt: draft.reviewedAt,
    reviewedBy: draft.reviewedBy,
    rejectionReason: draft.rejectionReason,
    expiresAt: draft.expiresAt,
    ...(draft.expiresAt && draft.status === 'pending' ? { expiryShard: expiryShardOf(draft.id) } : {}),
    reviewers: draft.reviewers ?? [],
    requiredApprovals: draft.requiredApprovals ?? 1,
    approvals: draft.approvals ?? [],
    approvedBy: (draft.approvals ?? []).map((a) => a.by.keyId),
    approvalRound: draft.approvalRound ?? 0,
    history: draft.history,
  };
}

/** Also used by the stream consumer, which receives the same items as stream images. */
export function fromItem(item: Record<string, unknown>): Draft {
  const i = item as unknown as DraftItem;
  return {
    id: i.id,
    title: i.title,
    content: JSON.parse(i.contentJson),
    metadata: JSON.parse(i.metadataJson),
    status: i.status,
    createdAt: i.createdAt,
    createdBy: i.createdBy,
    ...(i.reviewedAt ? { reviewedAt: i.reviewedAt } : {}),
    ...(i.reviewedBy ? { reviewedBy: i.reviewedBy } : {}),
    ...(i.rejectionReason !== undefined ? { rejectionReason: i.rejectionReason } : {}),
    ...(i.originalContentJson ? { originalContent: JSON.parse(i.originalContentJson) } : {}),
    ...(i.expiresAt ? { expiresAt: i.expiresAt } : {}),
    // Drafts stored before assignment existed: anyone decides, alone.
    reviewers: i.reviewers ?? [],
    requiredApprovals: i.requiredApprovals ?? 1,
    approvals: i.approvals ?? [],
    approvalRound: i.approvalRound ?? 0,
    history: i.history ?? [],
  };
}

/**
 * The shape of a list position, per listing: the last listKey returned (every shard resumes below
 * it), and the status or kind of the listing, so a cursor cannot be used on another listing.
 */
const positionSchema = (status?: DraftStatus) => {
  const position = z.strictObject({
    id: z.string().check(z.minLength(1), z.maxLength(64)),
    listKey: z.string().check(z.minLength(1), z.maxLength(200)),
    status: status ? z.literal(status) : z.optional(z.never()),
    kind: status ? z.optional(z.never()) : z.literal('draft'),
  });
  return position.check(z.refine((p) => p.listKey.endsWith(`#${p.id}`)));
};

/** Bounded retries of a BatchGetItem's unprocessed keys (throttling): past them the listing is a 503, never a page with holes. */
const BATCH_GET_ATTEMPTS = 6;

/** Tries of one decision's write that met a concurrent transaction on the same draft (with jittered backoff between). */
const DECISION_WRITE_ATTEMPTS = 6;

/** Transaction cancellation reasons that say "not now" rather than "never". */
const TRANSIENT_CANCELLATIONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

export class DynamoDraftStore implements DraftStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Only the store of the function that creates drafts has it (createDraft alone is bound to that table). */
    private readonly idempotencyTableName?: string,
    /** The API keys table: decisions by a key are written in one transaction with a check of the key (DeciderKeyCheck). */
    private readonly keysTableName?: string,
  ) {}

  private keysTable(): string {
    if (!this.keysTableName) throw new Error('This draft store was built without the API keys table: draftStoreFromEnv({ deciderKeys: true })');
    return this.keysTableName;
  }

  private claimsTable(): string {
    if (!this.idempotencyTableName) throw new Error('This draft store was built without the idempotency table: draftStoreFromEnv({ idempotency: true })');
    return this.idempotencyTableName;
  }

  create(draft: Draft, claim?: IdempotencyClaim): Promise<CreateResult> {
    return withStoreErrors(() => (claim ? this.createWithClaim(draft, claim) : this.createPlain(draft)));
  }

  private async createPlain(draft: Draft): Promise<CreateResult> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: toItem(draft), ConditionExpression: 'attribute_not_exists(id)' }));
    return { kind: 'created', draft };
  }

  /** Draft and idempotency record are written in one transaction: neither can exist without the other. */
  private async createWithClaim(draft: Draft, claim: IdempotencyClaim): Promise<CreateResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.claimsTable(),
                  Item: { id: claim.id, draftId: draft.id, requestHash: claim.requestHash, expiresAtEpoch: claim.expiresAtEpoch },
                  // An expired claim that TTL has not yet deleted may be taken over.
                  ConditionExpression: 'attribute_not_exists(id) OR expiresAtEpoch < :nowEpoch',
                  ExpressionAttributeValues: { ':nowEpoch': Math.floor(Date.parse(draft.createdAt) / 1000) },
                },
              },
              { Put: { TableName: this.tableName, Item: toItem(draft), ConditionExpression: 'attribute_not_exists(id)' } },
            ],
          }),
        );
        return { kind: 'created', draft };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons?.map((r) => r.Code) ?? [];
        if (reasons[0] === 'ConditionalCheckFailed') {
          const replay = await this.replay(claim.id);
          if (replay) return replay;
        }
        // A concurrent request holding the same key is mid-transaction, or the table is
        // throttling: wait and try again; past that, the client is told to retry later.
        if (attempt >= 5) {
          if (reasons.some((r) => TRANSIENT_CANCELLATIONS.has(r ?? ''))) throw new ServiceUnavailableError(1);
          throw error;
        }
        await sleep(25 * 2 ** attempt);
      }
    }
  }

  private async replay(claimId: string): Promise<CreateResult | undefined> {
    const { Item: record } = await this.client.send(new GetCommand({ TableName: this.claimsTable(), Key: { id: claimId }, ConsistentRead: true }));
    if (!record) return undefined;
    const draft = await this.getConsistent(String(record.draftId));
    if (!draft) return undefined;
    return { kind: 'replayed', draft, requestHash: String(record.requestHash) };
  }

  get(id: string): Promise<Draft | undefined> {
    return withStoreErrors(() => this.getConsistent(id));
  }

  private async getConsistent(id: string): Promise<Draft | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return Item ? fromItem(Item) : undefined;
  }

  list(query: { status?: DraftStatus; limit: number; cursor?: string }): Promise<DraftPage> {
    const scope = query.status ?? '*';
    const start = query.cursor !== undefined ? decodeCursor(query.cursor, `drafts:${scope}`, positionSchema(query.status)) : undefined;
    const status = query.status;
    return withStoreErrors(async () => {
      // Every shard gives its newest limit+1 keys below the cursor; their merge holds the page's
      // keys, and one more tells whether another page exists (so the last page has no cursor).
      const perShard = await Promise.all(
        draftShardKeys(status ?? 'all').map(async (shardKey) => {
          const { Items = [] } = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: status ? 'by-status-shard' : 'by-created-shard',
              KeyConditionExpression: start ? '#shard = :shard AND listKey < :before' : '#shard = :shard',
              ExpressionAttributeNames: { '#shard': status ? 'statusShard' : 'createdShard' },
              ExpressionAttributeValues: { ':shard': shardKey, ...(start ? { ':before': start.listKey } : {}) },
              ScanIndexForward: false,
              Limit: query.limit + 1,
            }),
          );
          return Items as Array<{ id: string; listKey: string }>;
        }),
      );
      // listKey (createdAt#id) is unique, so the merged order is total and the same on every read.
      const { page: pageKeys, more } = mergeNewestFirst(perShard, (k) => k.listKey, query.limit);
      const fetched = await this.getMany(pageKeys.map((k) => k.id));
      // The index lags the table: a draft decided (or deleted) since is left out rather than shown
      // under a status it no longer has, so a page can come back shorter than limit.
      const items = pageKeys.flatMap((k) => {
        const draft = fetched.get(k.id);
        return draft && (!status || draft.status === status) ? [draft] : [];
      });
      const last = pageKeys.at(-1);
      const nextCursor =
        more && last ? encodeCursor(`drafts:${scope}`, { id: last.id, listKey: last.listKey, ...(status ? { status } : { kind: 'draft' }) }) : undefined;
      return { items, nextCursor };
    });
  }

  /** The drafts of these ids that exist, in the same order. */
  async getByIds(ids: string[]): Promise<Draft[]> {
    const fetched = await this.getMany(ids);
    return ids.flatMap((id) => fetched.get(id) ?? []);
  }

  /**
   * The current drafts of these ids (strongly consistent: the status filter then sees the latest
   * decision), by BatchGetItem in chunks of 100; unprocessed keys are retried with backoff, bounded.
   */
  private async getMany(ids: string[]): Promise<Map<string, Draft>> {
    const found = new Map<string, Draft>();
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
    await Promise.all(
      chunks.map(async (chunk) => {
        let keys: Array<Record<string, unknown>> = chunk.map((id) => ({ id }));
        for (let attempt = 1; keys.length > 0; attempt++) {
          if (attempt > BATCH_GET_ATTEMPTS) throw new ServiceUnavailableError(1);
          if (attempt > 1) await sleep(Math.random() * 25 * 2 ** attempt);
          const { Responses, UnprocessedKeys } = await this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of Responses?.[this.tableName] ?? []) found.set(String(item.id), fromItem(item));
          keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        }
      }),
    );
    return found;
  }

  count(status: DraftStatus): Promise<number> {
    return withStoreErrors(async () => {
      const counts = await Promise.all(
        draftShardKeys(status).map(async (shardKey) => {
          let total = 0;
          let start: Record<string, unknown> | undefined;
          do {
            const page = await this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: 'by-status-shard',
                KeyConditionExpression: 'statusShard = :shard',
                ExpressionAttributeValues: { ':shard': shardKey },
                Select: 'COUNT',
                ExclusiveStartKey: start,
              }),
            );
            total += page.Count ?? 0;
            start = page.LastEvaluatedKey;
          } while (start);
          return total;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    });
  }

  listExpired(now: Date, limit: number): Promise<Array<Pick<Draft, 'id'>>> {
    return withStoreErrors(async () => {
      const perShard = await Promise.all(
        draftShardKeys('pending').map(async (shardKey) => {
          const { Items = [] } = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: 'expiry-shard',
              KeyConditionExpression: 'expiryShard = :shard AND expiresAt <= :now',
              ExpressionAttributeValues: { ':shard': shardKey, ':now': now.toISOString() },
              Limit: limit,
            }),
          );
          return Items as Array<{ id: string; expiresAt: string }>;
        }),
      );
      // The longest overdue first, across shards (expiresAt#id is unique). Only ids: expire()
      // re-checks each one's status and time in its conditional write.
      return mergeShards(perShard, (k) => `${k.expiresAt}#${k.id}`, limit, 'oldest').page.map((k) => ({ id: k.id }));
    });
  }

  expire(id: string, at: Date): Promise<boolean> {
    const now = at.toISOString();
    return withStoreErrors(async () => {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id },
            UpdateExpression: 'SET #status = :expired, statusShard = :statusShard, history = list_append(history, :entry) REMOVE expiryShard',
            ConditionExpression: '#status = :pending AND expiresAt <= :now',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':expired': 'expired',
              ':statusShard': statusShardOf('expired', id),
              ':pending': 'pending',
              ':now': now,
              ':entry': [{ action: 'expired', at: now, actor: null }],
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        // A decision's transaction was writing the draft at that moment: the next sweep sees what became of it.
        if (error instanceof TransactionConflictException) return false;
        throw error;
      }
    });
  }

  reject(id: string, change: RejectionChange, keyCheck?: DeciderKeyCheck): Promise<RejectResult> {
    // The status moves the draft to another by-status-shard partition (same shard number).
    const sets = [
      '#status = :status',
      'statusShard = :statusShard',
      'reviewedAt = :reviewedAt',
      'reviewedBy = :reviewedBy',
      'history = list_append(history, :entry)',
    ];
    const values: Record<string, unknown> = {
      ':status': 'rejected',
      ':statusShard': statusShardOf('rejected', id),
      ':reviewedAt': change.reviewedAt,
      ':reviewedBy': change.reviewedBy,
      ':entry': [change.historyEntry],
      ':pending': 'pending',
      ':now': change.reviewedAt,
    };
    if (change.rejectionReason !== undefined) {
      sets.push('rejectionReason = :reason');
      values[':reason'] = change.rejectionReason;
    }
    return withStoreErrors(async () => {
      const outcome = await this.decisionWrite(
        {
          Key: { id },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE expiryShard`,
          // ISO timestamps of one format compare correctly as strings.
          ConditionExpression: 'attribute_exists(id) AND #status = :pending AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        },
        keyCheck,
      );
      switch (outcome.kind) {
        case 'written':
          return outcome.draft ? { kind: 'rejected', draft: outcome.draft } : { kind: 'missing' };
        case 'key-lapsed':
          return outcome;
        case 'condition-failed':
          // The losing writer sees the state that won, read atomically with the failed condition.
          return outcome.current ? { kind: 'not-pending', current: outcome.current } : { kind: 'missing' };
        case 'busy':
          throw new ServiceUnavailableError(1);
      }
    });
  }

  approve(id: string, change: ApprovalChange, keyCheck?: DeciderKeyCheck): Promise<ApproveResult> {
    // The same conditions as approvalApplies (shared/domain/approvals.ts), checked atomically with the write.
    const conditions = [
      'attribute_exists(id)',
      '#status = :pending',
      '(attribute_not_exists(expiresAt) OR expiresAt > :now)',
      change.round === 0 ? '(attribute_not_exists(approvalRound) OR approvalRound = :round)' : 'approvalRound = :round',
    ];
    const values: Record<string, unknown> = {
      ':pending': 'pending',
      ':now': change.approval.at,
      ':round': change.round,
      ':approval': [change.approval],
      ':keyIds': [change.approval.by.keyId],
      ':entries': change.history,
    };
    const sets = ['history = list_append(history, :entries)'];
    if (change.editedContent !== undefined) {
      // An edit voids the approvals of the old content and starts a new round; the agent's original content is kept once.
      sets.push(
        'contentJson = :content',
        'originalContentJson = if_not_exists(originalContentJson, contentJson)',
        'approvals = :approval',
        'approvedBy = :keyIds',
        'approvalRound = :nextRound',
      );
      values[':content'] = JSON.stringify(change.editedContent);
      values[':nextRound'] = change.round + 1;
    } else if (change.prune) {
      // Approvals of revoked keys are dropped: the whole list is rewritten, only if it is still exactly the one read.
      conditions.push('approvedBy = :expected');
      values[':expected'] = change.prune.expectApprovedBy;
      values[':all'] = [...change.prune.keep, change.approval];
      values[':allIds'] = [...change.prune.keep, change.approval].map((a) => a.by.keyId);
      sets.push('approvals = :all', 'approvedBy = :allIds');
      delete values[':approval'];
      delete values[':keyIds'];
    } else {
      values[':keyId'] = change.approval.by.keyId;
      values[':empty'] = [];
      conditions.push('NOT contains(approvedBy, :keyId)');
      if (change.completes) {
        values[':prior'] = change.priorCount;
        conditions.push(change.priorCount === 0 ? '(attribute_not_exists(approvedBy) OR size(approvedBy) = :prior)' : 'size(approvedBy) = :prior');
      } else {
        values[':short'] = change.required - 1;
        conditions.push('(attribute_not_exists(approvedBy) OR size(approvedBy) < :short)');
      }
      sets.push('approvals = list_append(if_not_exists(approvals, :empty), :approval)', 'approvedBy = list_append(if_not_exists(approvedBy, :empty), :keyIds)');
    }
    if (change.completes) {
      sets.push('#status = :approved', 'statusShard = :statusShard', 'reviewedAt = :now', 'reviewedBy = :by');
      values[':approved'] = 'approved';
      values[':statusShard'] = statusShardOf('approved', id);
      values[':by'] = change.approval.by;
    }
    return withStoreErrors(async () => {
      const outcome = await this.decisionWrite(
        {
          Key: { id },
          UpdateExpression: `SET ${sets.join(', ')}${change.completes ? ' REMOVE expiryShard' : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        },
        keyCheck,
      );
      switch (outcome.kind) {
        case 'written':
          // Only a transaction's read can have later writes in it: a plain update returns its own result.
          return outcome.draft ? { kind: 'applied', draft: keyCheck ? asLeftByApproval(outcome.draft, change) : outcome.draft } : { kind: 'missing' };
        case 'key-lapsed':
          return outcome;
        case 'condition-failed':
        case 'busy': {
          // Busy (other transactions on the draft kept winning): like a lost condition, the caller plans again on the draft as it is now.
          const current = outcome.kind === 'busy' ? await this.getConsistent(id) : outcome.current;
          return current ? { kind: 'conflict', current } : { kind: 'missing' };
        }
      }
    });
  }

  /**
   * One decision's conditional update of the draft. With a key check it is one transaction with a
   * ConditionCheck of the decider's key, so a key revoked (or taken out of the draft's groups) once
   * the revocation has returned can decide nothing more. A transaction that lost to a concurrent one
   * on the same items (TransactionConflict), or a plain write that met one, is retried a few times.
   */
  private async decisionWrite(update: DraftUpdate, keyCheck: DeciderKeyCheck | undefined): Promise<DecisionWriteOutcome> {
    for (let attempt = 1; ; attempt++) {
      const outcome = keyCheck ? await this.transactDecision(update, keyCheck) : await this.updateDecision(update);
      if (outcome.kind !== 'busy' || attempt >= DECISION_WRITE_ATTEMPTS) return outcome;
      await sleep(Math.random() * 10 * 2 ** attempt);
    }
  }

  private async updateDecision(update: DraftUpdate): Promise<DecisionWriteOutcome> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({ TableName: this.tableName, ...update, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      return { kind: 'written', draft: fromItem(Attributes!) };
    } catch (error) {
      // A plain write to an item a transaction is writing at that moment.
      if (error instanceof TransactionConflictException) return { kind: 'busy' };
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { kind: 'condition-failed', current: error.Item ? fromItem(unmarshall(error.Item)) : undefined };
    }
  }

  private async transactDecision(update: DraftUpdate, keyCheck: DeciderKeyCheck): Promise<DecisionWriteOutcome> {
    const groups = keyCheck.inAnyGroup ?? [];
    const groupValues = Object.fromEntries(groups.map((g, i) => [`:g${i}`, g]));
    // A key may decide only through one of these groups: no group left (an empty list) fails the check.
    const inGroup = keyCheck.inAnyGroup
      ? ` AND (${
          groups.length > 0
            ? Object.keys(groupValues)
                .map((v) => `contains(#groups, ${v})`)
                .join(' OR ')
            : 'attribute_not_exists(keyHash)'
        })`
      : '';
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: { TableName: this.tableName, ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
            {
              ConditionCheck: {
                TableName: this.keysTable(),
                Key: { keyHash: keyCheck.keyHash },
                ConditionExpression: `attribute_exists(keyHash) AND attribute_not_exists(revokedAt)${inGroup}`,
                ...(groups.length > 0 ? { ExpressionAttributeNames: { '#groups': 'groups' }, ExpressionAttributeValues: groupValues } : {}),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [draftReason, keyReason] = error.CancellationReasons ?? [];
      // The key first: a revoked key is refused whatever became of the draft.
      if (keyReason?.Code === 'ConditionalCheckFailed') {
        const key = keyReason.Item ? unmarshall(keyReason.Item) : undefined;
        return { kind: 'key-lapsed', lapse: !key || key.revokedAt !== undefined ? 'revoked' : 'unassigned' };
      }
      if (draftReason?.Code === 'ConditionalCheckFailed') {
        return { kind: 'condition-failed', current: draftReason.Item ? fromItem(unmarshall(draftReason.Item)) : undefined };
      }
      if ([draftReason, keyReason].some((r) => TRANSIENT_CANCELLATIONS.has(r?.Code ?? ''))) return { kind: 'busy' };
      throw error;
    }
    // A transaction returns no item: the draft is read again, strongly consistently. A rejection ends
    // the draft, so the read is what it left; an approval's is cut back to it (asLeftByApproval).
    return { kind: 'written', draft: await this.getConsistent(String(update.Key.id)) };
  }
}

/** A draft's conditional update, as both a plain UpdateItem and a transaction's Update take it. */
interface DraftUpdate {
  Key: { id: string };
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** written: with the draft after it (undefined only if it vanished since); busy: a concurrent transaction kept getting in the way. */
type DecisionWriteOutcome =
  | { kind: 'written'; draft: Draft | undefined }
  | { kind: 'condition-failed'; current: Draft | undefined }
  | { kind: 'key-lapsed'; lapse: ApprovalLapse }
  | { kind: 'busy' };
