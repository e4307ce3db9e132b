/**
 * Bad input through `npm run dev`'s gateway, as a client sends it: bytes that are not UTF-8 are
 * refused naming the body and nothing is stored; unknown routes, undecodable paths and oversize
 * requests answer in the documented {"error":{code,message}} shape, never {"message":…}.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { csrfOf, pageAs, signInThroughForm } from '../support/page-session.js';

let runtime: DevRuntime;

beforeAll(async () => {
  runtime = await startDevRuntime();
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

/** A raw request: the body goes out byte for byte. */
async function raw(method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${runtime.url}${path}`, { method, headers, body: body === undefined ? undefined : new Uint8Array(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: json };
}

function expectDocumentedError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(res.body.error.message).toEqual(expect.any(String));
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
}

describe('request bodies that are not UTF-8', () => {
  it('POST /v1/drafts: 400 naming the body, and no draft is stored', async () => {
    const marker = `utf8-${Math.random().toString(36).slice(2)}`;
    const admin = apiClient(runtime.url, runtime.adminKey);
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe9, 0x74, 0xe9]]) {
      const body = Buffer.concat([Buffer.from(`{"title":"${marker} `), Buffer.from(bad), Buffer.from('","content":{"to":"x"}}')]);
      const res = await raw('POST', '/v1/drafts', body, { authorization: `Bearer ${runtime.adminKey}`, 'content-type': 'application/json' });
      expectDocumentedError(res, 400, 'invalid_encoding');
      expect(res.body.error.details.fields).toEqual([{ field: 'body', message: 'must be valid UTF-8' }]);
    }
    const listed = await admin('GET', '/v1/drafts?limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body.items.filter((d: { title: string }) => d.title.startsWith(marker))).toEqual([]);

    // The same request in valid UTF-8 goes through, so the refusal above was the encoding's.
    const ok = await raw('POST', '/v1/drafts', Buffer.from(`{"title":"${marker} é","content":{"to":"x"}}`), {
      authorization: `Bearer ${runtime.adminKey}`,
      'content-type': 'application/json',
    });
    expect(ok.status).toBe(201);
    expect(ok.body.title).toBe(`${marker} é`);
  });

  it('page forms: raw or percent-escaped, 400 and nothing done', async () => {
    for (const body of [Buffer.from([...Buffer.from('_csrf=x&key='), 0xff]), Buffer.from('_csrf=x&key=%FF')]) {
      const res = await raw('POST', '/review/login', body, { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.text).toContain('not valid UTF-8');
    }
  });
});

