import { createHash, randomBytes } from 'node:crypto';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { requiredApprovalsOf, reviewersOf } from '../domain/approvals.js';
import { expiredAtOf, type Draft } from '../domain/draft-model.js';

/** Events about the delivery system itself rather than a draft (they carry no draft id); opt-in, and also sent to the operator (alarm topic). */
export const OPERATIONAL_EVENT_TYPES = ['endpoint.disabled', 'delivery.exhausted'] as const;
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];
export const EVENT_TYPES = ['draft.approved', 'draft.rejected', 'draft.expired', 'draft.created', ...OPERATIONAL_EVENT_TYPES] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** What a new endpoint subscribes to: the documented events. draft.expired and draft.created are opt-in, since receivers written from the documentation do not expect them. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = ['draft.approved', 'draft.rejected'];

/**
 * Webhook bodies exactly as the published documentation shows them: field names, nesting and
 * which fields each event carries. Receivers already code against these.
 */
export interface DraftApprovedPayload {
  event: 'draft.approved';
  draft: { id: string; title: string; content: Record<string, unknown>; metadata: Record<string, unknown>; reviewedAt: string };
  timestamp: string;
  /** Only on test events ("Test Webhook"); a test draft.approved is sent only when asked for explicitly. */
  test?: true;
}
export interface DraftRejectedPayload {
  event: 'draft.rejected';
  draft: { id: string; title: string; rejectionReason: string | null; reviewedAt: string };
  timestamp: string;
  /** Only on test events ("Test Webhook"): the default test event is a draft.rejected. */
  test?: true;
}
export interface DraftExpiredPayload {
  event: 'draft.expired';
  draft: { id: string; title: string; metadata: Record<string, unknown>; expiresAt: string };
  timestamp: string;
}
/** A draft waits for review (opt-in): enough to show it to a reviewer and link to its review page. */
export interface DraftCreatedPayload {
  event: 'draft.created';
  draft: {
    id: string;
    title: string;
    content: Record<string, unknown>;
    metadata: Record<string, unknown>;
    createdAt: string;
    expiresAt: string | null;
    reviewUrl: string;
    /** The assignment, so channels can route on it: key ids and group:<name>s ([]: any reviewer), and the approvals needed. */
    reviewers: string[];
    requiredApprovals: number;
  };
  timestamp: string;
}
export type WebhookPayload = DraftApprovedPayload | DraftRejectedPayload | DraftExpiredPayload | DraftCreatedPayload;

