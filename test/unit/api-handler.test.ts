import { createApiKey } from '../../shared/domain/api-keys.js';
import { apiPipeline } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { MemoryApiKeyStore } from '../support/memory-stores.js';

const keys = new MemoryApiKeyStore();
const agent = await createApiKey(keys, { name: 'bot', role: 'agent' }, null);
const reviewer = await createApiKey(keys, { name: 'alice', role: 'reviewer' }, null);
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const seen: unknown[] = [];
const handler = apiPipeline(
  { keys },
  {
    'POST /v1/drafts': async (event) => {
      seen.push(event.jsonBody);
      return json(201, { body: event.jsonBody, actor: event.actor });
    },
    'POST /v1/drafts/{id}/approve': async () => {
      throw new Error('secret internal detail at /var/task/index.mjs:1:2');
    },
  },
);

describe('the shared API pipeline', () => {
  it('authenticates, parses JSON and passes the actor on', async () => {
    const res = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts', headers: auth(agent.key), body: { a: 1 } }));
    expect(res.status).toBe(201);
    // The key's hash rides along for the decision's key check (drafts store); it is never stored (actorRecord).
    expect(res.body).toEqual({ body: { a: 1 }, actor: { keyId: agent.id, name: 'bot', role: 'agent', keyHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['no Authorization header', {}, 401, 'unauthorized'],
    ['a non-Bearer scheme', { authorization: `Basic ${agent.key}` }, 401, 'unauthorized'],
    ['an unknown key', auth('prk_nope'), 401, 'unauthorized'],
  ])('answers %s with %i', async (_, headers, status, code) => {
    const res = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts', headers, body: {} }));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers a role the route does not allow with 403', async () => {
    const res = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts', headers: auth(reviewer.key), body: {} }));
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden', details: { role: 'reviewer', allowedRoles: ['agent', 'admin'] } });
  });

  it.each([
    ['malformed JSON', { 'content-type': 'application/json' }, '{"title": ', 400, 'malformed_json', 'body'],
    ['a non-JSON content type', { 'content-type': 'text/plain' }, '{}', 415, 'unsupported_media_type', 'content-type'],
    ['a body without content type', {}, '{}', 415, 'unsupported_media_type', 'content-type'],
    ['a body over 256 KiB', { 'content-type': 'application/json' }, JSON.stringify({ x: 'a'.repeat(256 * 1024) }), 413, 'payload_too_large', 'body'],
  ])('refuses %s before the route runs', async (_, headers, body, status, code, field) => {
    const before = seen.length;
    const res = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts', headers: { ...auth(agent.key), ...headers }, body }));
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.details.fields[0].field).toBe(field);
    expect(seen.length).toBe(before);
  });

  it('accepts JSON with a charset and treats an empty POST as {}', async () => {
    const withCharset = await invoke(
      handler,
      apiEvent({ routeKey: 'POST /v1/drafts', headers: { ...auth(agent.key), 'content-type': 'application/json; charset=utf-8' }, body: '{"a":2}' }),
    );
    expect(withCharset.body.body).toEqual({ a: 2 });
    const empty = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts', headers: auth(agent.key) }));
    expect(empty.body.body).toEqual({});
  });

  it('decodes base64 bodies as API Gateway may send them', async () => {
    const event = apiEvent({ routeKey: 'POST /v1/drafts', headers: { ...auth(agent.key), 'content-type': 'application/json' } });
    event.body = Buffer.from('{"b":3}').toString('base64');
    event.isBase64Encoded = true;
    expect((await invoke(handler, event)).body.body).toEqual({ b: 3 });
  });

  it('never shows internal error text or stack traces', async () => {
    const res = await invoke(handler, apiEvent({ routeKey: 'POST /v1/drafts/{id}/approve', pathParameters: { id: 'c1' }, headers: auth(reviewer.key) }));
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal_error');
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/secret internal detail|index\.mjs|at /);
  });
});
