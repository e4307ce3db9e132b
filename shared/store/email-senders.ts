import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toEml } from '../notifications/email-message.js';
import type { EmailSender } from '../notifications/send.js';
import { awsOrigin, sendAwsRequest, type AwsCredentials, type AwsResponse } from './aws-signed-request.js';

/**
 * The delivery function's email sender and sender address: the local outbox when the local runtime
 * set one, else SES with the configured notifyFrom identity, else none (email deliveries then fail, logged).
 */
export function emailSenderFromEnv(env: NodeJS.ProcessEnv = process.env): { email?: EmailSender; from?: string } {
  const outbox = env.PROCESSA_EMAIL_OUTBOX;
  if (outbox) return { email: outboxEmailSender(outbox), from: env.PROCESSA_NOTIFY_FROM || 'processa@localhost' };
  const from = env.PROCESSA_NOTIFY_FROM;
  return from ? { email: sesEmailSender(), from } : {};
}

/**
 * Email through Amazon SES v2 (SendEmail, a signed POST: no SDK client in the bundle): the
 * function's role may send only as the configured identity. AWS_ENDPOINT_URL_SESV2 points it elsewhere.
 */
export function sesEmailSender(options: { env?: NodeJS.ProcessEnv; credentials?: () => AwsCredentials } = {}): EmailSender {
  const { origin, region } = awsOrigin('SESV2', (r) => `email.${r}.amazonaws.com`, options.env);
  return async (email) => {
    const started = performance.now();
    const body = JSON.stringify({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: [email.to] },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
        },
      },
    });
    try {
      const answer = await sendAwsRequest(
        { service: 'ses', region, origin, path: '/v2/email/outbound-emails', headers: { 'content-type': 'application/json' }, body },
        options.credentials ? { credentials: options.credentials } : {},
      );
      const durationMs = performance.now() - started;
      if (answer.status >= 200 && answer.status < 300) return { status: answer.status, durationMs };
      return { status: answer.status, error: `SES ${sesError(answer)}`, durationMs };
    } catch (error) {
      return { error: `SES ${(error as Error).name}: ${(error as Error).message}`, durationMs: performance.now() - started };
    }
  };
}

/** An SES v2 error as "<code>: <message>", as the SDK names and words it (the code is in x-amzn-ErrorType). */
function sesError(answer: AwsResponse): string {
  const code = answer.errorType ?? `HTTP ${answer.status}`;
  try {
    const parsed = JSON.parse(answer.body) as { message?: string; Message?: string };
    return `${code}: ${parsed.message ?? parsed.Message ?? answer.body.slice(0, 200)}`;
  } catch {
    return `${code}: ${answer.body.slice(0, 200)}`;
  }
}

/** The local runtime's "mail server": each email an .eml file in the outbox folder, and a line in the log. */
export function outboxEmailSender(folder: string, log: (line: string) => void = (line) => console.log(line)): EmailSender {
  return async (email) => {
    const started = performance.now();
    try {
      mkdirSync(folder, { recursive: true });
      const at = new Date();
      const file = join(folder, `${at.toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}.eml`);
      writeFileSync(file, toEml(email, at));
      log(`email to ${email.to}: "${email.subject}" → ${file}`);
      return { status: 200, durationMs: performance.now() - started };
    } catch (error) {
      return { error: `outbox: ${(error as Error).message}`, durationMs: performance.now() - started };
    }
  };
}
