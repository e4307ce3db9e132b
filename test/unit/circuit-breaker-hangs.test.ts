import { breakerPolicy, breakerState, CLOSED } from '../../shared/webhooks/circuit-breaker.js';
import { deliverMessage, type DeliveryDeps, type PostResult } from '../../shared/webhooks/deliver.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import { MemoryBreakerStore } from '../support/memory-breaker-store.js';
import { MemoryDeliveryStateStore } from '../support/memory-deliveries.js';
import { eventually } from '../support/receiver.js';

const policy = breakerPolicy(10_000, { failureThreshold: 3, cooldownSeconds: 30, hangAfterMs: 20 });

/** A receiver whose answers the test releases by hand; `posted` counts the POSTs it has seen. */
function heldReceiver() {
  const pending: Array<(result: PostResult) => void> = [];
  return {
    pending,
    post: () => new Promise<PostResult>((resolve) => pending.push(resolve)),
    answerAll: (result: PostResult) => pending.splice(0).forEach((resolve) => resolve(result)),
  };
}

/** Delivers one message as the handler does: deliverMessage watches its own attempt for a hang. */
function deliverWatched(store: MemoryBreakerStore, post: DeliveryDeps['post'], states = new MemoryDeliveryStateStore()) {
  return (receiveCount = 1) => {
    const message = deliveryMessage(testEvent(), 'ep_1');
    return deliverMessage(message, receiveCount, {
      post,
      policy: samplePolicy({ maxAttempts: 10 }),
      states,
      endpointFor: async (id) => sampleEndpoint({ id }),
      backstopReceives: 12,
      disableEndpoint: async () => undefined,
      recordHealth: async () => undefined,
      breaker: { store, policy },
    });
  };
}

describe('a receiver that never answers trips the breaker before its attempts time out', () => {
  it('K attempts unanswered for hangAfterMs open it; the next delivery is deferred without a POST; their timeouts are not counted twice', async () => {
    const store = new MemoryBreakerStore();
    const receiver = heldReceiver();
    const deliver = deliverWatched(store, receiver.post);
    const hanging = Array.from({ length: 3 }, () => deliver());
    // Opened while all three are still waiting for an answer.
    await eventually(() => breakerState(store.r, new Date()) === 'open', 5000, 'breaker open');
    expect(receiver.pending).toHaveLength(3);
    expect(await deliver()).toMatchObject({ kind: 'deferred', requeue: false });
    expect(receiver.pending).toHaveLength(3);

    receiver.answerAll({ error: 'timed out after 10000 ms', durationMs: 10_000 });
    expect((await Promise.all(hanging)).map((s) => s.kind)).toEqual(['retry', 'retry', 'retry']);
    expect(store.failuresRecorded).toBe(3);
    expect(store.r.consecutiveFailures).toBe(3);
    expect(breakerState(store.r, new Date())).toBe('open');
  });

  it('a slow answer that succeeds after its early count closes the breaker, with one write (recordSuccess once, no second failure)', async () => {
    const store = new MemoryBreakerStore();
    store.r = { consecutiveFailures: 2, openUntil: null, probeUntil: null };
    const receiver = heldReceiver();
    const slow = deliverWatched(store, receiver.post)();
    await eventually(() => breakerState(store.r, new Date()) === 'open', 5000, 'breaker open');
    receiver.answerAll({ status: 200, durationMs: 2500 });
    expect((await slow).kind).toBe('delivered');
    expect(store.r).toEqual(CLOSED);
    expect(store.failuresRecorded).toBe(1);
    expect(store.successesRecorded).toBe(1);
  });

  it('a slow success with no early open (below K) also writes its success once', async () => {
    const store = new MemoryBreakerStore();
    const receiver = heldReceiver();
    const slow = deliverWatched(store, receiver.post)();
    await eventually(() => store.failuresRecorded === 1, 5000, 'hang counted');
    receiver.answerAll({ status: 204, durationMs: 1500 });
    expect((await slow).kind).toBe('delivered');
    expect(store.successesRecorded).toBe(1);
    expect(store.failuresRecorded).toBe(1);
    expect(store.r).toEqual(CLOSED);
  });

  it('a hang and then a late failure count one failure, once', async () => {
    const store = new MemoryBreakerStore();
    const receiver = heldReceiver();
    const slow = deliverWatched(store, receiver.post)();
    await eventually(() => store.failuresRecorded === 1, 5000, 'hang counted');
    receiver.answerAll({ status: 502, durationMs: 3000 });
    expect((await slow).kind).toBe('retry');
    expect(store.failuresRecorded).toBe(1);
    expect(store.successesRecorded).toBe(0);
    expect(store.r.consecutiveFailures).toBe(1);
  });

  it('answers within hangAfterMs are counted once, at the answer, as without the watch', async () => {
    const store = new MemoryBreakerStore();
    const deliver = deliverWatched(store, async () => ({ status: 503, durationMs: 1 }));
    for (let i = 0; i < 2; i++) expect((await deliver()).kind).toBe('retry');
    expect(store.failuresRecorded).toBe(2);
    expect(breakerState(store.r, new Date())).toBe('closed');
  });

  it('20 deliveries in parallel to a hanging receiver: the breaker opens once, every failure counted once', async () => {
    const store = new MemoryBreakerStore();
    const receiver = heldReceiver();
    const deliver = deliverWatched(store, receiver.post);
    const steps = Array.from({ length: 20 }, () => deliver());
    await eventually(() => receiver.pending.length === 20 && store.failuresRecorded === 20, 5000, 'all 20 counted as hanging');
    receiver.answerAll({ error: 'timed out after 10000 ms', durationMs: 10_000 });
    expect((await Promise.all(steps)).every((s) => s.kind === 'retry')).toBe(true);
    expect(store.failuresRecorded).toBe(20);
    expect(breakerState(store.r, new Date())).toBe('open');
  });
});
