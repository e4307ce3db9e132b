import { createHash } from 'node:crypto';
import { isPastExpiry, type Draft } from '../domain/draft-model.js';
import type { DeliveryMessage, DeliveryQueue } from '../webhooks/delivery-message.js';
import { deadState, queuedState, type DeliveryStateStore } from '../webhooks/delivery-state.js';
import type { WebhookEndpoint } from '../webhooks/endpoints.js';
import { isChannel, matchesMetadata, remindAfterOf } from './channels.js';
import { notificationOf } from './notification.js';

/**
 * How far back past its threshold a draft is still looked for. The sweep runs every minute, so a
 * draft is normally found on the first run after it crosses; the window lets runs that failed or
 * were skipped (a deploy, throttling) catch up, while keeping each run's reads bounded by the drafts
 * created in this window rather than by every old pending draft. A reminder whose moment passed
 * while the sweep was down for longer is not sent.
 */
export const REMINDER_CATCH_UP_MINUTES = 15;

/** Pending drafts by creation time (the drafts table's by-status index). */
export interface PendingDraftsByAge {
  /** Pending drafts created from `from` to `to` inclusive (ISO times), oldest first, up to `limit` per page. */
  createdBetween(from: string, to: string, limit: number, cursor?: Record<string, unknown>): Promise<{ items: Draft[]; cursor?: Record<string, unknown> }>;
}

export interface ReminderDeps {
  /** Every endpoint (channels among them). */
  endpoints: () => Promise<WebhookEndpoint[]>;
  pending: PendingDraftsByAge;
  /** A strongly consistent read of one draft: the index may still list a draft decided a moment ago. */
  drafts: { get(id: string): Promise<Draft | undefined> };
  states: DeliveryStateStore;
  queue: DeliveryQueue;
  /** Where reviewers open drafts, for the message's Review link; undefined leaves the link out. */
  baseUrl: () => string | undefined;
  now?: () => Date;
  pageSize?: number;
}

export interface ReminderResult {
  /** Reminders this run created and queued. */
  queued: DeliveryMessage[];
  /** Reminders created but not queued (the queue failed): recorded dead, so redrive sends them. */
  parked: DeliveryMessage[];
}

/**
 * One reminder per draft per channel: its id is derived from both, so every run and every
 * concurrent sweep builds the same delivery, and only the one whose conditional create of the
 * delivery state succeeds queues it.
 */
export const reminderEventId = (channelId: string, draftId: string): string =>
  `msg_${createHash('sha256').update(`reminder:${channelId}:${draftId}`).digest('base64url').slice(0, 27)}`;

/** The reminder as it travels on the delivery queue: a draft.created notification marked as a reminder. */
export function reminderMessage(channel: WebhookEndpoint, draft: Draft, baseUrl: string | undefined): DeliveryMessage {
  return {
    v: 1,
    eventId: reminderEventId(channel.id, draft.id),
    eventType: 'draft.created',
    draftId: draft.id,
    endpointId: channel.id,
    body: JSON.stringify(notificationOf(draft, 'draft.created', baseUrl, { reminder: true })),
    test: false,
    redrives: 0,
    target: 'channel',
  };
}

const minutesBefore = (at: Date, minutes: number): string => new Date(at.getTime() - minutes * 60_000).toISOString();

/**
 * The reminder sweep (run every minute): for each enabled channel with remindAfterMinutes, the
 * drafts still pending that long after creation whose metadata matches its filter get one
 * reminder, through the same path as every notification (delivery state created, then queued).
 * A draft decided or expired before the sweep, or a channel disabled or deleted, gets none.
 */
export async function sendDueReminders(deps: ReminderDeps): Promise<ReminderResult> {
  const now = (deps.now ?? (() => new Date()))();
  const channels = (await deps.endpoints()).filter((e) => isChannel(e) && e.enabled && remindAfterOf(e) !== undefined);
  if (channels.length === 0) return { queued: [], parked: [] };

  // Channels with the same threshold share one read of the index.
  const byThreshold = new Map<number, WebhookEndpoint[]>();
  for (const channel of channels) {
    const minutes = remindAfterOf(channel)!;
    byThreshold.set(minutes, [...(byThreshold.get(minutes) ?? []), channel]);
  }

  const candidates: Array<{ channel: WebhookEndpoint; draft: Draft }> = [];
  for (const [minutes, group] of byThreshold) {
    const to = minutesBefore(now, minutes);
    const from = minutesBefore(now, minutes + REMINDER_CATCH_UP_MINUTES);
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await deps.pending.createdBetween(from, to, deps.pageSize ?? 100, cursor);
      for (const draft of page.items) {
        for (const channel of group) if (matchesMetadata(channel.filter, draft.metadata)) candidates.push({ channel, draft });
      }
      cursor = page.cursor;
    } while (cursor);
  }
  if (candidates.length === 0) return { queued: [], parked: [] };

  // Reminders already made (by an earlier run or a concurrent one) are skipped with a read, not a refused write.
  const unsent = (
    await Promise.all(candidates.map(async (c) => ((await deps.states.get(c.channel.id, reminderEventId(c.channel.id, c.draft.id))) ? undefined : c)))
  ).filter((c) => c !== undefined);
  const current = new Map<string, Promise<Draft | undefined>>();
  const stillPending = async (id: string) => {
    if (!current.has(id)) current.set(id, deps.drafts.get(id));
    const draft = await current.get(id);
    return draft !== undefined && draft.status === 'pending' && !isPastExpiry(draft, now) ? draft : undefined;
  };
  const baseUrl = unsent.length > 0 ? deps.baseUrl() : undefined;
  const created = await Promise.all(
    unsent.map(async ({ channel, draft }) => {
      const fresh = await stillPending(draft.id);
      if (!fresh) return undefined;
      const message = reminderMessage(channel, fresh, baseUrl);
      // The conditional create is what makes it once: of concurrent sweeps exactly one gets true.
      return (await deps.states.save(queuedState(message, now), undefined)) ? message : undefined;
    }),
  );
  const queued = created.filter((m) => m !== undefined);
  if (queued.length === 0) return { queued, parked: [] };
  try {
    await deps.queue.send(queued);
    return { queued, parked: [] };
  } catch {
    // Its state exists, so no later run would send it: it is recorded dead instead, for redrive.
    const at = now.toISOString();
    await Promise.all(queued.map((m) => deps.states.save(deadState(m, 0, at, 'the delivery queue refused the reminder'), { generation: 0, attempts: 0 })));
    return { queued: [], parked: queued };
  }
}
