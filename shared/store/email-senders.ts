import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toEml } from '../notifications/email-message.js';
import type { EmailSender } from '../notifications/send.js';

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

/** Email through Amazon SES v2: the function's role may send only as the configured identity. */
export function sesEmailSender(client: SESv2Client = new SESv2Client({})): EmailSender {
  return async (email) => {
    const started = performance.now();
    try {
      const sent = await client.send(
        new SendEmailCommand({
          FromEmailAddress: email.from,
          Destination: { ToAddresses: [email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
            },
          },
        }),
      );
      return { status: sent.$metadata.httpStatusCode ?? 200, durationMs: performance.now() - started };
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      return { status: e.$metadata?.httpStatusCode, error: `SES ${e.name}: ${e.message}`, durationMs: performance.now() - started };
    }
  };
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
