import { isChannelMessage, type DeliveryMessage, type DeliveryQueue } from './delivery-message.js';

/** Messages per send: SQS's SendMessageBatch takes 10 entries. */
const SEND_SIZE = 10;

interface Sender {
  messages: DeliveryMessage[];
  /** Hands the sender the sends that carry its messages. */
  settle: (sends: Promise<void>[]) => void;
}

/**
 * A queue for one batch of concurrent senders (a fan-out invocation's records): the messages sent
 * in the same turn of the event loop go out together, in sends of up to 10 (one SendMessageBatch
 * per queue each), instead of a request per sender. Each sender waits for the sends that carry its
 * own messages and gets their error, so a refused send fails only the senders it carried.
 */
export function coalescingQueue(queue: DeliveryQueue): DeliveryQueue {
  let waiting: Sender[] | undefined;
  const flush = (senders: Sender[]) => {
    const all = senders.flatMap((s) => s.messages.map((message) => ({ message, sender: s })));
    const sends = new Map<Sender, Promise<void>[]>();
    // Channels' and endpoints' messages go to different queues: grouped first, so each send fills one queue's batch.
    for (const group of [all.filter((c) => !isChannelMessage(c.message)), all.filter((c) => isChannelMessage(c.message))])
      for (let i = 0; i < group.length; i += SEND_SIZE) {
        const chunk = group.slice(i, i + SEND_SIZE);
        const sent = queue.send(chunk.map((c) => c.message));
        for (const sender of new Set(chunk.map((c) => c.sender))) sends.set(sender, [...(sends.get(sender) ?? []), sent]);
      }
    for (const sender of senders) sender.settle(sends.get(sender) ?? []);
  };
  return {
    send(messages) {
      if (messages.length === 0) return Promise.resolve();
      if (!waiting) {
        const senders: Sender[] = (waiting = []);
        setImmediate(() => {
          waiting = undefined;
          flush(senders);
        });
      }
      return new Promise<Promise<void>[]>((settle) => waiting!.push({ messages, settle })).then((sends) => Promise.all(sends).then(() => undefined));
    },
  };
}
