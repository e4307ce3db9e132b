import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import fc from 'fast-check';
import { deliveryLogStoreFromEnv, deliveryStateStoreFromEnv } from '../../shared/stores.js';
import { deliverMessage, type DeliveryDeps, type Poster } from '../../shared/webhooks/deliver.js';
import type { DeliveryAttempt } from '../../shared/webhooks/delivery-log.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { queuedState, readStatesOncePerBatch, stateId, type DeliveryState, type DeliveryStateStore } from '../../shared/webhooks/delivery-state.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';

/**
 * The delivery states against the real DynamoDB Local: the conditional write that owns the attempt
 * count, the sparse dead-by-endpoint index redrive reads, and the log that must not show them.
 */
const states = deliveryStateStoreFromEnv();
const log = deliveryLogStoreFromEnv();
const endpointOf = (id: string): WebhookEndpoint => sampleEndpoint({ id });
const unique = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;

function deps(endpointId: string, answer: () => number, posts: { n: number }): DeliveryDeps {
  const post: Poster = async () => {
    posts.n++;
    return { status: answer(), durationMs: 1 };
  };
  return {
    post,
    policy: samplePolicy({ retryBaseSeconds: 1, maxBackoffSeconds: 60, timeoutMs: 1000 }),
    states,
    endpointFor: async (id) => (id === endpointId ? endpointOf(endpointId) : undefined),
    disableEndpoint: async () => {
      throw new Error('not expected in this test');
    },
    recordHealth: async () => undefined,
    backstopReceives: 12,
  };
}

