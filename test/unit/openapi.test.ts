import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { deliveryExhaustedEvent, endpointDisabledEvent } from '../../shared/webhooks/operational-events.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { routeKey, ROLES, type RouteDefinition } from '../../infra/app-definition.js';
import { createApiKey, type ApiKeyStore } from '../../shared/domain/api-keys.js';
import type { Actor } from '../../shared/domain/draft.js';
import { createDraft, decideDraft, expireDueDrafts } from '../../shared/domain/drafts-service.js';
import { apiPipeline } from '../../shared/http/api-handler.js';
import { apiRoutes, openApiDocument } from '../../shared/http/openapi.js';
import { json } from '../../shared/http/responses.js';
import { withStoreErrors } from '../../shared/store/dynamo-client.js';
import { createdEvent, decisionEvent, EVENT_TYPES, testEvent, type WebhookEvent } from '../../shared/webhooks/events.js';
import { generateSecret, signedHeaders } from '../../shared/webhooks/signing.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { MemoryApiKeyStore, MemoryDraftStore } from '../support/memory-stores.js';
import { resolved, schemaValidator } from '../support/openapi-schemas.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const committedPath = 'shared/client/openapi.json';
const spec = JSON.parse(JSON.stringify(openApiDocument()));
const check = schemaValidator(spec);

describe('shared/client/openapi.json', () => {
  it('is the current document (regenerate it with `npm run openapi`)', () => {
    const committed = JSON.parse(readFileSync(new URL(`../../${committedPath}`, import.meta.url), 'utf8'));
    expect(committed).toEqual(spec);
  });

  it('passes `redocly lint` (recommended rules, as configured in redocly.yaml) without errors or warnings, offline', async () => {
    const { stdout } = await promisify(execFile)(`${root}node_modules/.bin/redocly`, ['lint', committedPath, '--format=json'], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    });
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
    };
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location.map((l) => l.pointer).join(', ')}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 70_000);

  it('marks only the document itself and the Slack interactivity URL (signed by Slack instead) as open; every other operation names its roles', () => {
    const operations = Object.entries(openApiDocument().paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ key: `${method} ${path}`, op: op as Record<string, unknown> })),
    );
    const open = operations.filter(({ op }) => Array.isArray(op.security) && (op.security as unknown[]).length === 0).map(({ key }) => key);
    const keyless = ['get /v1/openapi.json', 'post /v1/integrations/slack/interactions'];
    expect(open.sort()).toEqual(keyless.sort());
    for (const { key, op } of operations) if (!keyless.includes(key)) expect((op['x-roles'] as string[]).length).toBeGreaterThan(0);
  });

  it('names its schemas in components and refers to them, with no inline copies of the main shapes', () => {
    for (const name of [
      'Draft',
      'DraftPage',
      'Error',
      'GatewayError',
      'WebhookEndpoint',
      'Delivery',
      'ApiKey',
      'DraftApprovedEvent',
      'DraftRejectedEvent',
      'DraftExpiredEvent',
      'CreateDraftRequest',
    ]) {
      expect(spec.components.schemas[name]).toBeDefined();
    }
    expect(spec.paths['/v1/drafts/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Draft' });
    // Draft's own properties appear once, in components.schemas.Draft (and DraftCreatedEvent's draft, a shape of its own).
    expect(JSON.stringify(spec).match(/"reviewUrl":\{/g)).toHaveLength(2);
    expect(JSON.stringify(spec.components.schemas.DraftCreatedEvent)).toContain('"reviewUrl":{');
  });
});

/** The document's response for a route and status, with its $refs followed. */
function documented(route: Pick<RouteDefinition, 'method' | 'path'>, status: number) {
  const response = spec.paths[route.path]?.[route.method.toLowerCase()]?.responses[String(status)];
  if (!response) throw new Error(`${routeKey(route)} answered ${status}, which the document does not list`);
  return resolved(spec, response);
}

function expectDocumented(route: RouteDefinition, res: { status: number; headers: Record<string, unknown>; body: unknown }) {
  const response = documented(route, res.status);
  const problem = check(response.content['application/json'].schema, res.body);
  if (problem) throw new Error(`${routeKey(route)} ${res.status}: ${problem}\n${JSON.stringify(res.body).slice(0, 300)}`);
  for (const [name, header] of Object.entries<any>(response.headers ?? {})) {
    const value = res.headers[name.toLowerCase()];
    if (resolved(spec, header).required)
      expect({ route: routeKey(route), header: name, present: value !== undefined }).toEqual({ route: routeKey(route), header: name, present: true });
    if (value !== undefined) expect(check(resolved(spec, header).schema, /^\d+$/.test(String(value)) ? Number(value) : value)).toBeUndefined();
  }
}

