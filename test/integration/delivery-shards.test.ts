/**
 * The deliveries table spread over DELIVERY_SHARDS partitions per endpoint, against DynamoDB Local:
 * the attempt log merged newest first across shards with a stable cursor, states read by key at
 * their shard or where they were written before sharding, conditional saves under contention, and
 * the dead index, the waiting scan and the waiting count seeing every shard.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { deliveryShards, tables } from '../../infra/app-definition.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { DELIVERY_SHARDS, deliveryPartition, deliveryPartitions } from '../../shared/store/delivery-shards.js';
import { DynamoDeliveryLogStore, DynamoDeliveryStateStore } from '../../shared/store/deliveries-store.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { DynamoEndpointHealthStore } from '../../shared/store/endpoint-health-store.js';
import { deliveryLogExpiry, type DeliveryAttempt } from '../../shared/webhooks/delivery-log.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { deadState, queuedState, stateId, versionOf, type DeliveryState } from '../../shared/webhooks/delivery-state.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { countingDocumentClient } from '../support/counting-client.js';

const client = documentClient();
const table = process.env[tables.deliveries.envVar]!;
const log = new DynamoDeliveryLogStore(client, table);
const states = new DynamoDeliveryStateStore(client, table);
const health = new DynamoEndpointHealthStore(client, table);
const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 12)}`;
const T0 = Date.UTC(2030, 0, 1);

function attemptAt(endpointId: string, eventId: string, second: number, attempt: number): DeliveryAttempt {
  return {
    endpointId,
    eventId,
    eventType: 'draft.approved',
    draftId: 'd1',
    attempt,
    outcome: 'failed',
    httpStatus: 500,
    durationMs: 3,
    error: 'HTTP 500',
    attemptedAt: new Date(T0 + second * 1000).toISOString(),
    nextAttemptAt: null,
    test: false,
  };
}
const keyOf = (a: DeliveryAttempt) => `${a.attemptedAt}#${a.eventId}#${a.attempt}`;
const newestFirst = (a: DeliveryAttempt, b: DeliveryAttempt) => (keyOf(a) < keyOf(b) ? 1 : keyOf(a) > keyOf(b) ? -1 : 0);

/** An attempt as the store wrote it before sharding: under the plain endpoint id. */
const putLegacyAttempt = (a: DeliveryAttempt) =>
  client.send(new PutCommand({ TableName: table, Item: { ...a, attemptKey: keyOf(a), expiresAtEpoch: deliveryLogExpiry(new Date(a.attemptedAt)) } }));

/** A delivery state as the store wrote it before sharding. */
const putLegacyState = (s: DeliveryState) =>
  client.send(
    new PutCommand({
      TableName: table,
      Item: {
        ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null)),
        attemptKey: `state#${s.eventId}`,
        message: JSON.stringify(s.message),
        // nulls left out (above): absent, as the store writes them.
        ...(s.status === 'dead' ? { deadEndpointId: s.endpointId } : {}),
      },
    }),
  );

