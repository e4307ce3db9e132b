import { setImmediate as nextTurn } from 'node:timers/promises';
import { coalescingQueue } from '../../shared/webhooks/coalescing-queue.js';
import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';

/** A queue that records each send and refuses the sends `refuse` picks. */
function recordingQueue(refuse: (messages: DeliveryMessage[]) => boolean = () => false) {
  const sends: DeliveryMessage[][] = [];
  return {
    sends,
    queue: {
      async send(messages: DeliveryMessage[]) {
        sends.push(messages);
        await nextTurn();
        if (refuse(messages)) throw new Error('SQS refused');
      },
    },
  };
}
const message = (endpointId: string) => deliveryMessage(testEvent(), endpointId);

test('the senders of one turn share sends of up to 10 messages, in order; each is answered once its own are sent', async () => {
  const { queue, sends } = recordingQueue();
  const batch = coalescingQueue(queue);
  const perSender = Array.from({ length: 25 }, (_, i) => [message(`ep${i}`)]);
  await Promise.all(perSender.map((messages) => batch.send(messages)));
  expect(sends.map((s) => s.length)).toEqual([10, 10, 5]);
  expect(sends.flat()).toEqual(perSender.flat());
});

test("a sender's messages may span two sends; an empty send sends nothing", async () => {
  const { queue, sends } = recordingQueue();
  const batch = coalescingQueue(queue);
  const first = Array.from({ length: 7 }, () => message('a'));
  const second = Array.from({ length: 6 }, () => message('b'));
  await Promise.all([batch.send(first), batch.send([]), batch.send(second)]);
  expect(sends.map((s) => s.length)).toEqual([10, 3]);
  expect(sends.flat()).toEqual([...first, ...second]);
});

test('a refused send fails only the senders whose messages it carried', async () => {
  const { queue } = recordingQueue((messages) => messages.some((m) => m.endpointId === 'poison'));
  const batch = coalescingQueue(queue);
  const outcomes = await Promise.allSettled([
    ...Array.from({ length: 10 }, () => batch.send([message('fine')])),
    batch.send([message('poison')]),
    ...Array.from({ length: 5 }, () => batch.send([message('also-in-the-refused-send')])),
  ]);
  expect(outcomes.slice(0, 10).every((o) => o.status === 'fulfilled')).toBe(true);
  expect(outcomes.slice(10).every((o) => o.status === 'rejected')).toBe(true);
});

test('senders of different turns get sends of their own', async () => {
  const { queue, sends } = recordingQueue();
  const batch = coalescingQueue(queue);
  await batch.send([message('a')]);
  await batch.send([message('b')]);
  expect(sends.map((s) => s.map((m) => m.endpointId))).toEqual([['a'], ['b']]);
});
