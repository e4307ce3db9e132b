import type { Draft } from '../../shared/domain/draft.js';
import { createChannel, createChannelSchema, updateChannel, updateChannelSchema } from '../../shared/notifications/channel-settings.js';
import { parseNotification } from '../../shared/notifications/notification.js';
import {
  REMINDER_CATCH_UP_MINUTES,
  reminderEventId,
  sendDueReminders,
  type PendingDraftsByAge,
  type ReminderDeps,
} from '../../shared/notifications/reminders.js';
import { createEndpoint, updateEndpoint, type EndpointStore, type WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { MemoryDeliveryStateStore, MemoryQueue } from '../support/memory-deliveries.js';

class MemoryEndpoints implements EndpointStore {
  readonly items = new Map<string, WebhookEndpoint>();
  async put(e: WebhookEndpoint) {
    this.items.set(e.id, structuredClone(e));
  }
  async get(id: string) {
    return structuredClone(this.items.get(id));
  }
  async replace(e: WebhookEndpoint, expected: number) {
    const current = this.items.get(e.id);
    if (!current) return 'missing' as const;
    if (current.version !== expected) return 'conflict' as const;
    this.items.set(e.id, structuredClone({ ...e, version: expected + 1 }));
    return 'replaced' as const;
  }
  async delete(id: string) {
    return this.items.delete(id);
  }
  async listAll() {
    return [...this.items.values()].map((e) => structuredClone(e));
  }
}

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function draftAt(id: string, createdMinute: number, extra: Partial<Draft> = {}): Draft {
  return {
    id,
    title: `Draft ${id}`,
    content: { to: 'user@example.com', subject: 'Hi', body: 'Hello' },
    metadata: { source: 'ai_agent_v1' },
    status: 'pending',
    createdAt: at(createdMinute).toISOString(),
    createdBy: { keyId: 'key_a', name: 'bot', role: 'agent' },
    history: [],
    ...extra,
  };
}

/** The by-status index: pending drafts by creation time, paged. */
class MemoryPending implements PendingDraftsByAge {
  reads = 0;
  constructor(readonly drafts: Map<string, Draft>) {}
  async createdBetween(from: string, to: string, limit: number, cursor?: Record<string, unknown>) {
    this.reads++;
    const all = [...this.drafts.values()]
      .filter((d) => d.status === 'pending' && d.createdAt >= from && d.createdAt <= to)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const start = Number(cursor?.at ?? 0);
    return { items: all.slice(start, start + limit), cursor: start + limit < all.length ? { at: start + limit } : undefined };
  }
}

function setup() {
  const endpoints = new MemoryEndpoints();
  const drafts = new Map<string, Draft>();
  const states = new MemoryDeliveryStateStore();
  const queue = new MemoryQueue();
  const pending = new MemoryPending(drafts);
  const deps = (minute: number, extra: Partial<ReminderDeps> = {}): ReminderDeps => ({
    endpoints: () => endpoints.listAll(),
    pending,
    drafts: { get: async (id) => structuredClone(drafts.get(id)) },
    states,
    queue,
    baseUrl: () => 'https://approvals.example.com',
    now: () => at(minute),
    pageSize: 2,
    ...extra,
  });
  const add = (d: Draft) => drafts.set(d.id, d);
  return { endpoints, drafts, states, queue, pending, deps, add };
}

const policy = { allowLocalhostHttp: true };
const slack = (extra: Record<string, unknown> = {}) => createChannelSchema.parse({ kind: 'slack', url: 'http://localhost:9/services/T/B/x', ...extra });

describe('remindAfterMinutes', () => {
  it('is optional, 1 to 10080 whole minutes, on create and update; null clears it', async () => {
    expect(createChannelSchema.safeParse({ kind: 'email', recipients: ['a@example.com'], remindAfterMinutes: 30 }).success).toBe(true);
    for (const bad of [0, 10081, 1.5, '30', -1]) {
      const result = createChannelSchema.safeParse({ kind: 'email', recipients: ['a@example.com'], remindAfterMinutes: bad });
      expect({ bad, paths: result.error?.issues.map((i) => i.path.join('.')) }).toEqual({ bad, paths: ['remindAfterMinutes'] });
    }
    expect(updateChannelSchema.safeParse({ remindAfterMinutes: 10080 }).success).toBe(true);
    expect(updateChannelSchema.safeParse({ remindAfterMinutes: 10081 }).success).toBe(false);
    expect(updateChannelSchema.safeParse({}).success).toBe(false);

    const { endpoints } = setup();
    const created = await createChannel(endpoints, slack({ remindAfterMinutes: 60 }), policy);
    expect(created).toMatchObject({ channel: 'slack', remindAfterMinutes: 60 });
    expect(await updateChannel(endpoints, created.id, { remindAfterMinutes: 5 })).toMatchObject({ remindAfterMinutes: 5 });
    const cleared = await updateChannel(endpoints, created.id, { remindAfterMinutes: null, filter: null });
    expect(cleared).not.toHaveProperty('remindAfterMinutes');
    // An endpoint PATCH (enable/disable) keeps it.
    await updateChannel(endpoints, created.id, { remindAfterMinutes: 7 });
    expect(await updateEndpoint(endpoints, created.id, { enabled: false }, policy)).toMatchObject({ remindAfterMinutes: 7, enabled: false });
  });

  it('updateChannel refuses a webhook endpoint as not found', async () => {
    const { endpoints } = setup();
    const webhook = await createEndpoint(endpoints, { url: 'http://localhost:9/hook' }, policy);
    await expect(updateChannel(endpoints, webhook.id, { remindAfterMinutes: 5 })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('20 concurrent updates of different settings all take effect', async () => {
    const { endpoints } = setup();
    const channel = await createChannel(endpoints, slack(), policy);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? updateChannel(endpoints, channel.id, { remindAfterMinutes: 30 }) : updateChannel(endpoints, channel.id, { description: 'team' }),
      ),
    );
    expect(await endpoints.get(channel.id)).toMatchObject({ remindAfterMinutes: 30, description: 'team', version: 21 });
  });
});

describe('sendDueReminders', () => {
  it('reminds each channel once per draft still pending past its threshold, marked as a reminder, through the state-then-queue path', async () => {
    const s = setup();
    const hour = await createChannel(s.endpoints, slack({ remindAfterMinutes: 60 }), policy);
    const quick = await createChannel(s.endpoints, createChannelSchema.parse({ kind: 'email', recipients: ['r@example.com'], remindAfterMinutes: 10 }), policy);
    await createChannel(s.endpoints, slack(), policy); // no reminders asked for
    s.add(draftAt('d_old', 0));
    s.add(draftAt('d_new', 55));

    expect((await sendDueReminders(s.deps(9))).queued).toEqual([]);
    const at10 = await sendDueReminders(s.deps(10));
    expect(at10.queued.map((m) => [m.endpointId, m.draftId])).toEqual([[quick.id, 'd_old']]);
    const [message] = at10.queued;
    expect(message).toMatchObject({ eventType: 'draft.created', test: false, redrives: 0, eventId: reminderEventId(quick.id, 'd_old') });
    expect(parseNotification(message!.body)).toMatchObject({
      event: 'draft.created',
      reminder: true,
      draft: { id: 'd_old', status: 'pending', reviewUrl: 'https://approvals.example.com/review/d_old' },
    });
    // The state was created before the message was queued.
    expect(await s.states.get(quick.id, message!.eventId)).toMatchObject({ status: 'waiting', attempts: 0 });

    // Later runs: nothing again for d_old on the quick channel; d_new crosses 10 min at 65; d_old crosses 60 at 60.
    expect((await sendDueReminders(s.deps(11))).queued).toEqual([]);
    const at60 = await sendDueReminders(s.deps(60));
    expect(at60.queued.map((m) => [m.endpointId, m.draftId])).toEqual([[hour.id, 'd_old']]);
    const at65 = await sendDueReminders(s.deps(65));
    expect(at65.queued.map((m) => [m.endpointId, m.draftId])).toEqual([[quick.id, 'd_new']]);
    expect(s.queue.sent).toHaveLength(3);
  });

  it('a rerun within the catch-up window sends nothing twice; past it, a draft is no longer read', async () => {
    const s = setup();
    await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    for (let i = 0; i < 5; i++) s.add(draftAt(`d${i}`, 0));
    // The first run after a 10-minute outage still catches up (pages of 2).
    expect((await sendDueReminders(s.deps(15))).queued).toHaveLength(5);
    for (let minute = 15; minute <= 5 + REMINDER_CATCH_UP_MINUTES; minute++) expect((await sendDueReminders(s.deps(minute))).queued).toEqual([]);
    expect(s.queue.sent).toHaveLength(5);
    const reads = s.pending.reads;
    await sendDueReminders(s.deps(6 + REMINDER_CATCH_UP_MINUTES));
    // Past the window the query returns nothing: one read, no state lookups.
    expect(s.pending.reads).toBe(reads + 1);
  });

  it('20 concurrent sweeps send exactly one reminder per draft per channel', async () => {
    const s = setup();
    const a = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    const b = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    for (let i = 0; i < 3; i++) s.add(draftAt(`d${i}`, 0));
    const results = await Promise.all(Array.from({ length: 20 }, () => sendDueReminders(s.deps(6))));
    expect(results.flatMap((r) => r.queued)).toHaveLength(6);
    expect(s.queue.sent.map((m) => `${m.endpointId}/${m.draftId}`).sort()).toEqual(
      [a.id, b.id].flatMap((c) => ['d0', 'd1', 'd2'].map((d) => `${c}/${d}`)).sort(),
    );
  });

  it('none for a draft decided or expired before the sweep (even if the index still lists it as pending)', async () => {
    const s = setup();
    await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    s.add(draftAt('decided', 0));
    s.add(draftAt('past-expiry', 0, { expiresAt: at(5).toISOString() }));
    s.add(draftAt('waiting', 0));
    // The index is eventually consistent: it lists all three as pending; the consistent read says otherwise.
    const stale = new Map(s.drafts);
    s.drafts.set('decided', { ...s.drafts.get('decided')!, status: 'approved' });
    const result = await sendDueReminders(s.deps(6, { pending: new MemoryPending(stale) }));
    expect(result.queued.map((m) => m.draftId)).toEqual(['waiting']);
  });

  it('none to a disabled or deleted channel, nor to a webhook endpoint; the filter routes', async () => {
    const s = setup();
    const disabled = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    const deleted = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    const filtered = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5, filter: { source: 'batch_job' } }), policy);
    const webhook = await createEndpoint(s.endpoints, { url: 'http://localhost:9/hook', events: ['draft.created'] }, policy);
    // A webhook endpoint never has reminders, even if the field were stored on it.
    await s.endpoints.put({ ...(await s.endpoints.get(webhook.id))!, remindAfterMinutes: 5 } as WebhookEndpoint);
    await updateChannel(s.endpoints, disabled.id, { enabled: false });
    await s.endpoints.delete(deleted.id);
    s.add(draftAt('agent', 0));
    s.add(draftAt('batch', 0, { metadata: { source: 'batch_job' } }));
    const result = await sendDueReminders(s.deps(6));
    expect(result.queued.map((m) => [m.endpointId, m.draftId])).toEqual([[filtered.id, 'batch']]);
  });

  it('a reminder the queue refused is recorded dead (for redrive), and not created again', async () => {
    const s = setup();
    const channel = await createChannel(s.endpoints, slack({ remindAfterMinutes: 5 }), policy);
    s.add(draftAt('d0', 0));
    const failing = { send: async () => Promise.reject(new Error('queue down')) };
    const result = await sendDueReminders(s.deps(6, { queue: failing }));
    expect(result).toMatchObject({ queued: [], parked: [expect.objectContaining({ draftId: 'd0' })] });
    expect(await s.states.get(channel.id, reminderEventId(channel.id, 'd0'))).toMatchObject({ status: 'dead', deadReason: expect.stringContaining('queue') });
    expect((await sendDueReminders(s.deps(7))).queued).toEqual([]);
  });

  it('with no channel asking for reminders it reads no drafts', async () => {
    const s = setup();
    await createChannel(s.endpoints, slack(), policy);
    s.add(draftAt('d0', 0));
    expect(await sendDueReminders(s.deps(100))).toEqual({ queued: [], parked: [] });
    expect(s.pending.reads).toBe(0);
  });
});
