import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import { attemptDelivery, deliverMessage, NOT_DUE_TOLERANCE_MS, type DeliveryDeps, type DeliveryPolicy, type Poster } from '../../shared/webhooks/deliver.js';
import { deliveryMessage, targetOf, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { redriveDeadDeliveries, requeueWaitingDeliveries } from '../../shared/webhooks/redrive.js';
import { SqsRetryQueue } from '../../shared/store/sqs-queues.js';
import { newDraft } from '../../shared/domain/draft.js';
import { fanOutDecision } from '../../shared/webhooks/fan-out.js';
import { MemoryDeliveryLog, MemoryDeliveryStateStore, MemoryDlq, MemoryQueue } from '../support/memory-deliveries.js';

const policy: DeliveryPolicy = samplePolicy();
const endpoint: WebhookEndpoint = sampleEndpoint();
const message = deliveryMessage(testEvent(), 'ep_1');
const answering = (result: Awaited<ReturnType<Poster>>): Poster & { calls: Array<Record<string, string>> } => {
  const calls: Array<Record<string, string>> = [];
  const post = (async (_url: string, _body: string, headers: Record<string, string>) => {
    calls.push(headers);
    return result;
  }) as unknown as Poster & { calls: typeof calls };
  post.calls = calls;
  return post;
};
const now = () => new Date('2026-02-10T12:00:00Z');

describe('one delivery attempt', () => {
  it('signs, posts JSON and records success', async () => {
    const post = answering({ status: 204, durationMs: 12.4 });
    const action = await attemptDelivery(message, 1, endpoint, { post, policy, now });
    expect(action).toMatchObject({
      kind: 'delivered',
      attempt: { outcome: 'succeeded', httpStatus: 204, durationMs: 12, attempt: 1, test: true, error: null },
    });
    expect(post.calls[0]).toMatchObject({ 'content-type': 'application/json', 'webhook-id': message.eventId, 'webhook-timestamp': '1770724800' });
  });

  it.each([1, 2, 3])('retries after failed attempt %i with growing backoff', async (n) => {
    const action = await attemptDelivery(message, n, endpoint, {
      post: answering({ status: 500, error: 'HTTP 500: boom', durationMs: 5 }),
      policy,
      now,
      random: () => 1,
    });
    expect(action).toMatchObject({ kind: 'retry', delaySeconds: 10 * 2 ** (n - 1), attempt: { outcome: 'failed', httpStatus: 500, error: 'HTTP 500: boom' } });
    if (action.kind === 'retry') expect(action.attempt.nextAttemptAt).toBe(new Date(now().getTime() + action.delaySeconds * 1000).toISOString());
  });

  it('gives up after the 4th attempt: dead', async () => {
    const action = await attemptDelivery(message, 4, endpoint, { post: answering({ error: 'connection refused', durationMs: 1 }), policy, now });
    expect(action).toMatchObject({ kind: 'dead', attempt: { outcome: 'dead', httpStatus: null, error: 'connection refused' } });
  });

  it('treats redirects as failures', async () => {
    const action = await attemptDelivery(message, 1, endpoint, { post: answering({ status: 302, durationMs: 1 }), policy, now });
    expect(action).toMatchObject({ kind: 'retry', attempt: { error: 'HTTP 302: redirects are not followed' } });
  });

  it('drops messages for deleted endpoints without posting', async () => {
    const post = answering({ status: 200, durationMs: 1 });
    expect(await attemptDelivery(message, 1, undefined, { post, policy })).toEqual({ kind: 'dropped' });
    expect(post.calls).toHaveLength(0);
  });
});

const failing = () => answering({ status: 500, durationMs: 3 });
/** A clock a day further on at every reading, shared by every delivery here: each received copy finds its retry due, as a real retry does. */
let clockAt = now().getTime();
const laterEachTime = () => new Date((clockAt += 24 * 3600 * 1000));
const deps = (states: MemoryDeliveryStateStore, post: Poster, extra: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
  post,
  policy,
  states,
  endpointFor: async (id) => (id === endpoint.id ? endpoint : undefined),
  disableEndpoint: async () => {
    throw new Error('not expected in this test');
  },
  recordHealth: async () => undefined,
  backstopReceives: 12,
  now: laterEachTime,
  random: () => 0,
  ...extra,
});

