import { jest } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import {
  expressWebhookMiddleware,
  verifyWebhook,
  verifyWebhookDelivery,
  WebhookVerificationError,
  type NextLike,
  type WebhookRequestLike,
} from '../../shared/client/webhooks.js';
import { generateSecret, signedHeaders } from '../../shared/webhooks/signing.js';

const secret = generateSecret();
const otherSecret = generateSecret();
const at = new Date('2026-02-10T12:05:00Z');
const body = JSON.stringify({
  event: 'draft.approved',
  draft: {
    id: 'cmlgx2hvq0002k6gve9fuaz0k',
    title: 'Send welcome email',
    content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
    metadata: { source: 'ai_agent_v1' },
    reviewedAt: '2026-02-10T12:05:00Z',
  },
  timestamp: '2026-02-10T12:05:00Z',
});
const msgId = 'msg_2uYQxX0Xb1b8k1Qe0Yb1b8k1Qe0';

/** Headers signed by the Standard Webhooks reference library, not by our own code. */
function signed(secrets: string[], options: { id?: string; when?: Date; payload?: string } = {}) {
  const when = options.when ?? at;
  const id = options.id ?? msgId;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(id, when, options.payload ?? body)).join(' '),
  };
}
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).reason;
  }
  throw new Error('expected a WebhookVerificationError');
};