describe('the attempt counter under concurrent copies', () => {
  it('24 copies of one message at once: one records attempt 1, the others are told they were superseded', async () => {
    const endpointId = unique('ep');
    const message = deliveryMessage(testEvent(), endpointId);
    const posts = { n: 0 };
    // "At once": every copy has read the state and is at its POST before any answers, so none can
    // start after another's write (on a busy machine one otherwise does, and takes attempt 2).
    let allPosting!: () => void;
    const barrier = new Promise<void>((resolve) => (allPosting = resolve));
    const copyDeps = (): DeliveryDeps => {
      const base = deps(endpointId, () => 500, posts);
      return {
        ...base,
        post: async (...args) => {
          const answer = base.post(...args);
          if (posts.n === 24) allPosting();
          await barrier;
          return answer;
        },
      };
    };
    const steps = await Promise.all(Array.from({ length: 24 }, () => deliverMessage(message, 1, copyDeps())));
    expect(posts.n).toBe(24);
    expect(steps.filter((s) => s.kind === 'retry')).toHaveLength(1);
    expect(steps.filter((s) => s.kind !== 'retry').every((s) => s.kind === 'superseded')).toBe(true);
    expect(await states.get(endpointId, message.eventId)).toMatchObject({ attempts: 1, status: 'waiting', generation: 0 });
  }, 30_000);

  it('property: whatever the answers and however many receives are lost, never more than 4 POSTs, counted exactly, dead only after 4 failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ lostBefore: fc.integer({ min: 0, max: 2 }), status: fc.constantFrom(200, 500, 503, 404) }), { minLength: 1, maxLength: 7 }),
        async (plan) => {
          const endpointId = unique('ep');
          const message = deliveryMessage(testEvent(), endpointId);
          const posts = { n: 0 };
          let receiveCount = 0;
          let failures = 0;
          let settled: string | undefined;
          // An hour further on at every reading: each receive finds its retry due, as a real retry does.
          let clockAt = Date.now();
          const now = () => new Date((clockAt += 3600_000));
          for (const { lostBefore, status } of plan) {
            receiveCount += lostBefore + 1;
            const step = await deliverMessage(message, receiveCount, { ...deps(endpointId, () => status, posts), now });
            if (settled) {
              // After delivery or death, copies post nothing more.
              expect(step.kind).toBe(settled === 'delivered' ? 'skipped' : 'dead');
              continue;
            }
            if (status !== 200) failures++;
            if (step.kind === 'delivered' || step.kind === 'dead') settled = step.kind;
            expect(step.kind).toBe(status === 200 ? 'delivered' : failures >= 4 ? 'dead' : 'retry');
          }
          const state = await states.get(endpointId, message.eventId);
          expect(posts.n).toBeLessThanOrEqual(4);
          expect(state?.attempts).toBe(posts.n);
          expect(state?.status).toBe(settled ?? 'waiting');
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe('dead deliveries by endpoint, and the log beside them', () => {
  const dead = (endpointId: string, i: number): DeliveryState => {
    const message = deliveryMessage(testEvent(), endpointId);
    const at = new Date(Date.UTC(2026, 1, 10, 12, 0, i)).toISOString();
    return {
      endpointId,
      eventId: message.eventId,
      generation: 0,
      attempts: 4,
      status: 'dead',
      message,
      updatedAt: at,
      nextAttemptAt: null,
      diedAt: at,
      deadReason: 'all 4 attempts failed',
    };
  };

  it('pages through every dead delivery of one endpoint, oldest death first, optionally since a time; other endpoints and live states stay out', async () => {
    const endpointId = unique('ep');
    const mine = Array.from({ length: 130 }, (_, i) => dead(endpointId, i));
    const theirs = Array.from({ length: 20 }, (_, i) => dead(unique('ep'), i));
    for (const s of [...mine, ...theirs]) expect(await states.save(s, undefined)).toBe(true);
    // A waiting and a delivered state of the same endpoint are not dead.
    const live = { ...dead(endpointId, 200), status: 'waiting' as const, diedAt: null, deadReason: null };
    await states.save(live, undefined);

    const all: DeliveryState[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await states.listDead(endpointId, { limit: 50, cursor });
      all.push(...page.items);
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(all.map((s) => s.eventId)).toEqual(mine.map((s) => s.eventId));
    expect(all[0]).toEqual(mine[0]);

    const since = await states.listDead(endpointId, { limit: 500, since: mine[100]!.diedAt! });
    expect(since.items.map((s) => s.eventId)).toEqual(mine.slice(100).map((s) => s.eventId));

    // Revived (a new generation, waiting): out of the index.
    const first = mine[0]!;
    expect(await states.save({ ...first, generation: 1, attempts: 0, status: 'waiting', diedAt: null, deadReason: null }, { generation: 0, attempts: 4 })).toBe(
      true,
    );
    expect((await states.listDead(endpointId, { limit: 500 })).items).toHaveLength(129);
    // A write conditioned on what is no longer there is refused.
    expect(await states.save({ ...first, status: 'dead' }, { generation: 0, attempts: 4 })).toBe(false);
  }, 60_000);

  it('the delivery log of an endpoint shows attempts only, and pages through them, states notwithstanding', async () => {
    const endpointId = unique('ep');
    for (let i = 0; i < 5; i++) await states.save({ ...dead(endpointId, i) }, undefined);
    const attempts: DeliveryAttempt[] = Array.from({ length: 7 }, (_, i) => ({
      endpointId,
      eventId: `msg_${i}`,
      eventType: 'draft.approved',
      draftId: `d_${i}`,
      attempt: 1,
      outcome: 'failed',
      httpStatus: 500,
      durationMs: 3,
      error: 'HTTP 500',
      attemptedAt: new Date(Date.UTC(2026, 1, 10, 12, 0, i)).toISOString(),
      nextAttemptAt: null,
      test: false,
    }));
    await log.record(attempts);
    const first = await log.list(endpointId, 4);
    expect(first.items.map((a) => a.eventId)).toEqual(['msg_6', 'msg_5', 'msg_4', 'msg_3']);
    const second = await log.list(endpointId, 4, first.nextCursor);
    expect(second.items.map((a) => a.eventId)).toEqual(['msg_2', 'msg_1', 'msg_0']);
    expect(second.nextCursor).toBeUndefined();
  }, 30_000);
});

describe('reading a batch of delivery states at once', () => {
  it('getMany: one strongly consistent BatchGetItem per 100 keys, absent states left out; a batch view serves each first read from it', async () => {
    const endpointId = unique('ep');
    const messages = Array.from({ length: 130 }, () => deliveryMessage(testEvent(), endpointId));
    // Every other one has a state.
    await Promise.all(messages.filter((_, i) => i % 2 === 0).map((m) => states.save(queuedState(m, new Date()), undefined)));
    const found = await states.getMany!(messages);
    expect(found.size).toBe(65);
    messages.forEach((m, i) => expect(found.get(stateId(m))?.eventId).toBe(i % 2 === 0 ? m.eventId : undefined));

    const gets: string[] = [];
    const counting: DeliveryStateStore = {
      get: (e, id) => (gets.push(id), states.get(e, id)),
      getMany: (keys) => states.getMany!(keys),
      save: (state, expected) => states.save(state, expected),
      claimRedrive: (state, lease) => states.claimRedrive(state, lease),
      listDead: (e, options) => states.listDead(e, options),
      listWaiting: (options) => states.listWaiting(options),
    };
    const batch = readStatesOncePerBatch(counting, messages.slice(0, 10)).states;
    expect((await batch.get(endpointId, messages[0]!.eventId))?.attempts).toBe(0);
    expect(gets).toEqual([]);
    // A second read of the same state (the check after a refused write) goes to the store.
    await batch.get(endpointId, messages[0]!.eventId);
    expect(gets).toEqual([messages[0]!.eventId]);
  });
});