describe('a delivery counts its own attempts', () => {
  it('makes exactly 4 real POSTs whatever the receive count says, then is dead', async () => {
    const states = new MemoryDeliveryStateStore();
    const post = failing();
    // Receives 2, 4, 6 and 8 were lost to throttling or timed out before posting: the SQS count runs ahead.
    const steps = [];
    for (const receiveCount of [1, 3, 5, 7]) steps.push(await deliverMessage(message, receiveCount, deps(states, post)));
    expect(post.calls).toHaveLength(4);
    expect(steps.map((s) => s.kind)).toEqual(['retry', 'retry', 'retry', 'dead']);
    expect(steps.map((s) => ('attempt' in s ? s.attempt?.attempt : undefined))).toEqual([1, 2, 3, 4]);
    expect(steps[3]).toMatchObject({ kind: 'dead', reason: 'all 4 attempts failed', attempt: { outcome: 'dead', httpStatus: 500 } });
    expect(await states.get('ep_1', message.eventId)).toMatchObject({ status: 'dead', attempts: 4, generation: 0, message });
    // A repeat of the dead message posts nothing more; it is only sent to the DLQ again.
    expect(await deliverMessage(message, 9, deps(states, post))).toEqual({ kind: 'dead', attempt: null, reason: 'all 4 attempts failed' });
    expect(post.calls).toHaveLength(4);
  });

  it('counts receives that never reached the POST as nothing (a timeout before posting)', async () => {
    const states = new MemoryDeliveryStateStore();
    const post = failing();
    // The state is read, then the invocation dies before posting: no attempt is recorded.
    await deliverMessage(message, 1, deps(states, post));
    let posting!: () => void;
    const reachedPost = new Promise<void>((resolve) => (posting = resolve));
    const stalled = deps(states, (async () => {
      posting();
      return new Promise(() => undefined);
    }) as Poster);
    void deliverMessage(message, 2, stalled);
    // Wait until it is stuck in a POST that never answers (the invocation would time out there).
    await reachedPost;
    expect((await states.get('ep_1', message.eventId))?.attempts).toBe(1);
    const next = await deliverMessage(message, 3, deps(states, post));
    expect(next).toMatchObject({ kind: 'retry', attempt: { attempt: 2 } });
  });

  it('does not post a delivered message again when a copy comes back', async () => {
    const states = new MemoryDeliveryStateStore();
    const post = answering({ status: 200, durationMs: 1 });
    expect((await deliverMessage(message, 1, deps(states, post))).kind).toBe('delivered');
    expect(await deliverMessage(message, 2, deps(states, post))).toEqual({ kind: 'skipped', reason: 'delivered' });
    expect(post.calls).toHaveLength(1);
  });

  it('dead-letters a failure itself, with the reason, on the receive before the queue backstop', async () => {
    const states = new MemoryDeliveryStateStore();
    const step = await deliverMessage(message, 11, deps(states, failing()));
    expect(step).toMatchObject({ kind: 'dead', attempt: { attempt: 1, outcome: 'dead' } });
    if (step.kind === 'dead') expect(step.attempt!.error).toContain('the queue received it 11 times (limit 12)');
    expect(await states.get('ep_1', message.eventId)).toMatchObject({ status: 'dead', deadReason: expect.stringContaining('limit 12') });
  });

  it('recognises its own write when the store committed it but the answer was lost (the retry is not dropped)', async () => {
    const states = new MemoryDeliveryStateStore();
    // Commits, then answers "condition failed", as an SDK retry of a committed conditional write does.
    const lossy = Object.assign(Object.create(states) as MemoryDeliveryStateStore, {
      save: async (...args: Parameters<MemoryDeliveryStateStore['save']>) => {
        await states.save(...args);
        return false;
      },
    });
    const step = await deliverMessage(message, 1, deps(lossy, failing()));
    expect(step).toMatchObject({ kind: 'retry', attempt: { attempt: 1 } });
  });

  it('takes no attempt early: a duplicate copy received before the retry is due is hidden until then, and the retry goes once when due', async () => {
    const states = new MemoryDeliveryStateStore();
    const post = failing();
    const at = new Date('2026-02-10T12:00:00Z');
    const first = await deliverMessage(message, 1, deps(states, post, { now: () => at }));
    expect(first).toMatchObject({ kind: 'retry', attempt: { attempt: 1 } });
    const delayMs = (first as { delaySeconds: number }).delaySeconds * 1000;
    expect(delayMs).toBeGreaterThanOrEqual(2_000);
    // SQS's at-least-once duplicate of the original message, 1 s after the attempt.
    const early = await deliverMessage(message, 1, deps(states, post, { now: () => new Date(at.getTime() + 1_000) }));
    expect(early).toEqual({ kind: 'not-due', delaySeconds: Math.ceil((delayMs - 1_000) / 1000) });
    expect(post.calls).toHaveLength(1);
    expect(await states.get('ep_1', message.eventId)).toMatchObject({ attempts: 1, status: 'waiting' });
    // Within the tolerance of its due time (visibility timers are coarse), the retry is taken.
    const due = await deliverMessage(message, 2, deps(states, post, { now: () => new Date(at.getTime() + delayMs - NOT_DUE_TOLERANCE_MS) }));
    expect(due).toMatchObject({ kind: 'retry', attempt: { attempt: 2 } });
    expect(post.calls).toHaveLength(2);
  });

  it('lets only one of two concurrent copies record an attempt number', async () => {
    const states = new MemoryDeliveryStateStore();
    const post = failing();
    const [a, b] = await Promise.all([deliverMessage(message, 1, deps(states, post)), deliverMessage(message, 1, deps(states, post))]);
    expect([a.kind, b.kind].sort()).toEqual(['retry', 'superseded']);
    expect((await states.get('ep_1', message.eventId))?.attempts).toBe(1);
  });
});