describe('values JSON would change or a reviewer could misread', () => {
  const jsonHeaders = () => ({ authorization: `Bearer ${runtime.adminKey}`, 'content-type': 'application/json' });

  it('a whole number beyond ±(2^53−1) in content: 400 naming its path, nothing stored, and an approval editing one in changes nothing', async () => {
    const marker = `bigint-${Math.random().toString(36).slice(2)}`;
    const admin = apiClient(runtime.url, runtime.adminKey);
    const refused = await raw('POST', '/v1/drafts', Buffer.from(`{"title":"${marker}","content":{"accountId":12345678901234567891,"x":1}}`), jsonHeaders());
    expectDocumentedError(refused, 400, 'validation_failed');
    expect(refused.body.error.details.fields).toEqual([{ field: 'content.accountId', message: expect.stringContaining('send it as a string') }]);
    const listed = await admin('GET', '/v1/drafts?limit=100');
    expect(listed.body.items.filter((d: { title: string }) => d.title === marker)).toEqual([]);

    const created = await raw(
      'POST',
      '/v1/drafts',
      Buffer.from(`{"title":"${marker}","content":{"accountId":"12345678901234567891","x":9007199254740991}}`),
      jsonHeaders(),
    );
    expect(created.status).toBe(201);
    const approve = await raw(
      'POST',
      `/v1/drafts/${created.body.id}/approve`,
      Buffer.from('{"content":{"accountId":1,"amount":123456789012345678901}}'),
      jsonHeaders(),
    );
    expectDocumentedError(approve, 400, 'validation_failed');
    expect(approve.body.error.details.fields[0].field).toBe('content.amount');
    const after = await admin('GET', `/v1/drafts/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 'pending', content: { accountId: '12345678901234567891', x: 9007199254740991 } });
  });

  it('a draft stored before the rule, holding such a number, can still be approved as is from the review page', async () => {
    const created = await raw('POST', '/v1/drafts', Buffer.from('{"title":"stored before the rule","content":{"accountId":1}}'), jsonHeaders());
    expect(created.status).toBe(201);
    // As an earlier version stored it: the number already rounded by JSON.parse.
    const info = runtime.info();
    const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
    try {
      await createDocumentClient(dynamo).send(
        new UpdateCommand({
          TableName: info.tables.drafts,
          Key: { id: created.body.id },
          UpdateExpression: 'SET contentJson = :c',
          ExpressionAttributeValues: { ':c': '{"accountId":12345678901234567000}' },
        }),
      );
    } finally {
      dynamo.destroy();
    }
    const signed = await signInThroughForm(runtime.url, runtime.adminKey);
    const page = await pageAs(runtime.url, signed.cookie!, `/review/${created.body.id}`);
    // The textarea as the page filled it, sent back unchanged: approve as is.
    const textarea = page.html.match(/<textarea[^>]*name="content"[^>]*>([^<]*)<\/textarea>/)![1]!.replaceAll('&quot;', '"');
    const approved = await pageAs(runtime.url, signed.cookie!, `/review/${created.body.id}/approve`, {
      _csrf: csrfOf(page.html),
      content: textarea,
      round: '0',
    });
    expect(approved.status).toBe(303);
    const after = await apiClient(runtime.url, runtime.adminKey)('GET', `/v1/drafts/${created.body.id}`);
    expect(after.body.status).toBe('approved');
  });

  it('a crafted ?done= link shows no decision banner on a draft not in that state; it shows once the decision is real', async () => {
    const admin = apiClient(runtime.url, runtime.adminKey);
    const { body: draft } = await admin('POST', '/v1/drafts', { title: 'crafted banner', content: { n: 1 } });
    const signed = await signInThroughForm(runtime.url, runtime.adminKey);
    for (const done of ['approved', 'rejected']) {
      const page = await pageAs(runtime.url, signed.cookie!, `/review/${draft.id}?done=${done}`);
      expect(page.status).toBe(200);
      expect(page.html).not.toContain('role="status"');
    }
    expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    expect((await pageAs(runtime.url, signed.cookie!, `/review/${draft.id}?done=approved`)).html).toContain('Approved. The webhook is on its way.');
    expect((await pageAs(runtime.url, signed.cookie!, `/review/${draft.id}?done=rejected`)).html).not.toContain('role="status"');
  });

  it('an email channel counts distinct addresses toward its limit of 20: repeats are dropped first', async () => {
    const admin = apiClient(runtime.url, runtime.adminKey);
    const repeated = await admin('POST', '/v1/notifications', { kind: 'email', recipients: Array(25).fill('Same@Example.com') });
    expect(repeated.status).toBe(201);
    expect(repeated.body.recipients).toEqual(['same@example.com']);
    const tooMany = await admin('POST', '/v1/notifications', { kind: 'email', recipients: Array.from({ length: 21 }, (_, i) => `r${i}@example.com`) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details.fields).toEqual([{ field: 'recipients', message: 'must name at most 20 addresses' }]);
  });

  it('expiresAt: null is no expiry; a title with a right-to-left override is 400 naming title', async () => {
    const open = await raw('POST', '/v1/drafts', Buffer.from('{"title":"no expiry","content":{},"expiresAt":null}'), jsonHeaders());
    expect(open.status).toBe(201);
    expect(open.body.expiresAt).toBeNull();
    const bidi = await raw('POST', '/v1/drafts', Buffer.from(JSON.stringify({ title: 'Pay \u202egpj.exe', content: {} })), jsonHeaders());
    expectDocumentedError(bidi, 400, 'validation_failed');
    expect(bidi.body.error.details.fields).toEqual([{ field: 'title', message: 'must not contain control or bidirectional formatting characters' }]);
  });
});

describe('answers of the gateway itself, in the documented shape', () => {
  it('an unknown route: 404 not_found through the $default route, with or without a key', async () => {
    for (const headers of [{}, { authorization: `Bearer ${runtime.adminKey}` }] as Array<Record<string, string>>) {
      const res = await raw('GET', '/v1/nothing-here', undefined, headers);
      expectDocumentedError(res, 404, 'not_found');
    }
    expectDocumentedError(await raw('POST', '/', Buffer.from('{}'), { 'content-type': 'application/json' }), 404, 'not_found');
  });

  it('a known path with another method: 405 with Allow', async () => {
    const res = await raw('PUT', '/v1/drafts', Buffer.from('{}'), { 'content-type': 'application/json' });
    expectDocumentedError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  it('an undecodable path: 400 invalid_path', async () => {
    for (const path of ['/v1/drafts/%E0%A4%A', '/v1/drafts/%FF', '/nowhere/%C0%AF']) {
      expectDocumentedError(await raw('GET', path, undefined, { authorization: `Bearer ${runtime.adminKey}` }), 400, 'invalid_path');
    }
  });

  it('a request over API Gateway’s 10 MB: 413 payload_too_large with a message', async () => {
    const res = await raw('POST', '/v1/drafts', Buffer.alloc(10 * 1024 * 1024 + 1, 0x20), {
      authorization: `Bearer ${runtime.adminKey}`,
      'content-type': 'application/json',
    });
    expectDocumentedError(res, 413, 'payload_too_large');
    expect(res.body.error.message).toContain('10485760');
  });
});