describe('verifyWebhook', () => {
  it('accepts what the standardwebhooks library signs, and returns the typed event', () => {
    const event = verifyWebhook(body, signed([secret]), secret, { now: at });
    expect(event).toEqual(JSON.parse(body));
    if (event.event !== 'draft.approved') throw new Error('narrowing');
    expect(event.draft.content).toEqual({ to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' });
  });

  it('accepts Buffers, Fetch Headers and header names in any case', () => {
    const headers = signed([secret]);
    expect(verifyWebhook(Buffer.from(body), new Headers(headers), secret, { now: at })).toEqual(JSON.parse(body));
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(body, upper, secret, { now: at.getTime() })).toEqual(JSON.parse(body));
  });

  it('verifies what Processa itself sends (both signatures during a rotation)', () => {
    const headers = { ...signedHeaders(msgId, body, [secret, otherSecret], at) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of [secret, otherSecret]) expect(verifyWebhookDelivery(body, headers, s, { now: at })).toMatchObject({ id: msgId, timestamp: at });
    expect(failure(() => verifyWebhook(body, headers, generateSecret(), { now: at }))).toBe('invalid_signature');
  });

  it('accepts any of several receiver-side secrets while the receiver rotates', () => {
    expect(verifyWebhook(body, signed([otherSecret]), [secret, otherSecret], { now: at }).event).toBe('draft.approved');
  });

  it('refuses a tampered body', () => {
    const headers = signed([secret]);
    expect(failure(() => verifyWebhook(body.replace('user@example.com', 'attacker@example.com'), headers, secret, { now: at }))).toBe('invalid_signature');
    // Re-serialised JSON (e.g. after express.json) is not the signed bytes either.
    expect(failure(() => verifyWebhook(JSON.stringify(JSON.parse(body), null, 1), headers, secret, { now: at }))).toBe('invalid_signature');
  });

  it('refuses a signature made with another secret', () => {
    expect(failure(() => verifyWebhook(body, signed([otherSecret]), secret, { now: at }))).toBe('invalid_signature');
  });

  it('refuses a changed webhook-id or timestamp (both are signed)', () => {
    const headers = signed([secret]);
    expect(failure(() => verifyWebhook(body, { ...headers, 'webhook-id': 'msg_other' }, secret, { now: at }))).toBe('invalid_signature');
    expect(failure(() => verifyWebhook(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) }, secret, { now: at }))).toBe(
      'invalid_signature',
    );
  });

  it('accepts a timestamp 300 s old, refuses one 301 s old', () => {
    const headers = signed([secret]);
    expect(() => verifyWebhook(body, headers, secret, { now: new Date(at.getTime() + 300_000) })).not.toThrow();
    expect(failure(() => verifyWebhook(body, headers, secret, { now: new Date(at.getTime() + 301_000) }))).toBe('timestamp_too_old');
  });

  it('refuses a timestamp more than the tolerance in the future, and honours a custom tolerance', () => {
    const headers = signed([secret], { when: new Date(at.getTime() + 301_000) });
    expect(failure(() => verifyWebhook(body, headers, secret, { now: at }))).toBe('timestamp_too_new');
    expect(() => verifyWebhook(body, headers, secret, { now: at, toleranceSeconds: 600 })).not.toThrow();
  });

  it('refuses non-numeric timestamps', () => {
    expect(failure(() => verifyWebhook(body, { ...signed([secret]), 'webhook-timestamp': '2026-02-10T12:05:00Z' }, secret, { now: at }))).toBe(
      'invalid_timestamp',
    );
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('refuses a delivery without %s', (name) => {
    const headers: Record<string, string | undefined> = { ...signed([secret]) };
    delete headers[name];
    let message = '';
    expect(
      failure(() => {
        try {
          verifyWebhook(body, headers, secret, { now: at });
        } catch (error) {
          message = (error as Error).message;
          throw error;
        }
      }),
    ).toBe('missing_headers');
    expect(message).toContain(name);
  });

  it('ignores signatures of unknown versions and malformed entries', () => {
    const good = signed([secret]);
    const headers = { ...good, 'webhook-signature': `v2,${good['webhook-signature'].slice(3)} v1,!!! v1a,xyz ${good['webhook-signature']}` };
    expect(() => verifyWebhook(body, headers, secret, { now: at })).not.toThrow();
    expect(failure(() => verifyWebhook(body, { ...good, 'webhook-signature': `v2,${good['webhook-signature'].slice(3)}` }, secret, { now: at }))).toBe(
      'invalid_signature',
    );
  });

  it('refuses a secret that is not base64 with a TypeError (a configuration error, not a forged request)', () => {
    expect(() => verifyWebhook(body, signed([secret]), 'whsec_', { now: at })).toThrow(TypeError);
  });
});

describe('expressWebhookMiddleware', () => {
  const response = () => {
    const res = { statusCode: 0, body: undefined as unknown, status: (code: number) => ((res.statusCode = code), { json: (b: unknown) => (res.body = b) }) };
    return res;
  };
  const now = Date.now();
  const fresh = () => signed([secret], { when: new Date(now) });

  it('verifies the raw body, attaches the event and its id, and calls next', async () => {
    const req: WebhookRequestLike = { body: Buffer.from(body), headers: fresh() };
    const res = response();
    const next = jest.fn();
    await expressWebhookMiddleware(secret)(req, res, next);
    expect(next).toHaveBeenCalledWith();
    expect(req.webhook).toEqual(JSON.parse(body));
    expect(req.webhookId).toBe(msgId);
    expect(res.statusCode).toBe(0);
  });

  it('answers 400 to a forged delivery without calling next', async () => {
    const res = response();
    const next = jest.fn();
    await expressWebhookMiddleware(secret)({ body: Buffer.from(body), headers: signed([otherSecret], { when: new Date(now) }) }, res, next);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_webhook', reason: 'invalid_signature' } });
    expect(next).not.toHaveBeenCalled();
  });

  it('acknowledges a delivery already seen with 200, without the handler', async () => {
    const ids = new Set<string>();
    const middleware = expressWebhookMiddleware(secret, { seen: async (id) => ids.has(id) || (ids.add(id), false) });
    const first = jest.fn();
    const second = jest.fn();
    await middleware({ body: body, headers: fresh() }, response(), first);
    const res = response();
    await middleware({ body: body, headers: fresh() }, res, second);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).not.toHaveBeenCalled();
    expect(res).toMatchObject({ statusCode: 200, body: { received: true, duplicate: true } });
  });

  it('passes an error to next when the body was already parsed (express.json instead of express.raw)', async () => {
    const next = jest.fn<NextLike>();
    await expressWebhookMiddleware(secret)({ body: JSON.parse(body), headers: fresh() }, response(), next);
    const error = next.mock.calls[0]![0];
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('express.raw');
  });
});
