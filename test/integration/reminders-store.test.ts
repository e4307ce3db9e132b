import { newDraft, type Actor, type Draft } from '../../shared/domain/draft.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { createChannel, createChannelSchema, updateChannel } from '../../shared/notifications/channel-settings.js';
import { parseNotification } from '../../shared/notifications/notification.js';
import { REMINDER_CATCH_UP_MINUTES, reminderEventId, sendDueReminders, type ReminderDeps } from '../../shared/notifications/reminders.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { DynamoPendingDrafts } from '../../shared/store/pending-drafts-store.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { deliveryStateStoreFromEnv, draftStoreFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';
import { MemoryQueue } from '../support/memory-deliveries.js';

const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
const drafts = draftStoreFromEnv();
const endpoints = endpointStoreFromEnv();
const states = deliveryStateStoreFromEnv();
const pending = new DynamoPendingDrafts(documentClient(), tableNameFromEnv('drafts'));

/** Drafts dated in the future, each test at its own time, so no other test's drafts fall in the window. */
const base = () => Date.UTC(2091, 0, 1) + Math.floor(Math.random() * 1e12);
const run = `run_${Math.random().toString(36).slice(2)}`;
const policy = { allowLocalhostHttp: true };

async function stored(t0: number, minute: number, metadata: Record<string, string> = { run }): Promise<Draft> {
  const draft = newDraft({ title: `at ${minute}`, content: { a: 1 }, metadata }, agent, new Date(t0 + minute * 60_000));
  await drafts.create(draft);
  return draft;
}

/** Only this file's channels: other tests share the table. */
async function channels(count: number, remindAfterMinutes: number) {
  const made = [];
  for (let i = 0; i < count; i++) {
    made.push(
      await createChannel(endpoints, createChannelSchema.parse({ kind: 'slack', url: 'http://localhost:9/hook', filter: { run }, remindAfterMinutes }), policy),
    );
  }
  return made;
}

const deps = (ids: Set<string>, queue: MemoryQueue, now: Date): ReminderDeps => ({
  endpoints: async () => (await endpoints.listAll()).filter((e) => ids.has(e.id)),
  pending,
  drafts,
  states,
  queue,
  baseUrl: () => 'http://localhost:3000',
  now: () => now,
});

describe('reminders against DynamoDB Local', () => {
  it('the by-status index gives exactly the pending drafts created in the window, both ends included, paged', async () => {
    const t0 = base();
    const before = await stored(t0, 0);
    const first = await stored(t0, 1);
    const middle = await Promise.all([2, 2, 2, 3].map((m) => stored(t0, m)));
    const last = await stored(t0, 4);
    const after = await stored(t0, 5);
    const decided = await stored(t0, 3);
    await decideDraft(drafts, decided.id, { kind: 'approve' }, reviewer, new Date(t0 + 10 * 60_000));

    const ids: string[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await pending.createdBetween(first.createdAt, last.createdAt, 2, cursor);
      ids.push(...page.items.map((d) => d.id));
      cursor = page.cursor;
    } while (cursor);
    expect(ids.sort()).toEqual([first, ...middle, last].map((d) => d.id).sort());
    expect(ids).not.toContain(before.id);
    expect(ids).not.toContain(after.id);
    expect(ids).not.toContain(decided.id);
  });

  it('25 concurrent sweeps send exactly one reminder per draft per channel; a rerun sends none', async () => {
    const t0 = base();
    const made = await channels(2, 30);
    const ids = new Set(made.map((c) => c.id));
    const waiting = await Promise.all([0, 1, 2].map((m) => stored(t0, m)));
    const decided = await stored(t0, 1);
    await decideDraft(drafts, decided.id, { kind: 'reject', reason: 'no' }, reviewer, new Date(t0 + 20 * 60_000));
    const queue = new MemoryQueue();
    const now = new Date(t0 + 32 * 60_000);

    const results = await Promise.all(Array.from({ length: 25 }, () => sendDueReminders(deps(ids, queue, now))));
    expect(results.flatMap((r) => r.queued)).toHaveLength(6);
    expect(queue.sent.map((m) => `${m.endpointId}/${m.draftId}`).sort()).toEqual(made.flatMap((c) => waiting.map((d) => `${c.id}/${d.id}`)).sort());
    for (const message of queue.sent) {
      expect(message.eventId).toBe(reminderEventId(message.endpointId, message.draftId!));
      expect(parseNotification(message.body)).toMatchObject({
        reminder: true,
        draft: { status: 'pending', reviewUrl: `http://localhost:3000/review/${message.draftId}` },
      });
      expect(await states.get(message.endpointId, message.eventId)).toMatchObject({ status: 'waiting', attempts: 0 });
    }

    // Reruns within the catch-up window, even concurrent ones, find every reminder made.
    const later = new Date(t0 + (30 + REMINDER_CATCH_UP_MINUTES) * 60_000);
    const reruns = await Promise.all(Array.from({ length: 20 }, () => sendDueReminders(deps(ids, queue, later))));
    expect(reruns.flatMap((r) => r.queued)).toEqual([]);
    expect(queue.sent).toHaveLength(6);
  });

  it('a draft decided before the sweep, and a channel disabled or deleted, get none', async () => {
    const t0 = base();
    const [kept, disabled, deleted] = await channels(3, 10);
    const ids = new Set([kept!.id, disabled!.id, deleted!.id]);
    const waiting = await stored(t0, 0);
    const decided = await stored(t0, 0);
    await decideDraft(drafts, decided.id, { kind: 'approve' }, reviewer, new Date(t0 + 5 * 60_000));
    await updateChannel(endpoints, disabled!.id, { enabled: false });
    await endpoints.delete(deleted!.id);
    const queue = new MemoryQueue();
    await Promise.all(Array.from({ length: 20 }, () => sendDueReminders(deps(ids, queue, new Date(t0 + 11 * 60_000)))));
    expect(queue.sent.map((m) => [m.endpointId, m.draftId])).toEqual([[kept!.id, waiting.id]]);
  });
});
