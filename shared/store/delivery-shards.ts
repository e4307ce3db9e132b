import { shardNumbers, shardOf } from './shards.js';

/**
 * How many partitions each webhook endpoint's delivery states and attempt log spread over
 * (`<endpointId>#0..N-1` in the deliveries table's partition key). A delivered message writes about
 * 3–4 WRU there (the fan-out's state, the delivery's state save, the attempt), and one partition
 * takes about 1,000 WRU/s: 16 shards carry 1,000 messages/s per endpoint at about a quarter of
 * that (the capacity model in test/bench/capacity.ts reads this number). Fixed: an event's shard
 * is in its stored keys, so changing it strands the stored states of other shard counts.
 * Kept apart from the app definition so that functions import the number, not the definition.
 */
export const DELIVERY_SHARDS = 16;

/** The partition key value of one event's delivery state and attempts for one endpoint: the shard is a pure function of the event id. */
export const deliveryPartition = (endpointId: string, eventId: string): string => `${endpointId}#${shardOf(eventId, DELIVERY_SHARDS)}`;

/**
 * Every partition that can hold an endpoint's deliveries: its shards, then the plain endpoint id,
 * where states and attempts were written before sharding (kept until they expire by TTL).
 */
export const deliveryPartitions = (endpointId: string): string[] => [...shardNumbers(DELIVERY_SHARDS).map((n) => `${endpointId}#${n}`), endpointId];
