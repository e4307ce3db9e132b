import { attemptDelivery, type DeliveryPolicy, type Poster } from '../../shared/webhooks/deliver.js';
import { deliveryMessage, type DeadLetter, type DeadLetterQueue, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { redriveDeadDeliveries } from '../../shared/webhooks/redrive.js';
import { generateSecret } from '../../shared/webhooks/signing.js';

const policy: DeliveryPolicy = { maxAttempts: 4, retryBaseSeconds: 10, maxBackoffSeconds: 43_200, timeoutMs: 10_000 };
const endpoint: WebhookEndpoint = {
  id: 'ep_1',
  url: 'https://receiver.example/hook',
  events: ['draft.approved', 'draft.rejected'],
  description: '',
  enabled: true,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  secrets: [{ value: generateSecret(), createdAt: '2026-01-01T00:00:00Z' }],
  version: 1,
};
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
    expect(action).toMatchObject({ kind: 'delivered', attempt: { outcome: 'succeeded', httpStatus: 204, durationMs: 12, attempt: 1, test: true, error: null } });
    expect(post.calls[0]).toMatchObject({ 'content-type': 'application/json', 'webhook-id': message.eventId, 'webhook-timestamp': '1770724800' });
  });

  it.each([1, 2, 3])('retries after failed attempt %i with growing backoff', async (n) => {
    const action = await attemptDelivery(message, n, endpoint, { post: answering({ status: 500, error: 'HTTP 500: boom', durationMs: 5 }), policy, now, random: () => 1 });
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

class FakeDlq implements DeadLetterQueue {
  hidden = new Set<string>();
  constructor(public messages: Map<string, DeliveryMessage>) {}
  async receive(): Promise<DeadLetter[]> {
    const visible = [...this.messages].filter(([h]) => !this.hidden.has(h)).slice(0, 10);
    for (const [h] of visible) this.hidden.add(h);
    return visible.map(([receiptHandle, message]) => ({ receiptHandle, message }));
  }
  async delete(handles: string[]) {
    for (const h of handles) {
      this.messages.delete(h);
      this.hidden.delete(h);
    }
  }
  async release(handles: string[]) {
    for (const h of handles) this.hidden.delete(h);
  }
}

describe('redrive', () => {
  it("re-queues only the endpoint's dead messages, with a redrive count, and releases the others", async () => {
    const mine = Array.from({ length: 15 }, () => deliveryMessage(testEvent(), 'ep_1'));
    const theirs = Array.from({ length: 7 }, () => deliveryMessage(testEvent(), 'ep_2'));
    const dlq = new FakeDlq(new Map([...mine, ...theirs].map((m, i) => [`h${i}`, m])));
    const sent: DeliveryMessage[] = [];
    const result = await redriveDeadDeliveries('ep_1', dlq, { send: async (m) => void sent.push(...m) });
    expect(result).toEqual({ redriven: 15, complete: true });
    expect(sent.map((m) => m.eventId).sort()).toEqual(mine.map((m) => m.eventId).sort());
    expect(sent.every((m) => m.redrives === 1)).toBe(true);
    expect([...dlq.messages.values()].map((m) => m.endpointId)).toEqual(Array(7).fill('ep_2'));
    expect(dlq.hidden.size).toBe(0);
  });

  it('keeps messages in the DLQ when re-queueing fails', async () => {
    const dlq = new FakeDlq(new Map([['h0', deliveryMessage(testEvent(), 'ep_1')]]));
    await expect(redriveDeadDeliveries('ep_1', dlq, { send: async () => Promise.reject(new Error('SQS down')) })).rejects.toThrow('SQS down');
    expect(dlq.messages.size).toBe(1);
  });
});
