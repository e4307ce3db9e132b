/**
 * Property-based fuzzing of every JSON API route whose handler runs in this project (those that
 * need SQS are covered end to end elsewhere), called in-process against DynamoDB Local:
 * arbitrary bodies, headers, ids and queries must only ever produce 2xx or 4xx responses with
 * the documented error shape and no internals, and the drafts table must afterwards hold only
 * drafts that satisfy the product's rules. Seeds are fixed; fast-check prints the seed, path
 * and counterexample of any failure so that it can be replayed.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import * as z from 'zod/mini';
import { handler as createHandler } from '../../functions/create-draft/handler.js';
import { handler as decideHandler } from '../../functions/decide-draft/handler.js';
import { handler as describeHandler } from '../../functions/describe-api/handler.js';
import { handler as keysHandler } from '../../functions/manage-keys/handler.js';
import { handler as readHandler } from '../../functions/read-drafts/handler.js';
import { routeKey, routes, type FunctionName, type RouteDefinition } from '../../infra/app-definition.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { draftResponse, keyResponse } from '../../shared/http/api-schemas.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import {
  authorization,
  bodyText,
  checkResponse,
  contentType,
  contentTypeName,
  deepValue,
  describeRequest,
  draftBodyValue,
  fuzzEvent,
  garbageId,
  idempotencyKey,
  invokeRaw,
  jsonish,
  nastyString,
  bigString,
  soundContent,
  otherHeaders,
  queryParameters,
  storedDraftItem,
  soundTitle,
  toJsonText,
  type AuthCase,
  type FuzzRequest,
} from '../support/fuzz.js';
import { seedKeys } from '../support/keys.js';

const keys = await seedKeys();
const keyValues = { agent: keys.agent.key, reviewer: keys.reviewer.key, admin: keys.admin.key, revoked: keys.revoked.key };

/** The handlers this project can load (manage-webhooks and the pages need queues or sessions: see test/e2e). */
const handlers: Partial<Record<FunctionName, unknown>> = {
  createDraft: createHandler,
  readDrafts: readHandler,
  decideDraft: decideHandler,
  manageKeys: keysHandler,
  describeApi: describeHandler,
};
const allRoutes = routes as readonly RouteDefinition[];
const fuzzedRoutes = allRoutes.filter((r) => handlers[r.function] !== undefined);
const routeByKey = new Map(allRoutes.map((r) => [routeKey(r), r]));

/** A 409 shows the draft that won, without reviewUrl (details.draft is the public draft). */
const wonDraft = z.omit(draftResponse, { reviewUrl: true });

/**
 * Scaled so that the file stays well under a minute on two cores; the seeds make runs
 * repeatable. FUZZ_SCALE and FUZZ_SEED explore further: FUZZ_SCALE=10 FUZZ_SEED=$RANDOM.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const RUNS = Object.fromEntries(
  Object.entries({ anyRoute: 500, create: 450, idempotency: 60, decide: 250, read: 250, keys: 200, limits: 60 }).map(([k, v]) => [
    k,
    Math.max(1, Math.round(v * SCALE)),
  ]),
) as Record<'anyRoute' | 'create' | 'idempotency' | 'decide' | 'read' | 'keys' | 'limits', number>;
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

const pendingIds: string[] = [];
const realCursors: string[] = [];
/** Outcomes by route, "status code": the summary shows the fuzzing reached every layer. */
const outcomes = new Map<string, Map<string, number>>();
let responses = 0;

async function call(request: FuzzRequest) {
  const route = routeByKey.get(request.routeKey)!;
  const response = await invokeRaw(handlers[route.function], fuzzEvent(request));
  responses++;
  const parsed = checkResponse(response, request);
  const code = response.status >= 400 ? (parsed as { error: { code: string } }).error.code : '';
  const byRoute = outcomes.get(request.routeKey) ?? new Map<string, number>();
  byRoute.set(`${response.status} ${code}`.trim(), (byRoute.get(`${response.status} ${code}`.trim()) ?? 0) + 1);
  outcomes.set(request.routeKey, byRoute);
  checkAuthOutcome(route, request.auth, response.status, request);
  return { status: response.status, body: parsed as any };
}

