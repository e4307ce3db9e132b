import {
  breakerPolicy,
  breakerState,
  CLOSED,
  gate,
  opensAfterFailure,
  readOncePerBatch,
  spreadDeferral,
  type BreakerRecord,
  type BreakerStore,
} from '../../shared/webhooks/circuit-breaker.js';
import { deliverMessage, type DeliveryDeps } from '../../shared/webhooks/deliver.js';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { MemoryBreakerStore } from '../support/memory-breaker-store.js';
import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import { MemoryDeliveryStateStore } from '../support/memory-deliveries.js';

const now = new Date('2026-02-10T12:00:00.000Z');
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const policy = breakerPolicy(10_000, { failureThreshold: 3, cooldownSeconds: 30 });
const record = (r: Partial<BreakerRecord>): BreakerRecord => ({ ...CLOSED, ...r });

describe('circuit breaker policy', () => {
  it.each([
    ['no record yet', undefined, 'closed', { kind: 'post' }],
    ['closed, failures below K', record({ consecutiveFailures: 2 }), 'closed', { kind: 'post' }],
    ['open: cooldown running', record({ consecutiveFailures: 3, openUntil: at(12.2) }), 'open', { kind: 'defer', delaySeconds: 13 }],
    ['open, about to end: at least 1 s', record({ consecutiveFailures: 3, openUntil: at(0.1) }), 'open', { kind: 'defer', delaySeconds: 1 }],
    ['half-open: cooldown over, no probe', record({ consecutiveFailures: 3, openUntil: at(-1) }), 'half-open', { kind: 'probe' }],
    ['half-open, a probe running', record({ consecutiveFailures: 3, openUntil: at(-1), probeUntil: at(7) }), 'half-open', { kind: 'defer', delaySeconds: 7 }],
    ['half-open, a probe lease expired', record({ consecutiveFailures: 3, openUntil: at(-10), probeUntil: at(-1) }), 'half-open', { kind: 'probe' }],
  ] as const)('%s → %s, %j', (_, r, state, decision) => {
    expect(breakerState(r, now)).toBe(state);
    expect(gate(r, now)).toEqual(decision);
  });

  it.each([
    ['closed: the (K-1)th failure', record({ consecutiveFailures: 2 }), false],
    ['closed: the Kth failure in a row opens', record({ consecutiveFailures: 3 }), true],
    ['closed: more than K (a race) opens', record({ consecutiveFailures: 5 }), true],
    ['open already: stays as it is', record({ consecutiveFailures: 4, openUntil: at(20) }), false],
    ['half-open: the failed probe reopens', record({ consecutiveFailures: 4, openUntil: at(-1), probeUntil: at(5) }), true],
  ] as const)('after a failure, %s: %s', (_, r, opens) => {
    expect(opensAfterFailure(r, policy, now)).toBe(opens);
  });

  it.each([
    [30, 0, 30],
    [30, 0.5, 37],
    [30, 1, 44],
    [15, 0.999, 22],
    [1, 0.999, 1],
    [2, 0.999, 2],
    [3, 0.999, 4],
  ])('a deferral of %s s, spread with random %s: %s s (never shorter, at most half again)', (delay, random, spread) => {
    expect(spreadDeferral(delay, () => random)).toBe(spread);
  });

  it('defaults: K = 5, 30 s cooldown, a probe lease of the timeout + 5 s, a hang after 1 s (or a quarter of a shorter timeout)', () => {
    expect(breakerPolicy(10_000)).toEqual({ failureThreshold: 5, cooldownSeconds: 30, probeLeaseSeconds: 15, hangAfterMs: 1000 });
    expect(breakerPolicy(2000).hangAfterMs).toBe(500);
  });
});

// The transitions as the delivery function drives them, over an in-memory store with the same conditions (test/support).

