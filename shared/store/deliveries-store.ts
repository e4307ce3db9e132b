import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { deliveryLogExpiry, type DeliveryAttempt, type DeliveryLogStore } from '../webhooks/delivery-log.js';
import { parseDeliveryMessage } from '../webhooks/delivery-message.js';
import type { BreakerRecord } from '../webhooks/circuit-breaker.js';
import {
  stateId,
  type BatchRead,
  type DeliveryState,
  type DeliveryStateStore,
  type RedriveLease,
  type StateKey,
  type StateVersion,
} from '../webhooks/delivery-state.js';
import { BREAKER_KEY, toBreakerRecord } from './breaker-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { deliveryPartition, deliveryPartitions } from './delivery-shards.js';
import { mergeNewestFirst, mergeShards } from './shards.js';
import { retryUnprocessed } from './batch-retry.js';
import { withStoreErrors } from './dynamo-client.js';

const positionSchema = (endpointId: string) =>
  z.strictObject({ endpointId: z.literal(endpointId), attemptKey: z.string().check(z.minLength(1), z.maxLength(300)) });

/** Newest first within an endpoint; the event id and attempt make keys unique. */
const attemptKey = (a: DeliveryAttempt) => `${a.attemptedAt}#${a.eventId}#${a.attempt}`;
/**
 * Delivery states share the endpoint's partition under this prefix. It sorts after every attempt
 * key (those start with a year), so the log reads `attemptKey < STATE_PREFIX` and never sees them.
 */
const STATE_PREFIX = 'state#';
const stateKey = (eventId: string) => `${STATE_PREFIX}${eventId}`;

/**
 * The key attribute endpointId holds the partition, `<endpoint id>#<shard>` (delivery-shards.ts);
 * the endpoint's own id is kept beside it. Items written before sharding have neither the shard
 * nor this attribute: their partition is the endpoint id.
 */
const PLAIN_ENDPOINT_ID = 'plainEndpointId';
/** Until when a redrive holds a dead state (claimRedrive); never read back into a DeliveryState. */
const REDRIVE_CLAIM = 'redriveClaimedUntil';
const endpointIdOf = (item: Record<string, unknown>) => String(item[PLAIN_ENDPOINT_ID] ?? item.endpointId);

export class DynamoDeliveryLogStore implements DeliveryLogStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(attempts: DeliveryAttempt[]): Promise<void> {
    return withStoreErrors(async () => {
      for (let i = 0; i < attempts.length; i += 25) {
        const requests: Record<string, unknown>[] = attempts.slice(i, i + 25).map((a) => ({
          PutRequest: {
            Item: {
              ...a,
              endpointId: deliveryPartition(a.endpointId, a.eventId),
              [PLAIN_ENDPOINT_ID]: a.endpointId,
              attemptKey: attemptKey(a),
              expiresAtEpoch: deliveryLogExpiry(new Date(a.attemptedAt)),
            },
          },
        }));
        // BatchWrite may leave items unprocessed under load: retry those with backoff.
        const unwritten = await retryUnprocessed(requests, async (pending) => {
          const { UnprocessedItems } = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: [...pending] } }));
          return (UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined) ?? [];
        });
        if (unwritten.length > 0) throw new Error(`Delivery log: ${unwritten.length} attempts left unwritten`);
      }
    });
  }

  list(endpointId: string, limit: number, cursor?: string): Promise<{ items: DeliveryAttempt[]; nextCursor?: string }> {
    const start = cursor !== undefined ? decodeCursor(cursor, `deliveries:${endpointId}`, positionSchema(endpointId)) : undefined;
    // Never at or past the states (a hand-made cursor could ask for that).
    const before = start && start.attemptKey < STATE_PREFIX ? start.attemptKey : STATE_PREFIX;
    return withStoreErrors(async () => {
      // Every shard (and the pre-sharding partition) gives its newest limit+1 attempts below the
      // cursor; attempt keys are unique per endpoint, so one key resumes every shard.
      const perShard = await Promise.all(
        deliveryPartitions(endpointId).map(async (partition) => {
          const { Items = [] } = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'endpointId = :e AND attemptKey < :before',
              ExpressionAttributeValues: { ':e': partition, ':before': before },
              ScanIndexForward: false,
              Limit: limit + 1,
            }),
          );
          return Items;
        }),
      );
      const { page, more } = mergeNewestFirst(perShard, (item) => String(item.attemptKey), limit);
      const items = page.map((item) => {
        const { attemptKey: _k, expiresAtEpoch: _x, [PLAIN_ENDPOINT_ID]: _p, ...a } = item;
        return { ...a, endpointId: endpointIdOf(item) } as DeliveryAttempt;
      });
      const last = items.at(-1);
      return {
        items,
        nextCursor: more && last ? encodeCursor(`deliveries:${endpointId}`, { endpointId, attemptKey: attemptKey(last) }) : undefined,
      };
    });
  }
}

