import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { deliveryExhaustedEvent as deliveryExhaustedSchema, endpointDisabledEvent as endpointDisabledSchema } from '../../shared/http/api-schemas.js';
import {
  LocalOperatorOutbox,
  OPERATOR_OUTBOX_ENV,
  OPERATOR_TOPIC_ENV,
  operatorNotifierFromEnv,
  OUTBOX_FILE,
  SnsOperatorNotifier,
} from '../../shared/store/operator-notices.js';
import { settings } from '../../infra/app-definition.js';
import { operatorNoticeMessage, publishNotices, splitNotices } from '../../shared/notifications/operator-notice-message.js';
import type { SQSRecord } from 'aws-lambda';
import { deliverMessage, type DeliveryDeps, type Poster } from '../../shared/webhooks/deliver.js';
import { deliveryMessage, type DeliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { decisionEvent, DEFAULT_EVENT_TYPES, EVENT_TYPES, testEvent } from '../../shared/webhooks/events.js';
import {
  announcesToSubscribers,
  deliveryExhaustedEvent,
  emitOperationalEvent,
  endpointDisabledEvent,
  operatorNotice,
  type OperatorNotice,
  type OperatorNotifier,
} from '../../shared/webhooks/operational-events.js';
import { sweepDeadLetters } from '../../shared/webhooks/redrive.js';
import { newDraft } from '../../shared/domain/draft.js';
import { sampleEndpoint, samplePolicy } from '../support/endpoint-fixture.js';
import { MemoryDeliveryLog, MemoryDeliveryStateStore, MemoryDlq, MemoryQueue } from '../support/memory-deliveries.js';

const disabled = sampleEndpoint({ id: 'ep_gone', enabled: false, disabledReason: 'gone', disabledAt: '2026-02-10T12:00:00.000Z' });
const decided = (() => {
  const draft = newDraft(
    { title: 'Send welcome email', content: { to: 'user@example.com' } },
    { keyId: 'key_a', name: 'bot', role: 'agent' },
    new Date('2026-02-10T11:00:00Z'),
  );
  return {
    ...draft,
    status: 'approved' as const,
    reviewedAt: '2026-02-10T12:00:00.000Z',
    reviewedBy: { keyId: 'key_r', name: 'alice', role: 'reviewer' as const },
  };
})();
const approval = deliveryMessage(decisionEvent(decided), 'ep_a');
const dead = { message: approval, attempts: 4, lastError: 'HTTP 503', diedAt: '2026-02-10T12:08:41.000Z' };

class RecordingNotifier implements OperatorNotifier {
  readonly notices: OperatorNotice[] = [];
  constructor(private readonly fail = false) {}
  async notify(notice: OperatorNotice) {
    if (this.fail) throw new Error('SNS is down');
    this.notices.push(notice);
  }
}

describe('operational event payloads', () => {
  it('endpoint.disabled: the documented body, no draft, its id derived from the endpoint and the time it was disabled', () => {
    const event = endpointDisabledEvent(disabled);
    expect(JSON.parse(event.body)).toEqual({
      event: 'endpoint.disabled',
      endpoint: { id: 'ep_gone', url: 'https://receiver.example/hook', disabledReason: 'gone', disabledAt: '2026-02-10T12:00:00.000Z' },
      timestamp: '2026-02-10T12:00:00.000Z',
    });
    expect(event).toMatchObject({ type: 'endpoint.disabled', draftId: null, test: false, id: expect.stringMatching(/^msg_[A-Za-z0-9_-]{27}$/) });
    expect(endpointDisabledSchema.safeParse(JSON.parse(event.body)).success).toBe(true);
    // The same disable builds the same event (a retried handler); another disable of it, another event.
    expect(endpointDisabledEvent(disabled).id).toBe(event.id);
    expect(endpointDisabledEvent({ ...disabled, disabledAt: '2026-03-01T00:00:00.000Z' }).id).not.toBe(event.id);
  });

  it.each([
    ['an enabled endpoint', sampleEndpoint()],
    ['an admin disable (manual)', sampleEndpoint({ enabled: false, disabledReason: 'manual', disabledAt: '2026-02-10T12:00:00.000Z' })],
  ])('endpoint.disabled is not built for %s', (_, endpoint) => {
    expect(() => endpointDisabledEvent(endpoint)).toThrow(/not disabled by Processa/);
  });

  it('delivery.exhausted: the documented body; one id per delivery and redrive generation', () => {
    const event = deliveryExhaustedEvent(dead);
    expect(JSON.parse(event.body)).toEqual({
      event: 'delivery.exhausted',
      delivery: {
        endpointId: 'ep_a',
        eventId: approval.eventId,
        eventType: 'draft.approved',
        draftId: decided.id,
        attempts: 4,
        lastError: 'HTTP 503',
        diedAt: '2026-02-10T12:08:41.000Z',
      },
      timestamp: '2026-02-10T12:08:41.000Z',
    });
    expect(deliveryExhaustedSchema.safeParse(JSON.parse(event.body)).success).toBe(true);
    expect(event.draftId).toBeNull();
    expect(deliveryExhaustedEvent({ ...dead, lastError: 'other', diedAt: '2026-02-11T00:00:00.000Z' }).id).toBe(event.id);
    expect(deliveryExhaustedEvent({ ...dead, message: { ...approval, redrives: 1 } }).id).not.toBe(event.id);
    expect(deliveryExhaustedEvent({ ...dead, message: { ...approval, endpointId: 'ep_b' } }).id).not.toBe(event.id);
  });

  it('both are subscribable and opt-in: a new endpoint does not get them', () => {
    expect(EVENT_TYPES).toEqual(expect.arrayContaining(['endpoint.disabled', 'delivery.exhausted']));
    expect(DEFAULT_EVENT_TYPES).toEqual(['draft.approved', 'draft.rejected']);
  });

  it('the operator notice names what happened in one line', () => {
    expect(operatorNotice(endpointDisabledEvent(disabled)).subject).toBe('webhook endpoint ep_gone disabled (gone)');
    expect(operatorNotice(deliveryExhaustedEvent(dead)).subject).toBe('webhook delivery of draft.approved to ep_a died after 4 attempts');
  });
});

describe('the no-cascade rule', () => {
  it.each([
    ['draft.approved', true],
    ['draft.rejected', true],
    ['draft.expired', true],
    ['endpoint.disabled', false],
    ['delivery.exhausted', false],
  ] as const)('a dead %s delivery is announced to subscribers: %s', (eventType, expected) => {
    expect(announcesToSubscribers({ eventType })).toBe(expected);
  });

  it('a delivery.exhausted whose own delivery dies reaches the operator only', async () => {
    const exhaustedDelivery: DeliveryMessage = deliveryMessage(deliveryExhaustedEvent(dead), 'ep_watcher');
    const notifier = new RecordingNotifier();
    const queue = new MemoryQueue();
    const states = new MemoryDeliveryStateStore();
    const watcher = sampleEndpoint({ id: 'ep_watcher', events: ['delivery.exhausted'] });
    const second = deliveryExhaustedEvent({ ...dead, message: exhaustedDelivery });
    const result = await emitOperationalEvent(
      second,
      { endpoints: async () => [watcher], queue, states, notifier },
      { subscribers: announcesToSubscribers(exhaustedDelivery) },
    );
    expect(result).toEqual({ queued: [], notified: true, errors: [] });
    expect(queue.sent).toEqual([]);
    expect(notifier.notices.map((n) => n.event.id)).toEqual([second.id]);
  });
});

describe('emitting an operational event', () => {
  const endpoints = [
    sampleEndpoint({ id: 'ep_gone', events: ['endpoint.disabled'] }),
    sampleEndpoint({ id: 'ep_watch', events: ['endpoint.disabled', 'draft.approved'] }),
    sampleEndpoint({ id: 'ep_plain' }),
    sampleEndpoint({ id: 'ep_off', events: ['endpoint.disabled'], enabled: false }),
  ];

  it('goes to the operator and to each enabled subscriber but the endpoint it is about, state first', async () => {
    const notifier = new RecordingNotifier();
    const queue = new MemoryQueue();
    const states = new MemoryDeliveryStateStore();
    const event = endpointDisabledEvent(disabled);
    const result = await emitOperationalEvent(event, { endpoints: async () => endpoints, queue, states, notifier }, { exclude: 'ep_gone' });
    expect(result.errors).toEqual([]);
    expect(queue.sent.map((m) => m.endpointId)).toEqual(['ep_watch']);
    expect(queue.sent[0]).toMatchObject({ eventId: event.id, eventType: 'endpoint.disabled', draftId: null, body: event.body, redrives: 0 });
    expect(await states.get('ep_watch', event.id)).toMatchObject({ status: 'waiting', attempts: 0 });
    expect(notifier.notices).toEqual([{ subject: 'webhook endpoint ep_gone disabled (gone)', event }]);
  });

  it('run again (a retried handler), it queues no second delivery', async () => {
    const queue = new MemoryQueue();
    const states = new MemoryDeliveryStateStore();
    const deps = { endpoints: async () => endpoints, queue, states, notifier: new RecordingNotifier() };
    const event = endpointDisabledEvent(disabled);
    const runs = await Promise.all(Array.from({ length: 20 }, () => emitOperationalEvent(endpointDisabledEvent(disabled), deps, { exclude: 'ep_gone' })));
    expect(runs.flatMap((r) => r.queued)).toHaveLength(1);
    expect(queue.sent.map((m) => [m.endpointId, m.eventId])).toEqual([['ep_watch', event.id]]);
  });

  it('never throws: a failing topic or queue is reported, and the other half still goes out', async () => {
    const event = endpointDisabledEvent(disabled);
    const queue = new MemoryQueue();
    const snsDown = await emitOperationalEvent(
      event,
      { endpoints: async () => endpoints, queue, states: new MemoryDeliveryStateStore(), notifier: new RecordingNotifier(true) },
      { exclude: 'ep_gone' },
    );
    expect(snsDown).toMatchObject({ notified: false, errors: [{ to: 'operator', error: expect.objectContaining({ message: 'SNS is down' }) }] });
    expect(queue.sent).toHaveLength(1);

    const notifier = new RecordingNotifier();
    const queueDown = await emitOperationalEvent(
      event,
      {
        endpoints: async () => endpoints,
        queue: {
          send: async () => {
            throw new Error('SQS is down');
          },
        },
        states: new MemoryDeliveryStateStore(),
        notifier,
      },
      { exclude: 'ep_gone' },
    );
    expect(queueDown).toMatchObject({ notified: true, queued: [], errors: [{ to: 'subscribers' }] });
    expect(notifier.notices).toHaveLength(1);
  });
});

describe('the delivery function decides what to announce', () => {
  const failing: Poster = async () => ({ status: 503, durationMs: 3 });
  const deps = (states: MemoryDeliveryStateStore, overrides: Partial<DeliveryDeps> = {}): DeliveryDeps => ({
    post: failing,
    policy: samplePolicy(),
    states,
    endpointFor: async (id) => sampleEndpoint({ id }),
    backstopReceives: 12,
    disableEndpoint: async () => undefined,
    recordHealth: async () => undefined,
    now: () => new Date('2026-02-10T12:00:00Z'),
    ...overrides,
  });

  it('the last failed attempt: dead, exhausted, with the attempts and the last error', async () => {
    const states = new MemoryDeliveryStateStore();
    const steps = [];
    // Attempt n a week before the last (each retry due when it comes back), the fourth at 12:00.
    const week = 7 * 24 * 3600 * 1000;
    for (let n = 1; n <= 4; n++)
      steps.push(await deliverMessage(approval, n, deps(states, { now: () => new Date(Date.UTC(2026, 1, 10, 12) - (4 - n) * week) })));
    expect(steps.slice(0, 3).map((s) => s.kind)).toEqual(['retry', 'retry', 'retry']);
    expect(steps[3]).toMatchObject({
      kind: 'dead',
      exhausted: { message: approval, attempts: 4, lastError: 'HTTP 503', diedAt: '2026-02-10T12:00:00.000Z' },
    });
    // A copy received again after that (e.g. its DLQ send failed) announces nothing more.
    expect(await deliverMessage(approval, 5, deps(states))).toEqual({ kind: 'dead', attempt: null, reason: 'all 4 attempts failed' });
  });

  it('the receive backstop: exhausted too', async () => {
    const step = await deliverMessage(approval, 11, deps(new MemoryDeliveryStateStore()));
    expect(step).toMatchObject({ kind: 'dead', exhausted: { attempts: 1 } });
  });

  it('410 Gone: the endpoint is disabled (endpoint.disabled tells it), not announced as exhausted', async () => {
    const disabledIds: string[] = [];
    const step = await deliverMessage(
      approval,
      1,
      deps(new MemoryDeliveryStateStore(), {
        post: async () => ({ status: 410, durationMs: 2 }),
        disableEndpoint: async (id) => void disabledIds.push(id),
      }),
    );
    expect(step.kind).toBe('dead');
    expect(step).not.toHaveProperty('exhausted');
    expect(disabledIds).toEqual(['ep_a']);
  });
});

describe('the DLQ sweep announces what SQS dead-lettered on its own', () => {
  it('once, when it records the death', async () => {
    const dlq = new MemoryDlq();
    const announced: unknown[] = [];
    const dead = {
      states: new MemoryDeliveryStateStore(),
      dlq,
      log: new MemoryDeliveryLog(),
      announce: async (d: unknown) => void announced.push(d),
    };
    await dlq.send([{ message: approval, reason: 'maxReceiveCount' }]);
    await sweepDeadLetters(dead, () => new Date('2026-02-10T13:00:00Z'));
    await sweepDeadLetters(dead, () => new Date('2026-02-10T13:05:00Z'));
    expect(announced).toEqual([{ message: approval, attempts: 0, lastError: expect.stringMatching(/receive limit/), diedAt: '2026-02-10T13:00:00.000Z' }]);
  });
});

describe('operator notices', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());

  it('on AWS: published to the alarm topic with a subject, the event in the message and its type as an attribute', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = new SnsOperatorNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:123456789012:alarms', 'ProcessaProd');
    const event = deliveryExhaustedEvent(dead);
    await notifier.notify(operatorNotice(event));
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
      Subject: 'ProcessaProd: webhook delivery of draft.approved to ep_a died after 4 attempts',
      MessageAttributes: { event: { DataType: 'String', StringValue: 'delivery.exhausted' } },
    });
    expect(input.Message).toContain(`webhook-id: ${event.id}`);
    expect(input.Message).toContain('"lastError": "HTTP 503"');
    expect(input.Subject!.length).toBeLessThanOrEqual(100);
  });

  it('a long or non-ASCII subject is made valid for SNS (at most 100 printable ASCII characters)', async () => {
    sns.on(PublishCommand).resolves({});
    const notifier = new SnsOperatorNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:1:t', 'Stäck'.repeat(30));
    await notifier.notify(operatorNotice(endpointDisabledEvent(disabled)));
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  });

  it('a failed publish rejects (the emitter reports it; it never reaches the delivery)', async () => {
    sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
    const notifier = new SnsOperatorNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:1:t', 'P');
    const result = await emitOperationalEvent(endpointDisabledEvent(disabled), {
      endpoints: async () => [],
      queue: new MemoryQueue(),
      states: new MemoryDeliveryStateStore(),
      notifier,
    });
    expect(result).toMatchObject({ notified: false, errors: [{ to: 'operator' }] });
  });

  it('queued for the notifications worker: told apart from deliveries, published; a failure comes back from SQS until the receive before the backstop, then is given up', async () => {
    const record = (body: unknown, receives: number, id: string) =>
      ({ messageId: id, body: JSON.stringify(body), attributes: { ApproximateReceiveCount: String(receives) } }) as unknown as SQSRecord;
    const notice = operatorNotice(endpointDisabledEvent(disabled));
    const delivery = deliveryMessage(deliveryExhaustedEvent(dead), 'ep_b');
    const { notices, deliveries } = splitNotices([
      record(operatorNoticeMessage(notice), 1, 'n1'),
      record(delivery, 1, 'd1'),
      record({ v: 1, notice: {} }, 1, 'bad'),
    ]);
    expect(notices.map((n) => [n.record.messageId, n.notice])).toEqual([['n1', notice]]);
    // Anything that is not a notice is the delivery worker's (which drops what it cannot read, logged).
    expect(deliveries.map((r) => r.messageId)).toEqual(['d1', 'bad']);

    const told: string[] = [];
    expect(await publishNotices(notices, { notify: async (n) => void told.push(n.event.id) }, 12)).toEqual({ batchItemFailures: [] });
    expect(told).toEqual([notice.event.id]);
    const failing = { notify: async () => Promise.reject(new Error('AuthorizationError')) };
    const again = splitNotices([record(operatorNoticeMessage(notice), 10, 'n10'), record(operatorNoticeMessage(notice), 11, 'n11')]).notices;
    expect(await publishNotices(again, failing, 12)).toEqual({ batchItemFailures: [{ itemIdentifier: 'n10' }] });
  });

  it('the topic ARN picks SNS; without it (the dev runtime) the log and the outbox file', async () => {
    expect(operatorNotifierFromEnv({ [OPERATOR_TOPIC_ENV]: 'arn:aws:sns:eu-west-1:1:t' })).toBeInstanceOf(SnsOperatorNotifier);
    const dir = mkdtempSync(join(tmpdir(), 'processa-outbox-'));
    try {
      const local = operatorNotifierFromEnv({ [OPERATOR_OUTBOX_ENV]: join(dir, 'outbox') });
      expect(local).toBeInstanceOf(LocalOperatorOutbox);
      const event = endpointDisabledEvent(disabled);
      await local.notify(operatorNotice(event));
      await local.notify(operatorNotice(deliveryExhaustedEvent(dead)));
      const lines = readFileSync(join(dir, 'outbox', OUTBOX_FILE), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.eventId, l.event.event])).toEqual([
        [event.id, 'endpoint.disabled'],
        [deliveryExhaustedEvent(dead).id, 'delivery.exhausted'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the definition binds the variables the adapter reads', () => {
    expect(settings.operatorTopicArn.envVar).toBe(OPERATOR_TOPIC_ENV);
    expect(settings.operatorOutbox.envVar).toBe(OPERATOR_OUTBOX_ENV);
  });

  it('test events are announced like any delivery (their dead copy is no operational event)', () => {
    expect(announcesToSubscribers(deliveryMessage(testEvent(), 'ep_a'))).toBe(true);
  });
});