async function killAfter4(states: MemoryDeliveryStateStore, dlq: MemoryDlq, m: DeliveryMessage) {
  for (let n = 1; n <= 4; n++) {
    const step = await deliverMessage(m, n, deps(states, failing()));
    if (step.kind === 'dead') await dlq.send([{ message: m, reason: step.reason }]);
  }
}

describe('redrive from the delivery states', () => {
  it("re-queues every dead delivery of the endpoint, not others', however many copies the DLQ holds", async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const log = new MemoryDeliveryLog();
    const queue = new MemoryQueue();
    // 200 other dead copies in front of the DLQ.
    for (let i = 0; i < 200; i++) await dlq.send([{ message: deliveryMessage(testEvent(), 'ep_2'), reason: 'x' }]);
    const mine = Array.from({ length: 15 }, () => deliveryMessage(testEvent(), 'ep_1'));
    for (const m of mine) await killAfter4(states, dlq, m);
    const result = await redriveDeadDeliveries('ep_1', { states, dlq, log }, queue, { now });
    expect(result).toEqual({ redriven: 15, complete: true });
    expect(queue.sent.map((m) => m.eventId).sort()).toEqual(mine.map((m) => m.eventId).sort());
    expect(queue.sent.every((m) => m.redrives === 1)).toBe(true);
    for (const m of mine) expect(await states.get('ep_1', m.eventId)).toMatchObject({ status: 'waiting', generation: 1, attempts: 0 });
    expect(await redriveDeadDeliveries('ep_1', { states, dlq, log }, queue, { now })).toEqual({ redriven: 0, complete: true });
    expect(dlq.hidden.size).toBe(0);
  });

  it("ignores a redriven delivery's old DLQ copy: it cannot be delivered twice", async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const queue = new MemoryQueue();
    await killAfter4(states, dlq, message);
    await redriveDeadDeliveries('ep_1', { states, dlq, log: new MemoryDeliveryLog() }, queue, { now });
    const post = answering({ status: 200, durationMs: 1 });
    expect((await deliverMessage(queue.sent[0]!, 1, deps(states, post))).kind).toBe('delivered');
    // Someone sends the DLQ copy back to the queue by hand: it is older than the redrive.
    expect(await deliverMessage(message, 1, deps(states, post))).toEqual({ kind: 'skipped', reason: 'stale' });
    expect(post.calls).toHaveLength(1);
    // And the next sweep removes the copy, so the DLQ alarm can clear.
    await redriveDeadDeliveries('ep_1', { states, dlq, log: new MemoryDeliveryLog() }, queue, { now });
    expect(dlq.messages.size).toBe(0);
  });

  it('with since, re-queues only what died at or after it', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const queue = new MemoryQueue();
    const before = deliveryMessage(testEvent(), 'ep_1');
    const after = deliveryMessage(testEvent(), 'ep_1');
    for (const [m, at] of [
      [before, '2026-02-10T11:00:00Z'],
      [after, '2026-02-10T13:00:00Z'],
    ] as const) {
      // Attempt n a week apart (each retry due), the fourth, its death, at `at`.
      const week = 7 * 24 * 3600 * 1000;
      for (let n = 1; n <= 4; n++) await deliverMessage(m, n, deps(states, failing(), { now: () => new Date(Date.parse(at) - (4 - n) * week) }));
    }
    const result = await redriveDeadDeliveries('ep_1', { states, dlq, log: new MemoryDeliveryLog() }, queue, { since: '2026-02-10T12:00:00.000Z', now });
    expect(result).toEqual({ redriven: 1, complete: true });
    expect(queue.sent.map((m) => m.eventId)).toEqual([after.eventId]);
  });

  it('is bounded per call and says when more are left', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    for (let i = 0; i < 5; i++) await killAfter4(states, dlq, deliveryMessage(testEvent(), 'ep_1'));
    const queue = new MemoryQueue();
    const dead = { states, dlq, log: new MemoryDeliveryLog() };
    expect(await redriveDeadDeliveries('ep_1', dead, queue, { now, maxPerCall: 3 })).toEqual({ redriven: 3, complete: false });
    expect(await redriveDeadDeliveries('ep_1', dead, queue, { now, maxPerCall: 3 })).toEqual({ redriven: 2, complete: true });
  });

  it('keeps deliveries dead when re-queueing fails', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    await killAfter4(states, dlq, message);
    const down = { send: async () => Promise.reject(new Error('SQS down')) };
    const failure = await redriveDeadDeliveries('ep_1', { states, dlq, log: new MemoryDeliveryLog() }, down, { now }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'service_unavailable', retryAfterSeconds: 120, cause: new Error('SQS down') });
    expect((await states.get('ep_1', message.eventId))?.status).toBe('dead');
    expect(dlq.messages.size).toBe(1);
  });

  it('a redriven copy the worker takes before the redrive marks it waiting still keeps its attempt and retry (20 at once)', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const mine = Array.from({ length: 20 }, () => deliveryMessage(testEvent(), 'ep_1'));
    for (const m of mine) await killAfter4(states, dlq, m);
    // The worker receives each copy the moment it is queued and reads the still-dead state; its POST
    // (failing) answers only after the redrive has marked the new generation waiting.
    let marked!: () => void;
    const redriveMarked = new Promise<void>((resolve) => (marked = resolve));
    const post = (async () => {
      await redriveMarked;
      return { status: 500, durationMs: 1 };
    }) as unknown as Poster;
    const steps: Array<ReturnType<typeof deliverMessage>> = [];
    const eager = { send: async (messages: DeliveryMessage[]) => void steps.push(...messages.map((m) => deliverMessage(m, 1, deps(states, post)))) };

    expect(await redriveDeadDeliveries('ep_1', { states, dlq, log: new MemoryDeliveryLog() }, eager, { now })).toEqual({ redriven: 20, complete: true });
    marked();
    const settled = await Promise.all(steps);
    // Each copy made attempt 1 of generation 1 and is due again: none acknowledged as superseded, none stranded.
    expect(settled.map((step) => step.kind)).toEqual(Array(20).fill('retry'));
    for (const m of mine) expect(await states.get('ep_1', m.eventId)).toMatchObject({ status: 'waiting', generation: 1, attempts: 1 });
  });

  it('logs a message SQS dead-lettered on its own (receive backstop) as dead, then redrives it', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const log = new MemoryDeliveryLog();
    const queue = new MemoryQueue();
    // One real attempt, then invocations that kept dying until SQS gave up on it.
    await deliverMessage(message, 1, deps(states, failing()));
    await dlq.send([{ message, reason: 'by SQS' }]);
    const result = await redriveDeadDeliveries('ep_1', { states, dlq, log }, queue, { now });
    expect(result).toEqual({ redriven: 1, complete: true });
    expect(log.attempts).toEqual([
      expect.objectContaining({ eventId: message.eventId, outcome: 'dead', attempt: 1, error: expect.stringContaining('receive limit') }),
    ]);
    expect(queue.sent).toEqual([{ ...message, redrives: 1 }]);
  });
});

