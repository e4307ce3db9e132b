// zod/mini, as the delivery message: the webhook worker bundles this to queue notices.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { EVENT_TYPES } from '../webhooks/events.js';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { count, logger, METRICS } from '../observability.js';
import type { OperatorNotice, OperatorNotifier } from '../webhooks/operational-events.js';

/**
 * An operator notice (endpoint.disabled, delivery.exhausted) on its way to the operator: the
 * webhook worker and redrive queue it on the notifications queue, whose worker publishes it (SNS
 * on AWS, the log and outbox locally), so only that function bundles and may use SNS.
 */
const operatorNoticeMessageSchema = z.strictObject({
  v: z.literal(1),
  notice: z.strictObject({
    subject: z.string().check(z.minLength(1)),
    event: z.strictObject({
      id: z.string().check(z.minLength(1)),
      type: z.enum(EVENT_TYPES),
      draftId: z.nullable(z.string()),
      body: z.string(),
      test: z.boolean(),
    }),
  }),
});

export const operatorNoticeMessage = (notice: OperatorNotice): z.output<typeof operatorNoticeMessageSchema> => ({
  v: 1,
  notice: {
    subject: notice.subject,
    event: { id: notice.event.id, type: notice.event.type, draftId: notice.event.draftId, body: notice.event.body, test: notice.event.test },
  },
});

/** The notice a queue message carries, or undefined when it is not one (a delivery message, say). */
export function parseOperatorNoticeMessage(body: string): OperatorNotice | undefined {
  try {
    const result = operatorNoticeMessageSchema.safeParse(JSON.parse(body));
    return result.success ? result.data.notice : undefined;
  } catch {
    return undefined;
  }
}

/** A notifications batch's operator notices, apart from its deliveries (everything else). */
export function splitNotices(records: SQSRecord[]): { notices: Array<{ record: SQSRecord; notice: OperatorNotice }>; deliveries: SQSRecord[] } {
  const notices: Array<{ record: SQSRecord; notice: OperatorNotice }> = [];
  const deliveries: SQSRecord[] = [];
  for (const record of records) {
    const notice = parseOperatorNoticeMessage(record.body);
    if (notice) notices.push({ record, notice });
    else deliveries.push(record);
  }
  return { notices, deliveries };
}

/**
 * Publishes each notice; one that fails is reported failed so SQS brings it back, until the receive
 * before the queue's backstop (`backstopReceives`), when it is given up, logged and counted rather
 * than dead-lettered: the DLQ holds deliveries for redrive, and a notice is not one.
 */
export async function publishNotices(
  notices: Array<{ record: SQSRecord; notice: OperatorNotice }>,
  notifier: OperatorNotifier,
  backstopReceives: number,
): Promise<SQSBatchResponse> {
  const settled = await Promise.all(
    notices.map(async ({ record, notice }) => {
      const keys = { eventId: notice.event.id, eventType: notice.event.type };
      try {
        await notifier.notify(notice);
        logger.debug('operator notice published', keys);
        return true;
      } catch (error) {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
        const givenUp = receiveCount >= backstopReceives - 1;
        count(METRICS.operationalEventsFailed);
        logger.error(givenUp ? 'operator notice not published; given up' : 'operator notice not published; will retry', {
          ...keys,
          receiveCount,
          error: error as Error,
        });
        return givenUp;
      }
    }),
  );
  return { batchItemFailures: notices.filter((_, i) => !settled[i]).map(({ record }) => ({ itemIdentifier: record.messageId })) };
}