describe('the delivery function and the breaker', () => {
  it('closed → open after K failures → deferred without a POST or an attempt → half-open probe → closed on success', async () => {
    let clock = now;
    let answer = 503;
    let posts = 0;
    const store = new MemoryBreakerStore();
    const states = new MemoryDeliveryStateStore();
    const deps: DeliveryDeps = {
      post: async () => (posts++, { status: answer, durationMs: 1 }),
      policy: samplePolicy({ maxAttempts: 10 }),
      states,
      endpointFor: async (id) => sampleEndpoint({ id }),
      backstopReceives: 12,
      disableEndpoint: async () => undefined,
      recordHealth: async () => undefined,
      now: () => clock,
      // No spread of the deferral: the delay is the cooldown's own.
      random: () => 0,
      breaker: { store, policy },
    };
    const messages = Array.from({ length: 5 }, () => deliveryMessage(testEvent(), 'ep_1'));
    for (const m of messages.slice(0, 3)) expect((await deliverMessage(m, 1, deps)).kind).toBe('retry');
    expect(breakerState(store.r, clock)).toBe('open');
    const deferred = await deliverMessage(messages[3]!, 1, deps);
    expect(deferred).toEqual({ kind: 'deferred', delaySeconds: 30, requeue: false });
    expect(posts).toBe(3);
    expect(await states.get('ep_1', messages[3]!.eventId)).toBeUndefined();
    // Deferred many times over: a fresh copy replaces it before SQS's receive limit.
    expect(await deliverMessage(messages[3]!, 10, deps)).toMatchObject({ kind: 'deferred', requeue: true });

    // Half-open: a failed probe reopens it.
    clock = new Date(now.getTime() + 31_000);
    expect((await deliverMessage(messages[3]!, 2, deps)).kind).toBe('retry');
    expect(posts).toBe(4);
    expect(breakerState(store.r, clock)).toBe('open');

    // Half-open again: the probe succeeds and closes it; the next delivery posts at once.
    clock = new Date(clock.getTime() + 31_000);
    answer = 200;
    expect((await deliverMessage(messages[4]!, 1, deps)).kind).toBe('delivered');
    expect(store.r).toEqual(CLOSED);
    expect((await deliverMessage(messages[0]!, 2, deps)).kind).toBe('delivered');
    expect(posts).toBe(6);
  });

  it('half-open: of parallel deliveries only the one that claims the probe posts', async () => {
    const store = new MemoryBreakerStore();
    store.r = { consecutiveFailures: 5, openUntil: at(-1), probeUntil: null };
    let posts = 0;
    const deps: DeliveryDeps = {
      post: async () => (posts++, await new Promise((r) => setTimeout(r, 20)), { status: 200, durationMs: 20 }),
      policy: samplePolicy(),
      states: new MemoryDeliveryStateStore(),
      endpointFor: async (id) => sampleEndpoint({ id }),
      backstopReceives: 12,
      disableEndpoint: async () => undefined,
      recordHealth: async () => undefined,
      now: () => now,
      breaker: { store, policy },
    };
    const steps = await Promise.all(Array.from({ length: 20 }, () => deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, deps)));
    expect(steps.filter((s) => s.kind === 'delivered')).toHaveLength(1);
    expect(steps.filter((s) => s.kind === 'deferred')).toHaveLength(19);
    expect(posts).toBe(1);
  });

  it('a breaker store that fails lets deliveries through (reported)', async () => {
    const errors: unknown[] = [];
    const broken: BreakerStore = {
      get: async () => {
        throw new Error('DynamoDB down');
      },
      claimProbe: async () => false,
      recordSuccess: async () => undefined,
      recordFailure: async () => {
        throw new Error('DynamoDB down');
      },
      open: async () => false,
    };
    const step = await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, {
      post: async () => ({ status: 200, durationMs: 1 }),
      policy: samplePolicy(),
      states: new MemoryDeliveryStateStore(),
      endpointFor: async (id) => sampleEndpoint({ id }),
      backstopReceives: 12,
      disableEndpoint: async () => undefined,
      recordHealth: async () => undefined,
      breaker: { store: broken, policy, onError: (e) => errors.push(e) },
    });
    expect(step.kind).toBe('delivered');
    expect(errors).toHaveLength(1);
  });
});

describe('readOncePerBatch', () => {
  it('takes what the batch read brought (an absent record included); an endpoint it did not cover, or a failed batch read, is read from the store', async () => {
    const store = new MemoryBreakerStore();
    store.r = record({ consecutiveFailures: 2 });
    let reads = 0;
    const get = store.get.bind(store);
    store.get = async () => (reads++, get());
    const open = record({ consecutiveFailures: 3, openUntil: at(30) });
    const batch = readOncePerBatch(
      store,
      Promise.resolve(
        new Map([
          ['ep_open', open],
          ['ep_new', undefined],
        ]),
      ),
    );
    expect(await batch.get('ep_open')).toEqual(open);
    expect(await batch.get('ep_new')).toBeUndefined();
    expect(reads).toBe(0);
    expect(await batch.get('ep_other')).toEqual(store.r);
    expect(reads).toBe(1);
    expect(await readOncePerBatch(store, Promise.resolve(undefined)).get('ep_open')).toEqual(store.r);
    expect(reads).toBe(2);
  });

  it('reads each endpoint once for the batch, however many deliveries ask at once; writes go through to the store', async () => {
    const store = new MemoryBreakerStore();
    let reads = 0;
    const get = store.get.bind(store);
    store.get = async () => (reads++, get());
    const batch = readOncePerBatch(store);
    await Promise.all(Array.from({ length: 20 }, () => batch.get('ep_1')));
    await batch.get('ep_2');
    expect(reads).toBe(2);
    expect(await batch.recordFailure('ep_1')).toMatchObject({ consecutiveFailures: 1 });
    expect(store.failuresRecorded).toBe(1);
    // A later batch reads afresh and sees what this one wrote.
    expect(await readOncePerBatch(store).get('ep_1')).toMatchObject({ consecutiveFailures: 1 });
  });
});

describe('a deferral is spread where it is decided', () => {
  it('the delay the step reports is the spread one (the handler hides the message for exactly that long)', async () => {
    const store = new MemoryBreakerStore();
    store.r = { consecutiveFailures: 5, openUntil: new Date(now.getTime() + 30_000).toISOString(), probeUntil: null };
    const step = await deliverMessage(deliveryMessage(testEvent(), 'ep_1'), 1, {
      post: async () => ({ status: 200, durationMs: 1 }),
      policy: samplePolicy({ maxAttempts: 10 }),
      states: new MemoryDeliveryStateStore(),
      endpointFor: async (id) => sampleEndpoint({ id }),
      backstopReceives: 12,
      disableEndpoint: async () => undefined,
      recordHealth: async () => undefined,
      now: () => now,
      random: () => 0.999,
      breaker: { store, policy },
    });
    expect(step).toEqual({ kind: 'deferred', delaySeconds: spreadDeferral(30, () => 0.999), requeue: false });
    expect(spreadDeferral(30, () => 0.999)).toBe(44);
  });
});
