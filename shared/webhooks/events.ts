import { createHash, randomBytes } from 'node:crypto';
import type { Draft } from '../domain/draft.js';

export const EVENT_TYPES = ['draft.approved', 'draft.rejected', 'draft.expired'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** What a new endpoint subscribes to: the documented events. draft.expired is opt-in, since receivers written from the documentation do not expect it. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = ['draft.approved', 'draft.rejected'];

/**
 * Webhook bodies exactly as the published documentation shows them: field names, nesting and
 * which fields each event carries. Receivers already code against these.
 */
export interface DraftApprovedPayload {
  event: 'draft.approved';
  draft: { id: string; title: string; content: Record<string, unknown>; metadata: Record<string, unknown>; reviewedAt: string };
  timestamp: string;
  /** Only on events sent with "Send test event". */
  test?: true;
}
export interface DraftRejectedPayload {
  event: 'draft.rejected';
  draft: { id: string; title: string; rejectionReason: string | null; reviewedAt: string };
  timestamp: string;
}
export interface DraftExpiredPayload {
  event: 'draft.expired';
  draft: { id: string; title: string; metadata: Record<string, unknown>; expiresAt: string };
  timestamp: string;
}
export type WebhookPayload = DraftApprovedPayload | DraftRejectedPayload | DraftExpiredPayload;

/** One event, serialized once: every endpoint and every retry gets these exact bytes. */
export interface WebhookEvent {
  id: string;
  type: EventType;
  draftId: string;
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
  const expiredAt = [...draft.history].reverse().find((h) => h.action === 'expired')?.at ?? draft.expiresAt!;
  const payload: DraftExpiredPayload = {
    event: 'draft.expired',
    draft: { id: draft.id, title: draft.title, metadata: draft.metadata, expiresAt: draft.expiresAt! },
    timestamp: expiredAt,
  };
  return { id: decisionEventId(draft.id, 'draft.expired'), type: 'draft.expired', draftId: draft.id, body: JSON.stringify(payload), test: false };
}

/**
 * "Send test event": a draft.approved with "test": true and a test_ draft id, so that receivers
 * written from the documentation accept it and can recognise it.
 */
export function testEvent(now = new Date()): WebhookEvent {
  const draftId = `test_${randomBytes(12).toString('hex')}`;
  const at = now.toISOString();
  const payload: DraftApprovedPayload = {
    event: 'draft.approved',
    draft: {
      id: draftId,
      title: 'Test event from Processa',
      content: { to: 'user@example.com', subject: 'Test webhook', body: 'This is a test event. No action is needed.' },
      metadata: { source: 'processa_test' },
      reviewedAt: at,
    },
    timestamp: at,
    test: true,
  };
  return { id: `msg_test_${randomBytes(12).toString('base64url')}`, type: 'draft.approved', draftId, body: JSON.stringify(payload), test: true };
}
