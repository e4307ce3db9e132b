/**
 * Email decision links: the signed token (bound to one draft, recipient, decision; expiring), the
 * links in each recipient's email, and deciding through a link (single use, lifecycle, reason).
 */
import { createHmac } from 'node:crypto';
import type { Draft } from '../../shared/domain/draft.js';
import {
  baseUrlOfReviewUrl,
  decisionLinksFor,
  emailLinkExpiry,
  EMAIL_LINK_MAX_AGE_SECONDS,
  signEmailLink,
  verifyEmailLink,
} from '../../shared/notifications/email-links.js';
import { decideByEmailLink, emailActor, openEmailLink, type EmailLinkDeps, type EmailLinkUse } from '../../shared/notifications/email-links-decision.js';
import { emailMessage, type OutgoingEmail } from '../../shared/notifications/email-message.js';
import { notificationOf } from '../../shared/notifications/notification.js';
import { createNotificationSender } from '../../shared/notifications/send.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { disableEndpoint, publicEndpoint, type EndpointStore, type WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { updateChannel } from '../../shared/notifications/channel-settings.js';
import { MemoryDraftStore } from '../support/memory-stores.js';

const key = 'k'.repeat(43);
const otherKey = 'x'.repeat(43);
const now = new Date('2026-02-10T12:00:00.000Z');
const link = {
  draftId: 'cmlgx2hvq0002k6gve9fuaz0k',
  recipient: 'reviewer@example.com',
  decision: 'approve' as const,
  channelId: 'ep_abc123',
  expiresAt: new Date('2026-02-11T12:00:00.000Z'),
};

