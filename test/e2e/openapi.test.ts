import { routeKey } from '../../infra/app-definition.js';
import { apiRoutes } from '../../shared/http/openapi.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { resolved, schemaValidator } from '../support/openapi-schemas.js';
import { eventually, startReceiver, type ReceivedRequest } from '../support/receiver.js';

let runtime: DevRuntime;
let spec: any;
let check: ReturnType<typeof schemaValidator>;

beforeAll(async () => {
  runtime = await startDevRuntime();
  const res = await fetch(`${runtime.url}/v1/openapi.json`);
  expect(res.status).toBe(200);
  spec = await res.json();
  check = schemaValidator(spec);
}, 90_000);
afterAll(async () => {
  await runtime?.stop();
});

/** Checks a real response (body and documented headers) against the document's response for that route and status. */
function expectConforms(method: string, path: string, response: { status: number; headers?: Headers; body: unknown }) {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  expect(operation).toBeDefined();
  const documented = resolved(spec, operation.responses[String(response.status)]);
  if (!documented) throw new Error(`${method} ${path} answered ${response.status}, which the document does not list`);
  const problem = check(documented.content['application/json'].schema, response.body);
  if (problem) throw new Error(`${method} ${path} ${response.status}: ${problem}\n${JSON.stringify(response.body).slice(0, 500)}`);
  for (const [name, header] of Object.entries<any>(documented.headers ?? {})) {
    const value = response.headers?.get(name);
    expect({ route: `${method} ${path}`, header: name, present: value !== null }).toEqual({ route: `${method} ${path}`, header: name, present: true });
    expect(check(resolved(spec, header).schema, /^\d+$/.test(value!) ? Number(value) : value)).toBeUndefined();
  }
}

