import { AlreadyDecidedError, DraftExpiredError, isPastExpiry, type Actor, type Draft } from '../domain/draft-model.js';
import { rejectSchema } from '../domain/draft-decisions.js';
import { decideReadDraft, type DraftStore } from '../domain/drafts-service.js';
import { DomainError, ValidationError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/validation.js';
import type { EndpointStore } from '../webhooks/endpoints.js';
import { linkEndedBy, linkMarksOf, verifyEmailLink, type EmailLinkClaims, type EmailLinkRefusal } from './email-links.js';

/** The record that a link decided its draft; kept until the link would have expired anyway. */
export interface EmailLinkUse {
  tokenId: string;
  draftId: string;
  recipient: string;
  decision: 'approve' | 'reject';
  usedAt: string;
  expiresAtEpoch: number;
}

export interface EmailLinkUseStore {
  /** Writes the use only if this token has none (a conditional put); false when it had one. */
  record(use: EmailLinkUse): Promise<boolean>;
  get(tokenId: string): Promise<EmailLinkUse | undefined>;
}

export interface EmailLinkDeps {
  key: () => Promise<string>;
  drafts: DraftStore;
  channels: Pick<EndpointStore, 'get'>;
  uses: EmailLinkUseStore;
}

export type LinkRefusal = EmailLinkRefusal | 'channel-gone' | 'not-recipient' | 'draft-missing';

/** What a link leads to: refused, a draft that can no longer be decided, or one waiting for this recipient's decision. */
export type EmailLinkState =
  | { kind: 'refused'; reason: LinkRefusal }
  | { kind: 'closed'; draft: Draft; claims: EmailLinkClaims }
  | { kind: 'open'; draft: Draft; claims: EmailLinkClaims };

type EmailLinkOutcome =
  | Exclude<EmailLinkState, { kind: 'open' }>
  | { kind: 'decided'; draft: Draft; claims: EmailLinkClaims }
  /** Refused for the input or the draft's rules (a missing reason, the review page required), with the link as it was opened. */
  | { kind: 'problem'; error: DomainError; draft: Draft; claims: EmailLinkClaims };

/**
 * Who decided through a link: the recipient, on behalf of the email channel. reviewedBy keeps the
 * Actor shape every client and the OpenAPI document know ({keyId, name, role}: keyId a string):
 * keyId is the channel's id (ep_…, never an API key id, which starts key_), name the address.
 */
export const emailActor = (claims: Pick<EmailLinkClaims, 'channelId' | 'recipient'>): Actor => ({
  keyId: claims.channelId,
  name: claims.recipient,
  role: 'reviewer',
});

/**
 * Checks a link from top to bottom without changing anything (the confirmation page, and the
 * first half of a decision): signature and expiry; the channel that sent it still exists, is an
 * enabled email channel and still lists the recipient (disabling or deleting a channel, or
 * removing an address, ends its links); neither a disable nor the address being put back came
 * after the link was made (ended links stay ended when either comes back: linkEndedBy); the
 * draft exists; this link has not been used; the draft is still pending and not past its expiry.
 */
export async function openEmailLink(deps: EmailLinkDeps, token: string, now = new Date()): Promise<EmailLinkState> {
  const checked = verifyEmailLink(await deps.key(), token, now);
  if (!checked.ok) return { kind: 'refused', reason: checked.reason };
  const { claims } = checked;
  const channel = await deps.channels.get(claims.channelId);
  if (!channel || channel.channel !== 'email' || !channel.enabled) return { kind: 'refused', reason: 'channel-gone' };
  if (!(channel.recipients ?? []).includes(claims.recipient)) return { kind: 'refused', reason: 'not-recipient' };
  const endedBy = linkEndedBy(claims, linkMarksOf(channel, claims.recipient));
  if (endedBy) return { kind: 'refused', reason: endedBy === 'channel' ? 'channel-gone' : 'not-recipient' };
  const [draft, use] = await Promise.all([deps.drafts.get(claims.draftId), deps.uses.get(claims.tokenId)]);
  if (!draft) return { kind: 'refused', reason: 'draft-missing' };
  if (use || draft.status !== 'pending' || isPastExpiry(draft, now)) return { kind: 'closed', draft, claims };
  return { kind: 'open', draft, claims };
}

/** The reject form's reason: required here (the link is the whole review), with the API's limits. */
export function rejectionReason(raw: string | null): string {
  const reason = (raw ?? '').trim();
  if (reason === '') throw new ValidationError([{ field: 'reason', message: 'is required: say why it is rejected' }]);
  return parseOrThrow(rejectSchema, { reason }).reason!;
}

/**
 * Decides through a link, once. The decision is the API's own conditional write (decideReadDraft):
 * of racing links, pages and API calls exactly one wins and one webhook leaves; the losers see the
 * state that won. The link's use is recorded strictly after that write, conditionally: a crash in
 * between leaves a decided draft whose link is refused as decided, never a used link without a
 * decision, and a draft is never decided twice because the write itself only applies to a pending draft.
 */
export async function decideByEmailLink(deps: EmailLinkDeps, token: string, form: { reason: string | null }, now = new Date()): Promise<EmailLinkOutcome> {
  const state = await openEmailLink(deps, token, now);
  if (state.kind !== 'open') return state;
  const { claims } = state;
  let draft: Draft;
  try {
    const decision = claims.decision === 'approve' ? { kind: 'approve' as const } : { kind: 'reject' as const, reason: rejectionReason(form.reason) };
    // The draft openEmailLink read, not re-read: the conditional write decides a race.
    draft = await decideReadDraft(deps.drafts, state.draft, decision, emailActor(claims), now);
  } catch (error) {
    if (error instanceof AlreadyDecidedError || error instanceof DraftExpiredError) return { kind: 'closed', draft: error.current, claims };
    if (error instanceof DomainError) return { kind: 'problem', error, draft: state.draft, claims };
    throw error;
  }
  await deps.uses.record({
    tokenId: claims.tokenId,
    draftId: claims.draftId,
    recipient: claims.recipient,
    decision: claims.decision,
    usedAt: now.toISOString(),
    expiresAtEpoch: Math.floor(claims.expiresAt.getTime() / 1000),
  });
  return { kind: 'decided', draft, claims };
}