describe('email link tokens', () => {
  it('verify what they were signed with', () => {
    const token = signEmailLink(key, link);
    const checked = verifyEmailLink(key, token, now);
    expect(checked).toEqual({ ok: true, claims: { ...link, tokenId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) } });
    // Every link has its own id (its use record's key).
    const again = verifyEmailLink(key, signEmailLink(key, link), now);
    expect(again.ok && checked.ok && again.claims.tokenId !== checked.claims.tokenId).toBe(true);
  });

  it('refuse a tampered token: claims changed (other draft, recipient, decision), signature changed, another key', () => {
    const token = signEmailLink(key, link);
    const [body, signature] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const forged = (change: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url')}.${signature}`;
    for (const change of [{ d: 'cotherdraft000000000000000' }, { r: 'attacker@example.com' }, { a: 'reject' }, { c: 'ep_other' }, { e: claims.e + 86400 }]) {
      expect(verifyEmailLink(key, forged(change), now)).toEqual({ ok: false, reason: 'tampered' });
    }
    const flipped = `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(verifyEmailLink(key, flipped, now)).toEqual({ ok: false, reason: 'tampered' });
    expect(verifyEmailLink(otherKey, token, now)).toEqual({ ok: false, reason: 'tampered' });
    // The last character carries 4 bits of the MAC and 2 spare ones: a change of those alone still makes another token.
    const last = signature.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const other of alphabet.replace(last, '')) expect(verifyEmailLink(key, `${token.slice(0, -1)}${other}`, now).ok).toBe(false);
  });

  it('refuse malformed tokens without throwing', () => {
    for (const token of ['', 'abc', 'a.b', `${'A'.repeat(2000)}.${'B'.repeat(43)}`, 'not base64!.sig', `${signEmailLink(key, link)}x`, '../../etc/passwd']) {
      expect(verifyEmailLink(key, token, now).ok).toBe(false);
    }
    // Correctly signed, but not the claims a link carries.
    const body = Buffer.from(JSON.stringify({ v: 2 })).toString('base64url');
    const mac = createHmac('sha256', key).update(`processa-email-link.v1.${body}`).digest('base64url');
    expect(verifyEmailLink(key, `${body}.${mac}`, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuse an expired token (at its expiry second and after)', () => {
    const token = signEmailLink(key, link);
    expect(verifyEmailLink(key, token, new Date(link.expiresAt.getTime() - 1000)).ok).toBe(true);
    expect(verifyEmailLink(key, token, link.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyEmailLink(key, token, new Date('2027-01-01T00:00:00Z'))).toEqual({ ok: false, reason: 'expired' });
  });

  it('expire after 7 days, or with the draft when it expires first', () => {
    expect(emailLinkExpiry(null, now).getTime()).toBe(now.getTime() + EMAIL_LINK_MAX_AGE_SECONDS * 1000);
    expect(emailLinkExpiry('2026-02-10T13:00:00.000Z', now).toISOString()).toBe('2026-02-10T13:00:00.000Z');
    expect(emailLinkExpiry('2026-03-10T13:00:00.000Z', now).getTime()).toBe(now.getTime() + EMAIL_LINK_MAX_AGE_SECONDS * 1000);
  });

  it('refuse to sign or verify with a short key', () => {
    expect(() => signEmailLink('short', link)).toThrow(/at least 32/);
    expect(() => verifyEmailLink('short', 'a.b', now)).toThrow(/at least 32/);
  });
});

const draft: Draft = {
  id: 'cmlgx2hvq0002k6gve9fuaz0k',
  title: 'Refund <b>order</b> "42"',
  content: { to: 'customer@example.com', subject: 'Your refund', body: 'We refunded €42.' },
  metadata: { source: 'ai_agent_v1' },
  status: 'pending',
  createdAt: '2026-02-10T11:00:00.000Z',
  createdBy: { keyId: 'key_a', name: 'bot', role: 'agent' },
  history: [{ action: 'created', at: '2026-02-10T11:00:00.000Z', actor: { keyId: 'key_a', name: 'bot', role: 'agent' } }],
};
const channel: WebhookEndpoint = {
  id: 'ep_abc123',
  url: 'mailto:reviewer@example.com,second@example.com',
  channel: 'email',
  recipients: ['reviewer@example.com', 'second@example.com'],
  events: ['draft.created'],
  description: '',
  enabled: true,
  createdAt: draft.createdAt,
  updatedAt: draft.createdAt,
  secrets: [{ value: 'whsec_x', createdAt: draft.createdAt }],
  version: 1,
};

describe('links in the email', () => {
  const base = 'https://approvals.example.com/prod';

  it('the review link tells where the deployment is served', () => {
    expect(baseUrlOfReviewUrl(`${base}/review/${draft.id}`, draft.id)).toBe(base);
    expect(baseUrlOfReviewUrl('https://elsewhere.example/x', draft.id)).toBeUndefined();
  });

  it('each recipient gets their own Approve and Reject links, bound to their address; test and decided notifications get none', async () => {
    const sent: OutgoingEmail[] = [];
    const send = createNotificationSender({
      post: async () => ({ status: 200, durationMs: 0 }),
      from: 'processa@example.com',
      email: async (email) => {
        sent.push(email);
        return { status: 200, durationMs: 1 };
      },
      decisionLinks: decisionLinksFor(
        async () => key,
        () => now,
      ),
    });
    const body = JSON.stringify(notificationOf(draft, 'draft.created', base));
    expect(await send(channel, body, 1000)).toMatchObject({ status: 200 });
    expect(sent.map((e) => e.to)).toEqual(['reviewer@example.com', 'second@example.com']);
    for (const email of sent) {
      const urls = [...email.text.matchAll(/^(Approve|Reject): (\S+)$/gm)].map((m) => [m[1], m[2]!] as const);
      expect(urls.map(([label]) => label)).toEqual(['Approve', 'Reject']);
      for (const [label, url] of urls) {
        expect(url.startsWith(`${base}/email-decisions/`)).toBe(true);
        const checked = verifyEmailLink(key, url.split('/').at(-1)!, now);
        expect(checked).toMatchObject({
          ok: true,
          claims: { draftId: draft.id, recipient: email.to, channelId: channel.id, decision: label!.toLowerCase(), marks: { disabled: 0, recipientAdded: 0 } },
        });
        expect(email.html).toContain(`href="${url}"`);
      }
      expect(email.text).toContain(`Edit or review it: ${base}/review/${draft.id}`);
    }

    sent.length = 0;
    const decided = JSON.stringify(notificationOf({ ...draft, status: 'approved', reviewedAt: now.toISOString() }, 'draft.approved', base));
    const test = JSON.stringify({ ...notificationOf(draft, 'draft.created', base), test: true });
    for (const message of [decided, test]) expect(await send(channel, message, 1000)).toMatchObject({ status: 200 });
    expect(sent.some((e) => e.text.includes('/email-decisions/'))).toBe(false);
  });

  it('a key that cannot be read fails the attempt (retried), rather than sending an email without its links', async () => {
    const send = createNotificationSender({
      post: async () => ({ status: 200, durationMs: 0 }),
      from: 'processa@example.com',
      email: async () => ({ status: 200, durationMs: 1 }),
      decisionLinks: decisionLinksFor(async () => Promise.reject(new Error('AccessDenied'))),
    });
    expect(await send(channel, JSON.stringify(notificationOf(draft, 'draft.created', base)), 1000)).toMatchObject({
      error: expect.stringContaining('AccessDenied'),
    });
  });

  it('the HTML escapes the links and the title', () => {
    const email = emailMessage(notificationOf(draft, 'draft.created', base), {
      approveUrl: 'https://x.example/email-decisions/a"><script>',
      rejectUrl: 'https://x.example/email-decisions/b',
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('a&quot;&gt;&lt;script&gt;');
    expect(email.html).toContain('Refund &lt;b&gt;order&lt;/b&gt;');
  });
});

class MemoryUses {
  readonly uses = new Map<string, EmailLinkUse>();
  async record(use: EmailLinkUse) {
    if (this.uses.has(use.tokenId)) return false;
    this.uses.set(use.tokenId, use);
    return true;
  }
  async get(tokenId: string) {
    return this.uses.get(tokenId);
  }
}

describe('deciding through a link', () => {
  let drafts: MemoryDraftStore;
  let channels: Map<string, WebhookEndpoint>;
  let deps: EmailLinkDeps & { uses: MemoryUses };
  const tokenFor = (decision: 'approve' | 'reject', recipient = 'reviewer@example.com', draftId = draft.id) =>
    signEmailLink(key, { draftId, recipient, decision, channelId: channel.id, expiresAt: new Date('2026-02-17T12:00:00Z') });

  beforeEach(() => {
    drafts = new MemoryDraftStore();
    drafts.drafts.set(draft.id, structuredClone(draft));
    channels = new Map([[channel.id, structuredClone(channel)]]);
    deps = { key: async () => key, drafts, channels: { get: async (id) => channels.get(id) }, uses: new MemoryUses() };
  });

  it('opening a link decides nothing', async () => {
    expect(await openEmailLink(deps, tokenFor('approve'), now)).toMatchObject({ kind: 'open', draft: { status: 'pending' } });
    expect(drafts.drafts.get(draft.id)!.status).toBe('pending');
    expect(deps.uses.uses.size).toBe(0);
  });

  it('approves once, as the recipient on behalf of the channel; the same link again is closed, showing who decided', async () => {
    const token = tokenFor('approve');
    const outcome = await decideByEmailLink(deps, token, { reason: null }, now);
    expect(outcome).toMatchObject({
      kind: 'decided',
      draft: { status: 'approved', reviewedBy: { keyId: 'ep_abc123', name: 'reviewer@example.com', role: 'reviewer' } },
    });
    expect(emailActor({ channelId: 'ep_abc123', recipient: 'reviewer@example.com' })).toEqual({
      keyId: 'ep_abc123',
      name: 'reviewer@example.com',
      role: 'reviewer',
    });
    expect(deps.uses.uses.size).toBe(1);
    expect(await decideByEmailLink(deps, token, { reason: null }, now)).toMatchObject({
      kind: 'closed',
      draft: { status: 'approved', reviewedBy: { name: 'reviewer@example.com' } },
    });
    expect(await openEmailLink(deps, token, now)).toMatchObject({ kind: 'closed' });
    // The other recipient's reject link: the draft is decided, so it decides nothing either.
    expect(await decideByEmailLink(deps, tokenFor('reject', 'second@example.com'), { reason: 'no' }, now)).toMatchObject({ kind: 'closed' });
    expect(drafts.drafts.get(draft.id)!.history.filter((h) => h.action !== 'created')).toHaveLength(1);
  });

  it('20 concurrent uses of one link: one decision', async () => {
    const token = tokenFor('approve');
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => decideByEmailLink(deps, token, { reason: null }, now)));
    expect(outcomes.filter((o) => o.kind === 'decided')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'closed')).toHaveLength(19);
  });

  it('reject requires a reason within the API limits, and carries it', async () => {
    const token = tokenFor('reject');
    for (const reason of [null, '', '   ', 'x'.repeat(1001)]) {
      const outcome = await decideByEmailLink(deps, token, { reason }, now);
      expect(outcome).toMatchObject({ kind: 'problem', draft: { id: draft.id, status: 'pending' } });
      expect(outcome.kind === 'problem' && outcome.error).toBeInstanceOf(ValidationError);
    }
    expect(drafts.drafts.get(draft.id)!.status).toBe('pending');
    expect(await decideByEmailLink(deps, token, { reason: 'Wrong amount' }, now)).toMatchObject({
      kind: 'decided',
      draft: { status: 'rejected', rejectionReason: 'Wrong amount' },
    });
  });

  it('refuses when the channel is disabled or deleted, or no longer lists the recipient; a tampered or expired link', async () => {
    const token = tokenFor('approve');
    channels.get(channel.id)!.enabled = false;
    expect(await decideByEmailLink(deps, token, { reason: null }, now)).toEqual({ kind: 'refused', reason: 'channel-gone' });
    channels.delete(channel.id);
    expect(await openEmailLink(deps, token, now)).toEqual({ kind: 'refused', reason: 'channel-gone' });
    channels.set(channel.id, { ...channel, recipients: ['second@example.com'] });
    expect(await decideByEmailLink(deps, token, { reason: null }, now)).toEqual({ kind: 'refused', reason: 'not-recipient' });
    channels.set(channel.id, structuredClone(channel));
    expect(await decideByEmailLink(deps, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, { reason: null }, now)).toMatchObject({
      kind: 'refused',
      reason: 'tampered',
    });
    expect(await decideByEmailLink(deps, token, { reason: null }, new Date('2026-03-01T00:00:00Z'))).toEqual({ kind: 'refused', reason: 'expired' });
    expect(await decideByEmailLink(deps, tokenFor('approve', 'reviewer@example.com', 'cmissing'), { reason: null }, now)).toEqual({
      kind: 'refused',
      reason: 'draft-missing',
    });
    expect(drafts.drafts.get(draft.id)!.status).toBe('pending');
  });

  const markedLink = (
    marks: { disabled: number; recipientAdded: number } | undefined,
    recipient = 'reviewer@example.com',
    expiresAt = '2026-02-17T11:00:00Z',
  ) => signEmailLink(key, { draftId: draft.id, recipient, decision: 'approve', channelId: channel.id, expiresAt: new Date(expiresAt), marks });
  const ms = (iso: string) => Date.parse(iso);

  it('a link made before the channel’s latest disable stays refused once it is enabled again; one made after works', async () => {
    const disabledAt = '2026-02-10T12:00:00.000Z';
    // Made from the channel as it was before the disable (even if signed after it: a delivery already under way).
    const before = markedLink({ disabled: 0, recipientAdded: 0 });
    channels.set(channel.id, { ...structuredClone(channel), linksValidFrom: disabledAt });
    expect(await decideByEmailLink(deps, before, { reason: null }, now)).toEqual({ kind: 'refused', reason: 'channel-gone' });
    expect(await openEmailLink(deps, markedLink({ disabled: ms(disabledAt), recipientAdded: 0 }), now)).toMatchObject({ kind: 'open' });
    // Disabled and enabled again: the link of the previous round ends too.
    channels.get(channel.id)!.linksValidFrom = '2026-02-10T12:30:00.000Z';
    expect(await openEmailLink(deps, markedLink({ disabled: ms(disabledAt), recipientAdded: 0 }), now)).toEqual({ kind: 'refused', reason: 'channel-gone' });
    expect(drafts.drafts.get(draft.id)!.status).toBe('pending');
  });

  it('a link without marks (made before links carried them) counts as made 7 days before it expires', async () => {
    const checked = verifyEmailLink(key, markedLink(undefined), now);
    expect(checked.ok && checked.claims.marks).toBeUndefined();
    // Never disabled: it works as it always did.
    expect(await openEmailLink(deps, markedLink(undefined, 'reviewer@example.com', '2026-02-11T11:00:00Z'), now)).toMatchObject({ kind: 'open' });
    channels.set(channel.id, { ...structuredClone(channel), linksValidFrom: '2026-02-09T00:00:00.000Z' });
    // Expiring within 7 days of the disable: it may have been sent before it, so it is refused.
    expect(await openEmailLink(deps, markedLink(undefined, 'reviewer@example.com', '2026-02-15T23:00:00Z'), now)).toEqual({
      kind: 'refused',
      reason: 'channel-gone',
    });
    // Expiring over 7 days after the disable: it was certainly sent after it.
    expect(await openEmailLink(deps, markedLink(undefined, 'reviewer@example.com', '2026-02-16T01:00:00Z'), now)).toMatchObject({ kind: 'open' });
    channels.set(channel.id, { ...structuredClone(channel), recipientAddedAt: { 'reviewer@example.com': '2026-02-09T00:00:00.000Z' } });
    expect(await openEmailLink(deps, markedLink(undefined, 'reviewer@example.com', '2026-02-15T23:00:00Z'), now)).toEqual({
      kind: 'refused',
      reason: 'not-recipient',
    });
  });

  it('an address taken off and put back: its links from before stay refused, the other addresses’ links work', async () => {
    const before = markedLink({ disabled: 0, recipientAdded: 0 });
    channels.set(channel.id, { ...structuredClone(channel), recipientAddedAt: { 'reviewer@example.com': '2026-02-10T11:00:00.000Z' } });
    expect(await openEmailLink(deps, before, now)).toEqual({ kind: 'refused', reason: 'not-recipient' });
    expect(await openEmailLink(deps, markedLink({ disabled: 0, recipientAdded: ms('2026-02-10T11:00:00.000Z') }), now)).toMatchObject({ kind: 'open' });
    expect(await openEmailLink(deps, markedLink({ disabled: 0, recipientAdded: 0 }, 'second@example.com'), now)).toMatchObject({ kind: 'open' });
  });

  it('a draft past its expiry is closed, not decided', async () => {
    drafts.drafts.get(draft.id)!.expiresAt = '2026-02-10T11:30:00.000Z';
    expect(await decideByEmailLink(deps, tokenFor('approve'), { reason: null }, now)).toMatchObject({ kind: 'closed' });
    expect(drafts.drafts.get(draft.id)!.status).toBe('pending');
  });
});

/** Enough of the store for one channel's writes (conditional on the version, as the real one). */
class OneChannelStore implements EndpointStore {
  constructor(public endpoint: WebhookEndpoint) {}
  async put(endpoint: WebhookEndpoint) {
    this.endpoint = endpoint;
  }
  async get(id: string) {
    return id === this.endpoint.id ? structuredClone(this.endpoint) : undefined;
  }
  async replace(endpoint: WebhookEndpoint, expectedVersion: number) {
    if (this.endpoint.version !== expectedVersion) return 'conflict' as const;
    this.endpoint = structuredClone(endpoint);
    return 'replaced' as const;
  }
  async delete() {
    return false;
  }
  async listAll() {
    return [this.endpoint];
  }
}

describe('what ends an email channel’s links, in the write that changes it', () => {
  it('a disable, by an admin or by the system, dates the end of its links; enabling again keeps it; webhooks and the API never show it', async () => {
    const store = new OneChannelStore(structuredClone(channel));
    await updateChannel(store, channel.id, { enabled: false }, new Date('2026-02-10T12:00:00Z'));
    await updateChannel(store, channel.id, { enabled: true }, new Date('2026-02-10T13:00:00Z'));
    // Already disabled: a second disable does not move it.
    expect(store.endpoint).toMatchObject({ enabled: true, linksValidFrom: '2026-02-10T12:00:00.000Z' });
    await disableEndpoint(store, channel.id, 'failing', new Date('2026-02-10T14:00:00Z'));
    await updateChannel(store, channel.id, { enabled: false }, new Date('2026-02-10T15:00:00Z'));
    expect(store.endpoint).toMatchObject({ enabled: false, disabledReason: 'failing', linksValidFrom: '2026-02-10T14:00:00.000Z' });
    expect(publicEndpoint(store.endpoint)).not.toHaveProperty('linksValidFrom');
    const slack = new OneChannelStore({ ...structuredClone(channel), channel: 'slack', recipients: undefined });
    await disableEndpoint(slack, channel.id, 'gone');
    expect(slack.endpoint).not.toHaveProperty('linksValidFrom');
  });

  it('a recipients change dates each address put on the channel and forgets those taken off; a Slack channel has none', async () => {
    const store = new OneChannelStore(structuredClone(channel));
    await updateChannel(store, channel.id, { recipients: ['second@example.com', 'third@example.com'] }, new Date('2026-02-10T12:00:00Z'));
    expect(store.endpoint).toMatchObject({
      recipients: ['second@example.com', 'third@example.com'],
      url: 'mailto:second@example.com,third@example.com',
      recipientAddedAt: { 'third@example.com': '2026-02-10T12:00:00.000Z' },
    });
    await updateChannel(store, channel.id, { recipients: ['third@example.com', 'reviewer@example.com'] }, new Date('2026-02-10T13:00:00Z'));
    expect(store.endpoint.recipientAddedAt).toEqual({ 'third@example.com': '2026-02-10T12:00:00.000Z', 'reviewer@example.com': '2026-02-10T13:00:00.000Z' });
    expect(publicEndpoint(store.endpoint)).not.toHaveProperty('recipientAddedAt');
    const slack = new OneChannelStore({ ...structuredClone(channel), channel: 'slack' });
    await expect(updateChannel(slack, channel.id, { recipients: ['a@example.com'] })).rejects.toThrow('recipients: only an email channel has recipients');
  });
});
