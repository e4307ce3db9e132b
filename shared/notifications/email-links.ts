import { createHmac, randomBytes } from 'node:crypto';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { tokensMatch } from '../domain/constant-time.js';
import { DRAFT_ID_PATTERN } from '../domain/draft-model.js';
import type { WebhookEndpoint } from '../webhooks/endpoints.js';
import type { Notification } from './notification.js';

/**
 * The Approve and Reject links of a notification email. A link's token names exactly one draft,
 * one recipient (the address the email went to), one decision and the email channel that sent
 * it, with an expiry, and is signed with HMAC-SHA256 under the deployment's email-link key
 * (Secrets Manager on AWS, a file under .processa/ locally). Nothing here decides: the token only
 * says who may decide what; the pages check the channel, the draft and single use.
 */

export const EMAIL_DECISIONS = ['approve', 'reject'] as const;
export type EmailDecision = (typeof EMAIL_DECISIONS)[number];

/** A link lives at most this long, and never past the draft's own expiry. */
export const EMAIL_LINK_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
/** Below this a key is not worth trusting (the stack generates 64 characters, the local runtime 32 random bytes). */
export const EMAIL_LINK_KEY_MIN_LENGTH = 32;
/** Where the pages for the links are served. */
export const EMAIL_DECISION_PATH = '/email-decisions';

/** Domain separation: a MAC made for a link can never be mistaken for any other HMAC under the same key. */
const MAC_PREFIX = 'processa-email-link.v1.';

const claimsSchema = z.strictObject({
  v: z.literal(1),
  /** The token's own id: the key of its use record (single use). */
  i: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
  d: z.string().check(z.regex(DRAFT_ID_PATTERN)),
  r: z.string().check(z.minLength(3), z.maxLength(254)),
  a: z.enum(EMAIL_DECISIONS),
  c: z.string().check(z.regex(/^ep_[a-z0-9]{1,40}$/)),
  /** Expiry, in epoch seconds. */
  e: z.number().check(z.int(), z.positive()),
  /** The channel's LinkMarks for the recipient when the link was made: [disabled, recipientAdded]; absent on links made before marks existed. */
  m: z.optional(z.tuple([z.number().check(z.int(), z.minimum(0)), z.number().check(z.int(), z.minimum(0))])),
});

export interface EmailLinkClaims {
  tokenId: string;
  draftId: string;
  recipient: string;
  decision: EmailDecision;
  channelId: string;
  expiresAt: Date;
  /** Absent on links made before links carried them (see linkEndedBy). */
  marks?: LinkMarks;
}

/**
 * What ends an email channel's links, in epoch ms (0: it never happened): the channel's latest
 * disable, and when the recipient was last put on the channel after its creation. Both only move
 * forward. A link carries them as they were when it was made, and is refused once either differs:
 * a link stays dead when the channel is enabled again or the address put back, even one made from
 * a read of the channel just before the disable, and no clocks are compared.
 */
export interface LinkMarks {
  disabled: number;
  recipientAdded: number;
}

const epochMs = (at: string | undefined): number => (at === undefined ? 0 : Date.parse(at));

export const linkMarksOf = (channel: Pick<WebhookEndpoint, 'linksValidFrom' | 'recipientAddedAt'>, recipient: string): LinkMarks => ({
  disabled: epochMs(channel.linksValidFrom),
  recipientAdded: epochMs(channel.recipientAddedAt?.[recipient]),
});

/**
 * Whether the channel, as it is now, has ended a link since it was made: by a disable ('channel')
 * or by the address having been taken off and put back ('recipient'). A link made before links
 * carried marks counts as made 7 days before it expires (the earliest it can have been: no link
 * lives longer), so it survives only a disable or re-adding that certainly came before it.
 */
export function linkEndedBy(claims: Pick<EmailLinkClaims, 'marks' | 'expiresAt'>, now: LinkMarks): 'channel' | 'recipient' | undefined {
  if (claims.marks) {
    if (claims.marks.disabled !== now.disabled) return 'channel';
    return claims.marks.recipientAdded !== now.recipientAdded ? 'recipient' : undefined;
  }
  const earliestIssue = claims.expiresAt.getTime() - EMAIL_LINK_MAX_AGE_SECONDS * 1000;
  if (earliestIssue <= now.disabled) return 'channel';
  return earliestIssue <= now.recipientAdded ? 'recipient' : undefined;
}

export type EmailLinkRefusal = 'malformed' | 'tampered' | 'expired';

export type EmailLinkCheck = { ok: true; claims: EmailLinkClaims } | { ok: false; reason: EmailLinkRefusal };

const mac = (key: string, body: string) =>
  createHmac('sha256', key)
    .update(MAC_PREFIX + body)
    .digest();

function assertKey(key: string): void {
  if (key.length < EMAIL_LINK_KEY_MIN_LENGTH) throw new Error(`The email-link key must be at least ${EMAIL_LINK_KEY_MIN_LENGTH} characters`);
}

