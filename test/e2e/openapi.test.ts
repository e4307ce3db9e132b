import { Ajv2020 } from 'ajv/dist/2020.js';
import { routeKey } from '../../infra/app-definition.js';
import { apiRoutes } from '../../shared/http/openapi.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { startReceiver } from '../support/receiver.js';

let runtime: DevRuntime;
let spec: any;
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

beforeAll(async () => {
  runtime = await startDevRuntime();
  const res = await fetch(`${runtime.url}/v1/openapi.json`);
  expect(res.status).toBe(200);
  spec = await res.json();
}, 90_000);
afterAll(async () => {
  await runtime?.stop();
});

/** Checks a real response against the document's schema for that route and status. */
function expectConforms(method: string, path: string, response: { status: number; body: unknown }) {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  expect(operation).toBeDefined();
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${method} ${path} answered ${response.status}, which the document does not list`);
  const schema = documented.content['application/json'].schema;
  const validate = ajv.compile(schema);
  if (!validate(response.body)) throw new Error(`${method} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body).slice(0, 500)}`);
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, open to read, and lists every API route the router serves', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.servers).toEqual([{ url: runtime.url }]);
    for (const route of apiRoutes) {
      expect({ route: routeKey(route), documented: Boolean(spec.paths[route.path]?.[route.method.toLowerCase()]) }).toEqual({ route: routeKey(route), documented: true });
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
    const created = await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Spec', content: { a: 1 }, metadata: { source: 'x' }, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }, { 'idempotency-key': 'spec-1' });
    await call('POST', '/v1/drafts', '/v1/drafts', { title: 'Spec', content: { a: 1 }, metadata: { source: 'x' }, expiresAt: 'soon' });
    const id = created.body.id;
    await call('GET', `/v1/drafts/${id}`, '/v1/drafts/{id}');
    await call('GET', '/v1/drafts?status=pending&limit=1', '/v1/drafts');
    await call('POST', `/v1/drafts/${id}/approve`, '/v1/drafts/{id}/approve', { content: { a: 2 } });
    await call('POST', `/v1/drafts/${id}/reject`, '/v1/drafts/{id}/reject', {});
    await call('GET', '/v1/drafts/cnothere0000000000000000', '/v1/drafts/{id}');

    const key = await call('POST', '/v1/keys', '/v1/keys', { role: 'agent', name: 'spec' });
    await call('GET', '/v1/keys', '/v1/keys');
    await call('DELETE', `/v1/keys/${key.body.id}`, '/v1/keys/{id}');
    expectConforms('GET', '/v1/keys', await apiClient(runtime.url, key.body.key)('GET', '/v1/keys'));

    const receiver = await startReceiver('ok');
    try {
      const endpoint = await call('POST', '/v1/webhooks', '/v1/webhooks', { url: receiver.url, events: ['draft.approved', 'draft.expired'] });
      const ep = endpoint.body.id;
      await call('GET', '/v1/webhooks', '/v1/webhooks');
      await call('GET', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}');
      await call('PATCH', `/v1/webhooks/${ep}`, '/v1/webhooks/{id}', { description: 'spec' });
      await call('POST', `/v1/webhooks/${ep}/test`, '/v1/webhooks/{id}/test');
      await new Promise((r) => setTimeout(r, 1500));
      const log = await call('GET', `/v1/webhooks/${ep}/deliveries`, '/v1/webhooks/{id}/deliveries');
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
