import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { newDraft, type Actor } from '../../shared/domain/draft.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { deliveryMessage, parseDeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { createEndpoint } from '../../shared/webhooks/endpoints.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { startPipeline } from '../support/pipeline-harness.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * The delivery counts its own attempts, on the real pipeline (DynamoDB Local, the SQS emulator,
 * the queue pump with its concurrent pollers, the real handlers). Receives that never reach a
 * POST, because the invocation was throttled or timed out first, cost no attempt: exactly 4 POSTs,
 * then the function itself dead-letters the message and logs it dead. Redrive then reaches that
 * delivery however many other messages the DLQ holds, and the DLQ copy cannot deliver it twice.
 */
const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
type Pipeline = Awaited<ReturnType<typeof startPipeline>>;
let pipeline: Pipeline;
/** Draft ids whose invocations are interfered with, and what every invocation carrying them saw. */
const troubled = new Set<string>();
const seen: Array<{ fate: 'throttled' | 'timed out' | 'ran'; receiveCount: number }> = [];
const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = [];

beforeAll(async () => {
  pipeline = await startPipeline({
    // Lost receives come back after a second, as they would after the visibility timeout on AWS.
    visibilitySeconds: 1,
    retryBaseSeconds: 1,
    // Of every three invocations carrying a troubled delivery, one is throttled (the receive is
    // lost, the handler never runs) and one times out before it gets to post.
    wrapDelivery: (real) => async (event: SQSEvent, context: Context) => {
      const mine = event.Records.filter((r) => troubled.has(parseDeliveryMessage(r.body)?.draftId ?? ''));
      if (mine.length === 0) return real(event, context);
      const fate = (['ran', 'throttled', 'timed out'] as const)[seen.length % 3]!;
      seen.push({ fate, receiveCount: Number(mine[0]!.attributes.ApproximateReceiveCount) });
      if (fate === 'throttled') return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      if (fate === 'timed out') throw new Error('Task timed out before the POST');
      return real(event, context);
    },
  });
}, 90_000);

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await pipeline?.stop();
});

async function dlqDepth(): Promise<number> {
  const { Attributes } = await pipeline.sqsClient.send(
    new GetQueueAttributesCommand({
      QueueUrl: pipeline.queueUrls.deliveriesDlq,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Nothing left on the delivery queue, visible, in flight or delayed: every copy was handled and deleted. */
async function deliveryQueueEmpty(): Promise<boolean> {
  const counts = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes } = await pipeline.sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: pipeline.queueUrls.deliveries, AttributeNames: [...counts] }));
  return counts.every((name) => Number(Attributes?.[name] ?? 0) === 0);
}

describe('a delivery owns its attempt count', () => {
  let endpointId: string;
  let draftId: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  it('makes exactly 4 real POSTs although receives are lost to throttling and timeouts, then dead-letters itself, logged dead', async () => {
    // A thousand other dead messages already fill the DLQ (for the redrive below): this one dies behind them.
    const others = Array.from({ length: 1000 }, () => deliveryMessage(testEvent(), 'ep_someone_else'));
    for (let i = 0; i < others.length; i += 10) {
      await pipeline.sqsClient.send(
        new SendMessageBatchCommand({
          QueueUrl: pipeline.queueUrls.deliveriesDlq,
          Entries: others.slice(i, i + 10).map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })),
        }),
      );
    }
    receiver = await startReceiver('fail');
    receivers.push(receiver);
    const endpoint = await createEndpoint(pipeline.endpoints, { url: receiver.url }, { allowLocalhostHttp: true });
    endpointId = endpoint.id;
    const draft = newDraft({ title: 'throttled', content: { n: 1 } }, agent, new Date());
    draftId = draft.id;
    troubled.add(draft.id);
    await pipeline.drafts.create(draft);
    await decideDraft(pipeline.drafts, draft.id, { kind: 'approve' }, reviewer);

    const log = await eventually(
      async () => {
        const { items } = await pipeline.deliveryLog.list(endpoint.id, 100);
        return items.some((a) => a.outcome === 'dead') && items.filter((a) => a.draftId === draft.id).reverse();
      },
      60_000,
      'a dead delivery',
    );
    expect(log.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'failed', 500],
      [4, 'dead', 500],
    ]);
    // No copy of the message is left that could still make a fifth POST.
    await eventually(deliveryQueueEmpty, 20_000, 'the delivery queue empty');
    expect(receiver.requests).toHaveLength(4);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // SQS's own count ran far ahead of the attempts: under it, the message would have died after 2 POSTs.
    expect(seen.filter((s) => s.fate !== 'ran').length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...seen.map((s) => s.receiveCount))).toBeGreaterThanOrEqual(10);
    // The function moved it to the DLQ itself (behind the thousand others) and the state keeps it.
    expect(await dlqDepth()).toBe(1001);
    const { deliveryStateStoreFromEnv } = await import('../../shared/stores.js');
    const state = await deliveryStateStoreFromEnv().get(endpoint.id, log[0]!.eventId);
    expect(state).toMatchObject({ status: 'dead', attempts: 4, deadReason: 'all 4 attempts failed' });
    // The pump saw the timeouts, and nothing else went wrong.
    expect(pipeline.errors.map((e) => (e as Error).message)).toEqual(seen.filter((s) => s.fate === 'timed out').map(() => 'Task timed out before the POST'));
  }, 90_000);

  it('redrive reaches it behind 1,000 other dead messages, delivers it once, and its DLQ copy never delivers it again', async () => {
    expect(endpointId).toBeDefined();
    troubled.clear();
    receiver.setMode('ok');
    const { deadDeliveriesFromEnv, deliveryQueueFromEnv } = await import('../../shared/stores.js');
    const { redriveDeadDeliveries } = await import('../../shared/webhooks/redrive.js');
    expect(await redriveDeadDeliveries(endpointId, deadDeliveriesFromEnv(), deliveryQueueFromEnv())).toEqual({ redriven: 1, complete: true });
    const delivered = await eventually(
      async () => {
        const { items } = await pipeline.deliveryLog.list(endpointId, 100);
        return items.find((a) => a.draftId === draftId && a.outcome === 'succeeded');
      },
      20_000,
      'the redriven delivery',
    );
    expect(delivered.attempt).toBe(1);
    expect(receiver.requests).toHaveLength(5);

    // An operator moves the old DLQ copy back to the queue by hand (or starts an SQS DLQ redrive): ignored.
    const { items } = await pipeline.deliveryLog.list(endpointId, 100);
    const eventId = items.find((a) => a.draftId === draftId)!.eventId;
    const { deliveryStateStoreFromEnv } = await import('../../shared/stores.js');
    const state = (await deliveryStateStoreFromEnv().get(endpointId, eventId))!;
    expect(state).toMatchObject({ status: 'delivered', generation: 1 });
    await pipeline.sqsClient.send(
      new SendMessageCommand({ QueueUrl: pipeline.queueUrls.deliveries, MessageBody: JSON.stringify({ ...state.message, redrives: 0 }) }),
    );
    await eventually(deliveryQueueEmpty, 20_000, 'the DLQ copy handled');
    expect(receiver.requests).toHaveLength(5);
    expect((await pipeline.deliveryLog.list(endpointId, 100)).items.filter((a) => a.draftId === draftId)).toHaveLength(5);

    // Nothing of this endpoint is dead any more.
    expect(await redriveDeadDeliveries(endpointId, deadDeliveriesFromEnv(), deliveryQueueFromEnv())).toEqual({ redriven: 0, complete: true });
  }, 60_000);
});