/** The role table, as the route definition states it: no key 401, wrong role 403, else neither. */
function checkAuthOutcome(route: RouteDefinition, auth: AuthCase, status: number, request: FuzzRequest) {
  if (route.auth === 'none') return;
  const expected = auth.role === undefined ? 401 : route.roles.includes(auth.role) ? undefined : 403;
  const ok = expected === undefined ? status !== 401 && status !== 403 : status === expected;
  if (!ok) throw new Error(`expected ${expected ?? 'neither 401 nor 403'} for a ${auth.label} key, got ${status}: ${describeRequest(request)}`);
}

/** Checks a returned draft against the product's rules, as stored items are checked at the end. */
function checkDraftView(body: unknown, request: FuzzRequest, shape: typeof draftResponse | typeof wonDraft = draftResponse) {
  const view = shape.safeParse(body);
  if (!view.success) throw new Error(`2xx draft does not match the documented shape: ${view.error.message}\n${describeRequest(request)}`);
  const d = view.data;
  const item = storedDraftItem.safeParse({
    ...d,
    kind: 'draft',
    listKey: `${d.createdAt}#${d.id}`,
    contentJson: JSON.stringify(d.content),
    metadataJson: JSON.stringify(d.metadata),
    ...(d.originalContent ? { originalContentJson: JSON.stringify(d.originalContent) } : {}),
    reviewedAt: d.reviewedAt ?? undefined,
    reviewedBy: d.reviewedBy ?? undefined,
    rejectionReason: d.rejectionReason ?? undefined,
    expiresAt: d.expiresAt ?? undefined,
  });
  if (!item.success) throw new Error(`2xx draft breaks the product's rules: ${item.error.message}\n${describeRequest(request)}`);
}

/** Request parts every property varies; the credentials are chosen for the route's roles. */
const common = (route: string) => ({
  auth: authorization(keyValues, routeByKey.get(route)!.roles),
  contentTypeName,
  contentType,
  headers: otherHeaders,
  base64: fc.oneof({ arbitrary: fc.constant(false), weight: 12 }, { arbitrary: fc.constant(true), weight: 1 }),
});
const ids = () => fc.oneof({ arbitrary: fc.constantFrom(...pendingIds), weight: 2 }, { arbitrary: garbageId, weight: 3 });
const assertProperty = <T>(arb: fc.Arbitrary<T>, run: (value: T) => Promise<void>, numRuns: number, seed: number) =>
  fc.assert(fc.asyncProperty(arb, run), { numRuns, seed });

beforeAll(async () => {
  // Pending drafts for the decide and read properties to find (and to race for).
  for (let batch = 0; batch < 4; batch++) {
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call({
          routeKey: 'POST /v1/drafts',
          auth: { header: `Bearer ${keys.agent.key}`, role: 'agent', label: 'seed' },
          contentType: 'application/json',
          body: JSON.stringify({ title: `fuzz seed ${batch}.${i}`, content: { i }, metadata: { batch } }),
        }),
      ),
    );
    pendingIds.push(...created.map((r) => r.body.id as string));
  }
  for (const query of [{ limit: '1' }, { limit: '1', status: 'pending' }] as Array<Record<string, string>>) {
    const page = await call({ routeKey: 'GET /v1/drafts', auth: { header: `Bearer ${keys.reviewer.key}`, role: 'reviewer', label: 'seed' }, query });
    if (page.body.nextCursor) realCursors.push(page.body.nextCursor);
  }
  const keyPage = await call({ routeKey: 'GET /v1/keys', auth: { header: `Bearer ${keys.admin.key}`, role: 'admin', label: 'seed' }, query: { limit: '1' } });
  if (keyPage.body.nextCursor) realCursors.push(keyPage.body.nextCursor);
}, 60_000);

