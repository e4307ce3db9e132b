import { createHmac } from 'node:crypto';

export { generateSecret } from './signing-secret.js';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';

/**
 * One Standard Webhooks v1 signature: HMAC-SHA256 of `id.timestamp.body` under the secret's
 * base64-decoded key. node:crypto rather than the standardwebhooks package, whose pure-JS SHA-256
 * and base64 would add ~11 KB to the delivery bundle; test/unit/webhook-events.test.ts checks that
 * the package verifies every signature made here.
 */
function sign(secret: string, eventId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new Error("Secret can't be empty.");
  return `v1,${createHmac('sha256', key).update(`${eventId}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/**
 * Standard Webhooks headers for one attempt. With several active secrets (during a rotation)
 * the signature header lists one signature per secret, space-separated, as the spec allows;
 * a receiver holding either secret verifies.
 */
export function signedHeaders(eventId: string, body: string, secrets: readonly string[], at: Date): SignedHeaders {
  if (secrets.length === 0) throw new Error('An endpoint needs at least one secret to sign with');
  const timestamp = Math.floor(at.getTime() / 1000);
  const signatures = secrets.map((secret) => sign(secret, eventId, timestamp, body));
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}
