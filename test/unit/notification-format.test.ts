import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import type { Draft } from '../../shared/domain/draft.js';
import { emailMessage, toEml } from '../../shared/notifications/email-message.js';
import { matchesMetadata, messageFor } from '../../shared/notifications/channels.js';
import { notificationOf } from '../../shared/notifications/notification.js';
import { createNotificationSender } from '../../shared/notifications/send.js';
import { slackMessage } from '../../shared/notifications/slack-message.js';
import { truncate } from '../../shared/notifications/text.js';
import { sesEmailSender } from '../../shared/store/email-senders.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { createdEvent, decisionEvent } from '../../shared/webhooks/events.js';

const hostile = '<!channel> *pwn* <https://evil.example|click> & <script>alert(1)</script> "quoted" \'single\'';
const draft: Draft = {
  id: 'cmlgx2hvq0002k6gve9fuaz0k',
  title: hostile,
  content: { to: 'user@example.com', subject: `Hi ${hostile}`, body: `Hello\n${hostile}\n\`\`\`end of block` },
  metadata: { source: 'ai_agent_v1' },
  status: 'pending',
  createdAt: '2026-02-10T12:00:00.000Z',
  createdBy: { keyId: 'key_a', name: 'bot', role: 'agent' },
  expiresAt: '2026-02-11T12:00:00.000Z',
  history: [],
};
const base = 'https://approvals.example.com';
const created = notificationOf(draft, 'draft.created', base);
const allText = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(allText) : [];

describe('truncation', () => {
  it('never splits a multi-byte character, surrogate pair or emoji sequence', () => {
    for (const text of ['é'.repeat(50), '😀'.repeat(50), '👩‍👩‍👧‍👦'.repeat(20), 'a🇫🇷'.repeat(30), '中文'.repeat(40)]) {
      for (let max = 2; max < 40; max++) {
        const cut = truncate(text, max);
        expect(cut.length).toBeLessThanOrEqual(max);
        expect(cut.isWellFormed()).toBe(true);
        expect(text.startsWith(cut.slice(0, -1))).toBe(true);
        expect(cut.endsWith('…')).toBe(true);
      }
    }
    expect(truncate('short', 10)).toBe('short');
  });
});

describe('Slack Block Kit', () => {
  it('shows the title, an email as To/Subject/Body, the source, the expiry and a Review button to reviewUrl', () => {
    const message = slackMessage(created);
    const [header, section, context, actions] = message.blocks as any[];
    expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect(section.text.text).toMatch(/^```To: user@example.com\nSubject: Hi /);
    expect(context.elements[0].text).toContain('source: ai_agent_v1');
    expect(context.elements[0].text).toContain('Expires 2026-02-11 12:00:00 UTC');
    expect(actions.elements[0]).toMatchObject({ type: 'button', url: `${base}/review/${draft.id}`, text: { text: 'Review' } });
  });

  it('escapes hostile titles and content for mrkdwn: no mention, link or markup reaches Slack unescaped', () => {
    const message = slackMessage(created);
    const mrkdwn = [
      message.text,
      ...(message.blocks as any[]).flatMap((b) => (b.text?.type === 'mrkdwn' ? [b.text.text] : (b.elements ?? []).map((e: any) => e.text ?? ''))),
    ];
    for (const text of mrkdwn.filter((t) => typeof t === 'string')) {
      expect(text).not.toMatch(/<!channel>|<https:|<script>/);
    }
    expect(mrkdwn.join('\n')).toContain('&lt;!channel&gt;');
    // A ``` in the content cannot close the preview's code block early.
    const preview = (message.blocks as any[])[1].text.text as string;
    expect(preview.slice(3, -3)).not.toContain('```');
  });

  it('keeps long content within Slack limits, escaped and well-formed', () => {
    const long = notificationOf({ ...draft, title: '<'.repeat(300), content: { data: '&<>'.repeat(5000), emoji: '😀'.repeat(3000) } }, 'draft.created', base);
    const message = slackMessage(long);
    const section = (message.blocks as any[])[1].text.text as string;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section.startsWith('```{"data":"&amp;&lt;&gt;')).toBe(true);
    for (const text of allText(message)) expect(text.isWellFormed()).toBe(true);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });

  it('after the decision says who decided and how', () => {
    const approved = notificationOf(
      { ...draft, title: 'Send it', status: 'approved', reviewedAt: '2026-02-10T12:05:00.000Z', reviewedBy: { keyId: 'k', name: 'alice', role: 'reviewer' } },
      'draft.approved',
      base,
    );
    expect(slackMessage(approved).text).toBe(':white_check_mark: *Send it* was approved by alice');
    const rejected = notificationOf(
      {
        ...draft,
        title: 'Send it',
        status: 'rejected',
        reviewedAt: '2026-02-10T12:05:00.000Z',
        reviewedBy: { keyId: 'k', name: '<@U1>', role: 'reviewer' },
        rejectionReason: 'Not <b>now</b>',
      },
      'draft.rejected',
      base,
    );
    expect(slackMessage(rejected).text).toBe(':x: *Send it* was rejected by &lt;@U1&gt;: Not &lt;b&gt;now&lt;/b&gt;');
  });
});