describe('after a restart on persisted data', () => {
  it('re-queues the deliveries still waiting for an attempt, not delivered or dead ones', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const waiting = deliveryMessage(testEvent(), 'ep_1');
    await deliverMessage(waiting, 1, deps(states, failing()));
    await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, deps(states, answering({ status: 200, durationMs: 1 })));
    await killAfter4(states, dlq, deliveryMessage(testEvent(), 'ep_1'));
    const queue = new MemoryQueue();
    expect(await requeueWaitingDeliveries(states, queue)).toBe(1);
    expect(queue.sent).toEqual([waiting]);
  });
});

describe('retry later (the backoff, on the queue port)', () => {
  const handles = Array.from({ length: 12 }, (_, i) => ({ receiptHandle: `rh${i}`, delaySeconds: i }));
  const fakeSqs = (answer: (entries: Array<{ Id: string; ReceiptHandle: string }>, call: number) => unknown) => {
    const calls: Array<Array<{ Id: string; ReceiptHandle: string }>> = [];
    const client = {
      send: async (command: { input: { Entries: Array<{ Id: string; ReceiptHandle: string }> } }) => {
        calls.push(command.input.Entries);
        return answer(command.input.Entries, calls.length);
      },
    };
    return { queue: new SqsRetryQueue(client as never, 'https://sqs.local/q'), calls };
  };

  it('retries the entries that failed, and the whole call when it throws', async () => {
    const { queue, calls } = fakeSqs((entries, call) => {
      if (call === 1) throw new Error('throttled');
      if (call === 2) return { Failed: [{ Id: entries[0]!.Id, SenderFault: false, Code: 'InternalError' }] };
      return { Failed: [] };
    });
    expect(await queue.retryLater(handles)).toEqual([]);
    // Batch of 10: thrown, then all but one changed, then the one; then the batch of 2.
    expect(calls.map((c) => c.length)).toEqual([10, 10, 1, 2]);
    expect(calls[2]![0]!.ReceiptHandle).toBe('rh0');
  });

  it('never throws: entries it cannot change are returned (they come back after the visibility timeout)', async () => {
    const { queue } = fakeSqs((entries) => ({
      Failed: entries
        .filter((e) => e.ReceiptHandle === 'rh3' || e.ReceiptHandle === 'rh11')
        .map((e) => ({ Id: e.Id, SenderFault: e.ReceiptHandle === 'rh3', Code: 'x' })),
    }));
    expect((await queue.retryLater(handles)).sort()).toEqual(['rh11', 'rh3']);
    const down = fakeSqs(() => {
      throw new Error('SQS down');
    });
    expect(await down.queue.retryLater(handles.slice(0, 3))).toEqual(['rh0', 'rh1', 'rh2']);
  });
});

