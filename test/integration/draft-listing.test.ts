/**
 * The sharded, keys-only listing indexes against DynamoDB Local, each property run on a table of
 * its own (made from the one definition) so a listing holds exactly the drafts the run wrote.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { tables } from '../../infra/app-definition.js';
import { createTableInput, provisionTables } from '../../infra/local/provision.js';
import { newDraft, rejectionChange, type Actor, type Draft, type DraftStatus } from '../../shared/domain/draft.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { ServiceUnavailableError, ValidationError } from '../../shared/domain/errors.js';
import { DRAFT_LIST_SHARDS, draftShard } from '../../shared/store/draft-shards.js';
import { backfillDraftShards } from '../../shared/store/drafts-backfill.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { DynamoDraftStore, toItem } from '../../shared/store/drafts-store.js';
import { DynamoPendingDrafts } from '../../shared/store/pending-drafts-store.js';

const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
const STATUSES: DraftStatus[] = ['pending', 'approved', 'rejected', 'expired'];
const T0 = Date.UTC(2030, 0, 1);

const raw = new DynamoDBClient({});
const client = documentClient();
afterAll(() => raw.destroy());

async function withTable<T>(use: (table: string) => Promise<T>): Promise<T> {
  const table = `listing-${Math.random().toString(36).slice(2, 10)}`;
  await raw.send(new CreateTableCommand(createTableInput(table, tables.drafts)));
  try {
    return await use(table);
  } finally {
    await raw.send(new DeleteTableCommand({ TableName: table }));
  }
}

/** A draft created `second` seconds after T0, with this status; in shard 0 when `crowded`, to pile many into one shard. */
function draftAt(second: number, status: DraftStatus, crowded = false): Draft {
  let draft = newDraft({ title: `at ${second}`, content: { second } }, agent, new Date(T0 + second * 1000));
  while (crowded && draftShard(draft.id) !== 0) draft = { ...draft, id: newDraft({ title: 'x', content: {} }, agent, new Date(T0)).id };
  return { ...draft, status };
}

