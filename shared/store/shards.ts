/**
 * Write sharding for partitions that one busy key would make hot (DynamoDB takes about 1,000
 * writes/s per partition): items of one key are spread over `<key>#0..N-1` by a hash of their own
 * id, and listings query every shard at once and merge the results newest first.
 */

/** FNV-1a of the id, mod `count`: a pure function of the id, so every write of one item lands in the same shard without coordination. */
export function shardOf(id: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

/** Shard numbers 0..count-1, the partitions a listing reads. */
export const shardNumbers = (count: number): readonly number[] => Array.from({ length: count }, (_, n) => n);

/**
 * Every shard's results merged by a key unique across shards (so the order is total and the same on
 * every read), newest (largest key) first or oldest first. Each shard gave its first limit+1 past
 * the cursor in that order: the first `limit` of the merge are the page, and anything past them
 * means another page exists.
 */
export function mergeShards<T>(perShard: T[][], sortKey: (item: T) => string, limit: number, order: 'newest' | 'oldest'): { page: T[]; more: boolean } {
  const sign = order === 'newest' ? -1 : 1;
  const merged = perShard.flat().sort((a, b) => {
    const x = sortKey(a);
    const y = sortKey(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
  return { page: merged.slice(0, limit), more: merged.length > limit };
}

export const mergeNewestFirst = <T>(perShard: T[][], sortKey: (item: T) => string, limit: number) => mergeShards(perShard, sortKey, limit, 'newest');
