import { createHmac } from 'node:crypto';
import { tokensMatch } from '../../domain/constant-time.js';

/** Slack's replay window: a request signed more than five minutes from now is refused. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export type SlackVerification = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/** "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{raw body}" with the app's signing secret, as Slack computes it. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Verifies one request from Slack on its RAW body (the form-encoded bytes as sent: a parsed and
 * re-encoded body would not match). The timestamp must be within five minutes of `now` either way,
 * so a captured request cannot be replayed later; the comparison takes constant time.
 */
export function verifySlackRequest(
  signingSecret: string,
  request: { timestamp: string | undefined; signature: string | undefined; rawBody: string | Buffer },
  now: Date = new Date(),
): SlackVerification {
  const { timestamp, signature, rawBody } = request;
  if (!timestamp || !signature) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale_timestamp' };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) return { ok: false, reason: 'stale_timestamp' };
  if (!tokensMatch(slackSignature(signingSecret, timestamp, rawBody), signature)) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}
