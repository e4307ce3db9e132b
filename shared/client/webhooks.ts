/**
 * Verifying Processa webhooks on the receiving side. Depends on node:crypto only (no Processa
 * or Standard Webhooks package), so it can be copied into a receiver on its own.
 *
 * Processa signs with the Standard Webhooks scheme: headers `webhook-id` (the same on every retry
 * of one event), `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated
 * `v1,<base64 HMAC-SHA256>` entries, two of them while a secret rotation is in its grace period),
 * computed over `${webhook-id}.${webhook-timestamp}.${raw body}` with the endpoint's secret
 * (`whsec_` + base64 key). Verify the raw bytes as received: re-serialized JSON does not match.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bodies exactly as the webhook documentation shows them. */
export interface DraftApprovedEvent {
  event: 'draft.approved';
  draft: {
    id: string;
    title: string;
    /** The approved content (the reviewer's edited version if they edited it): execute this. */
    content: Record<string, unknown>;
    metadata: Record<string, string | number | boolean | null>;
    reviewedAt: string;
  };
  timestamp: string;
  /**
   * Only on test events ("Test Webhook"), whose draft id starts with `test_`. A test draft.approved
   * is sent only when asked for explicitly (`{"event":"draft.approved"}`); check this before executing.
   */
  test?: true;
}

export interface DraftRejectedEvent {
  event: 'draft.rejected';
  draft: { id: string; title: string; rejectionReason: string | null; reviewedAt: string };
  timestamp: string;
  /** Only on test events: "Test Webhook" sends a draft.rejected by default, with a `test_` draft id. */
  test?: true;
}

/** Sent only to endpoints that subscribe to it explicitly (`events: [..., 'draft.expired']`). */
export interface DraftExpiredEvent {
  event: 'draft.expired';
  draft: { id: string; title: string; metadata: Record<string, string | number | boolean | null>; expiresAt: string };
  timestamp: string;
}

/** Opt-in, for operators: Processa disabled an endpoint (its receiver answered 410 Gone, or it failed for days). No draft: nothing to execute. */
export interface EndpointDisabledEvent {
  event: 'endpoint.disabled';
  endpoint: { id: string; url: string; disabledReason: 'gone' | 'failing'; disabledAt: string };
  timestamp: string;
}

/** Opt-in, for operators: a delivery died after its last attempt and waits for a redrive. No draft to execute. */
export interface DeliveryExhaustedEvent {
  event: 'delivery.exhausted';
  delivery: {
    endpointId: string;
    eventId: string;
    eventType: string;
    draftId: string | null;
    attempts: number;
    lastError: string | null;
    diedAt: string;
  };
  timestamp: string;
}

export type ProcessaWebhookEvent = DraftApprovedEvent | DraftRejectedEvent | DraftExpiredEvent | EndpointDisabledEvent | DeliveryExhaustedEvent;

export type WebhookVerificationFailure =
  'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'invalid_signature' | 'invalid_payload';

export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: WebhookVerificationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

export interface VerifyWebhookOptions {
  /** How far webhook-timestamp may be from now, either way. Default 300 s (5 minutes). */
  toleranceSeconds?: number;
  /** The current time, for tests. */
  now?: Date | number;
}

export interface VerifiedWebhook {
  /** webhook-id: deduplicate on it (it is covered by the signature). */
  id: string;
  timestamp: Date;
  event: ProcessaWebhookEvent;
}

/**
 * Verifies one delivery and returns its event. `secret` is the endpoint's `whsec_…` secret, or
 * several of them while you rotate. Throws WebhookVerificationError on missing headers, a
 * timestamp outside the tolerance, or no matching signature; answer those with a 4xx.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): ProcessaWebhookEvent {
  return verifyWebhookDelivery(rawBody, headers, secret, options).event;
}

/** As verifyWebhook, also returning the verified webhook-id and timestamp. */
export function verifyWebhookDelivery(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): VerifiedWebhook {
  const keys = (typeof secret === 'string' ? [secret] : [...secret]).map(decodeSecret);
  if (keys.length === 0) throw new TypeError('verifyWebhook: at least one secret is required');

  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatureHeader = header(headers, 'webhook-signature', ' ');
  if (!id || !timestampText || !signatureHeader) {
    const missing = [!id && 'webhook-id', !timestampText && 'webhook-timestamp', !signatureHeader && 'webhook-signature'].filter(Boolean);
    throw new WebhookVerificationError('missing_headers', `Missing webhook headers: ${missing.join(', ')}`);
  }

  if (!/^\d{1,15}$/.test(timestampText)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not a Unix time in seconds');
  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime()) / 1000);
  if (nowSeconds - timestamp > tolerance) throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is more than ${tolerance} s old`);
  if (timestamp - nowSeconds > tolerance)
    throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is more than ${tolerance} s in the future`);

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = keys.map((key) => createHmac('sha256', key).update(`${id}.${timestampText}.`).update(body).digest());
  const offered = signatureHeader
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  // Every pair is compared (in constant time each), so timing reveals nothing about which matched.
  let matched = false;
  for (const signature of offered) {
    for (const digest of expected) {
      if (signature.length === digest.length && timingSafeEqual(signature, digest)) matched = true;
    }
  }
  if (!matched)
    throw new WebhookVerificationError(
      'invalid_signature',
      'No webhook-signature matches: wrong secret, or the body was changed (verify the raw bytes, before any JSON parsing)',
    );

  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'The signed body is not JSON');
  }
  const shape = event as Record<string, unknown> | null;
  // Draft events carry `draft`; the operational ones `endpoint` (endpoint.disabled) or `delivery` (delivery.exhausted).
  const subject =
    typeof shape?.event !== 'string'
      ? undefined
      : shape.event.startsWith('endpoint.')
        ? 'endpoint'
        : shape.event.startsWith('delivery.')
          ? 'delivery'
          : 'draft';
  if (typeof shape !== 'object' || shape === null || !subject || typeof shape[subject] !== 'object' || shape[subject] === null) {
    throw new WebhookVerificationError('invalid_payload', 'The signed body is not a Processa event');
  }
  return { id, timestamp: new Date(timestamp * 1000), event: event as ProcessaWebhookEvent };
}