describe('fan-out records each delivery before queueing it', () => {
  const decided = () => {
    const draft = newDraft({ title: 'fan out', content: { n: 1 } }, { keyId: 'key_a', name: 'bot', role: 'agent' }, now());
    return { ...draft, status: 'approved' as const, reviewedAt: now().toISOString(), reviewedBy: { keyId: 'key_r', name: 'alice', role: 'reviewer' as const } };
  };

  it('as waiting, so a restart that lost the queue re-queues it; a repeated fan-out leaves the state as it is', async () => {
    const states = new MemoryDeliveryStateStore();
    const queue = new MemoryQueue();
    const draft = decided();
    const [sent] = await fanOutDecision(draft, async () => [endpoint], queue, states, now);
    expect(await states.get('ep_1', sent!.eventId)).toMatchObject({ status: 'waiting', attempts: 0, generation: 0, message: sent });
    // Delivered, then the stream hands the same decision to the fan-out again.
    expect((await deliverMessage(sent!, 1, deps(states, answering({ status: 200, durationMs: 1 })))).kind).toBe('delivered');
    await fanOutDecision(draft, async () => [endpoint], queue, states, now);
    expect(await states.get('ep_1', sent!.eventId)).toMatchObject({ status: 'delivered', attempts: 1 });
    // Nothing is queued again; a copy that came anyway (an older run's) is acknowledged without a POST.
    expect(queue.sent).toHaveLength(1);
    expect(await deliverMessage(sent!, 1, deps(states, answering({ status: 200, durationMs: 1 })))).toEqual({ kind: 'skipped', reason: 'delivered' });
  });

  it('a repeated fan-out (the stream retrying a batch) queues again only what was never attempted, so an attempted one is not posted twice', async () => {
    const states = new MemoryDeliveryStateStore();
    const queue = new MemoryQueue();
    const endpoints = ['ep_a', 'ep_b', 'ep_c', 'ep_d'].map((id) => sampleEndpoint({ id }));
    const draft = decided();
    const sent = await fanOutDecision(draft, async () => endpoints, queue, states, now);
    expect(sent).toHaveLength(4);
    const delivering = (id: string) => ({
      ...deps(states, answering({ status: 200, durationMs: 1 })),
      endpointFor: async () => endpoints.find((e) => e.id === id),
    });
    const failingFor = (id: string) => ({ ...deps(states, failing()), endpointFor: async () => endpoints.find((e) => e.id === id) });
    // a: delivered; b: failed once, its retry due later; c: redriven since (generation 1); d: still on the queue, never attempted.
    expect((await deliverMessage(sent[0]!, 1, delivering('ep_a'))).kind).toBe('delivered');
    expect((await deliverMessage(sent[1]!, 1, failingFor('ep_b'))).kind).toBe('retry');
    const c = (await states.get('ep_c', sent[2]!.eventId))!;
    expect(await states.save({ ...c, generation: 1, message: { ...c.message, redrives: 1 } }, { generation: 0, attempts: 0 })).toBe(true);

    // 20 repeats at once: only d's is queued again, by each (d's state cannot tell whether its first copy went out).
    await Promise.all(Array.from({ length: 20 }, () => fanOutDecision(draft, async () => endpoints, queue, states, now)));
    expect(queue.sent.slice(4).map((m) => m.endpointId)).toEqual(Array(20).fill('ep_d'));
  });

  it('queued but never attempted when the runtime died: re-queued at the restart', async () => {
    const states = new MemoryDeliveryStateStore();
    const [sent] = await fanOutDecision(decided(), async () => [endpoint], new MemoryQueue(), states, now);
    const afterRestart = new MemoryQueue();
    expect(await requeueWaitingDeliveries(states, afterRestart)).toBe(1);
    expect(afterRestart.sent).toEqual([sent]);
  });
});

