import { Webhook } from 'standardwebhooks';
import type { Draft } from '../../shared/domain/draft.js';
import { retryDelaySeconds } from '../../shared/webhooks/backoff.js';
import { activeSecrets, type WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { createdEvent, decisionEvent, decisionEventId, DEFAULT_EVENT_TYPES, sendTestEventSchema, testEvent } from '../../shared/webhooks/events.js';
import { generateSecret, signedHeaders } from '../../shared/webhooks/signing.js';

const actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' as const };
const base: Draft = {
  id: 'cmlgx2hvq0002k6gve9fuaz0k',
  title: 'Send welcome email',
  content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
  metadata: { source: 'ai_agent_v1' },
  status: 'approved',
  createdAt: '2026-02-10T12:00:00Z',
  createdBy: { keyId: 'key_a', name: 'bot', role: 'agent' },
  reviewedAt: '2026-02-10T12:05:00Z',
  reviewedBy: actor,
  history: [],
};

describe('webhook payloads (as the published documentation shows them)', () => {
  it('draft.approved carries exactly event, draft{id,title,content,metadata,reviewedAt}, timestamp', () => {
    const event = decisionEvent(base);
    expect(event.body).toBe(
      '{"event":"draft.approved","draft":{"id":"cmlgx2hvq0002k6gve9fuaz0k","title":"Send welcome email","content":{"to":"user@example.com","subject":"Welcome!","body":"Hello..."},"metadata":{"source":"ai_agent_v1"},"reviewedAt":"2026-02-10T12:05:00Z"},"timestamp":"2026-02-10T12:05:00Z"}',
    );
    expect(event.type).toBe('draft.approved');
  });

  it('draft.created carries exactly event, draft{id,title,content,metadata,createdAt,expiresAt,reviewUrl,reviewers,requiredApprovals}, timestamp; opt-in, with a stable id', () => {
    const pending: Draft = { ...base, status: 'pending', reviewedAt: undefined, reviewedBy: undefined };
    const event = createdEvent(pending, 'https://approvals.example.com/');
    expect(event.body).toBe(
      '{"event":"draft.created","draft":{"id":"cmlgx2hvq0002k6gve9fuaz0k","title":"Send welcome email","content":{"to":"user@example.com","subject":"Welcome!","body":"Hello..."},"metadata":{"source":"ai_agent_v1"},"createdAt":"2026-02-10T12:00:00Z","expiresAt":null,"reviewUrl":"https://approvals.example.com/review/cmlgx2hvq0002k6gve9fuaz0k","reviewers":[],"requiredApprovals":1},"timestamp":"2026-02-10T12:00:00Z"}',
    );
    expect(event).toMatchObject({ type: 'draft.created', draftId: base.id, test: false, id: decisionEventId(base.id, 'draft.created') });
    expect(JSON.parse(createdEvent({ ...pending, expiresAt: '2026-02-11T00:00:00.000Z' }, 'http://localhost:3000').body).draft.expiresAt).toBe(
      '2026-02-11T00:00:00.000Z',
    );
    expect(DEFAULT_EVENT_TYPES).not.toContain('draft.created');
  });

  it('draft.rejected carries exactly event, draft{id,title,rejectionReason,reviewedAt}, timestamp', () => {
    const event = decisionEvent({ ...base, status: 'rejected', rejectionReason: 'Content violates policy' });
    expect(JSON.parse(event.body)).toEqual({
      event: 'draft.rejected',
      draft: { id: base.id, title: base.title, rejectionReason: 'Content violates policy', reviewedAt: '2026-02-10T12:05:00Z' },
      timestamp: '2026-02-10T12:05:00Z',
    });
    expect(JSON.parse(decisionEvent({ ...base, status: 'rejected' }).body).draft.rejectionReason).toBeNull();
  });

  it('approved events carry the approved (edited) content, not the original', () => {
    const edited = decisionEvent({ ...base, content: { body: 'edited' }, originalContent: { body: 'original' } });
    expect(JSON.parse(edited.body).draft.content).toEqual({ body: 'edited' });
  });

  it('event ids are stable per decision, distinct across drafts and outcomes', () => {
    expect(decisionEvent(base).id).toBe(decisionEvent({ ...base }).id);
    expect(decisionEventId('c1', 'draft.approved')).not.toBe(decisionEventId('c2', 'draft.approved'));
    expect(decisionEventId('c1', 'draft.approved')).not.toBe(decisionEventId('c1', 'draft.rejected'));
    expect(decisionEvent(base).id).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
  });

  it('refuses to build an event for an undecided draft', () => {
    expect(() => decisionEvent({ ...base, status: 'pending' })).toThrow(/not decided/);
  });

  it('the default test event ("Test Webhook") is a draft.rejected with test: true, a test_ draft id and a reason saying it is a test', () => {
    const event = testEvent({ now: new Date('2026-02-10T12:05:00Z') });
    const payload = JSON.parse(event.body);
    expect(event).toMatchObject({ type: 'draft.rejected', test: true, draftId: payload.draft.id });
    expect(payload).toMatchObject({
      event: 'draft.rejected',
      test: true,
      timestamp: '2026-02-10T12:05:00.000Z',
      draft: { id: expect.stringMatching(/^test_/), reviewedAt: '2026-02-10T12:05:00.000Z' },
    });
    expect(payload.draft.rejectionReason).toMatch(/\btest\b/i);
    // The documented draft.rejected fields, none renamed or dropped, and no content to execute.
    expect(Object.keys(payload)).toEqual(['event', 'draft', 'timestamp', 'test']);
    expect(Object.keys(payload.draft)).toEqual(['id', 'title', 'rejectionReason', 'reviewedAt']);
    expect(testEvent().id).not.toBe(event.id);
    expect(testEvent().draftId).not.toBe(event.draftId);
  });

  it('a sample draft.approved is built only when asked for, with the documented fields and test: true', () => {
    const event = testEvent({ event: 'draft.approved', now: new Date('2026-02-10T12:05:00Z') });
    const payload = JSON.parse(event.body);
    expect(event).toMatchObject({ type: 'draft.approved', test: true });
    expect(payload).toMatchObject({
      event: 'draft.approved',
      test: true,
      draft: { id: expect.stringMatching(/^test_/), reviewedAt: '2026-02-10T12:05:00.000Z' },
    });
    expect(Object.keys(payload.draft)).toEqual(['id', 'title', 'content', 'metadata', 'reviewedAt']);
  });

  it('the test request body: empty means the default; anything but the two documented events is refused naming the field', () => {
    expect(sendTestEventSchema.parse({})).toEqual({});
    expect(sendTestEventSchema.parse({ event: 'draft.approved' })).toEqual({ event: 'draft.approved' });
    expect(sendTestEventSchema.parse({ event: 'draft.rejected' })).toEqual({ event: 'draft.rejected' });
    const fieldsOf = (input: unknown) => {
      try {
        parseOrThrow(sendTestEventSchema, input);
      } catch (error) {
        return (error as { status: number; details: { fields: Array<{ field: string }> } }).details.fields.map((f) => f.field);
      }
      return [];
    };
    for (const bad of [{ event: 'draft.expired' }, { event: 'approved' }, { event: 1 }, { event: null }]) expect(fieldsOf(bad)).toEqual(['event']);
    expect(fieldsOf({ evnt: 'draft.approved' })).toEqual(['evnt']);
    expect(fieldsOf([])).toEqual(['body']);
  });
});

describe('Standard Webhooks signing', () => {
  const body = decisionEvent(base).body;
  const at = new Date();

  it('is verified by the standardwebhooks library; tampering and wrong secrets are rejected', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const headers = signedHeaders('msg_1', body, [secret], at);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('Welcome', 'Wel come'), { ...headers })).toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow();
  });

  it('during a rotation signs with both secrets, so either verifies', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const headers = signedHeaders('msg_1', body, [newSecret, oldSecret], at);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, { ...headers })).not.toThrow();
  });

  it('the previous secret stops signing when its grace period ends', () => {
    const endpoint = {
      secrets: [
        { value: 'whsec_new', createdAt: '2026-01-02T00:00:00Z' },
        { value: 'whsec_old', createdAt: '2026-01-01T00:00:00Z', expiresAt: '2026-01-03T00:00:00Z' },
      ],
    } as WebhookEndpoint;
    expect(activeSecrets(endpoint, new Date('2026-01-02T23:59:59Z'))).toEqual(['whsec_new', 'whsec_old']);
    expect(activeSecrets(endpoint, new Date('2026-01-03T00:00:00Z'))).toEqual(['whsec_new']);
  });
});

describe('retry backoff', () => {
  it('doubles from the base with jitter in [half, full]', () => {
    expect([1, 2, 3].map((n) => retryDelaySeconds(n, 30, 43_200, () => 0))).toEqual([15, 30, 60]);
    expect([1, 2, 3].map((n) => retryDelaySeconds(n, 30, 43_200, () => 1))).toEqual([30, 60, 120]);
  });
  it('never exceeds the SQS visibility limit of 12 hours', () => {
    expect(retryDelaySeconds(40, 30, 43_200, () => 1)).toBe(43_200);
  });
});
