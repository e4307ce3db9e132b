import { shardNumbers, shardOf } from './shards.js';

/**
 * How many partitions each draft listing index spreads its items over (<scope>#0..N-1, picked
 * from the draft id): one index partition takes about 1,000 writes/s, and the review queue's
 * partition takes a create and a decision per draft. Listings merge the shards newest first.
 * Fixed: a draft's shard is part of its stored keys, so changing it needs a backfill.
 * Kept apart from the app definition so that functions import the number, not the definition.
 */
export const DRAFT_LIST_SHARDS = 8;

/**
 * The listing shard of a draft: FNV-1a of its id, mod DRAFT_LIST_SHARDS. A pure function of the
 * id, so every write of a draft (create, decide, expire) lands in the same shard number, and
 * parallel creates spread over the shards without coordinating.
 */
export const draftShard = (id: string): number => shardOf(id, DRAFT_LIST_SHARDS);

/** Shard numbers 0..DRAFT_LIST_SHARDS-1, the partitions a listing reads. */
export const draftShards: readonly number[] = shardNumbers(DRAFT_LIST_SHARDS);

/**
 * A listing index's partition key for a draft: `<scope>#<shard>`, the scope a status (by-status-shard),
 * `all` (by-created-shard) or `pending` (expiry-shard). Built here alone, so writers and readers agree.
 */
export const draftShardKey = (scope: string, id: string): string => `${scope}#${draftShard(id)}`;

/** Every partition key of a scope, the ones a listing queries. */
export const draftShardKeys = (scope: string): string[] => draftShards.map((n) => `${scope}#${n}`);
