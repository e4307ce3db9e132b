import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { deliveryLogStoreFromEnv, deliveryStateStoreFromEnv } from '../../shared/stores.js';
import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { deadState, versionOf, type DeliveryState } from '../../shared/webhooks/delivery-state.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { REDRIVE_LEASE_MS, redriveDeadDeliveries, type DeadDeliveries } from '../../shared/webhooks/redrive.js';
import { MemoryDlq, MemoryQueue } from '../support/memory-deliveries.js';

/**
 * Redrives that run at once (two operators, a client retrying a slow request, the CLI beside the
 * settings page) against the real DynamoDB Local: each dead delivery is queued by one of them only,
 * since two queued copies of one generation can both be POSTed before either records its attempt,
 * and the doc's receivers execute an approval each time they get one.
 */
const states = deliveryStateStoreFromEnv();
const dead: DeadDeliveries = { states, dlq: new MemoryDlq(), log: deliveryLogStoreFromEnv() };
const unique = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
// Now, not a fixed date: states carry a TTL from their time, and DynamoDB Local deletes expired ones.
const T0 = new Date();
const at = (ms: number) => () => new Date(T0.getTime() + ms);

async function deadDeliveries(endpointId: string, count: number): Promise<DeliveryMessage[]> {
  const messages = Array.from({ length: count }, () => deliveryMessage(testEvent({ event: 'draft.approved' }), endpointId));
  const saved = await Promise.all(
    messages.map((m, i) => states.save(deadState(m, 4, new Date(T0.getTime() - 60_000 + i).toISOString(), 'all 4 attempts failed'), undefined)),
  );
  expect(saved.every(Boolean)).toBe(true);
  return messages;
}

const stateOf = (m: DeliveryMessage) => states.get(m.endpointId, m.eventId) as Promise<DeliveryState>;

/** A queue that fails its first `failures` sends (SQS unreachable), then records like MemoryQueue. */
class FlakyQueue extends MemoryQueue {
  constructor(private failures: number) {
    super();
  }
  override async send(messages: DeliveryMessage[]) {
    if (this.failures-- > 0) throw new Error('connect ETIMEDOUT sqs');
    return super.send(messages);
  }
}

describe('redrives at once', () => {
  it('20 redrives of one endpoint at once queue each of its 7 dead deliveries exactly once, as generation 1', async () => {
    const endpointId = unique('ep');
    const messages = await deadDeliveries(endpointId, 7);
    const queue = new MemoryQueue();
    const results = await Promise.all(Array.from({ length: 20 }, () => redriveDeadDeliveries(endpointId, dead, queue, { now: at(0) })));

    expect(queue.sent.map((m) => m.eventId).sort()).toEqual(messages.map((m) => m.eventId).sort());
    expect(queue.sent.every((m) => m.redrives === 1)).toBe(true);
    expect(results.reduce((sum, r) => sum + r.redriven, 0)).toBe(7);
    expect(results.every((r) => r.complete)).toBe(true);
    for (const m of messages) expect(await stateOf(m)).toMatchObject({ status: 'waiting', generation: 1, attempts: 0 });
  });

  it('a delivery redriven, then dead again, is claimed afresh by the next redrive (its claim went with the write)', async () => {
    const endpointId = unique('ep');
    const [message] = await deadDeliveries(endpointId, 1);
    const queue = new MemoryQueue();
    await redriveDeadDeliveries(endpointId, dead, queue, { now: at(0) });
    // Its new generation fails again, well inside the first redrive's lease.
    const waiting = await stateOf(message!);
    expect(await states.save(deadState(waiting.message, 4, at(1_000)().toISOString(), 'all 4 attempts failed'), versionOf(waiting))).toBe(true);
    const again = await Promise.all(Array.from({ length: 20 }, () => redriveDeadDeliveries(endpointId, dead, queue, { now: at(2_000) })));

    expect(again.reduce((sum, r) => sum + r.redriven, 0)).toBe(1);
    expect(queue.sent.map((m) => m.redrives)).toEqual([1, 2]);
  });

  it('a redrive that stopped after claiming leaves its deliveries dead, and they are redriven once its lease lapses', async () => {
    const endpointId = unique('ep');
    const [message] = await deadDeliveries(endpointId, 1);
    // The stopped redrive: it claimed, then never queued.
    expect(await states.claimRedrive(await stateOf(message!), { at: at(0)().toISOString(), until: at(REDRIVE_LEASE_MS)().toISOString() })).toBe(true);
    const queue = new MemoryQueue();

    expect(await redriveDeadDeliveries(endpointId, dead, queue, { now: at(REDRIVE_LEASE_MS - 1_000) })).toEqual({ redriven: 0, complete: true });
    expect((await stateOf(message!)).status).toBe('dead');
    const lapsed = await Promise.all(Array.from({ length: 20 }, () => redriveDeadDeliveries(endpointId, dead, queue, { now: at(REDRIVE_LEASE_MS) })));
    expect(lapsed.reduce((sum, r) => sum + r.redriven, 0)).toBe(1);
    expect(queue.sent.map((m) => [m.eventId, m.redrives])).toEqual([[message!.eventId, 1]]);
  });

  it('when queueing fails, the caller is told to retry after the lease, and a retry before it queues nothing twice', async () => {
    const endpointId = unique('ep');
    const messages = await deadDeliveries(endpointId, 3);
    const queue = new FlakyQueue(1);

    const failure = await redriveDeadDeliveries(endpointId, dead, queue, { now: at(0) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect((failure as ServiceUnavailableError).retryAfterSeconds).toBe(REDRIVE_LEASE_MS / 1000);
    expect((failure as Error).message).toBe('Queueing the redriven deliveries failed part-way; those not queued can be redriven again in 2 minutes');
    expect(((failure as Error).cause as Error).message).toBe('connect ETIMEDOUT sqs');
    expect(await redriveDeadDeliveries(endpointId, dead, queue, { now: at(60_000) })).toEqual({ redriven: 0, complete: true });
    expect(queue.sent).toEqual([]);

    expect(await redriveDeadDeliveries(endpointId, dead, queue, { now: at(REDRIVE_LEASE_MS) })).toEqual({ redriven: 3, complete: true });
    expect(queue.sent.map((m) => m.eventId).sort()).toEqual(messages.map((m) => m.eventId).sort());
  });
});
