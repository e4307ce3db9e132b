import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createHandler } from '../../functions/create-draft/handler.js';
import { handler as decideHandler } from '../../functions/decide-draft/handler.js';
import { handler as readHandler } from '../../functions/read-drafts/handler.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { bearer, seedKeys } from '../support/keys.js';

const keys = await seedKeys();
const unique = () => `t-${Math.random().toString(36).slice(2)}`;

const create = (body: unknown, headers: Record<string, string> = bearer(keys.agent.key)) =>
  invoke(createHandler, apiEvent({ routeKey: 'POST /v1/drafts', headers, body: body as object }));
const decide = (id: string, action: 'approve' | 'reject', body: object | undefined, key = keys.reviewer.key) =>
  invoke(decideHandler, apiEvent({ routeKey: `POST /v1/drafts/{id}/${action}`, pathParameters: { id }, headers: bearer(key), body }));
const get = (id: string, key = keys.agent.key) =>
  invoke(readHandler, apiEvent({ routeKey: 'GET /v1/drafts/{id}', pathParameters: { id }, headers: bearer(key) }));
const list = (query: Record<string, string>, key = keys.reviewer.key) =>
  invoke(readHandler, apiEvent({ routeKey: 'GET /v1/drafts', query, headers: bearer(key) }));

/** Drafts with a given title, read straight from the table (test-only scan). */
async function storedWithTitle(title: string) {
  const { Items = [] } = await documentClient().send(
    new ScanCommand({
      TableName: tableNameFromEnv('drafts'),
      FilterExpression: 'title = :t',
      ExpressionAttributeValues: { ':t': title },
      ConsistentRead: true,
    }),
  );
  return Items;
}

describe('creating drafts', () => {
  it('returns 201 with id, pending status, reviewUrl and createdAt, and stores it', async () => {
    const title = unique();
    const res = await create({ title, content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' }, metadata: { source: 'ai_agent_v1' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^c[a-z0-9]{24}$/),
      status: 'pending',
      title,
      metadata: { source: 'ai_agent_v1' },
      reviewUrl: `http://localhost:3000/review/${res.body.id}`,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await get(res.body.id)).body).toEqual(res.body);
  });

  it('keeps content exactly as sent, including values DynamoDB maps could not hold', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 30; i++) deep = { d: deep };
    const content = { big: 1e300, tiny: -1e-300, empty: '', list: [null, [], {}], deep, unicode: '✓ 日本語 🎉' };
    const res = await create({ title: unique(), content });
    expect(res.status).toBe(201);
    expect((await get(res.body.id)).body.content).toEqual(content);
  });

  it('replays the same draft for a retried Idempotency-Key, also under concurrency', async () => {
    const title = unique();
    const body = { title, content: { n: 1 } };
    const headers = { ...bearer(keys.agent.key), 'idempotency-key': `idem-${title}` };
    const results = await Promise.all(Array.from({ length: 5 }, () => create(body, headers)));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const later = await create(body, headers);
    expect(later.body.id).toBe(results[0]!.body.id);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(await storedWithTitle(title)).toHaveLength(1);
  });

  it('refuses an Idempotency-Key reused with a different body, writing nothing', async () => {
    const title = unique();
    const headers = { ...bearer(keys.agent.key), 'idempotency-key': `idem-${title}` };
    await create({ title, content: {} }, headers);
    const res = await create({ title: `${title}-changed`, content: {} }, headers);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('idempotency_key_reused');
    expect(await storedWithTitle(`${title}-changed`)).toHaveLength(0);
  });

  it.each([
    ['missing title', { content: {} }, 400, 'title'],
    ['title over 200 chars', { title: 'x'.repeat(201), content: {} }, 400, 'title'],
    ['wrong types', { title: 5, content: 'x' }, 400, 'title'],
    ['nested metadata', { title: 't', content: {}, metadata: { a: { b: 1 } } }, 400, 'metadata.a'],
    ['an unknown field', { title: 't', content: {}, extra: 1 }, 400, 'extra'],
    ['content over 64 KiB', { title: 't', content: { body: 'a'.repeat(70_000) } }, 413, 'content'],
  ])('answers %s with a 4xx naming the field and writing nothing', async (_, body, status, field) => {
    const marker = unique();
    const res = await create(
      typeof (body as { title?: unknown }).title === 'string' ? { ...body, title: `${marker}${(body as { title: string }).title}` } : body,
    );
    expect(res.status).toBe(status);
    expect(res.body.error).toEqual({
      code: expect.any(String),
      message: expect.stringContaining(field),
      details: expect.objectContaining({ fields: expect.arrayContaining([expect.objectContaining({ field })]) }),
    });
    expect(await storedWithTitle(`${marker}${(body as { title?: string }).title ?? ''}`)).toHaveLength(0);
  });

  it('lets no reviewer create drafts, and no unknown or revoked key', async () => {
    expect((await create({ title: 't', content: {} }, bearer(keys.reviewer.key))).status).toBe(403);
    expect((await create({ title: 't', content: {} }, bearer(keys.revoked.key))).status).toBe(401);
    expect((await create({ title: 't', content: {} }, bearer('prk_unknown'))).status).toBe(401);
  });
});