/** When a link sent at `now` for a draft expires: after 7 days, or with the draft if it expires sooner. */
export function emailLinkExpiry(draftExpiresAt: string | null | undefined, now: Date): Date {
  const cap = now.getTime() + EMAIL_LINK_MAX_AGE_SECONDS * 1000;
  const draftEnd = draftExpiresAt ? Date.parse(draftExpiresAt) : Number.NaN;
  return new Date(Number.isFinite(draftEnd) ? Math.min(cap, draftEnd) : cap);
}

/** A signed token: base64url(claims JSON) "." base64url(HMAC). Each call has a fresh token id. */
export function signEmailLink(key: string, link: Omit<EmailLinkClaims, 'tokenId'> & { tokenId?: string }): string {
  assertKey(key);
  const claims: z.input<typeof claimsSchema> = {
    v: 1,
    i: link.tokenId ?? randomBytes(16).toString('base64url'),
    d: link.draftId,
    r: link.recipient,
    a: link.decision,
    c: link.channelId,
    e: Math.floor(link.expiresAt.getTime() / 1000),
    ...(link.marks ? { m: [link.marks.disabled, link.marks.recipientAdded] as [number, number] } : {}),
  };
  const body = Buffer.from(JSON.stringify(claimsSchema.parse(claims)), 'utf8').toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/**
 * The token's claims if its signature holds under `key` and it has not expired. The draft,
 * recipient and decision are inside the signed claims, so a link cannot be turned to another one.
 */
export function verifyEmailLink(key: string, token: string, now: Date): EmailLinkCheck {
  assertKey(key);
  // Bounded and shaped before any work: a link is short, and only base64url and one dot.
  const match = /^([A-Za-z0-9_-]{16,1024})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, body, signature] = match as unknown as [string, string, string];
  // Compared as text: decoding would ignore the last character's spare bits, so another string would pass for the same MAC.
  if (!tokensMatch(mac(key, body).toString('base64url'), signature)) return { ok: false, reason: 'tampered' };
  let parsed: z.output<typeof claimsSchema>;
  try {
    const result = claimsSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    if (!result.success) return { ok: false, reason: 'malformed' };
    parsed = result.data;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const claims: EmailLinkClaims = {
    tokenId: parsed.i,
    draftId: parsed.d,
    recipient: parsed.r,
    decision: parsed.a,
    channelId: parsed.c,
    expiresAt: new Date(parsed.e * 1000),
    ...(parsed.m ? { marks: { disabled: parsed.m[0], recipientAdded: parsed.m[1] } } : {}),
  };
  if (claims.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

export interface EmailDecisionLinks {
  approveUrl: string;
  rejectUrl: string;
}

/** The pair of links one recipient of one email gets. */
export function emailDecisionLinks(
  key: string,
  baseUrl: string,
  link: { draftId: string; recipient: string; channelId: string; draftExpiresAt: string | null; marks: LinkMarks },
  now: Date,
): EmailDecisionLinks {
  const expiresAt = emailLinkExpiry(link.draftExpiresAt, now);
  const { draftId, channelId, marks } = link;
  const url = (decision: EmailDecision) =>
    `${baseUrl.replace(/\/+$/, '')}${EMAIL_DECISION_PATH}/${signEmailLink(key, { draftId, recipient: link.recipient.toLowerCase(), channelId, decision, expiresAt, marks })}`;
  return { approveUrl: url('approve'), rejectUrl: url('reject') };
}

/**
 * The origin (and any path prefix) the review link was made with: the decision links go to the
 * same deployment, so the delivery function needs no base URL of its own.
 */
export function baseUrlOfReviewUrl(reviewUrl: string, draftId: string): string | undefined {
  const suffix = `/review/${encodeURIComponent(draftId)}`;
  return reviewUrl.endsWith(suffix) ? reviewUrl.slice(0, -suffix.length) : undefined;
}

/** One recipient's links for one notification (from the channel as the delivery read it), or undefined when it offers no decision. */
export type DecisionLinksFor = (
  channel: Pick<WebhookEndpoint, 'id' | 'linksValidFrom' | 'recipientAddedAt'>,
  notification: Notification,
  recipient: string,
) => Promise<EmailDecisionLinks | undefined>;

/**
 * Links only where a decision is possible: a real (not test) pending draft's notification, whose
 * review link says where the deployment is served. The key is read when first needed.
 */
export function decisionLinksFor(key: () => Promise<string>, clock: () => Date = () => new Date()): DecisionLinksFor {
  return async (channel, n, recipient) => {
    if (n.event !== 'draft.created' || n.test || n.draft.status !== 'pending' || !n.draft.reviewUrl) return undefined;
    const baseUrl = baseUrlOfReviewUrl(n.draft.reviewUrl, n.draft.id);
    if (!baseUrl) return undefined;
    const link = {
      draftId: n.draft.id,
      recipient,
      channelId: channel.id,
      draftExpiresAt: n.draft.expiresAt,
      marks: linkMarksOf(channel, recipient.toLowerCase()),
    };
    return emailDecisionLinks(await key(), baseUrl, link, clock());
  };
}
