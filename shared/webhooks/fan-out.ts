import type { Draft } from '../domain/draft.js';
import { subscribes, type EndpointStore } from './endpoints.js';
import { decisionEvent } from './events.js';
import { deliveryMessage, type DeliveryMessage, type DeliveryQueue } from './delivery-message.js';

/** The endpoints, read once per batch of decisions rather than once per decision. */
export type EndpointSnapshot = () => Promise<Awaited<ReturnType<EndpointStore['listAll']>>>;

export function endpointSnapshot(store: EndpointStore): EndpointSnapshot {
  let loaded: ReturnType<EndpointStore['listAll']> | undefined;
  return () => (loaded ??= store.listAll());
}

/** One message per subscribed endpoint: each endpoint gets its own copy, retried on its own. */
export async function fanOutDecision(draft: Draft, endpoints: EndpointSnapshot, queue: DeliveryQueue): Promise<DeliveryMessage[]> {
  const event = decisionEvent(draft);
  const messages = (await endpoints()).filter((e) => subscribes(e, event.type)).map((e) => deliveryMessage(event, e.id));
  if (messages.length > 0) await queue.send(messages);
  return messages;
}