describe('reading and listing drafts', () => {
  it('404s an unknown id', async () => {
    const res = await get('cunknownunknownunknown000');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('pages newest first through the status index with opaque cursors', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ title: unique(), content: { i } })).body.id);
    // Decide one so that it leaves the pending listing.
    await decide(ids[2]!, 'reject', { reason: 'no' });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await list({ status: 'pending', limit: '2', ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      for (const item of res.body.items) expect(item.status).toBe('pending');
      seen.push(...res.body.items.map((d: { id: string }) => d.id));
      cursor = res.body.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 500);
    const mine = seen.filter((id) => ids.includes(id));
    expect(mine).toEqual([ids[4], ids[3], ids[1], ids[0]]);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('lists every status newest first when no status is given, and filters decided ones', async () => {
    const a = (await create({ title: unique(), content: {} })).body.id;
    const b = (await create({ title: unique(), content: {} })).body.id;
    await decide(a, 'approve', {});
    const all = await list({ limit: '100' });
    const order = all.body.items.map((d: { id: string }) => d.id);
    expect(order.indexOf(b)).toBeLessThan(order.indexOf(a));
    const approved = await list({ status: 'approved', limit: '100' });
    expect(approved.body.items.map((d: { id: string }) => d.id)).toContain(a);
  });

  it.each([
    [{ cursor: 'garbage!' }, 'cursor'],
    [
      { status: 'pending', cursor: Buffer.from('{"v":1,"scope":"drafts:approved","key":{"id":"x","listKey":"y","status":"approved"}}').toString('base64url') },
      'cursor',
    ],
    [{ status: 'nope' }, 'status'],
    [{ limit: '1000' }, 'limit'],
  ])('answers a bad query %p with 400', async (query, field) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe(field);
  });
});

describe('deciding drafts', () => {
  it('approves with edited content, keeping the original and a history with actors', async () => {
    const { body: draft } = await create({ title: unique(), content: { subject: 'Hi' } });
    const res = await decide(draft.id, 'approve', { content: { subject: 'Hello' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'approved',
      content: { subject: 'Hello' },
      originalContent: { subject: 'Hi' },
      reviewedBy: { keyId: keys.reviewer.id, name: 'alice', role: 'reviewer' },
      reviewedAt: expect.any(String),
    });
    expect(res.body.history).toEqual([
      { action: 'created', at: draft.createdAt, actor: { keyId: keys.agent.id, name: 'bot', role: 'agent' } },
      { action: 'approved', at: res.body.reviewedAt, actor: { keyId: keys.reviewer.id, name: 'alice', role: 'reviewer' }, contentEdited: true },
    ]);
  });

  it('rejects with a reason', async () => {
    const { body: draft } = await create({ title: unique(), content: {} });
    const res = await decide(draft.id, 'reject', { reason: 'Content violates policy' });
    expect(res.body).toMatchObject({ status: 'rejected', rejectionReason: 'Content violates policy' });
  });

  it('validates edited content like creation, changing nothing on failure', async () => {
    const { body: draft } = await create({ title: unique(), content: { a: 1 } });
    const bad = await decide(draft.id, 'approve', { content: [1] });
    expect(bad.status).toBe(400);
    const huge = await decide(draft.id, 'approve', { content: { b: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect((await get(draft.id)).body).toMatchObject({ status: 'pending', content: { a: 1 } });
  });

  it('lets exactly one of many concurrent decisions win; the rest get 409 with the winner', async () => {
    const { body: draft } = await create({ title: unique(), content: {} });
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 2 ? decide(draft.id, 'approve', {}) : decide(draft.id, 'reject', { reason: `r${i}` }, keys.admin.key))),
    );
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(23);
    const final = (await get(draft.id)).body;
    expect(final.history).toHaveLength(2);
    for (const loser of losers) {
      expect(loser.body.error.code).toBe('already_decided');
      expect(loser.body.error.details.draft).toMatchObject({ status: final.status, reviewedAt: final.reviewedAt, reviewedBy: final.reviewedBy });
    }
  });

  it('forbids agents, even on their own drafts, and 404s unknown drafts', async () => {
    const { body: draft } = await create({ title: unique(), content: {} });
    const res = await decide(draft.id, 'approve', {}, keys.agent.key);
    expect(res.status).toBe(403);
    expect((await get(draft.id)).body.status).toBe('pending');
    expect((await decide('cunknownunknownunknown000', 'approve', {})).status).toBe(404);
  });
});