describe('the error responses every route really answers are documented', () => {
  const keyedRoutes = apiRoutes.filter((r) => r.auth !== 'none');
  const bodyRoutes = keyedRoutes.filter((r) => r.method === 'POST' || r.method === 'PATCH');
  const keys = new MemoryApiKeyStore();
  // Every route's pipeline (auth, roles, body limits) exactly as the functions build it; no route code runs.
  const handlerFor = (store: ApiKeyStore, route: RouteDefinition) => apiPipeline({ keys: store }, { [routeKey(route)]: async () => json(200, {}) });
  const event = (route: RouteDefinition, key: string, extra: { body?: string; headers?: Record<string, string> } = {}) =>
    apiEvent({
      routeKey: routeKey(route),
      pathParameters: route.path.includes('{id}') ? { id: 'x' } : undefined,
      body: extra.body,
      headers: { authorization: `Bearer ${key}`, ...extra.headers },
    });

  it('400, 413 and 415 on every route that takes a body (a 300 KB body is refused with 413)', async () => {
    const { key: k } = await createApiKey(keys, { name: 'admin', role: 'admin' }, null);
    for (const route of bodyRoutes) {
      expect(route.roles).toContain('admin');
      const big = await invoke(
        handlerFor(keys, route),
        event(route, k, { body: JSON.stringify({ title: 'x'.repeat(300 * 1024) }), headers: { 'content-type': 'application/json' } }),
      );
      expect({ route: routeKey(route), status: big.status, code: big.body.error.code }).toEqual({
        route: routeKey(route),
        status: 413,
        code: 'payload_too_large',
      });
      expectDocumented(route, big);
      const text = await invoke(handlerFor(keys, route), event(route, k, { body: 'hello', headers: { 'content-type': 'text/plain' } }));
      expect(text.status).toBe(415);
      expectDocumented(route, text);
      const malformed = await invoke(handlerFor(keys, route), event(route, k, { body: '{"title":', headers: { 'content-type': 'application/json' } }));
      expect(malformed.status).toBe(400);
      expectDocumented(route, malformed);
    }
  });

  it('401 and 403 on every keyed route (403 unless every role may call it)', async () => {
    for (const route of keyedRoutes) {
      const unknown = await invoke(handlerFor(keys, route), event(route, 'prk_unknown'));
      expect(unknown.status).toBe(401);
      expectDocumented(route, unknown);
      const outsider = ROLES.find((role) => !route.roles.includes(role));
      if (outsider) {
        const { key } = await createApiKey(keys, { name: 'outsider', role: outsider }, null);
        const forbidden = await invoke(handlerFor(keys, route), event(route, key));
        expect(forbidden.status).toBe(403);
        expectDocumented(route, forbidden);
      } else {
        expect(spec.paths[route.path][route.method.toLowerCase()].responses['403']).toBeUndefined();
      }
    }
  });

  it('503 with Retry-After on every keyed route when the store throttles (authenticating reads the key store)', async () => {
    const throttling = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
    const throttled = { findByHash: () => withStoreErrors(async () => Promise.reject(throttling)) } as unknown as ApiKeyStore;
    for (const route of keyedRoutes) {
      const res = await invoke(handlerFor(throttled, route), event(route, 'prk_anything'));
      expect({ route: routeKey(route), status: res.status, retryAfter: res.headers['retry-after'] }).toEqual({
        route: routeKey(route),
        status: 503,
        retryAfter: '1',
      });
      expectDocumented(route, res);
      expect(documented(route, 503).headers['Retry-After']).toBeDefined();
    }
  });

  it('429 (API Gateway’s stage throttle, in its own body) on every route, and no 503 on the open one', () => {
    for (const route of apiRoutes) expect(check(documented(route, 429).content['application/json'].schema, { message: 'Too Many Requests' })).toBeUndefined();
    expect(spec.paths['/v1/openapi.json'].get.responses['503']).toBeUndefined();
  });
});

