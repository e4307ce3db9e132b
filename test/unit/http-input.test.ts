/**
 * Bad input at the HTTP layer keeps the documented shape: bodies that are not UTF-8 (plain or
 * base64, as API Gateway may send them) are refused naming the body, and requests no route
 * matches get {"error":{code,message}} from the $default route's handler (404, or 405 with Allow).
 */
import { handler as describeApi } from '../../functions/describe-api/handler.js';
import { defaultRoute, routeKey, routes } from '../../infra/app-definition.js';
import { createApiKey } from '../../shared/domain/api-keys.js';
import { apiPipeline } from '../../shared/http/api-handler.js';
import { formFields, requestBody } from '../../shared/http/body.js';
import { InvalidEncodingError } from '../../shared/http/http-errors.js';
import { openApiDocument } from '../../shared/http/openapi.js';
import { json } from '../../shared/http/responses.js';
import { matchRoute } from '../../shared/http/routing.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { MemoryApiKeyStore } from '../support/memory-stores.js';

const keys = new MemoryApiKeyStore();
const agent = await createApiKey(keys, { name: 'bot', role: 'agent' }, null);
const seen: unknown[] = [];
const handler = apiPipeline(
  { keys },
  {
    'POST /v1/drafts': async (event) => {
      seen.push(event.jsonBody);
      return json(201, { body: event.jsonBody });
    },
  },
);

/** A POST /v1/drafts event carrying these bytes base64-encoded, as API Gateway sends bytes it does not pass as text. */
function base64Event(bytes: Buffer, contentType = 'application/json') {
  const event = apiEvent({ routeKey: 'POST /v1/drafts', headers: { authorization: `Bearer ${agent.key}`, 'content-type': contentType } });
  event.body = bytes.toString('base64');
  event.isBase64Encoded = true;
  return event;
}

const json8 = (inner: Buffer) => Buffer.concat([Buffer.from('{"title":"'), inner, Buffer.from('","content":{}}')]);

describe('request bodies must be UTF-8', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['a Latin-1 byte', [0xe9]],
    ['0xFF', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point over U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('a base64 body with %s: 400 naming the body, the route never runs', async (_, bad) => {
    const before = seen.length;
    const res = await invoke(handler, base64Event(json8(Buffer.from(bad))));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_encoding',
      message: expect.stringContaining('UTF-8'),
      details: { fields: [{ field: 'body', message: 'must be valid UTF-8' }] },
    });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(seen.length).toBe(before);
  });

  it('a text body with a lone surrogate (the only way a string can be invalid): 400 naming the body', async () => {
    const before = seen.length;
    const event = apiEvent({ routeKey: 'POST /v1/drafts', headers: { authorization: `Bearer ${agent.key}`, 'content-type': 'application/json' } });
    event.body = '{"title":"a\ud800b","content":{}}';
    const res = await invoke(handler, event);
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe('body');
    expect(seen.length).toBe(before);
  });

  it('valid multi-byte UTF-8, base64 or not, is read exactly', async () => {
    const text = '✓ 日本語 🎉 é';
    const res = await invoke(handler, base64Event(json8(Buffer.from(text))));
    expect(res.status).toBe(201);
    expect(res.body.body.title).toBe(text);
    // U+FFFD sent on purpose is a character like any other.
    const replacement = await invoke(handler, base64Event(json8(Buffer.from('\ufffd'))));
    expect(replacement.body.body.title).toBe('\ufffd');
  });

  it('checks the type first (415) and the size on the bytes (413) before decoding', async () => {
    const wrongType = await invoke(handler, base64Event(Buffer.from([0xff, 0xfe]), 'image/png'));
    expect(wrongType.status).toBe(415);
    const big = await invoke(handler, base64Event(Buffer.alloc(256 * 1024 + 1, 0xff)));
    expect(big.status).toBe(413);
    expect(big.body.error).toMatchObject({ code: 'payload_too_large', details: { actualBytes: 256 * 1024 + 1 } });
  });

  it('a byte order mark stays in the text, base64 or not, so both are refused alike', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(requestBody({ body: Buffer.concat([bom, Buffer.from('{}')]).toString('base64'), isBase64Encoded: true }, 100).text()).toBe('\ufeff{}');
    const res = await invoke(handler, base64Event(Buffer.concat([bom, Buffer.from('{}')])));
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('form bodies: percent-escapes must decode to UTF-8 too; stray "%" and "+" read as URLSearchParams reads them', () => {
    expect(formFields('a=%E2%9C%93&b=x+y&c=100%').get('a')).toBe('✓');
    expect(formFields('b=x+y&c=100%25&d=%zz').get('d')).toBe('%zz');
    expect(() => formFields('_csrf=t&content=%FF')).toThrow(InvalidEncodingError);
    expect(() => formFields('%C0%AF=x')).toThrow(InvalidEncodingError);
  });
});

describe('the $default route', () => {
  const unmatched = (method: string, path: string, stage = '$default') => {
    const event = apiEvent({ routeKey: `${method} /x` });
    Object.assign(event, { routeKey: defaultRoute.key, rawPath: path });
    Object.assign(event.requestContext, { routeKey: defaultRoute.key, stage, http: { ...event.requestContext.http, method, path } });
    return invoke(describeApi, event);
  };

  it('answers an unknown path 404 in the documented shape, without a key', async () => {
    const res = await unmatched('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.stringContaining('GET /v1/nope'), details: { method: 'GET', path: '/v1/nope' } } });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('answers a known path with another method 405 with Allow', async () => {
    const res = await unmatched('DELETE', '/v1/drafts');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.body.error).toMatchObject({ code: 'method_not_allowed', details: { allowedMethods: ['GET', 'POST'] } });
    const withId = await unmatched('PUT', '/v1/webhooks/ep_1');
    expect(withId.headers.allow).toBe('DELETE, GET, PATCH');
  });

  it('answers an undecodable path 400 in the documented shape', async () => {
    const res = await unmatched('GET', '/v1/drafts/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_path', details: { fields: [{ field: 'path' }] } });
  });

  it('matches paths without the prefix of a named stage', async () => {
    expect((await unmatched('PUT', '/prod/v1/drafts', 'prod')).headers.allow).toBe('GET, POST');
  });

  it('leaves the OpenAPI route to the same function working, and is not an operation of the document', async () => {
    expect((await invoke(describeApi, apiEvent({ routeKey: 'GET /v1/openapi.json' }))).status).toBe(200);
    expect(JSON.stringify(Object.keys(openApiDocument().paths))).not.toContain('$default');
    expect(routes.map(routeKey)).not.toContain(defaultRoute.key);
  });
});

describe('route matching (shared by the local gateway and the $default route)', () => {
  it('prefers a literal segment over a parameter, and returns raw parameters', () => {
    expect(matchRoute('POST', '/review/login')).toMatchObject({ kind: 'route', key: 'POST /review/login' });
    expect(matchRoute('GET', '/v1/drafts/a%2Fb')).toMatchObject({ kind: 'route', key: 'GET /v1/drafts/{id}', pathParameters: { id: 'a%2Fb' } });
    expect(matchRoute('GET', '/v1/drafts/a/b')).toEqual({ kind: 'none' });
    expect(matchRoute('GET', '/v1/drafts/')).toEqual({ kind: 'none' });
    expect(matchRoute('PUT', '/v1/keys/k1')).toEqual({ kind: 'wrongMethod', allowed: ['DELETE', 'PATCH'] });
  });
});