describe('a disabled endpoint receives nothing, not even retries already queued', () => {
  it('parks a queued delivery without posting or dead-lettering it; after re-enabling, a redrive sends it', async () => {
    const states = new MemoryDeliveryStateStore();
    const dlq = new MemoryDlq();
    const log = new MemoryDeliveryLog();
    const queue = new MemoryQueue();
    const post = failing();
    // One failed attempt, then an admin disables the endpoint while the retry waits.
    expect(await deliverMessage(message, 1, deps(states, post))).toMatchObject({ kind: 'retry' });
    const disabled = { ...endpoint, enabled: false };
    const held = await deliverMessage(message, 2, deps(states, post, { endpointFor: async () => disabled }));
    expect(held).toMatchObject({ kind: 'held', attempt: { outcome: 'dead', httpStatus: null, error: expect.stringContaining('disabled') } });
    expect(post.calls).toHaveLength(1);
    expect(await states.get('ep_1', message.eventId)).toMatchObject({ status: 'dead', deadReason: 'endpoint disabled', attempts: 1 });

    // Enabled again: the redrive (by endpoint, with since) reaches it, and it is delivered.
    expect(await redriveDeadDeliveries('ep_1', { states, dlq, log }, queue, { now, since: '2026-02-10T11:00:00.000Z' })).toEqual({
      redriven: 1,
      complete: true,
    });
    const ok = answering({ status: 200, durationMs: 2 });
    expect(await deliverMessage(queue.sent[0]!, 1, deps(states, ok))).toMatchObject({ kind: 'delivered', attempt: { attempt: 1 } });
    expect(ok.calls).toHaveLength(1);
  });

  it('a decision made while it is disabled is held (dead, logged once, however often it is fanned out) and sent by the redrive after re-enabling', async () => {
    const states = new MemoryDeliveryStateStore();
    const log = new MemoryDeliveryLog();
    const queue = new MemoryQueue();
    const disabled = sampleEndpoint({ id: 'ep_off', enabled: false, events: ['draft.approved', 'draft.rejected', 'draft.expired'] });
    const live = sampleEndpoint({ id: 'ep_on' });
    const draft = {
      ...newDraft({ title: 'refund', content: { amount: 10 } }, { keyId: 'key_a', name: 'bot', role: 'agent' }, now()),
      status: 'approved' as const,
      reviewedAt: now().toISOString(),
      reviewedBy: { keyId: 'key_r', name: 'alice', role: 'reviewer' as const },
    };
    // The stream hands the decision over 20 times at once (retries): held once, logged once.
    await Promise.all(Array.from({ length: 20 }, () => fanOutDecision(draft, async () => [disabled, live], queue, states, now, undefined, log)));
    expect(queue.sent.map((m) => m.endpointId)).toEqual(Array(20).fill('ep_on'));
    const held = [...states.items.values()].find((s) => s.endpointId === 'ep_off')!;
    expect(held).toMatchObject({
      status: 'dead',
      attempts: 0,
      generation: 0,
      deadReason: 'endpoint disabled',
      message: { eventType: 'draft.approved', draftId: draft.id },
    });
    expect(log.attempts.filter((a) => a.endpointId === 'ep_off')).toEqual([
      expect.objectContaining({ eventId: held.eventId, outcome: 'dead', error: 'not sent: the endpoint is disabled (enable it, then redrive)' }),
    ]);

    // Enabled again, the redrive of what it missed sends the decision, once.
    const redriveQueue = new MemoryQueue();
    expect(await redriveDeadDeliveries('ep_off', { states, dlq: new MemoryDlq(), log }, redriveQueue, { now, since: now().toISOString() })).toEqual({
      redriven: 1,
      complete: true,
    });
    const ok = answering({ status: 200, durationMs: 2 });
    const enabled = { ...deps(states, ok), endpointFor: async () => ({ ...disabled, enabled: true }) };
    expect(await deliverMessage(redriveQueue.sent[0]!, 1, enabled)).toMatchObject({ kind: 'delivered', attempt: { attempt: 1 } });
  });

  it('a disabled endpoint not subscribed to the event, and a disabled channel, hold nothing', async () => {
    const states = new MemoryDeliveryStateStore();
    const queue = new MemoryQueue();
    const unsubscribed = sampleEndpoint({ id: 'ep_unsub', enabled: false, events: ['draft.rejected'] });
    const slack = sampleEndpoint({ id: 'ep_slack', enabled: false, channel: 'slack', events: ['draft.approved'] } as Partial<WebhookEndpoint>);
    const draft = {
      ...newDraft({ title: 'x', content: {} }, { keyId: 'key_a', name: 'bot', role: 'agent' }, now()),
      status: 'approved' as const,
      reviewedAt: now().toISOString(),
      reviewedBy: { keyId: 'key_r', name: 'alice', role: 'reviewer' as const },
    };
    expect(await fanOutDecision(draft, async () => [unsubscribed, slack], queue, states, now, undefined, new MemoryDeliveryLog())).toEqual([]);
    expect(states.items.size).toBe(0);
    expect(queue.sent).toEqual([]);
  });

  it('refuses test events and redrives for a disabled endpoint with 409 endpoint_disabled', async () => {
    const { sendTestEvent, redriveEndpoint } = await import('../../shared/webhooks/endpoint-actions.js');
    const store = { get: async () => ({ ...endpoint, enabled: false }) } as unknown as Parameters<typeof sendTestEvent>[0];
    const queue = new MemoryQueue();
    await expect(sendTestEvent(store, queue, 'ep_1')).rejects.toMatchObject({ code: 'endpoint_disabled' });
    const dead = { states: new MemoryDeliveryStateStore(), dlq: new MemoryDlq(), log: new MemoryDeliveryLog() };
    await expect(redriveEndpoint(store, dead, queue, 'ep_1')).rejects.toMatchObject({ code: 'endpoint_disabled' });
    expect(queue.sent).toHaveLength(0);
  });
});