describe('the webhooks section describes exactly what is sent', () => {
  const agent: Actor = { keyId: 'key_agent', name: 'bot', role: 'agent' };
  const reviewer: Actor = { keyId: 'key_reviewer', name: 'alice', role: 'reviewer' };

  async function realEvents(): Promise<WebhookEvent[]> {
    const store = new MemoryDraftStore();
    const now = new Date();
    const make = async (title: string, expiresAt?: string) =>
      (
        await createDraft(
          store,
          {
            title,
            content: { to: 'user@example.com', subject: 'Hi', body: 'Hello…' },
            metadata: { source: 'ai_agent_v1', priority: 2, urgent: true },
            expiresAt,
          },
          agent,
          { now },
        )
      ).draft;
    const approved = await decideDraft(store, (await make('Plain approval')).id, { kind: 'approve' }, reviewer, now);
    const edited = await decideDraft(store, (await make('Edited approval')).id, { kind: 'approve', editedContent: { to: 'other@example.com' } }, reviewer, now);
    const rejected = await decideDraft(store, (await make('Rejected with reason')).id, { kind: 'reject', reason: 'Content violates policy' }, reviewer, now);
    const silent = await decideDraft(store, (await make('Rejected without reason')).id, { kind: 'reject' }, reviewer, now);
    const expiring = await make('Left undecided', new Date(now.getTime() + 120_000).toISOString());
    await expireDueDrafts(store, new Date(now.getTime() + 180_000));
    const expired = (await store.get(expiring.id))!;
    expect(expired.status).toBe('expired');
    const waiting = await make('Waiting for review');
    return [approved, edited, rejected, silent, expired]
      .map(decisionEvent)
      .concat([
        createdEvent(waiting, 'https://approvals.example.com'),
        createdEvent({ ...waiting, expiresAt: new Date(now.getTime() + 120_000).toISOString() }, 'http://localhost:3000'),
      ])
      .concat([testEvent(), testEvent({ event: 'draft.approved' }), testEvent({ event: 'draft.rejected' })])
      .concat(operationalEvents(deliveryMessage(decisionEvent(approved), 'ep_a')));
  }

  /** endpoint.disabled (gone, failing) and delivery.exhausted (of a draft event, and of an operational one: draftId null). */
  function operationalEvents(dead: DeliveryMessage): WebhookEvent[] {
    const endpoint = { id: 'ep_a', url: 'https://hooks.example.com/processa', disabledAt: new Date().toISOString() };
    const exhausted = deliveryExhaustedEvent({ message: dead, attempts: 4, lastError: 'HTTP 503', diedAt: new Date().toISOString() });
    return [
      endpointDisabledEvent({ ...endpoint, disabledReason: 'gone' }),
      endpointDisabledEvent({ ...endpoint, disabledReason: 'failing' }),
      exhausted,
      deliveryExhaustedEvent({ message: deliveryMessage(exhausted, 'ep_b'), attempts: 1, lastError: null, diedAt: new Date().toISOString() }),
    ];
  }

  it('has one entry per event type, each a POST with a named body schema, the signature headers and 2XX/4XX/5XX', () => {
    expect(Object.keys(spec.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
    for (const type of EVENT_TYPES) {
      const post = spec.webhooks[type].post;
      expect(post.requestBody.content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\/\w+Event$/);
      expect(post.parameters.map((p: unknown) => resolved(spec, p).name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['2XX', '4XX', '5XX']));
    }
  });

  it('validates real event bodies (decisions, expiry, test events) and their signed headers, rejecting extra or missing fields', async () => {
    const events = await realEvents();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
    const secrets = [generateSecret(), generateSecret()];
    for (const event of events) {
      const post = spec.webhooks[event.type].post;
      const schema = post.requestBody.content['application/json'].schema;
      const body = JSON.parse(event.body);
      expect({ body, problem: check(schema, body) }).toEqual({ body, problem: undefined });
      // The schema is exact: a field more or less is not what is sent.
      expect(check(schema, { ...body, surprise: 1 })).toBeDefined();
      expect(check(schema, { ...body, draft: { ...body.draft, id: undefined } })).toBeDefined();
      for (const signing of [secrets.slice(0, 1), secrets]) {
        const headers = signedHeaders(event.id, event.body, signing, new Date());
        for (const parameter of post.parameters.map((p: unknown) => resolved(spec, p))) {
          const value = headers[parameter.name as keyof typeof headers];
          expect({ header: parameter.name, value, problem: check(parameter.schema, value) }).toEqual({ header: parameter.name, value, problem: undefined });
        }
      }
    }
  });

  it('gives examples that are valid bodies (the webhook documentation’s own)', () => {
    for (const type of EVENT_TYPES) {
      const media = spec.webhooks[type].post.requestBody.content['application/json'];
      for (const example of Object.values<any>(media.examples)) expect(check(media.schema, example.value)).toBeUndefined();
    }
  });
});
