// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { expiredAtOf, type Draft } from '../domain/draft-model.js';
import { roundOf } from '../domain/approvals.js';
import { reviewUrlOf } from '../webhooks/events.js';

/** The events a notification channel can choose; operational events stay with webhooks. */
export const CHANNEL_EVENT_TYPES = ['draft.created', 'draft.approved', 'draft.rejected', 'draft.expired'] as const;
export type ChannelEventType = (typeof CHANNEL_EVENT_TYPES)[number];

/**
 * What travels on the delivery queue for a Slack or email channel: the draft as a reviewer needs
 * to see it, built once at fan-out from the stored draft (which knows who decided). Each channel's
 * formatter (slack-message.ts, email-message.ts) renders it at delivery time.
 */
export const notificationSchema = z.strictObject({
  kind: z.literal('notification'),
  event: z.enum(CHANNEL_EVENT_TYPES),
  draft: z.strictObject({
    id: z.string(),
    title: z.string(),
    content: z.record(z.string(), z.unknown()),
    metadata: z.record(z.string(), z.unknown()),
    status: z.string(),
    createdAt: z.string(),
    expiresAt: z.nullable(z.string()),
    reviewUrl: z.nullable(z.string()),
    decidedBy: z.nullable(z.string()),
    decidedAt: z.nullable(z.string()),
    rejectionReason: z.nullable(z.string()),
    /** The approval round the message shows (an edit starts a new one); optional for messages queued before it existed. */
    approvalRound: z.optional(z.number().check(z.int())),
  }),
  timestamp: z.string(),
  /** A reminder that the draft is still pending (sent by the expiry sweep, shared/notifications/reminders.ts). */
  reminder: z.optional(z.boolean()),
  /** "Test notification" from the settings page or the API. */
  test: z.optional(z.boolean()),
});
export type Notification = z.output<typeof notificationSchema>;

export function notificationOf(draft: Draft, event: ChannelEventType, baseUrl: string | undefined, options: { reminder?: boolean } = {}): Notification {
  const decidedAt = draft.reviewedAt ?? (draft.status === 'expired' ? (expiredAtOf(draft) ?? null) : null);
  return {
    kind: 'notification',
    event,
    draft: {
      id: draft.id,
      title: draft.title,
      content: draft.content,
      metadata: draft.metadata,
      status: draft.status,
      createdAt: draft.createdAt,
      expiresAt: draft.expiresAt ?? null,
      reviewUrl: baseUrl ? reviewUrlOf(baseUrl, draft.id) : null,
      decidedBy: draft.reviewedBy?.name ?? null,
      decidedAt: decidedAt ?? null,
      rejectionReason: draft.rejectionReason ?? null,
      approvalRound: roundOf(draft),
    },
    timestamp: event === 'draft.created' ? draft.createdAt : (decidedAt ?? draft.createdAt),
    ...(options.reminder ? { reminder: true } : {}),
  };
}

/** "Test notification": a sample pending draft, marked as a test, that links nowhere real. */
export function testNotification(draftId: string, now: Date, baseUrl: string | undefined): Notification {
  const at = now.toISOString();
  return {
    kind: 'notification',
    event: 'draft.created',
    draft: {
      id: draftId,
      title: 'Test notification from Processa',
      content: { to: 'user@example.com', subject: 'Test', body: 'This is a test notification. No draft is waiting.' },
      metadata: { source: 'processa_test' },
      status: 'pending',
      createdAt: at,
      expiresAt: null,
      reviewUrl: baseUrl ? `${baseUrl.replace(/\/+$/, '')}/review` : null,
      decidedBy: null,
      decidedAt: null,
      rejectionReason: null,
    },
    timestamp: at,
    test: true,
  };
}

export function parseNotification(body: string): Notification | undefined {
  try {
    const parsed = notificationSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
