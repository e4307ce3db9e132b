import { Webhook } from 'standardwebhooks';

export { generateSecret } from './signing-secret.js';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Standard Webhooks headers for one attempt. With several active secrets (during a rotation)
 * the signature header lists one signature per secret, space-separated, as the spec allows;
 * a receiver holding either secret verifies.
 */
export function signedHeaders(eventId: string, body: string, secrets: readonly string[], at: Date): SignedHeaders {
  if (secrets.length === 0) throw new Error('An endpoint needs at least one secret to sign with');
  const signatures = secrets.map((secret) => new Webhook(secret).sign(eventId, at, body));
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