/** Where the waiting-states scan resumes: a table key. */
const stateCursorSchema = z.strictObject({
  endpointId: z.string().check(z.minLength(1), z.maxLength(300)),
  attemptKey: z.string().check(z.minLength(1), z.maxLength(300)),
});

/** Where a listing of dead deliveries resumes: after this death (diedAt, then event id: a total order across shards). */
const deadPositionSchema = z.strictObject({
  diedAt: z.string().check(z.minLength(1), z.maxLength(40)),
  eventId: z.string().check(z.minLength(1), z.maxLength(200)),
});
const deadOrderKey = (item: Record<string, unknown>) => `${String(item.diedAt)}#${String(item.eventId)}`;
/**
 * Whether a partition's deaths read so far hold its part of the page: more than `limit` past the
 * cursor, and none unread that sorts before them. The index orders deaths by time only, so deaths
 * at the same time as the last one read may still follow in any event-id order: read on past them.
 */
function holdsPage(found: Record<string, unknown>[], lastDiedAt: string, limit: number): boolean {
  if (found.length <= limit) return false;
  const boundary = found.map(deadOrderKey).sort()[limit]!;
  return lastDiedAt > boundary.slice(0, boundary.indexOf('#'));
}

function toStateItem(state: DeliveryState): Record<string, unknown> {
  const { message, nextAttemptAt, diedAt, deadReason, ...rest } = state;
  return {
    ...rest,
    endpointId: deliveryPartition(state.endpointId, state.eventId),
    [PLAIN_ENDPOINT_ID]: state.endpointId,
    attemptKey: stateKey(state.eventId),
    // Stored as the queue's JSON, exactly what goes back on the queue.
    message: JSON.stringify(message),
    // Index keys must be absent rather than null: only dead states enter the dead-by-endpoint index.
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    // Sharded like the state, so an endpoint failing every delivery does not make one hot index partition.
    ...(state.status === 'dead' && diedAt ? { diedAt, deadEndpointId: deliveryPartition(state.endpointId, state.eventId) } : {}),
    ...(deadReason ? { deadReason } : {}),
    expiresAtEpoch: deliveryLogExpiry(new Date(state.updatedAt)),
  };
}

function fromStateItem(item: Record<string, unknown>): DeliveryState | undefined {
  const message = parseDeliveryMessage(String(item.message ?? ''));
  if (!message) return undefined;
  return {
    endpointId: endpointIdOf(item),
    eventId: String(item.eventId),
    generation: Number(item.generation),
    attempts: Number(item.attempts),
    status: item.status as DeliveryState['status'],
    message,
    updatedAt: String(item.updatedAt),
    nextAttemptAt: (item.nextAttemptAt as string | undefined) ?? null,
    diedAt: (item.diedAt as string | undefined) ?? null,
    deadReason: (item.deadReason as string | undefined) ?? null,
    ...(typeof item.writeId === 'string' ? { writeId: item.writeId } : {}),
  };
}