describe('email', () => {
  it('plain text and HTML with the same preview and the review link; hostile text escaped in HTML, never a header', () => {
    const email = emailMessage(notificationOf({ ...draft, title: `${hostile}\r\nBcc: victim@example.com` }, 'draft.created', base));
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.text).toContain('To: user@example.com');
    expect(email.text).toContain(`Review it: ${base}/review/${draft.id}`);
    expect(email.html).toContain(`<a href="${base}/review/${draft.id}"`);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.html).toContain('&quot;quoted&quot; &#39;single&#39;');
    const eml = toEml({ ...email, from: 'processa@example.com', to: 'r@example.com' }, new Date('2026-02-10T12:00:00Z'));
    const headers = eml.split('\r\n\r\n')[0]!;
    expect(headers.match(/^Subject: /gm)).toHaveLength(1);
    expect(headers).not.toMatch(/^Bcc:/im);
    const accented = toEml({ ...email, subject: 'Café ☕', from: 'processa@example.com', to: 'r@example.com' }, new Date());
    expect(accented).toContain(`Subject: =?UTF-8?B?${Buffer.from('Café ☕').toString('base64')}?=`);
  });
});

describe('channels in the fan-out', () => {
  const channel = (over: Partial<WebhookEndpoint>): WebhookEndpoint => ({
    id: 'ep_c',
    url: 'https://hooks.slack.com/services/T/B/X',
    events: ['draft.created'],
    description: '',
    enabled: true,
    createdAt: '',
    updatedAt: '',
    secrets: [],
    version: 1,
    channel: 'slack',
    ...over,
  });
  it('filters on metadata, and carries a notification (not the webhook body) with the same event id', () => {
    expect(matchesMetadata({ source: 'ai_agent_v1' }, draft.metadata)).toBe(true);
    expect(matchesMetadata({ source: 'other' }, draft.metadata)).toBe(false);
    const event = createdEvent(draft, base);
    expect(messageFor(channel({ filter: { source: 'other' } }), event, draft, () => base)).toBeUndefined();
    const message = messageFor(channel({ filter: { source: 'ai_agent_v1' } }), event, draft, () => base)!;
    expect(message).toMatchObject({ eventId: event.id, eventType: 'draft.created', endpointId: 'ep_c' });
    expect(JSON.parse(message.body)).toMatchObject({ kind: 'notification', event: 'draft.created', draft: { reviewUrl: `${base}/review/${draft.id}` } });
    // A webhook gets the signed event's own bytes.
    const webhook = { ...channel({}), channel: undefined };
    expect(messageFor(webhook, event, draft, () => base)!.body).toBe(event.body);
    const decided = { ...draft, status: 'approved' as const, reviewedAt: '2026-02-10T12:05:00.000Z', reviewedBy: draft.createdBy };
    expect(messageFor(channel({}), decisionEvent(decided), decided, () => base)).toBeDefined();
  });
});

describe('senders', () => {
  const ses = mockClient(SESv2Client);
  afterEach(() => ses.reset());

  it('SES v2: one SendEmail per recipient from the configured identity, text and HTML', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1', $metadata: { httpStatusCode: 200 } });
    const send = createNotificationSender({
      post: async () => ({ status: 500, durationMs: 0 }),
      email: sesEmailSender(new SESv2Client({ region: 'eu-west-1' })),
      from: 'approvals@example.com',
    });
    const endpoint = { channel: 'email', recipients: ['a@example.com', 'b@example.com'] } as WebhookEndpoint;
    expect(await send(endpoint, JSON.stringify(created), 1000)).toMatchObject({ status: 200 });
    const calls = ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Destination?.ToAddresses)).toEqual([['a@example.com'], ['b@example.com']]);
    expect(calls[0]).toMatchObject({ FromEmailAddress: 'approvals@example.com', Content: { Simple: { Body: { Text: {}, Html: {} } } } });
    expect(calls[0]!.Content!.Simple!.Body!.Html!.Data).toContain(`${base}/review/${draft.id}`);
  });

  it('SES v2: a refusal is a failed attempt with the reason (retried like any delivery)', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected', $metadata: { httpStatusCode: 400 } }));
    const send = createNotificationSender({
      post: async () => ({ status: 500, durationMs: 0 }),
      email: sesEmailSender(new SESv2Client({ region: 'eu-west-1' })),
      from: 'approvals@example.com',
    });
    const result = await send({ channel: 'email', recipients: ['a@example.com'] } as WebhookEndpoint, JSON.stringify(created), 1000);
    expect(result).toMatchObject({ status: 400, error: expect.stringContaining('MessageRejected') });
    // Without a configured sender, email deliveries fail by name rather than vanish.
    const unconfigured = createNotificationSender({ post: async () => ({ status: 200, durationMs: 0 }) });
    expect((await unconfigured({ channel: 'email', recipients: ['a@example.com'] } as WebhookEndpoint, JSON.stringify(created), 1000)).error).toMatch(
      /notifyFrom/,
    );
  });

  it('Slack: the Block Kit JSON POSTed to the channel URL, unsigned', async () => {
    const posts: Array<{ url: string; body: string; headers: Record<string, string> }> = [];
    const send = createNotificationSender({ post: async (url, body, headers) => (posts.push({ url, body, headers }), { status: 200, durationMs: 1 }) });
    await send({ channel: 'slack', url: 'https://hooks.slack.com/services/T/B/X' } as WebhookEndpoint, JSON.stringify(created), 1000);
    expect(posts[0]!.url).toBe('https://hooks.slack.com/services/T/B/X');
    expect(JSON.parse(posts[0]!.body)).toEqual(slackMessage(created));
    expect(posts[0]!.headers['webhook-signature']).toBeUndefined();
  });
});