/** `whsec_<base64>` (or bare base64) → key bytes, as Standard Webhooks libraries do. */
function decodeSecret(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new TypeError('verifyWebhook: the secret is empty or not base64 (expected whsec_…)');
  return key;
}

function header(headers: WebhookHeaders, name: string, joinWith?: string): string | undefined {
  let value: string | string[] | null | undefined;
  if (typeof (headers as Headers).get === 'function') {
    value = (headers as Headers).get(name);
  } else {
    const record = headers as Record<string, string | string[] | undefined>;
    value = record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  }
  if (Array.isArray(value)) {
    // A repeated header: signatures may be merged; an id or timestamp must be unambiguous.
    if (joinWith !== undefined) return value.join(joinWith) || undefined;
    return new Set(value).size === 1 ? value[0] : undefined;
  }
  return value?.trim() || undefined;
}

/* ------------------------------------------------------------------------------------------ */
/* Express (or Connect-style) middleware, typed structurally: no dependency on express itself.  */

export interface WebhookRequestLike {
  /** The raw body: mount `express.raw({ type: 'application/json' })` before this middleware. */
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Set by the middleware: the verified event. */
  webhook?: ProcessaWebhookEvent;
  /** Set by the middleware: the verified webhook-id. */
  webhookId?: string;
}
export interface WebhookResponseLike {
  status(code: number): { json(body: unknown): unknown };
}
export type NextLike = (error?: unknown) => void;

export interface WebhookMiddlewareOptions extends VerifyWebhookOptions {
  /**
   * Deduplication: called with each verified webhook-id; return true when it was seen before (the
   * middleware then answers 200 without calling the next handler). Typically an atomic "insert if
   * absent" in your store that returns whether the id existed. Marking an id on receipt means a
   * delivery whose handler then fails is not processed again on retry; if that matters, dedupe
   * inside your handler, in the same transaction as the action, instead.
   */
  seen?: (webhookId: string) => boolean | Promise<boolean>;
}

/**
 * Verifies Processa webhooks before your handler, which then finds the event in `req.webhook`.
 * Needs the raw body, so mount it with express.raw on that route (not express.json):
 *
 *   app.post('/webhooks/processa',
 *     express.raw({ type: 'application/json' }),
 *     expressWebhookMiddleware(process.env.PROCESSA_WEBHOOK_SECRET!, { seen: (id) => store.markSeen(id) }),
 *     async (req, res) => {
 *       const event = req.webhook!;   // with TypeScript: declare `webhook?: ProcessaWebhookEvent` on Express.Request
 *       if (event.event === 'draft.approved') await executeAction(event.draft.content);
 *       res.status(200).json({ received: true });
 *     });
 *
 * Forged, stale or malformed deliveries get 400 `{"error": {"code": "invalid_webhook", …}}`.
 */
export function expressWebhookMiddleware(secret: string | readonly string[], options: WebhookMiddlewareOptions = {}) {
  const { seen, ...verifyOptions } = options;
  return async (req: WebhookRequestLike, res: WebhookResponseLike, next: NextLike): Promise<void> => {
    const body = req.body;
    if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
      next(
        new TypeError('expressWebhookMiddleware needs the raw body: mount express.raw({ type: "application/json" }) on this route, before any express.json()'),
      );
      return;
    }
    let verified: VerifiedWebhook;
    try {
      verified = verifyWebhookDelivery(body, req.headers, secret, verifyOptions);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) return next(error);
      res.status(400).json({ error: { code: 'invalid_webhook', message: error.message, reason: error.reason } });
      return;
    }
    try {
      if (seen && (await seen(verified.id))) {
        res.status(200).json({ received: true, duplicate: true });
        return;
      }
    } catch (error) {
      return next(error);
    }
    req.webhook = verified.event;
    req.webhookId = verified.id;
    next();
  };
}