const newestFirst = (a: Draft, b: Draft) => {
  const ka = `${a.createdAt}#${a.id}`;
  const kb = `${b.createdAt}#${b.id}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
};

/** Pages to the end; `during(page)` runs after each page is read. */
async function pageAll(store: DynamoDraftStore, status: DraftStatus | undefined, limit: number, during?: (page: number) => Promise<void>) {
  const pages: Draft[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ status, limit, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
    await during?.(pages.length);
  } while (cursor);
  return pages;
}

describe('draft listing across shards', () => {
  it('pages to the end give every draft of the listing exactly once, newest first, whatever the times, shards, page size and status', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ second: fc.integer({ min: 0, max: 5 }), status: fc.constantFrom(...STATUSES), crowded: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<DraftStatus | undefined>(undefined, ...STATUSES),
        fc.integer({ min: 1, max: 4 }),
        async (specs, limit, status, insertAfterPage) =>
          withTable(async (table) => {
            const store = new DynamoDraftStore(client, table);
            const drafts = specs.map((s) => draftAt(s.second, s.status, s.crowded));
            await Promise.all(drafts.map((d) => store.create(d)));
            const expected = drafts.filter((d) => !status || d.status === status).sort(newestFirst);

            // A draft newer than all of them arrives mid-listing: the pages after it neither shift nor repeat.
            const late = draftAt(60, status ?? 'pending');
            const pages = await pageAll(store, status, limit, async (page) => {
              if (page === insertAfterPage) await store.create(late);
            });

            const seen = pages.flat().map((d) => d.id);
            expect(seen).toEqual(expected.map((d) => d.id));
            for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
            expect(pages.at(-1)!.length).toBeLessThanOrEqual(limit);
            for (const s of STATUSES) {
              const lateCounts = late.status === s && insertAfterPage <= pages.length ? 1 : 0;
              expect(await store.count(s)).toBe(drafts.filter((d) => d.status === s).length + lateCounts);
            }
          }),
      ),
      { numRuns: 25 },
    );
  }, 240_000);

  it('the reminder window reads every pending draft created in it exactly once, through per-shard cursors', async () => {
    const pending = (table: string) => new DynamoPendingDrafts(client, table);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ second: fc.integer({ min: 0, max: 9 }), status: fc.constantFrom(...STATUSES), crowded: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        async (specs, a, b, limit) =>
          withTable(async (table) => {
            const store = new DynamoDraftStore(client, table);
            const drafts = specs.map((s) => draftAt(s.second, s.status, s.crowded));
            await Promise.all(drafts.map((d) => store.create(d)));
            const [from, to] = [Math.min(a, b), Math.max(a, b)].map((s) => new Date(T0 + s * 1000).toISOString()) as [string, string];
            const ids: string[] = [];
            let cursor: Record<string, unknown> | undefined;
            do {
              const page = await pending(table).createdBetween(from, to, limit, cursor);
              expect(page.items.length).toBeLessThanOrEqual(Math.ceil(limit / DRAFT_LIST_SHARDS) * DRAFT_LIST_SHARDS);
              ids.push(...page.items.map((d) => d.id));
              cursor = page.cursor;
            } while (cursor);
            const expected = drafts.filter((d) => d.status === 'pending' && d.createdAt >= from && d.createdAt <= to).map((d) => d.id);
            expect(ids.sort()).toEqual(expected.sort());
          }),
      ),
      { numRuns: 20 },
    );
  }, 240_000);

  it("a cursor belongs to its listing: another status's, the all-drafts listing's or a tampered one is a 400 (ValidationError on cursor)", async () => {
    await withTable(async (table) => {
      const store = new DynamoDraftStore(client, table);
      await Promise.all([0, 1, 2, 3].map((s) => store.create(draftAt(s, 'pending'))));
      await Promise.all([0, 1, 2].map((s) => store.create(draftAt(s, 'approved'))));
      const pendingCursor = (await store.list({ status: 'pending', limit: 1 })).nextCursor!;
      const allCursor = (await store.list({ limit: 1 })).nextCursor!;
      expect(pendingCursor).toBeDefined();
      const refused = async (query: Parameters<DynamoDraftStore['list']>[0]) => {
        // list() refuses a bad cursor before any read (synchronously).
        const error = await Promise.resolve()
          .then(() => store.list(query))
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details).toEqual({ fields: [expect.objectContaining({ field: 'cursor' })] });
      };
      await refused({ status: 'approved', limit: 1, cursor: pendingCursor });
      await refused({ limit: 1, cursor: pendingCursor });
      await refused({ status: 'pending', limit: 1, cursor: allCursor });
      const key = JSON.parse(Buffer.from(pendingCursor, 'base64url').toString()).key as { id: string; listKey: string };
      const forge = (k: Record<string, unknown>) => Buffer.from(JSON.stringify({ v: 1, scope: 'drafts:pending', key: k })).toString('base64url');
      await refused({ status: 'pending', limit: 1, cursor: forge({ ...key, listKey: '9999#other' }) });
      await refused({ status: 'pending', limit: 1, cursor: forge({ ...key, kind: 'draft' }) });
      await refused({ status: 'pending', limit: 1, cursor: forge({ ...key, shard: 3 }) });
      // Its own listing takes it.
      await expect(store.list({ status: 'pending', limit: 1, cursor: pendingCursor })).resolves.toMatchObject({ items: [expect.anything()] });
    });
  });

  it('a draft decided or deleted between the index query and the fetch is left out; the page still comes back', async () => {
    await withTable(async (table) => {
      const plain = new DynamoDraftStore(client, table);
      const drafts = [0, 1, 2, 3, 4].map((s) => draftAt(s, 'pending'));
      await Promise.all(drafts.map((d) => plain.create(d)));
      const [decided, deleted] = [drafts[3]!, drafts[1]!];
      let between: (() => Promise<void>) | undefined = async () => {
        await decideDraft(plain, decided.id, { kind: 'approve' }, reviewer, new Date(T0 + 10_000));
        await client.send(new DeleteCommand({ TableName: table, Key: { id: deleted.id } }));
      };
      const racing = {
        send: async (command: unknown) => {
          if (command instanceof BatchGetCommand && between) {
            const run = between;
            between = undefined;
            await run();
          }
          return client.send(command as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const page = await new DynamoDraftStore(racing, table).list({ status: 'pending', limit: 10 });
      expect(page.items.map((d) => d.id)).toEqual([drafts[4]!, drafts[2]!, drafts[0]!].map((d) => d.id));
      expect(page.nextCursor).toBeUndefined();
    });
  });

  it('every status change moves the draft between status listings: decide, a completing approval, expiry', async () => {
    await withTable(async (table) => {
      const store = new DynamoDraftStore(client, table);
      const [rejected, approved, expired, waiting] = [0, 1, 2, 3].map((s) => ({ ...draftAt(s, 'pending'), expiresAt: new Date(T0 + 50_000).toISOString() }));
      await Promise.all([rejected!, approved!, expired!, waiting!].map((d) => store.create(d)));
      const at = new Date(T0 + 10_000).toISOString();
      await decideDraft(store, rejected!.id, { kind: 'reject', reason: 'no' }, reviewer, new Date(at));
      const approval = { by: { keyId: reviewer.keyId, name: reviewer.name, role: reviewer.role }, at };
      await expect(
        store.approve(approved!.id, {
          approval,
          round: 0,
          priorCount: 0,
          required: 1,
          completes: true,
          history: [{ action: 'approved', at, actor: approval.by }],
        }),
      ).resolves.toMatchObject({ kind: 'applied' });
      expect(await store.expire(expired!.id, new Date(T0 + 60_000))).toBe(true);
      const ids = async (status: DraftStatus) => (await pageAll(store, status, 2)).flat().map((d) => d.id);
      expect(await ids('pending')).toEqual([waiting!.id]);
      expect(await ids('rejected')).toEqual([rejected!.id]);
      expect(await ids('approved')).toEqual([approved!.id]);
      expect(await ids('expired')).toEqual([expired!.id]);
      // Only the still-pending draft is left for the expiry sweep.
      expect((await store.listExpired(new Date(T0 + 60_000), 10)).map((d) => d.id)).toEqual([waiting!.id]);
    });
  });

  it('unprocessed keys of the fetch are retried (in index order); a fetch that never completes is a 503, not a short page', async () => {
    await withTable(async (table) => {
      const plain = new DynamoDraftStore(client, table);
      const drafts = [0, 1, 2, 3, 4, 5].map((s) => draftAt(s, 'pending'));
      await Promise.all(drafts.map((d) => plain.create(d)));
      /** Answers only the first key of each BatchGetItem, the rest back as unprocessed (as DynamoDB does under throttling); `forever` answers none. */
      const throttled = (forever: boolean) =>
        ({
          send: async (command: unknown) => {
            if (!(command instanceof BatchGetCommand)) return client.send(command as never);
            const request = command.input.RequestItems![table]!;
            const keys = request.Keys!;
            const served = forever ? [] : keys.slice(0, 1);
            const answer =
              served.length > 0
                ? await client.send(new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: served } } }))
                : { Responses: undefined };
            return { Responses: { [table]: answer.Responses?.[table] ?? [] }, UnprocessedKeys: { [table]: { ...request, Keys: keys.slice(served.length) } } };
          },
        }) as unknown as DynamoDBDocumentClient;
      const page = await new DynamoDraftStore(throttled(false), table).list({ limit: 4 });
      expect(page.items.map((d) => d.id)).toEqual(
        [...drafts]
          .sort(newestFirst)
          .slice(0, 4)
          .map((d) => d.id),
      );
      await expect(new DynamoDraftStore(throttled(true), table).list({ limit: 4 })).rejects.toBeInstanceOf(ServiceUnavailableError);
    });
  });

  it('20 parallel creates all land, spread over the shards (the shard is a pure hash of the id: nothing to collide on)', async () => {
    await withTable(async (table) => {
      const store = new DynamoDraftStore(client, table);
      const drafts = Array.from({ length: 20 }, () => draftAt(0, 'pending'));
      await Promise.all(drafts.map((d) => store.create(d)));
      expect(await store.count('pending')).toBe(20);
      const listed = await pageAll(store, 'pending', 20);
      expect(listed.flat().map((d) => d.id)).toEqual([...drafts].sort(newestFirst).map((d) => d.id));
      expect(new Set(drafts.map((d) => draftShard(d.id))).size).toBeGreaterThan(1);
    });
  });

  it('the expiry sweep reads due drafts from every shard, the longest overdue first, up to its limit', async () => {
    await withTable(async (table) => {
      const store = new DynamoDraftStore(client, table);
      const due = Array.from({ length: 12 }, (_, i) => ({ ...draftAt(0, 'pending'), expiresAt: new Date(T0 + (100 + i) * 1000).toISOString() }));
      const later = { ...draftAt(0, 'pending'), expiresAt: new Date(T0 + 10_000_000).toISOString() };
      await Promise.all([...due, later].map((d) => store.create(d)));
      const now = new Date(T0 + 1000 * 1000);
      expect((await store.listExpired(now, 5)).map((d) => d.id)).toEqual(due.slice(0, 5).map((d) => d.id));
      expect((await store.listExpired(now, 100)).map((d) => d.id)).toEqual(due.map((d) => d.id));
      // Expired drafts leave the sparse index and move to expired#<n>.
      await Promise.all(due.map((d) => store.expire(d.id, now)));
      expect(await store.listExpired(now, 100)).toEqual([]);
      expect(await store.count('expired')).toBe(12);
      expect((await pageAll(store, 'expired', 5)).flat()).toHaveLength(12);
    });
  });

  it('the backfill of a draft decided between its scan and its update still lists it everywhere; 20 backfills at once agree', async () => {
    await withTable(async (table) => {
      const store = new DynamoDraftStore(client, table);
      // As the previous version stored them: no shard attributes.
      const drafts = [draftAt(0, 'pending'), draftAt(1, 'pending')];
      for (const draft of drafts) {
        const { statusShard: _s, createdShard: _c, expiryShard: _e, ...stored } = toItem(draft);
        await client.send(new PutCommand({ TableName: table, Item: stored }));
      }
      // The first draft is rejected (by the current code, which writes statusShard only) just before the backfill's update reaches it.
      let raced = false;
      const racing = {
        send: async (command: unknown) => {
          if (!raced && command instanceof UpdateCommand && command.input.Key?.id === drafts[0]!.id) {
            raced = true;
            expect((await store.reject(drafts[0]!.id, rejectionChange('late', reviewer, new Date(T0 + 5_000)))).kind).toBe('rejected');
          }
          return client.send(command as UpdateCommand);
        },
      } as unknown as DynamoDBDocumentClient;
      expect(await backfillDraftShards(racing, table)).toEqual({ updated: 2, skipped: 0 });
      expect(raced).toBe(true);
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: { id: drafts[0]!.id }, ConsistentRead: true }));
      expect(Item).toMatchObject({
        status: 'rejected',
        statusShard: `rejected#${draftShard(drafts[0]!.id)}`,
        createdShard: `all#${draftShard(drafts[0]!.id)}`,
      });
      expect((await store.list({ limit: 10 })).items.map((d) => d.id)).toEqual([drafts[1]!.id, drafts[0]!.id]);
      expect((await store.list({ status: 'rejected', limit: 10 })).items.map((d) => d.id)).toEqual([drafts[0]!.id]);
      // Two starts at once (or an operator's run beside one): every run ends with the same attributes.
      await Promise.all(Array.from({ length: 20 }, () => backfillDraftShards(client, table)));
      expect((await store.list({ limit: 10 })).items.map((d) => d.id)).toEqual([drafts[1]!.id, drafts[0]!.id]);
      expect(await store.count('pending')).toBe(1);
    });
  });

  it('a --persist drafts table from before the sharded indexes gets them, and its drafts their shard attributes, at start', async () => {
    const prefix = `processa-unsharded-${Math.random().toString(36).slice(2, 8)}`;
    const table = `${prefix}-drafts`;
    // The drafts table as the previous version made it: by-status, by-created and pending-by-expiry, projection ALL.
    const old = createTableInput(table, {
      ...tables.drafts,
      indexes: [
        { name: 'by-status', partitionKey: { name: 'status', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
        { name: 'by-created', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
        { name: 'pending-by-expiry', partitionKey: { name: 'expiryQueue', type: 'S' }, sortKey: { name: 'expiresAt', type: 'S' } },
      ],
    });
    await raw.send(new CreateTableCommand(old));
    const drafts = [
      ...[0, 1, 2].map((s) => draftAt(s, 'pending')),
      draftAt(3, 'approved'),
      { ...draftAt(4, 'pending'), expiresAt: new Date(T0 + 100_000).toISOString() },
    ];
    for (const draft of drafts) {
      const { statusShard, createdShard, expiryShard, ...stored } = toItem(draft);
      void statusShard;
      void createdShard;
      await client.send(new PutCommand({ TableName: table, Item: { ...stored, ...(expiryShard ? { expiryQueue: 'pending' } : {}) } }));
    }
    try {
      await provisionTables(raw, prefix);
      const store = new DynamoDraftStore(client, table);
      expect((await pageAll(store, undefined, 2)).flat().map((d) => d.id)).toEqual([...drafts].sort(newestFirst).map((d) => d.id));
      expect((await pageAll(store, 'pending', 2)).flat()).toHaveLength(4);
      expect((await store.listExpired(new Date(T0 + 200_000), 10)).map((d) => d.id)).toEqual([drafts[4]!.id]);
      // Again (the next start): nothing left to do, nothing changes.
      await provisionTables(raw, prefix);
      expect(await store.count('pending')).toBe(4);
    } finally {
      for (const name of Object.keys(tables)) await raw.send(new DeleteTableCommand({ TableName: `${prefix}-${name}` })).catch(() => undefined);
    }
  });
});