/**
 * Calls of `read` made in the same turn of the event loop (before it next checks for I/O) become one
 * call with all their keys; each caller gets that call's answer, or its error.
 */
function coalesce<K, R>(read: (keys: K[]) => Promise<R>): (key: K) => Promise<R> {
  let batch: { keys: K[]; answer: Promise<R> } | undefined;
  return (key) => {
    if (!batch) {
      const keys: K[] = [];
      const answer = new Promise<R>((resolve, reject) =>
        setImmediate(() => {
          batch = undefined;
          read(keys).then(resolve, reject);
        }),
      );
      batch = { keys, answer };
    }
    batch.keys.push(key);
    return batch.answer;
  };
}

/** A conditional write's answer: true when applied, false when the stored item differs, 'absent' when there is none (ALL_OLD tells). */
async function conditionally(write: () => Promise<unknown>): Promise<boolean | 'absent'> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return error.Item ? false : 'absent';
    throw error;
  }
}

const states = (items: Record<string, unknown>[]) => items.map(fromStateItem).filter((s): s is DeliveryState => s !== undefined);

/** Delivery states in the deliveries table, next to the endpoint's log. */
export class DynamoDeliveryStateStore implements DeliveryStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  get(endpointId: string, eventId: string): Promise<DeliveryState | undefined> {
    return this.getMany([{ endpointId, eventId }]).then((found) => found.get(stateId({ endpointId, eventId })));
  }

  /**
   * Each state is asked for at its shard and at the plain endpoint id, where it was written before
   * sharding, in the same BatchGetItem (no extra round trip); the shard's copy wins.
   */
  getMany(keys: StateKey[]): Promise<Map<string, DeliveryState>> {
    return this.readBatch(keys, []).then((read) => read.states);
  }

  /** getMany, with the breaker items of `breakersOf` (at the plain endpoint id, BREAKER_KEY) in the same BatchGetItem. */
  readBatch(keys: StateKey[], breakersOf: string[]): Promise<BatchRead> {
    return withStoreErrors(async () => {
      const found = new Map<string, DeliveryState>();
      const breakers = new Map<string, BreakerRecord | undefined>(breakersOf.map((id) => [id, undefined]));
      const fromShard = new Set<string>();
      const unique = [...new Map(keys.map((k) => [stateId(k), k])).values()];
      const all = [
        ...unique.flatMap((k) =>
          [deliveryPartition(k.endpointId, k.eventId), k.endpointId].map((partition) => ({ endpointId: partition, attemptKey: stateKey(k.eventId) })),
        ),
        ...[...breakers.keys()].map((endpointId) => ({ endpointId, attemptKey: BREAKER_KEY })),
      ];
      // BatchGetItem takes 100 keys (50 states); under load it may leave some unread: those are asked again (bounded).
      for (let i = 0; i < all.length; i += 100) {
        const requests = all.slice(i, i + 100);
        const unread = await retryUnprocessed(requests, async (pending) => {
          const { Responses, UnprocessedKeys } = await this.client.send(
            // Strongly consistent: the attempt count decides whether this is the last attempt.
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...pending], ConsistentRead: true } } }),
          );
          for (const item of Responses?.[this.tableName] ?? []) {
            if (item.attemptKey === BREAKER_KEY) {
              breakers.set(String(item.endpointId), toBreakerRecord(item));
              continue;
            }
            const state = fromStateItem(item);
            if (!state) continue;
            const id = stateId(state);
            const sharded = item.endpointId !== state.endpointId;
            if (fromShard.has(id) && !sharded) continue;
            found.set(id, state);
            if (sharded) fromShard.add(id);
          }
          return (UnprocessedKeys?.[this.tableName]?.Keys as typeof requests | undefined) ?? [];
        });
        if (unread.length > 0) throw new Error(`Delivery states: ${unread.length} left unread`);
      }
      return { states: found, breakers };
    });
  }

  save(state: DeliveryState, expected: StateVersion, hint?: { readAbsent?: boolean }): Promise<boolean> {
    return withStoreErrors(async () => {
      const item = toStateItem(state);
      if (!expected) {
        // A state written before sharding lives at the plain endpoint id (until its TTL), where its
        // shard's condition cannot see it: one there means this state exists already (e.g. a fan-out
        // batch retried after the upgrade, whose event was delivered before it). Nothing is written
        // at the plain id any more, so this read cannot race a creation there (nor can the caller's
        // own read of both keys, which `readAbsent` reports).
        if (!hint?.readAbsent && (await this.hasUnshardedState(state))) return false;
        return (await this.put(item, { ConditionExpression: 'attribute_not_exists(attemptKey)' })) === true;
      }
      const update = {
        ConditionExpression: '#g = :g AND attempts = :a',
        ExpressionAttributeNames: { '#g': 'generation' },
        ExpressionAttributeValues: { ':g': expected.generation, ':a': expected.attempts },
      };
      const atShard = await this.put(item, update);
      if (atShard !== 'absent') return atShard;
      // No state at its shard: one written before sharding is updated where it is (it expires there).
      return (await this.put({ ...item, endpointId: state.endpointId }, update)) === true;
    });
  }

  /**
   * A conditional update of the claim attribute; every save() replaces the whole item, which clears
   * it. At the state's shard, else (a state from before sharding) at the plain endpoint id.
   */
  claimRedrive(state: DeliveryState, lease: RedriveLease): Promise<boolean> {
    return withStoreErrors(async () => {
      const claim = (partition: string) =>
        this.update(partition, state.eventId, {
          UpdateExpression: 'SET #claim = :until',
          ConditionExpression: '#g = :g AND attempts = :a AND #s = :dead AND (attribute_not_exists(#claim) OR #claim <= :at)',
          ExpressionAttributeNames: { '#g': 'generation', '#s': 'status', '#claim': REDRIVE_CLAIM },
          ExpressionAttributeValues: { ':g': state.generation, ':a': state.attempts, ':dead': 'dead', ':at': lease.at, ':until': lease.until },
        });
      const atShard = await claim(deliveryPartition(state.endpointId, state.eventId));
      if (atShard !== 'absent') return atShard;
      return (await claim(state.endpointId)) === true;
    });
  }

  /** A conditional update of one state (the condition is required), answered as put() answers. */
  private update(
    partition: string,
    eventId: string,
    expression: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<boolean | 'absent'> {
    return conditionally(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { endpointId: partition, attemptKey: stateKey(eventId) },
          ...expression,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  }

  /**
   * This store for one batch (a fan-out invocation): the states it creates without having read
   * them look for a pre-sharding state together, one BatchGetItem for all the creations started
   * in the same turn of the event loop (a batch's records fan out concurrently), instead of a
   * GetItem each. Everything else, and the conditional writes themselves, are the store's own.
   */
  forBatch(): DeliveryStateStore {
    const unsharded = coalesce((keys: StateKey[]) => this.unshardedStates(keys));
    return {
      get: (endpointId, eventId) => this.get(endpointId, eventId),
      getMany: (keys) => this.getMany(keys),
      readBatch: (keys, breakersOf) => this.readBatch(keys, breakersOf),
      save: async (state, expected, hint) => {
        if (expected || hint?.readAbsent) return this.save(state, expected, hint);
        if ((await withStoreErrors(() => unsharded(state))).has(stateId(state))) return false;
        return this.save(state, expected, { readAbsent: true });
      },
      claimRedrive: (state, lease) => this.claimRedrive(state, lease),
      listDead: (endpointId, options) => this.listDead(endpointId, options),
      listWaiting: (options) => this.listWaiting(options),
    };
  }

  /** The stateId()s of those states that exist at the plain endpoint id (written before sharding). */
  private async unshardedStates(keys: StateKey[]): Promise<Set<string>> {
    const found = new Set<string>();
    const requests = [...new Map(keys.map((k) => [stateId(k), { endpointId: k.endpointId, attemptKey: stateKey(k.eventId) }])).values()];
    for (let i = 0; i < requests.length; i += 100) {
      const unread = await retryUnprocessed(requests.slice(i, i + 100), async (pending) => {
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...pending], ProjectionExpression: 'endpointId, attemptKey' } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          found.add(stateId({ endpointId: String(item.endpointId), eventId: String(item.attemptKey).slice(STATE_PREFIX.length) }));
        }
        return (UnprocessedKeys?.[this.tableName]?.Keys as typeof pending | undefined) ?? [];
      });
      if (unread.length > 0) throw new Error(`Delivery states: ${unread.length} pre-sharding keys left unread`);
    }
    return found;
  }

  private async hasUnshardedState(state: DeliveryState): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { endpointId: state.endpointId, attemptKey: stateKey(state.eventId) },
        ProjectionExpression: 'attemptKey',
      }),
    );
    return Item !== undefined;
  }

  /** A conditional put (the condition is required): true when written, false when the stored item differs, 'absent' when there is none. */
  private put(
    Item: Record<string, unknown>,
    condition: { ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> },
  ): Promise<boolean | 'absent'> {
    return conditionally(() =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item, ...condition, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' })),
    );
  }

  listDead(endpointId: string, options: { since?: string; limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }> {
    const start = options.cursor !== undefined ? decodeCursor(options.cursor, `dead:${endpointId}`, deadPositionSchema) : undefined;
    const after = start ? `${start.diedAt}#${start.eventId}` : undefined;
    // Deaths before the cursor's are never needed again; at its time, the event id decides.
    const from = [options.since, start?.diedAt]
      .filter((t): t is string => t !== undefined)
      .sort()
      .at(-1);
    return withStoreErrors(async () => {
      // Every partition of the endpoint (its shards, then the plain id) gives its oldest limit+1
      // deaths past the cursor; their merge holds the page, oldest death first across shards.
      const perShard = await Promise.all(
        deliveryPartitions(endpointId).map(async (partition) => {
          const found: Record<string, unknown>[] = [];
          let key: Record<string, unknown> | undefined;
          let lastDiedAt = '';
          do {
            const { Items = [], LastEvaluatedKey } = await this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: 'dead-by-endpoint',
                KeyConditionExpression: from !== undefined ? 'deadEndpointId = :e AND diedAt >= :from' : 'deadEndpointId = :e',
                ExpressionAttributeValues: { ':e': partition, ...(from !== undefined ? { ':from': from } : {}) },
                Limit: options.limit + 1,
                ExclusiveStartKey: key,
              }),
            );
            found.push(...Items.filter((item) => after === undefined || deadOrderKey(item) > after));
            lastDiedAt = String(Items.at(-1)?.diedAt ?? lastDiedAt);
            key = LastEvaluatedKey;
          } while (key && !holdsPage(found, lastDiedAt, options.limit));
          return found;
        }),
      );
      const { page, more } = mergeShards(perShard, deadOrderKey, options.limit, 'oldest');
      const last = page.at(-1);
      return {
        items: states(page).filter((s) => s.status === 'dead'),
        cursor: more && last ? encodeCursor(`dead:${endpointId}`, { diedAt: String(last.diedAt), eventId: String(last.eventId) }) : undefined,
      };
    });
  }

  listWaiting(options: { limit: number; cursor?: string }): Promise<{ items: DeliveryState[]; cursor?: string }> {
    const start = options.cursor !== undefined ? decodeCursor(options.cursor, 'waiting', stateCursorSchema) : undefined;
    return withStoreErrors(async () => {
      // A scan: only the local runtime calls this, once at start, on a laptop-sized table.
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(attemptKey, :states) AND #s = :waiting',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':states': STATE_PREFIX, ':waiting': 'waiting' },
          Limit: options.limit,
          ExclusiveStartKey: start,
        }),
      );
      return { items: states(Items), cursor: LastEvaluatedKey ? encodeCursor('waiting', LastEvaluatedKey) : undefined };
    });
  }
}