describe('which worker delivers to an endpoint (targetOf)', () => {
  it('webhooks to deliverWebhooks, Slack and email to deliverNotifications, any other kind to none', () => {
    expect(targetOf({})).toBe('endpoint');
    expect(targetOf({ channel: 'slack' })).toBe('channel');
    expect(targetOf({ channel: 'email' })).toBe('channel');
    expect(targetOf({ channel: 'teams' as never })).toBeUndefined();
    expect(targetOf({ channel: 'toString' as never })).toBeUndefined();
  });

  it("forwards the other kind's message addressed to its queue, and marks one no worker sends dead instead", async () => {
    const states = new MemoryDeliveryStateStore();
    const slack = { ...endpoint, channel: 'slack' as const };
    const toWebhooks = (e: WebhookEndpoint) => deps(states, failing(), { endpointFor: async () => e, target: 'endpoint' });
    expect(await deliverMessage(message, 1, toWebhooks(slack))).toEqual({ kind: 'misrouted', forward: { ...message, target: 'channel' } });
    const teams = { ...endpoint, channel: 'teams' as never };
    const step = await deliverMessage(message, 1, toWebhooks(teams));
    expect(step).toMatchObject({ kind: 'dead', reason: 'no worker delivers to channel kind "teams"', attempt: { outcome: 'dead' } });
    expect(await states.get(message.endpointId, message.eventId)).toMatchObject({ status: 'dead', deadReason: 'no worker delivers to channel kind "teams"' });
  });
});