export const isOperationalEvent = (type: EventType): type is OperationalEventType => (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(type);

/** One event, serialized once: every endpoint and every retry gets these exact bytes. */
export interface WebhookEvent {
  id: string;
  type: EventType;
  /** null for operational events (endpoint.disabled, delivery.exhausted), which are about no draft. */
  draftId: string | null;
  body: string;
  test: boolean;
}

/**
 * The webhook-id is derived from the decision itself, so a stream record read twice, or a fan-out
 * retried, yields the same id and receivers can deduplicate on it.
 */
export function decisionEventId(draftId: string, type: EventType): string {
  return `msg_${createHash('sha256').update(`${draftId}:${type}`).digest('base64url').slice(0, 27)}`;
}

export function decisionEvent(draft: Draft): WebhookEvent {
  if (draft.status === 'expired') return expiryEvent(draft);
  if (draft.status !== 'approved' && draft.status !== 'rejected') throw new Error(`Draft ${draft.id} is ${draft.status}, not decided`);
  if (!draft.reviewedAt) throw new Error(`Draft ${draft.id} has no reviewedAt`);
  const type: EventType = draft.status === 'approved' ? 'draft.approved' : 'draft.rejected';
  const payload: WebhookPayload =
    type === 'draft.approved'
      ? {
          event: 'draft.approved',
          draft: { id: draft.id, title: draft.title, content: draft.content, metadata: draft.metadata, reviewedAt: draft.reviewedAt },
          timestamp: draft.reviewedAt,
        }
      : {
          event: 'draft.rejected',
          draft: { id: draft.id, title: draft.title, rejectionReason: draft.rejectionReason ?? null, reviewedAt: draft.reviewedAt },
          timestamp: draft.reviewedAt,
        };
  return { id: decisionEventId(draft.id, type), type, draftId: draft.id, body: JSON.stringify(payload), test: false };
}

function expiryEvent(draft: Draft): WebhookEvent {
  const expiredAt = expiredAtOf(draft) ?? draft.expiresAt!;
  const payload: DraftExpiredPayload = {
    event: 'draft.expired',
    draft: { id: draft.id, title: draft.title, metadata: draft.metadata, expiresAt: draft.expiresAt! },
    timestamp: expiredAt,
  };
  return { id: decisionEventId(draft.id, 'draft.expired'), type: 'draft.expired', draftId: draft.id, body: JSON.stringify(payload), test: false };
}

/** The review page of a draft under the public base URL, as the API's reviewUrl. */
export const reviewUrlOf = (baseUrl: string, draftId: string): string => `${baseUrl.replace(/\/+$/, '')}/review/${encodeURIComponent(draftId)}`;

/** draft.created: the webhook-id is derived from the draft, so a stream record read twice yields the same id. */
export function createdEvent(draft: Draft, baseUrl: string): WebhookEvent {
  const payload: DraftCreatedPayload = {
    event: 'draft.created',
    draft: {
      id: draft.id,
      title: draft.title,
      content: draft.content,
      metadata: draft.metadata,
      createdAt: draft.createdAt,
      expiresAt: draft.expiresAt ?? null,
      reviewUrl: reviewUrlOf(baseUrl, draft.id),
      reviewers: reviewersOf(draft),
      requiredApprovals: requiredApprovalsOf(draft),
    },
    timestamp: draft.createdAt,
  };
  return { id: decisionEventId(draft.id, 'draft.created'), type: 'draft.created', draftId: draft.id, body: JSON.stringify(payload), test: false };
}

/** Events "Test Webhook" can send. The first is the default. */
export const TEST_EVENT_TYPES = ['draft.rejected', 'draft.approved'] as const;
export type TestEventType = (typeof TEST_EVENT_TYPES)[number];

/** Body of POST /v1/webhooks/{id}/test (and the settings page's test forms); an empty body means the default. */
export const sendTestEventSchema = z.strictObject({
  event: z
    .optional(z.enum(TEST_EVENT_TYPES))
    .check(
      z.describe(
        "draft.rejected (default: the documentation's receivers execute nothing) or draft.approved (a sample approval: receivers built from the documentation execute its content)",
      ),
    ),
});
export type SendTestEventInput = z.output<typeof sendTestEventSchema>;

export const TEST_REJECTION_REASON = 'Test event sent with "Test Webhook" from Processa. No draft was rejected; nothing needs to be done.';

/**
 * "Test Webhook". By default a draft.rejected: the documentation's own receivers answer it 200 and
 * only log it, so pressing a test button never executes an action (never sends an email). A sample
 * draft.approved is built only when asked for, for receivers that want to try their execution path.
 * Both carry the documented fields unchanged plus "test": true and a test_ draft id.
 */
export function testEvent(options: { event?: TestEventType; now?: Date } = {}): WebhookEvent {
  const type = options.event ?? 'draft.rejected';
  const draftId = `test_${randomBytes(12).toString('hex')}`;
  const at = (options.now ?? new Date()).toISOString();
  const payload: DraftRejectedPayload | DraftApprovedPayload =
    type === 'draft.rejected'
      ? {
          event: 'draft.rejected',
          draft: { id: draftId, title: 'Test event from Processa', rejectionReason: TEST_REJECTION_REASON, reviewedAt: at },
          timestamp: at,
          test: true,
        }
      : {
          event: 'draft.approved',
          draft: {
            id: draftId,
            title: 'Sample approval from Processa (test)',
            content: {
              to: 'user@example.com',
              subject: 'Test webhook',
              body: 'This is a sample approval sent with "Test Webhook". It was asked for explicitly.',
            },
            metadata: { source: 'processa_test' },
            reviewedAt: at,
          },
          timestamp: at,
          test: true,
        };
  return { id: `msg_test_${randomBytes(12).toString('base64url')}`, type, draftId, body: JSON.stringify(payload), test: true };
}