async function pageAll(endpointId: string, limit: number, during?: () => Promise<void>): Promise<DeliveryAttempt[][]> {
  const pages: DeliveryAttempt[][] = [];
  let cursor: string | undefined;
  do {
    const page = await log.list(endpointId, limit, cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
    await during?.();
  } while (cursor);
  return pages;
}

async function deadPages(endpointId: string, limit: number, since?: string): Promise<DeliveryState[][]> {
  const pages: DeliveryState[][] = [];
  let cursor: string | undefined;
  do {
    const page = await states.listDead(endpointId, { limit, since, cursor });
    pages.push(page.items);
    cursor = page.cursor;
  } while (cursor);
  return pages;
}

const rawItem = async (partition: string, eventId: string) =>
  (await client.send(new GetCommand({ TableName: table, Key: { endpointId: partition, attemptKey: `state#${eventId}` }, ConsistentRead: true }))).Item;

describe('deliveries spread over shards', () => {
  it('the app definition exports the shard count the store uses', () => {
    expect(deliveryShards).toBe(DELIVERY_SHARDS);
    expect(deliveryPartitions('ep')).toHaveLength(DELIVERY_SHARDS + 1);
  });

  it("an event's state and every attempt of it share one partition; an endpoint's events spread over every shard", async () => {
    const endpointId = unique('ep');
    const events = Array.from({ length: 160 }, () => unique('evt'));
    const used = new Set(events.map((e) => deliveryPartition(endpointId, e)));
    expect(used.size).toBe(DELIVERY_SHARDS);

    const message = deliveryMessage(testEvent(), endpointId);
    await states.save(queuedState(message, new Date(T0)), undefined);
    await log.record([attemptAt(endpointId, message.eventId, 1, 1), attemptAt(endpointId, message.eventId, 2, 2)]);
    const partition = deliveryPartition(endpointId, message.eventId);
    const { Items = [] } = await client.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'endpointId = :p', ExpressionAttributeValues: { ':p': partition } }),
    );
    expect(Items.map((i) => i.attemptKey).sort()).toEqual(
      [keyOf(attemptAt(endpointId, message.eventId, 1, 1)), keyOf(attemptAt(endpointId, message.eventId, 2, 2)), `state#${message.eventId}`].sort(),
    );
    expect(Items.every((i) => i.plainEndpointId === endpointId)).toBe(true);
    // Nothing of it under the plain endpoint id (health and breaker items live there).
    expect(await rawItem(endpointId, message.eventId)).toBeUndefined();
  });

  it('property: pages to the end give every attempt of the endpoint exactly once, newest first, across shards and pre-sharding items, whatever the times and page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            second: fc.integer({ min: 0, max: 4 }),
            event: fc.integer({ min: 0, max: 9 }),
            attempt: fc.integer({ min: 1, max: 3 }),
            legacy: fc.boolean(),
          }),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 8 }),
        async (specs, limit) => {
          const endpointId = unique('ep');
          const other = unique('ep');
          const eventIds = Array.from({ length: 10 }, () => unique('evt'));
          const byKey = new Map<string, { a: DeliveryAttempt; legacy: boolean }>();
          for (const s of specs) {
            const a = attemptAt(endpointId, eventIds[s.event]!, s.second, s.attempt);
            byKey.set(keyOf(a), { a, legacy: s.legacy });
          }
          const all = [...byKey.values()];
          await log.record(all.filter((x) => !x.legacy).map((x) => x.a));
          await Promise.all(all.filter((x) => x.legacy).map((x) => putLegacyAttempt(x.a)));
          // Another endpoint's attempts at the same times and a state of this endpoint: never listed.
          await log.record(all.map((x) => ({ ...x.a, endpointId: other })));
          await states.save(queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)), undefined);

          // An attempt newer than all of them arrives mid-listing: later pages neither shift nor repeat.
          let late = false;
          const pages = await pageAll(endpointId, limit, async () => {
            if (late) return;
            late = true;
            await log.record([attemptAt(endpointId, unique('evt'), 60, 1)]);
          });
          const listed = pages.flat();
          const expected = all.map((x) => x.a).sort(newestFirst);
          const withoutLate = listed.filter((a) => a.attemptedAt !== new Date(T0 + 60_000).toISOString());
          expect(withoutLate).toEqual(expected);
          for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
          expect(pages.at(-1)!.length).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('a cursor is refused on another endpoint and a hand-made one is a 400 naming cursor; one past the attempts never reaches the states', async () => {
    const endpointId = unique('ep');
    const eventId = unique('evt');
    await log.record([attemptAt(endpointId, eventId, 1, 1), attemptAt(endpointId, eventId, 2, 2)]);
    const { nextCursor } = await log.list(endpointId, 1);
    expect(nextCursor).toBeDefined();
    const refused = async (list: () => Promise<unknown>) => {
      let error: unknown;
      try {
        await list();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual({ fields: [expect.objectContaining({ field: 'cursor' })] });
    };
    await refused(() => log.list(unique('ep'), 1, nextCursor));
    await refused(() => log.list(endpointId, 1, 'not-a-cursor!'));
    await refused(() =>
      log.list(
        endpointId,
        1,
        Buffer.from(JSON.stringify({ v: 1, scope: `deliveries:${endpointId}`, key: { endpointId, attemptKey: 5 } })).toString('base64url'),
      ),
    );

    await states.save(queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)), undefined);
    const pastStates = Buffer.from(JSON.stringify({ v: 1, scope: `deliveries:${endpointId}`, key: { endpointId, attemptKey: '~~~' } })).toString('base64url');
    const page = await log.list(endpointId, 10, pastStates);
    expect(page.items.map((a) => a.attempt)).toEqual([2, 1]);
  });

  it('a state written before sharding is read by key (get and getMany) and updated where it is; a sharded copy wins over it', async () => {
    const endpointId = unique('ep');
    const legacy = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState(legacy);
    const fresh = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    expect(await states.save(fresh, undefined)).toBe(true);

    expect(await states.get(endpointId, legacy.eventId)).toMatchObject({ endpointId, eventId: legacy.eventId, attempts: 0 });
    const many = await states.getMany([legacy, fresh, legacy]);
    expect([...many.keys()].sort()).toEqual([stateId(legacy), stateId(fresh)].sort());
    expect(many.get(stateId(legacy))!.endpointId).toBe(endpointId);

    expect(await states.save({ ...legacy, attempts: 1 }, versionOf(legacy))).toBe(true);
    expect(await rawItem(endpointId, legacy.eventId)).toMatchObject({ attempts: 1 });
    expect(await rawItem(deliveryPartition(endpointId, legacy.eventId), legacy.eventId)).toBeUndefined();
    // A stale version is refused at either place.
    expect(await states.save({ ...legacy, attempts: 2 }, versionOf(legacy))).toBe(false);
    expect(await states.save({ ...fresh, attempts: 2 }, { generation: 0, attempts: 1 })).toBe(false);

    // A state created again (a fan-out batch retried after the upgrade) beside one from before
    // sharding is refused: the event keeps its state, so a delivered event is not posted again.
    const delivered = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState({ ...delivered, attempts: 1, status: 'delivered' });
    expect(await states.save(delivered, undefined)).toBe(false);
    expect(await rawItem(deliveryPartition(endpointId, delivered.eventId), delivered.eventId)).toBeUndefined();
    expect(await states.get(endpointId, delivered.eventId)).toMatchObject({ status: 'delivered', attempts: 1 });

    // Both copies (written by an earlier build): the shard's is the one read.
    const both = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState({ ...both, attempts: 3 });
    await client.send(
      new PutCommand({
        TableName: table,
        Item: {
          ...(await rawItem(endpointId, both.eventId))!,
          endpointId: deliveryPartition(endpointId, both.eventId),
          plainEndpointId: endpointId,
          attempts: 0,
        },
      }),
    );
    expect((await states.get(endpointId, both.eventId))!.attempts).toBe(0);
    expect((await states.getMany([both])).get(stateId(both))!.attempts).toBe(0);
  });

  it('20 parallel saves of one version, at a shard and before sharding: exactly one wins each, nothing is duplicated', async () => {
    const endpointId = unique('ep');
    const sharded = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    const creates = await Promise.all(Array.from({ length: 20 }, () => states.save(sharded, undefined)));
    expect(creates.filter(Boolean)).toHaveLength(1);

    const legacy = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState(legacy);
    for (const s of [sharded, legacy]) {
      const saves = await Promise.all(
        Array.from({ length: 20 }, (_, i) => states.save({ ...s, attempts: 1, updatedAt: new Date(T0 + i).toISOString() }, versionOf(s))),
      );
      expect(saves.filter(Boolean)).toHaveLength(1);
      expect((await states.get(endpointId, s.eventId))!.attempts).toBe(1);
    }
    expect(await rawItem(deliveryPartition(endpointId, legacy.eventId), legacy.eventId)).toBeUndefined();
    expect(await rawItem(endpointId, sharded.eventId)).toBeUndefined();
  }, 30_000);

  it('a dead state from before sharding is claimed for a redrive where it is: by one of 20 at once, not by a stale version, again once the lease lapses', async () => {
    const endpointId = unique('ep');
    const legacy = deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0).toISOString(), 'all 4 attempts failed');
    await putLegacyState(legacy);
    const lease = { at: new Date(T0).toISOString(), until: new Date(T0 + 60_000).toISOString() };
    const claims = await Promise.all(Array.from({ length: 20 }, () => states.claimRedrive(legacy, lease)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await rawItem(endpointId, legacy.eventId)).toMatchObject({ redriveClaimedUntil: lease.until, status: 'dead' });
    expect(await rawItem(deliveryPartition(endpointId, legacy.eventId), legacy.eventId)).toBeUndefined();
    // A stale version (the state moved on) is never claimed, lease or not.
    expect(await states.claimRedrive({ ...legacy, attempts: 3 }, { at: lease.until, until: new Date(T0 + 120_000).toISOString() })).toBe(false);
    expect(await states.claimRedrive(legacy, { at: new Date(T0 + 59_999).toISOString(), until: new Date(T0 + 120_000).toISOString() })).toBe(false);
    expect(await states.claimRedrive(legacy, { at: lease.until, until: new Date(T0 + 120_000).toISOString() })).toBe(true);
    // Claiming reads back as the same dead state: the claim is the store's own.
    expect(await states.get(endpointId, legacy.eventId)).toEqual(legacy);
    // No state at all: nothing to claim, and nothing is created.
    const missing = deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0).toISOString(), 'x');
    expect(await states.claimRedrive(missing, lease)).toBe(false);
    expect(await rawItem(endpointId, missing.eventId)).toBeUndefined();
  });

  it("a batch's creations look for pre-sharding copies together: one BatchGetItem (per 100) per turn, no GetItem each; a copy still refuses its creation", async () => {
    const { client: counted, calls } = countingDocumentClient();
    const batch = new DynamoDeliveryStateStore(counted, table).forBatch();
    const endpointId = unique('ep');
    const legacy = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState({ ...legacy, attempts: 1, status: 'delivered' });
    // 110 fresh states, 20 copies of one more and the legacy one: 112 keys, two BatchGetItem (100 keys each at most).
    const fresh = Array.from({ length: 110 }, () => queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)));
    const contended = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    const saved = await Promise.all([...fresh, ...Array.from({ length: 20 }, () => contended), legacy].map((state) => batch.save(state, undefined)));
    expect(saved.slice(0, 110).every(Boolean)).toBe(true);
    expect(saved.slice(110, 130).filter(Boolean)).toHaveLength(1);
    expect(saved[130]).toBe(false);
    expect(calls.filter((c) => c === 'GetItemCommand')).toHaveLength(0);
    expect(calls.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(2);
    expect(await rawItem(deliveryPartition(endpointId, legacy.eventId), legacy.eventId)).toBeUndefined();
    expect((await states.getMany([...fresh, contended])).size).toBe(111);
    // Reads, updates and a creation the caller has read for pass straight to the store.
    calls.length = 0;
    expect(await batch.save({ ...contended, attempts: 1 }, versionOf(contended))).toBe(true);
    expect(await batch.save(queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)), undefined, { readAbsent: true })).toBe(true);
    expect(calls).toEqual(['PutItemCommand', 'PutItemCommand']);
    counted.destroy();
  }, 30_000);

  it('the dead listing pages through deaths at the same moment in one partition, limit 1 to 3: each once (the index orders them by time only)', async () => {
    for (const limit of [1, 2, 3]) {
      const endpointId = unique('ep');
      const dead = Array.from({ length: 10 }, () => deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0).toISOString(), 'HTTP 500'));
      await Promise.all(dead.map((d) => putLegacyState(d)));
      const listed = (await deadPages(endpointId, limit)).flat();
      expect(listed.map((s) => s.eventId).sort()).toEqual(dead.map((d) => d.eventId).sort());
    }
  });

  it('property: the dead listing (redrive) gives every dead delivery of the endpoint that died at or after `since` exactly once, oldest death first across shards and pre-sharding states', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ second: fc.integer({ min: 0, max: 5 }), legacy: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        async (specs, limit, sinceSecond) => {
          const endpointId = unique('ep');
          const dead = specs.map((s) => ({
            state: deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0 + s.second * 1000).toISOString(), 'HTTP 500'),
            legacy: s.legacy,
          }));
          await Promise.all(dead.map((d) => (d.legacy ? putLegacyState(d.state) : states.save(d.state, undefined))));
          // Not dead, or another endpoint's: never listed.
          await states.save(queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)), undefined);
          await states.save(deadState(deliveryMessage(testEvent(), unique('ep')), 4, new Date(T0).toISOString(), 'HTTP 500'), undefined);

          const since = sinceSecond === undefined ? undefined : new Date(T0 + sinceSecond * 1000).toISOString();
          const pages = await deadPages(endpointId, limit, since);
          const listed = pages.flat();
          for (const page of pages) expect(page.length).toBeLessThanOrEqual(limit);
          expect(listed.map((s) => s.eventId).sort()).toEqual(
            dead
              .filter((d) => since === undefined || d.state.diedAt! >= since)
              .map((d) => d.state.eventId)
              .sort(),
          );
          const order = (x: DeliveryState) => `${x.diedAt}#${x.eventId}`;
          expect(listed.map(order)).toEqual(listed.map(order).sort());
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);

  it('dead deliveries spread over the index by shard; a dead-listing cursor is refused on another endpoint and when hand-made', async () => {
    const endpointId = unique('ep');
    const dead = Array.from({ length: 40 }, (_, i) => deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0 + i).toISOString(), 'HTTP 500'));
    await Promise.all(dead.map((s) => states.save(s, undefined)));
    const indexPartitions = new Set(dead.map((s) => deliveryPartition(endpointId, s.eventId)));
    expect(indexPartitions.size).toBeGreaterThan(DELIVERY_SHARDS / 2);
    for (const partition of indexPartitions) {
      const { Items = [] } = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'dead-by-endpoint',
          KeyConditionExpression: 'deadEndpointId = :p',
          ExpressionAttributeValues: { ':p': partition },
        }),
      );
      expect(Items.length).toBeGreaterThan(0);
      expect(Items.every((i) => i.deadEndpointId === i.endpointId)).toBe(true);
    }

    const { cursor } = await states.listDead(endpointId, { limit: 1 });
    expect(cursor).toBeDefined();
    const refused = async (cursorText: string, forEndpoint = endpointId) => {
      let error: unknown;
      try {
        await states.listDead(forEndpoint, { limit: 1, cursor: cursorText });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual({ fields: [expect.objectContaining({ field: 'cursor' })] });
    };
    await refused(cursor!, unique('ep'));
    const forged = (key: Record<string, string>) => Buffer.from(JSON.stringify({ v: 1, scope: `dead:${endpointId}`, key })).toString('base64url');
    await refused(forged({ diedAt: new Date(T0).toISOString() }));
    await refused(forged({ diedAt: new Date(T0).toISOString(), eventId: 'e', endpointId }));
    await refused('@@');
  });

  it('redrive and recovery see every shard: the dead index, the waiting scan and the waiting count', async () => {
    const endpointId = unique('ep');
    const dead = Array.from({ length: 6 }, (_, i) => deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0 + i * 1000).toISOString(), 'HTTP 500'));
    await Promise.all(dead.map((s) => states.save(s, undefined)));
    const legacyDead = deadState(deliveryMessage(testEvent(), endpointId), 4, new Date(T0 + 10_000).toISOString(), 'HTTP 500');
    await putLegacyState(legacyDead);
    const waiting = Array.from({ length: 5 }, () => queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0)));
    await Promise.all(waiting.map((s) => states.save(s, undefined)));
    const legacyWaiting = queuedState(deliveryMessage(testEvent(), endpointId), new Date(T0));
    await putLegacyState(legacyWaiting);

    const listedDead = (await deadPages(endpointId, 4)).flat();
    expect(listedDead.map((s) => s.eventId)).toEqual([...dead, legacyDead].map((s) => s.eventId));
    expect(listedDead.every((s) => s.endpointId === endpointId)).toBe(true);
    const since = (await deadPages(endpointId, 10, new Date(T0 + 5000).toISOString())).flat();
    expect(since.map((s) => s.eventId)).toEqual([dead[5]!, legacyDead].map((s) => s.eventId));

    const listedWaiting: DeliveryState[] = [];
    let cursor: string | undefined;
    do {
      const page = await states.listWaiting({ limit: 500, cursor });
      listedWaiting.push(...page.items.filter((s) => s.endpointId === endpointId));
      cursor = page.cursor;
    } while (cursor);
    expect(listedWaiting.map((s) => s.eventId).sort()).toEqual([...waiting, legacyWaiting].map((s) => s.eventId).sort());

    expect(await health.countWaiting(endpointId)).toEqual({ count: 6, atLeast: false });
  }, 30_000);
});
