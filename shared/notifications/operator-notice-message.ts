// zod/mini, as the delivery message: the webhook worker bundles this to queue notices.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { EVENT_TYPES } from '../webhooks/events.js';
import type { OperatorNotice } from '../webhooks/operational-events.js';

/**
 * An operator notice (endpoint.disabled, delivery.exhausted) on its way to the operator: the
 * webhook worker and redrive queue it on the notifications queue, whose worker publishes it (SNS
 * on AWS, the log and outbox locally), so only that function bundles and may use SNS.
 */
export const operatorNoticeMessageSchema = z.strictObject({
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
