import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { logger, stackNameFrom, tracer } from '../observability.js';
import type { OperatorNotice, OperatorNotifier } from '../webhooks/operational-events.js';

/** The alarm topic's ARN: the stack sets it (infra/app-definition.ts, setting operatorTopicArn); unset locally. */
export const OPERATOR_TOPIC_ENV = 'PROCESSA_OPERATOR_TOPIC_ARN';
/** Locally only: the folder of the operator outbox (the dev runtime sets it to .processa/outbox). */
export const OPERATOR_OUTBOX_ENV = 'PROCESSA_OPERATOR_OUTBOX';
/** One JSON line per notice, appended. */
export const OUTBOX_FILE = 'operator-notices.jsonl';

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
const snsSubject = (text: string): string =>
  text
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 100)
    .trim();

/** The text an email subscriber reads: what happened, then the event exactly as subscribed endpoints receive it. */
export const noticeText = (notice: OperatorNotice): string =>
  `${notice.subject}\n\nwebhook-id: ${notice.event.id}\n\n${JSON.stringify(JSON.parse(notice.event.body), null, 2)}\n`;

/** Publishes operator notices to the alarm topic, so its email subscribers (alarmEmail) and on-call tools hear them. */
export class SnsOperatorNotifier implements OperatorNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly stackName: string,
  ) {}

  async notify(notice: OperatorNotice): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(`${this.stackName}: ${notice.subject}`),
        Message: noticeText(notice),
        // Lets on-call tools filter subscriptions by event type.
        MessageAttributes: { event: { DataType: 'String', StringValue: notice.event.type } },
      }),
    );
  }
}

/**
 * The dev runtime has no SNS: a notice goes to the runtime's log (a warning, which it prints) and,
 * when an outbox folder is set, as one JSON line to <folder>/operator-notices.jsonl.
 */
export class LocalOperatorOutbox implements OperatorNotifier {
  constructor(private readonly folder: string | undefined) {}

  async notify(notice: OperatorNotice): Promise<void> {
    logger.warn(`operator notice: ${notice.subject}`, { eventId: notice.event.id, eventType: notice.event.type, event: JSON.parse(notice.event.body) });
    if (!this.folder) return;
    await mkdir(this.folder, { recursive: true });
    const line = { at: new Date().toISOString(), subject: notice.subject, eventId: notice.event.id, event: JSON.parse(notice.event.body) as unknown };
    await appendFile(join(this.folder, OUTBOX_FILE), `${JSON.stringify(line)}\n`);
  }
}

/** The topic on AWS; the log and outbox where no topic is set (the local runtime). */
export function operatorNotifierFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorNotifier {
  const topicArn = env[OPERATOR_TOPIC_ENV];
  if (topicArn) return new SnsOperatorNotifier(tracer.captureAWSv3Client(new SNSClient({})), topicArn, stackNameFrom(env));
  return new LocalOperatorOutbox(env[OPERATOR_OUTBOX_ENV] || undefined);
}
