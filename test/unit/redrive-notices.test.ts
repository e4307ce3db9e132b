import { operatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { deliveryMessage, parseDeliveryMessage, type DeadLetter, type DeadLetterQueue, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { endpointDisabledEvent, operatorNotice, type OperatorNotice, type OperatorNotifier } from '../../shared/webhooks/operational-events.js';
import { sweepDeadLetters, type DeadDeliveries } from '../../shared/webhooks/redrive.js';
import { sampleEndpoint } from '../support/endpoint-fixture.js';
import { MemoryDeliveryLog, MemoryDeliveryStateStore } from '../support/memory-deliveries.js';

const now = () => new Date('2026-02-10T12:00:00Z');
const endpoint = sampleEndpoint();

/** A DLQ of raw bodies, read as SqsDeadLetterQueue reads SQS: parsed as a delivery message, body kept. */
class RawDlq implements DeadLetterQueue {
  readonly bodies = new Map<string, string>();
  readonly hidden = new Set<string>();
  private next = 0;
  put(body: string) {
    this.bodies.set(`h${this.next++}`, body);
  }
  async send(letters: Array<{ message: DeliveryMessage; reason: string }>) {
    for (const l of letters) this.put(JSON.stringify(l.message));
  }
  async receive(): Promise<DeadLetter[]> {
    const visible = [...this.bodies].filter(([h]) => !this.hidden.has(h)).slice(0, 10);
    for (const [h] of visible) this.hidden.add(h);
    return visible.map(([receiptHandle, body]) => ({ receiptHandle, body, message: parseDeliveryMessage(body) }));
  }
  async delete(handles: string[]) {
    for (const h of handles) {
      this.bodies.delete(h);
      this.hidden.delete(h);
    }
  }
  async release(handles: string[]) {
    for (const h of handles) this.hidden.delete(h);
  }
}

class RecordingNotifier implements OperatorNotifier {
  readonly sent: OperatorNotice[] = [];
  failing = false;
  async notify(notice: OperatorNotice) {
    if (this.failing) throw new Error('SQS refused the operator notice');
    this.sent.push(structuredClone(notice));
  }
}

const notice = () => operatorNotice(endpointDisabledEvent({ ...endpoint, disabledReason: 'failing', disabledAt: now().toISOString() }));

/** The DLQ as SQS leaves it: a notice the notifications worker failed too often, and a delivery it dead-lettered on its own. */
async function deadLettered() {
  const states = new MemoryDeliveryStateStore();
  const dlq = new RawDlq();
  const notifier = new RecordingNotifier();
  const theNotice = notice();
  dlq.put(JSON.stringify(operatorNoticeMessage(theNotice)));
  // Its worker never finished an attempt (it crashed each time), so it has no state yet.
  const message = deliveryMessage(testEvent(), endpoint.id);
  dlq.put(JSON.stringify(message));
  const dead: DeadDeliveries = { states, dlq, log: new MemoryDeliveryLog(), notices: notifier };
  return { states, dlq, notifier, theNotice, message, dead };
}

describe('the DLQ sweep and operator notices SQS dead-lettered', () => {
  it('queues a notice again for the notifications worker once and deletes it; a delivery beside it is handled as before', async () => {
    const { states, dlq, notifier, theNotice, message, dead } = await deadLettered();
    expect(await sweepDeadLetters(dead, now)).toEqual({ deleted: 1, markedDead: 1, noticesRequeued: 1 });
    expect(notifier.sent).toEqual([theNotice]);
    // The delivery: marked dead (so redrive reaches it) and kept, as before.
    expect(await states.get(endpoint.id, message.eventId)).toMatchObject({ status: 'dead' });
    expect([...dlq.bodies.values()].map((b) => parseDeliveryMessage(b)?.eventId)).toEqual([message.eventId]);
    expect(dlq.hidden.size).toBe(0);
    // The next sweep finds no notice: nothing is sent twice.
    expect(await sweepDeadLetters(dead, now)).toEqual({ deleted: 0, markedDead: 0, noticesRequeued: 0 });
    expect(notifier.sent).toHaveLength(1);
  });

  it('keeps a notice it could not queue again, for the next sweep', async () => {
    const { dlq, notifier, theNotice, dead } = await deadLettered();
    notifier.failing = true;
    expect(await sweepDeadLetters(dead, now)).toMatchObject({ deleted: 0, noticesRequeued: 0 });
    expect(dlq.bodies.size).toBe(2);
    expect(dlq.hidden.size).toBe(0);
    notifier.failing = false;
    expect(await sweepDeadLetters(dead, now)).toMatchObject({ deleted: 1, noticesRequeued: 1 });
    expect(notifier.sent).toEqual([theNotice]);
  });

  it('keeps a notice where there is no notifications queue to send it to', async () => {
    const { dlq, dead } = await deadLettered();
    const { notices: _notices, ...withoutNotices } = dead;
    expect(await sweepDeadLetters(withoutNotices, now)).toMatchObject({ deleted: 0, noticesRequeued: 0 });
    expect(dlq.bodies.size).toBe(2);
  });

  it('keeps what is neither a delivery nor a notice', async () => {
    const { dlq, dead } = await deadLettered();
    dlq.put('{"v":1,"notice":{"subject":""}}');
    dlq.put('not json');
    expect(await sweepDeadLetters(dead, now)).toMatchObject({ deleted: 1, noticesRequeued: 1 });
    expect(dlq.bodies.size).toBe(3);
  });

  it('20 sweeps at once send each notice once', async () => {
    const { dlq, notifier, dead } = await deadLettered();
    for (let i = 0; i < 24; i++) dlq.put(JSON.stringify(operatorNoticeMessage(notice())));
    const results = await Promise.all(Array.from({ length: 20 }, () => sweepDeadLetters(dead, now)));
    expect(results.reduce((sum, r) => sum + r.noticesRequeued, 0)).toBe(25);
    expect(notifier.sent).toHaveLength(25);
    expect(dlq.bodies.size).toBe(1);
  });
});