afterAll(() => {
  const lines = [...outcomes].map(
    ([route, counts]) =>
      `  ${route}: ${[...counts]
        .sort()
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ')}`,
  );
  process.stdout.write(`fuzz-api: ${responses} responses checked (seed ${SEED}, scale ${SCALE})\n${lines.join('\n')}\n`);
});

describe('fuzzing the JSON API in-process against DynamoDB Local', () => {
  it('covers every route of the handlers it loads (the rest need SQS and are fuzzed nowhere in-process)', () => {
    expect(fuzzedRoutes.map(routeKey)).toEqual(
      expect.arrayContaining([
        'POST /v1/drafts',
        'GET /v1/drafts',
        'GET /v1/drafts/{id}',
        'POST /v1/drafts/{id}/approve',
        'POST /v1/drafts/{id}/reject',
        'POST /v1/keys',
        'GET /v1/keys',
        'DELETE /v1/keys/{id}',
        'GET /v1/openapi.json',
      ]),
    );
    const skipped = allRoutes.filter((r) => r.auth !== 'session' && !fuzzedRoutes.includes(r));
    // slackInteractions answers nothing without Slack's signature (401, or 503 unconfigured): its refusals are pinned in the Slack tests.
    expect(new Set(skipped.map((r) => r.function))).toEqual(new Set(['manageWebhooks', 'webhookQueueActions', 'slackInteractions']));
  });

  it('the oracles bite: they refuse 5xx, stray shapes, stack traces and invalid drafts', () => {
    const request: FuzzRequest = { routeKey: 'POST /v1/drafts', auth: { label: 'missing' }, body: '{}' };
    const res = (status: number, text: string) => ({ status, headers: { 'content-type': 'application/json; charset=utf-8' }, text });
    const ok = JSON.stringify({ error: { code: 'validation_failed', message: 'no', details: { fields: [] } } });
    expect(() => checkResponse(res(400, ok), request)).not.toThrow();
    for (const bad of [
      res(500, JSON.stringify({ error: { code: 'internal_error', message: 'x' } })),
      res(302, '{}'),
      res(400, JSON.stringify({ message: 'Bad Request' })),
      res(400, JSON.stringify({ error: { code: 'x', message: 'y' }, extra: 1 })),
      res(400, JSON.stringify({ error: { code: 'x', message: 'y', stack: 's' } })),
      res(400, 'not json'),
      res(400, JSON.stringify({ error: { code: 'x', message: 'boom at handler (/var/task/index.mjs:1:2)' } })),
      res(400, JSON.stringify({ error: { code: 'x', message: 'TypeError: cannot read' } })),
      res(400, JSON.stringify({ error: { code: 'x', message: 'ValidationException raised' } })),
      res(200, JSON.stringify({ file: '/app/node_modules/x/index.js' })),
    ]) {
      expect(() => checkResponse(bad, request)).toThrow();
    }
    // An error may quote what the client sent, markers included.
    expect(() =>
      checkResponse(res(415, JSON.stringify({ error: { code: 'unsupported_media_type', message: 'received "Error: at /x.ts:1"' } })), {
        ...request,
        contentType: 'Error: at /x.ts:1',
      }),
    ).not.toThrow();

    const at = '2026-01-01T00:00:00.000Z';
    const actor = { keyId: 'key_a', name: 'a', role: 'agent' };
    const item = {
      id: 'cabc',
      kind: 'draft',
      status: 'pending',
      listKey: `${at}#cabc`,
      title: 't',
      contentJson: '{}',
      metadataJson: '{}',
      createdAt: at,
      createdBy: actor,
      history: [{ action: 'created', at, actor }],
    };
    expect(storedDraftItem.safeParse(item).success).toBe(true);
    for (const change of [
      { title: '' },
      { title: ' ' },
      { title: 'x'.repeat(201) },
      { title: 'a\ud800' },
      { contentJson: '[]' },
      { contentJson: '"x"' },
      { contentJson: JSON.stringify({ s: 'x'.repeat(65_536) }) },
      { contentJson: '{' },
      { metadataJson: '{"a":{"b":1}}' },
      { metadataJson: JSON.stringify(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))) },
      { metadataJson: '[]' },
      { metadataJson: '{"a":"\\ud800"}' },
      { status: 'approvedish' },
      { status: 'approved' },
      { history: [] },
      { id: 'Bad Id' },
      { listKey: 'x' },
      { originalContentJson: '{}' },
    ]) {
      expect({ change, valid: storedDraftItem.safeParse({ ...item, ...change }).success }).toEqual({ change, valid: false });
    }
  });

  it('any route, any request: 2xx or 4xx, the error shape, no internals, the role table', async () => {
    const arb = fc.constantFrom(...fuzzedRoutes.map(routeKey)).chain((route) =>
      fc.record({
        ...common(route),
        routeKey: fc.constant(route),
        idempotencyKey,
        body: fc.option(bodyText(fc.oneof(draftBodyValue, jsonish)), { nil: undefined, freq: 6 }),
        id: ids(),
        query: queryParameters(realCursors),
      }),
    );
    await assertProperty(
      arb,
      async (r) => {
        const request: FuzzRequest = { ...r, id: r.routeKey.includes('{id}') ? r.id : undefined };
        await call(request);
      },
      RUNS.anyRoute,
      SEED,
    );
  }, 120_000);

  it('POST /v1/drafts: hostile drafts are refused with 4xx; what is accepted is a valid draft', async () => {
    const arb = fc.record({ ...common('POST /v1/drafts'), idempotencyKey, body: bodyText(draftBodyValue) });
    await assertProperty(
      arb,
      async (r) => {
        const request: FuzzRequest = { ...r, routeKey: 'POST /v1/drafts' };
        const res = await call(request);
        if (res.status === 201) {
          checkDraftView(res.body, request);
          if (res.body.status === 'pending') pendingIds.push(res.body.id);
        } else if (res.status < 400 || res.status === 404 || res.status === 409) {
          throw new Error(`unexpected status ${res.status} creating a draft: ${describeRequest(request)}`);
        }
      },
      RUNS.create,
      SEED + 1,
    );
  }, 120_000);

  it('POST /v1/drafts with Idempotency-Key: a retry replays the same draft, a changed body is refused, nothing is doubled', async () => {
    const arb = fc.record({
      body: draftBodyValue,
      changed: soundTitle,
      key: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }).filter((k) => /^[\x21-\x7e]+$/.test(k)),
      concurrent: fc.integer({ min: 1, max: 3 }),
    });
    let run = 0;
    await assertProperty(
      arb,
      async ({ body, changed, key, concurrent }) => {
        const request = (text: string): FuzzRequest => ({
          routeKey: 'POST /v1/drafts',
          auth: { header: `Bearer ${keys.agent.key}`, role: 'agent', label: 'valid agent' },
          contentType: 'application/json',
          idempotencyKey: `${SEED}-${run++}-${key}`,
          body: text,
        });
        const first = request(toJsonText(body));
        const results = await Promise.all(Array.from({ length: concurrent + 1 }, () => call(first)));
        const statuses = new Set(results.map((r) => r.status));
        if (statuses.size !== 1) throw new Error(`retries of one request got different statuses ${[...statuses]}: ${describeRequest(first)}`);
        if (results[0]!.status !== 201) return;
        if (new Set(results.map((r) => r.body.id)).size !== 1) throw new Error(`retries created different drafts: ${describeRequest(first)}`);
        const reused = await call({ ...first, body: toJsonText({ ...(body as object), title: changed, extra: 'changed' }) });
        if (reused.status !== 422 && reused.status !== 400 && reused.status !== 413)
          throw new Error(`a changed body under a used key got ${reused.status}: ${describeRequest(first)}`);
      },
      RUNS.idempotency,
      SEED + 6,
    );
  }, 120_000);

  it('POST /v1/drafts/{id}/approve|reject: hostile decisions are 4xx; decided drafts stay valid', async () => {
    const absent = fc.constant(undefined);
    const approveBody = fc.record({
      content: fc.oneof(
        { arbitrary: absent, weight: 3 },
        { arbitrary: soundContent, weight: 6 },
        {
          arbitrary: fc.oneof(
            jsonish,
            deepValue,
            deepValue.map((v) => ({ v })),
            bigString.map((s) => ({ s })),
          ),
          weight: 3,
        },
      ),
      extra: fc.oneof({ arbitrary: absent, weight: 8 }, { arbitrary: jsonish, weight: 1 }),
    });
    const rejectBody = fc.record({
      reason: fc.oneof(
        { arbitrary: absent, weight: 3 },
        { arbitrary: fc.string({ maxLength: 1000 }), weight: 5 },
        { arbitrary: fc.oneof(nastyString(), bigString, jsonish), weight: 3 },
      ),
      extra: fc.oneof({ arbitrary: absent, weight: 8 }, { arbitrary: jsonish, weight: 1 }),
    });
    const arb = fc.oneof(
      fc.record({
        ...common('POST /v1/drafts/{id}/approve'),
        routeKey: fc.constant('POST /v1/drafts/{id}/approve'),
        id: ids(),
        body: fc.option(bodyText(approveBody), { nil: undefined, freq: 6 }),
      }),
      fc.record({
        ...common('POST /v1/drafts/{id}/reject'),
        routeKey: fc.constant('POST /v1/drafts/{id}/reject'),
        id: ids(),
        body: fc.option(bodyText(rejectBody), { nil: undefined, freq: 6 }),
      }),
    );
    await assertProperty(
      arb,
      async (request) => {
        const res = await call(request);
        if (res.status === 200) checkDraftView(res.body, request);
        if (res.status === 409) checkDraftView(res.body.error.details.draft, request, wonDraft);
      },
      RUNS.decide,
      SEED + 2,
    );
  }, 120_000);

  it('GET /v1/drafts and /v1/drafts/{id}: garbage ids, statuses, limits and cursors are 4xx', async () => {
    const arb = fc.oneof(
      fc.record({ ...common('GET /v1/drafts'), routeKey: fc.constant('GET /v1/drafts'), query: queryParameters(realCursors) }),
      fc.record({ ...common('GET /v1/drafts/{id}'), routeKey: fc.constant('GET /v1/drafts/{id}'), id: ids() }),
    );
    await assertProperty(
      arb,
      async (request) => {
        const res = await call(request);
        if (res.status === 200 && request.routeKey === 'GET /v1/drafts') {
          for (const item of res.body.items) checkDraftView(item, request);
          if (!(res.body.nextCursor === null || typeof res.body.nextCursor === 'string')) throw new Error('nextCursor is neither null nor a string');
        } else if (res.status === 200) {
          checkDraftView(res.body, request);
        }
      },
      RUNS.read,
      SEED + 3,
    );
  }, 120_000);

  it('POST/GET/DELETE /v1/keys: garbage names, roles, ids and cursors are 4xx', async () => {
    const keyBody = fc.record({
      name: fc.oneof(
        { arbitrary: fc.string({ minLength: 1, maxLength: 100 }), weight: 4 },
        { arbitrary: fc.oneof(nastyString(), bigString, jsonish, fc.constantFrom(' ', 'n'.repeat(100), 'n'.repeat(101))), weight: 3 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
      role: fc.oneof(
        { arbitrary: fc.constantFrom('agent', 'reviewer', 'admin'), weight: 4 },
        { arbitrary: fc.oneof(fc.constantFrom('Admin', 'root', '', 'agent '), jsonish), weight: 2 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
      extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: jsonish, weight: 1 }),
    });
    const arb = fc.oneof(
      fc.record({ ...common('POST /v1/keys'), routeKey: fc.constant('POST /v1/keys'), body: fc.option(bodyText(keyBody), { nil: undefined, freq: 6 }) }),
      fc.record({ ...common('GET /v1/keys'), routeKey: fc.constant('GET /v1/keys'), query: queryParameters(realCursors) }),
      fc.record({ ...common('DELETE /v1/keys/{id}'), routeKey: fc.constant('DELETE /v1/keys/{id}'), id: garbageId }),
    );
    await assertProperty(
      arb,
      async (request) => {
        const res = await call(request);
        if (res.status === 201) {
          const created = keyResponse.safeParse(res.body);
          if (!created.success || typeof res.body.key !== 'string') throw new Error(`201 key does not match the documented shape: ${describeRequest(request)}`);
        }
      },
      RUNS.keys,
      SEED + 4,
    );
  }, 120_000);

  it('limits: bodies up to 300 KB and nesting up to 5000 deep on every body route', async () => {
    const bodyRoutes = fuzzedRoutes.filter((r) => r.method === 'POST');
    const huge = fc.oneof(
      bigString,
      bigString.map((s) => JSON.stringify({ title: 't', content: { s } })),
      bigString.map((s) => JSON.stringify({ title: s, content: {} })),
      bigString.map((s) => JSON.stringify({ content: { s } })),
      bigString.map((s) => JSON.stringify({ reason: s })),
      bigString.map((s) => JSON.stringify({ name: s, role: 'agent' })),
      deepValue.map((v) => v.text),
      deepValue.map((v) => toJsonText({ title: 't', content: { v } })),
      deepValue.map((v) => toJsonText({ title: 't', content: {}, metadata: { v } })),
      deepValue.map((v) => toJsonText({ title: v, content: {} })),
      deepValue.map((v) => toJsonText({ content: v })),
      deepValue.map((v) => toJsonText({ reason: v })),
      deepValue.map((v) => toJsonText({ name: v, role: 'admin' })),
      fc.integer({ min: 1, max: 5000 }).map((d) => `${'['.repeat(d)}`),
    );
    const arb = fc.record({
      routeKey: fc.constantFrom(...bodyRoutes.map(routeKey)),
      auth: fc.constantFrom<AuthCase>({ header: `Bearer ${keys.admin.key}`, role: 'admin', label: 'admin' }),
      contentType: fc.constant('application/json'),
      body: huge,
      id: fc.constantFrom(...pendingIds),
    });
    await assertProperty(
      arb,
      async (r) => {
        const request: FuzzRequest = { ...r, id: r.routeKey.includes('{id}') ? r.id : undefined };
        const res = await call(request);
        if (Buffer.byteLength(request.body!, 'utf8') > 256 * 1024 && res.status !== 413)
          throw new Error(`a body over 256 KiB got ${res.status}, not 413: ${describeRequest(request)}`);
      },
      RUNS.limits,
      SEED + 5,
    );
  }, 120_000);

  it('afterwards the store holds only valid drafts, and every idempotency claim points at one', async () => {
    const client = documentClient();
    const scan = async (table: string) => {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    };
    const drafts = await scan(tableNameFromEnv('drafts'));
    // The integration files share one DynamoDB Local: judge the drafts this file's keys created, not other
    // files' (quorum drafts elsewhere carry 'approval' entries this file's rules do not expect).
    const fuzzKeyIds = new Set(Object.values(keys).map((key) => key.id));
    const fuzzDrafts = drafts.filter((item) => fuzzKeyIds.has((item.createdBy as { keyId?: string } | undefined)?.keyId ?? ''));
    expect(fuzzDrafts.length).toBeGreaterThan(pendingIds.length);
    const invalid = fuzzDrafts
      .map((item) => ({ id: item.id, result: storedDraftItem.safeParse(item) }))
      .filter((d) => !d.result.success)
      .map((d) => `${String(d.id)}: ${d.result.error!.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    expect(invalid).toEqual([]);

    const draftIds = new Set(drafts.map((d) => d.id));
    const claims = await scan(tableNameFromEnv('idempotency'));
    const dangling = claims.filter((c) => !draftIds.has(c.draftId)).map((c) => c.id);
    expect(dangling).toEqual([]);
  }, 60_000);
});