/** Checks a request Processa sent to a receiver against the webhooks section: body and signature headers. */
function expectWebhookConforms(request: ReceivedRequest) {
  const body = JSON.parse(request.body);
  const post = spec.webhooks[body.event]?.post;
  if (!post) throw new Error(`The document has no webhook ${body.event}`);
  expect({ event: body.event, problem: check(post.requestBody.content['application/json'].schema, body) }).toEqual({ event: body.event, problem: undefined });
  for (const parameter of post.parameters.map((p: unknown) => resolved(spec, p))) {
    const value = request.headers[parameter.name];
    expect({ header: parameter.name, value, problem: check(parameter.schema, value) }).toEqual({ header: parameter.name, value, problem: undefined });
  }
  return body;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, open to read, and lists every API route the router serves', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.servers).toEqual([{ url: runtime.url }]);
    for (const route of apiRoutes) {
      expect({ route: routeKey(route), documented: Boolean(spec.paths[route.path]?.[route.method.toLowerCase()]) }).toEqual({
        route: routeKey(route),
        documented: true,
      });
    }
    const documented = Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(apiRoutes.map(routeKey).sort());
  });

  it('describes the responses of real calls', async () => {
    const admin = apiClient(runtime.url, runtime.adminKey);
    const call = async (method: string, path: string, template: string, body?: unknown, headers?: Record<string, string>) => {
      const res = await admin(method, path, body, headers);
      expectConforms(method, template, res);
      return res;
    };
    const created = await call(
      'POST',
      '/v1/drafts',
      '/v1/drafts',
      { title: 'Spec', content: { a: 1 }, metadata: { source: 'x' }, expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
      { 'idempotency-key': 'spec-1' },
    );
    await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Spec', content: { a: 1 }, metadata: { source: 'x' }, expiresAt: 'soon' });
    const id = created.body.id;
    await call('GET', `/v1/drafts/${id}`, '/v1/drafts/{id}');
    await call('GET', '/v1/drafts?status=pending&limit=1', '/v1/drafts');
    await call('POST', `/v1/drafts/${id}/approve`, '/v1/drafts/{id}/approve', { content: { a: 2 } });
    await call('POST', `/v1/drafts/${id}/reject`, '/v1/drafts/{id}/reject', {});
    await call('GET', '/v1/drafts/cnothere0000000000000000', '/v1/drafts/{id}');
    await call('GET', '/v1/drafts/not-an-id!', '/v1/drafts/{id}');
    await call('GET', '/v1/drafts?limit=1000', '/v1/drafts');

    // The refusals of the JSON pipeline, documented on every route with a body.
    const big = await call('POST', '/v1/drafts', '/v1/drafts', JSON.stringify({ title: 'Big', content: { text: 'x'.repeat(300 * 1024) } }), {
      'content-type': 'application/json',
    });
    expect(big.status).toBe(413);
    expect((await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Big content', content: { text: 'x'.repeat(65 * 1024) } })).status).toBe(413);
    expect(
      (
        await call('POST', `/v1/drafts/${id}/reject`, '/v1/drafts/{id}/reject', JSON.stringify({ reason: 'x'.repeat(300 * 1024) }), {
          'content-type': 'application/json',
        })
      ).status,
    ).toBe(413);
    expect((await call('POST', '/v1/drafts', '/v1/drafts', 'title=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await call('POST', '/v1/drafts', '/v1/drafts', '{"title":', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Spec', content: { a: 3 } }, { 'idempotency-key': 'spec-1' })).status).toBe(422);
    const stranger = await apiClient(runtime.url, 'prk_not_a_key')('GET', '/v1/drafts');
    expect(stranger.status).toBe(401);
    expectConforms('GET', '/v1/drafts', stranger);

    const key = await call('POST', '/v1/keys', '/v1/keys', { role: 'agent', name: 'spec' });
    await call('GET', '/v1/keys', '/v1/keys');
    // Linking a Slack user (Decide from Slack): linked, refused shape, taken by another key, unlinked; then a revoked key.
    await call('PATCH', `/v1/keys/${key.body.id}`, '/v1/keys/{id}', { slackUserId: 'U0SPEC' });
    await call('PATCH', `/v1/keys/${key.body.id}`, '/v1/keys/{id}', { slackUserId: 'not a member id' });
    expect((await call('POST', '/v1/keys', '/v1/keys', { role: 'reviewer', name: 'spec twin', slackUserId: 'U0SPEC' })).status).toBe(409);
    await call('PATCH', '/v1/keys/key_nothere', '/v1/keys/{id}', { slackUserId: null });
    await call('DELETE', `/v1/keys/${key.body.id}`, '/v1/keys/{id}');
    expect((await call('PATCH', `/v1/keys/${key.body.id}`, '/v1/keys/{id}', { slackUserId: null })).status).toBe(409);
    expectConforms('GET', '/v1/keys', await apiClient(runtime.url, key.body.key)('GET', '/v1/keys'));
    const agentKey = await call('POST', '/v1/keys', '/v1/keys', { role: 'agent', name: 'spec agent' });
    const agent = apiClient(runtime.url, agentKey.body.key);
    const agentDraft = await agent('POST', '/v1/drafts', { title: 'Agent draft', content: { a: 1 } });
    const forbidden = await agent('POST', `/v1/drafts/${agentDraft.body.id}/approve`, {});
    expect(forbidden.status).toBe(403);
    expectConforms('POST', '/v1/drafts/{id}/approve', forbidden);

    const receiver = await startReceiver('ok');
    try {
      // A notification channel with reminders: remindAfterMinutes is part of the documented endpoint.
      const channel = await call('POST', '/v1/notifications', '/v1/notifications', { kind: 'slack', url: receiver.url, remindAfterMinutes: 30 });
      expect(channel.body.remindAfterMinutes).toBe(30);
      await call('GET', `/v1/webhooks/${channel.body.id}`, '/v1/webhooks/{id}');
      await call('DELETE', `/v1/webhooks/${channel.body.id}`, '/v1/webhooks/{id}');
      const endpoint = await call('POST', '/v1/webhooks', '/v1/webhooks', { url: receiver.url, events: ['draft.approved', 'draft.expired'] });
      const ep = endpoint.body.id;
      await call('GET', '/v1/webhooks', '/v1/webhooks');
      await call('GET', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}');
      await call('PATCH', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}', { description: 'spec' });
      await call('PATCH', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}', {});
      const test = await call('POST', `/v1/webhooks/${ep}/test`, '/v1/webhooks/{id}/test');
      const sample = await call('POST', `/v1/webhooks/${ep}/test`, '/v1/webhooks/{id}/test', { event: 'draft.approved' });
      await call('POST', `/v1/webhooks/${ep}/test`, '/v1/webhooks/{id}/test', { event: 'draft.expired' });
      // A real decision, delivered to the endpoint subscribed to it.
      const decided = await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Delivered', content: { to: 'user@example.com' }, metadata: { source: 'spec' } });
      await call('POST', `/v1/drafts/${decided.body.id}/approve`, '/v1/drafts/{id}/approve', { content: { to: 'edited@example.com' } });
      const delivered = await eventually(
        () => {
          const ids = [test.body.eventId, sample.body.eventId];
          const requests = [...ids.map((i) => receiver.forEvent(i)[0]), receiver.requests.find((r) => JSON.parse(r.body).draft.id === decided.body.id)];
          return requests.every(Boolean) && (requests as ReceivedRequest[]);
        },
        20_000,
        'the test events and the decision to be delivered',
      );
      const bodies = delivered.map(expectWebhookConforms);
      expect(bodies.map((b) => [b.event, b.test ?? false])).toEqual([
        ['draft.rejected', true],
        ['draft.approved', true],
        ['draft.approved', false],
      ]);
      expect(bodies[2].draft.content).toEqual({ to: 'edited@example.com' });
      const log = await eventually(
        async () => {
          const page = await call('GET', `/v1/webhooks/${ep}/deliveries`, '/v1/webhooks/{id}/deliveries');
          return page.body.items.length >= 3 && page;
        },
        20_000,
        'the delivery log',
      );
      expect(log.body.items.length).toBeGreaterThan(0);
      await call('POST', `/v1/webhooks/${ep}/rotate-secret`, '/v1/webhooks/{id}/rotate-secret');
      await call('POST', `/v1/webhooks/${ep}/redrive`, '/v1/webhooks/{id}/redrive');
      await call('DELETE', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}');
      await call('POST', '/v1/webhooks', '/v1/webhooks', { url: 'http://example.com' });
    } finally {
      await receiver.stop();
    }
  });
});
