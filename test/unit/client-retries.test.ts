import { jest } from '@jest/globals';
import {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  DecisionTimeoutError,
  GatewayError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PermissionError,
  ProcessaClient,
  ProcessaError,
  RateLimitError,
  ServiceUnavailableError,
  ValidationError,
  type Draft,
  type ProcessaClientOptions,
} from '../../shared/client/index.js';

type Step = Response | Error | ((init: RequestInit) => Promise<Response>);
interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

const draft = (over: Partial<Draft> = {}): Draft => ({
  id: 'cmlgx2hvq0002k6gve9fuaz0k',
  title: 'Send welcome email',
  content: { to: 'user@example.com' },
  metadata: {},
  status: 'pending',
  createdAt: '2026-02-10T12:00:00.000Z',
  createdBy: { keyId: 'key_a', name: 'bot', role: 'agent' },
  reviewedAt: null,
  reviewedBy: null,
  rejectionReason: null,
  expiresAt: null,
  history: [],
  reviewUrl: 'http://localhost:3000/review/cmlgx2hvq0002k6gve9fuaz0k',
  ...over,
});
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'x-request-id': `req-${status}`, ...headers } });
const apiError = (status: number, code: string, message: string, details?: unknown, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message, ...(details ? { details } : {}) } }, headers);
/** What undici's fetch throws: TypeError('fetch failed') with the socket error as cause. */
const networkError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code}`), { code }) });

function setup(steps: Step[], options: Partial<ProcessaClientOptions> = {}) {
  const calls: Call[] = [];
  const sleeps: number[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method!, headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const step = steps.shift();
    if (!step) throw new Error(`unexpected request ${init.method} ${url}`);
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(init);
    return step;
  }) as unknown as typeof globalThis.fetch;
  const client = new ProcessaClient({
    baseUrl: 'https://api.example/',
    apiKey: 'prk_test',
    fetch,
    retryBaseMs: 100,
    random: () => 1,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
  });
  return { client, calls, sleeps, remaining: steps };
}

async function rejection(promise: Promise<unknown>): Promise<ProcessaError> {
  const result = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
  return result as ProcessaError;
}

describe('requests', () => {
  it('sends the key, JSON and encoded paths to the base URL', async () => {
    const { client, calls } = setup([json(200, draft())]);
    await client.approveDraft('a/b', { content: { to: 'x' } });
    expect(calls[0]).toEqual({
      url: 'https://api.example/v1/drafts/a%2Fb/approve',
      method: 'POST',
      headers: expect.objectContaining({ authorization: 'Bearer prk_test', 'content-type': 'application/json', accept: 'application/json' }),
      body: { content: { to: 'x' } },
    });
  });

  it('createDraft sends the input (dates as ISO strings) with an Idempotency-Key', async () => {
    const { client, calls } = setup([json(201, draft()), json(201, draft())]);
    await client.createDraft({ title: 't', content: {}, expiresAt: new Date('2026-03-01T00:00:00Z') });
    await client.createDraft({ title: 't', content: {} });
    expect(calls[0]!.body).toEqual({ title: 't', content: {}, expiresAt: '2026-03-01T00:00:00.000Z' });
    expect(calls[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A new logical call gets a new key.
    expect(calls[1]!.headers['idempotency-key']).not.toBe(calls[0]!.headers['idempotency-key']);
  });

  it('listDrafts follows nextCursor across pages; listDraftsPage fetches one', async () => {
    const { client, calls } = setup([
      json(200, { items: [draft({ id: 'c3' }), draft({ id: 'c2' })], nextCursor: 'next 1' }),
      json(200, { items: [draft({ id: 'c1' })], nextCursor: null }),
    ]);
    const ids: string[] = [];
    for await (const d of client.listDrafts({ status: 'pending', limit: 2 })) ids.push(d.id);
    expect(ids).toEqual(['c3', 'c2', 'c1']);
    expect(calls.map((c) => c.url)).toEqual([
      'https://api.example/v1/drafts?status=pending&limit=2',
      'https://api.example/v1/drafts?status=pending&limit=2&cursor=next+1',
    ]);
  });

  it('stops fetching when the loop breaks', async () => {
    const { client, calls } = setup([json(200, { items: [draft({ id: 'c3' }), draft({ id: 'c2' })], nextCursor: 'more' })]);
    for await (const d of client.listDrafts()) if (d.id === 'c3') break;
    expect(calls).toHaveLength(1);
  });
});

describe('typed errors', () => {
  it('carry code, status, message, details and the request id', async () => {
    const fields = [{ field: 'title', message: 'must not be empty' }];
    const { client } = setup([apiError(400, 'validation_failed', 'Invalid request: title: must not be empty', { fields })]);
    const error = await rejection(client.createDraft({ title: '', content: {} }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(ProcessaError);
    expect(error).toMatchObject({
      name: 'ValidationError',
      code: 'validation_failed',
      status: 400,
      requestId: 'req-400',
      message: 'Invalid request: title: must not be empty',
      details: { fields },
    });
    expect((error as ValidationError).fields).toEqual(fields);
  });

  it('409 is a ConflictError with the state that won', async () => {
    const winner = draft({ status: 'rejected', rejectionReason: 'no' });
    const { client } = setup([apiError(409, 'already_decided', 'Draft is already rejected', { draft: winner })]);
    const error = await rejection(client.approveDraft(winner.id));
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).draft).toMatchObject({ status: 'rejected', rejectionReason: 'no' });
    expect(error.code).toBe('already_decided');
  });

  it.each([
    [401, 'unauthorized', AuthenticationError],
    [403, 'forbidden', PermissionError],
    [404, 'not_found', NotFoundError],
    [422, 'idempotency_key_reused', IdempotencyKeyReusedError],
  ])('%i is a %p', async (status, code, Class) => {
    const { client } = setup([apiError(status, code, 'nope')]);
    const error = await rejection(client.getDraft('c1'));
    expect(error).toBeInstanceOf(Class);
    expect(error).toMatchObject({ status, code });
  });

  it("keeps API Gateway's own {message} bodies and non-JSON bodies readable", async () => {
    const { client } = setup([json(404, { message: 'Not Found' }), new Response('<html>Bad Gateway</html>', { status: 500 })], { maxRetries: 0 });
    expect(await rejection(client.getDraft('c1'))).toMatchObject({ status: 404, code: 'http_404', message: 'Not Found' });
    expect(await rejection(client.getDraft('c1'))).toMatchObject({ status: 500, code: 'http_500', message: 'HTTP 500: <html>Bad Gateway</html>' });
  });
});

describe('retries', () => {
  it('retries a 503, waiting as long as Retry-After says, and returns the eventual answer', async () => {
    const { client, calls, sleeps } = setup([apiError(503, 'service_unavailable', 'busy', undefined, { 'retry-after': '2' }), json(200, draft())]);
    await expect(client.getDraft('c1')).resolves.toMatchObject({ id: draft().id });
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('understands Retry-After as an HTTP date', async () => {
    const when = new Date(Date.now() + 5_000).toUTCString();
    const { client, sleeps } = setup([json(429, { message: 'Too Many Requests' }, { 'retry-after': when }), json(200, draft())]);
    await client.getDraft('c1');
    expect(sleeps[0]).toBeGreaterThan(3_000);
    expect(sleeps[0]).toBeLessThanOrEqual(5_000);
  });

  it('backs off exponentially with jitter, capped, and gives up after maxRetries with the last error', async () => {
    const busy = () => apiError(503, 'service_unavailable', 'busy');
    const { client, calls, sleeps } = setup([busy(), busy(), busy(), busy()], { retryMaxMs: 300, random: () => 0.5 });
    const error = await rejection(client.getDraft('c1'));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(calls).toHaveLength(4);
    // ceiling 100, 200, 300 (capped); equal jitter at 0.5 → 75%.
    expect(sleeps).toEqual([75, 150, 225]);
  });

  it.each([429, 502, 503, 504])('retries reads on %i', async (status) => {
    const { client, calls } = setup([json(status, { message: 'x' }), json(200, draft())]);
    await client.getDraft('c1');
    expect(calls).toHaveLength(2);
  });

  it.each([
    [400, 'validation_failed'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [409, 'already_decided'],
    [413, 'payload_too_large'],
    [422, 'idempotency_key_reused'],
    [500, 'internal_error'],
  ])('never retries %i', async (status, code) => {
    const { client, calls, sleeps } = setup([apiError(status, code, 'no'), json(201, draft())]);
    const error = await rejection(client.createDraft({ title: 't', content: {} }));
    expect(error).toMatchObject({ status, code });
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('keeps the same Idempotency-Key across the retries of one createDraft', async () => {
    const { client, calls } = setup([
      apiError(503, 'service_unavailable', 'busy'),
      networkError('ECONNRESET'),
      json(504, { message: 'Endpoint request timed out' }),
      json(201, draft()),
    ]);
    await client.createDraft({ title: 't', content: {} });
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
    expect(calls.map((c) => c.body)).toEqual(Array(4).fill({ title: 't', content: {} }));
  });

  it('uses the caller’s Idempotency-Key', async () => {
    const { client, calls } = setup([networkError('ECONNRESET'), json(201, draft())]);
    await client.createDraft({ title: 't', content: {} }, { idempotencyKey: 'task-42' });
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual(['task-42', 'task-42']);
  });

  it('a Retry-After longer than maxRetryAfterMs is not waited for', async () => {
    const { client, calls } = setup([apiError(503, 'service_unavailable', 'busy', undefined, { 'retry-after': '120' })]);
    const error = await rejection(client.getDraft('c1'));
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 120 });
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(calls).toHaveLength(1);
  });

  it('throttling exhausted surfaces as a RateLimitError', async () => {
    const { client } = setup([json(429, { message: 'Too Many Requests' }), json(429, { message: 'Too Many Requests' })], { maxRetries: 1 });
    expect(await rejection(client.getDraft('c1'))).toBeInstanceOf(RateLimitError);
  });
});

describe('retries of approve and reject (conditional writes without an idempotency key)', () => {
  it.each([
    ['approve', (c: ProcessaClient) => c.approveDraft('c1')],
    ['reject', (c: ProcessaClient) => c.rejectDraft('c1', { reason: 'no' })],
  ])('%s is retried on 429 and 503, which mean "not done"', async (_, call) => {
    const { client, calls } = setup([
      json(429, { message: 'Too Many Requests' }),
      apiError(503, 'service_unavailable', 'busy'),
      json(200, draft({ status: 'approved' })),
    ]);
    await call(client);
    expect(calls).toHaveLength(3);
  });

  it('is not retried after a network error once the request may have reached the server', async () => {
    const { client, calls } = setup([networkError('ECONNRESET'), json(200, draft())]);
    const error = await rejection(client.approveDraft('c1'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('ECONNRESET');
    expect(error.message).toContain('may or may not have been applied');
    expect(calls).toHaveLength(1);
  });

  it('is not retried on a browser-style network error (no cause: nothing proves it was not sent)', async () => {
    const { client, calls } = setup([new TypeError('Failed to fetch'), json(200, draft())]);
    expect(await rejection(client.rejectDraft('c1'))).toBeInstanceOf(ConnectionError);
    expect(calls).toHaveLength(1);
  });

  it.each([502, 504])('is not retried on %i (the function may have run)', async (status) => {
    const { client, calls } = setup([json(status, { message: 'x' }), json(200, draft())]);
    expect(await rejection(client.approveDraft('c1'))).toBeInstanceOf(GatewayError);
    expect(calls).toHaveLength(1);
  });

  it('is retried when the connection was refused (nothing was sent)', async () => {
    const { client, calls } = setup([networkError('ECONNREFUSED'), json(200, draft({ status: 'approved' }))]);
    await expect(client.approveDraft('c1')).resolves.toMatchObject({ status: 'approved' });
    expect(calls).toHaveLength(2);
  });

  it('reads are retried after any network error', async () => {
    const { client, calls } = setup([networkError('ECONNRESET'), new TypeError('Failed to fetch'), json(200, draft())]);
    await client.getDraft('c1');
    expect(calls).toHaveLength(3);
  });
});

describe('timeouts and cancellation', () => {
  const hang = (init: RequestInit) => new Promise<Response>((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));

  it('a request that outlives timeoutMs fails as a ConnectionError (retried for reads)', async () => {
    const { client, calls } = setup([hang, json(200, draft())], { timeoutMs: 20 });
    await client.getDraft('c1');
    expect(calls).toHaveLength(2);
    const { client: once } = setup([hang], { timeoutMs: 20 });
    const error = await rejection(once.approveDraft('c1'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain('timed out after 20 ms');
  });

  it("the caller's signal aborts the call with its reason and no retry", async () => {
    const controller = new AbortController();
    const { client, calls } = setup([hang, json(200, draft())]);
    const pending = client.getDraft('c1', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(calls).toHaveLength(1);
  });
});

describe('waitForDecision', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());
  const advancing = (sleeps: number[]) => async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  };

  it('polls with a capped, growing interval until the draft is decided', async () => {
    const sleeps: number[] = [];
    const pending = () => json(200, draft());
    const { client } = setup(
      [pending(), pending(), pending(), pending(), pending(), pending(), json(200, draft({ status: 'approved', content: { edited: true } }))],
      { sleep: advancing(sleeps) },
    );
    const decided = await client.waitForDecision('c1', { timeoutMs: 3_600_000 });
    expect(decided).toMatchObject({ status: 'approved', content: { edited: true } });
    expect(sleeps).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('gives up with a DecisionTimeoutError holding the last state, after a final poll at the deadline', async () => {
    const sleeps: number[] = [];
    const { client, calls } = setup(
      Array.from({ length: 10 }, () => json(200, draft())),
      { sleep: advancing(sleeps) },
    );
    const error = await rejection(client.waitForDecision('c1', { timeoutMs: 5_000, pollIntervalMs: 1_000 }));
    expect(error).toBeInstanceOf(DecisionTimeoutError);
    expect(error).toMatchObject({ code: 'decision_timeout', timeoutMs: 5_000, draft: { status: 'pending' } });
    expect(sleeps).toEqual([1000, 2000, 2000]);
    expect(calls).toHaveLength(4);
  });

  it('resolves with expired drafts too (status is not pending)', async () => {
    const { client } = setup([json(200, draft({ status: 'expired' }))]);
    await expect(client.waitForDecision('c1', { timeoutMs: 1 })).resolves.toMatchObject({ status: 'expired' });
  });
});

describe('argument checks', () => {
  it('an empty draft id rejects (it does not throw synchronously)', async () => {
    const { client, calls } = setup([]);
    const pending = client.getDraft('');
    await expect(pending).rejects.toBeInstanceOf(ValidationError);
    await expect(client.approveDraft('')).rejects.toMatchObject({ fields: [{ field: 'id' }] });
    expect(calls).toHaveLength(0);
  });
});
