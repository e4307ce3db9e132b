import type { Draft } from '../domain/draft.js';
import { DRAFT_LIMITS } from '../domain/draft-model.js';
import { EMAIL_DECISION_PATH, type EmailLinkClaims } from '../notifications/email-links.js';
import type { LinkRefusal } from '../notifications/email-links-decision.js';
import { html, type SafeHtml } from './html.js';
import { readableContent } from './review-views.js';

const when = (iso: string) => html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC')}</time>`;
const reviewLink = (draft: Pick<Draft, 'id'>) => html`<a href="/review/${draft.id}">the full review page</a>`;

function draftCard(draft: Draft): SafeHtml {
  const details = [
    ...Object.entries(draft.metadata).map(([k, v]) => `${k}: ${String(v)}`),
    ...(draft.expiresAt ? [`expires ${draft.expiresAt.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC')}`] : []),
  ];
  return html`<div class="card">
    <h2>${draft.title}</h2>
    ${readableContent(draft.content)}
    ${details.length > 0 ? html`<p class="muted">${details.join(' · ')}</p>` : ''}
  </div>`;
}

/** GET: what the link would do, and the one button that does it (nothing is decided until it is pressed). */
export function confirmPage(view: { draft: Draft; claims: EmailLinkClaims; token: string; csrf: string; error?: string; reason?: string }): SafeHtml {
  const { draft, claims } = view;
  const approve = claims.decision === 'approve';
  return html`<h1>${approve ? 'Approve this draft?' : 'Reject this draft?'}</h1>
    <p class="muted">You are deciding as <strong>${claims.recipient}</strong>, from a notification email. Nothing has been decided yet.</p>
    ${view.error ? html`<p class="notice error" role="alert">${view.error}</p>` : ''}
    ${draftCard(draft)}
    <form class="card" method="post" action="${EMAIL_DECISION_PATH}/${view.token}">
      <input type="hidden" name="_csrf" value="${view.csrf}">
      ${
        approve
          ? html`<p>The agent's content is approved exactly as shown. To change it first, use ${reviewLink(draft)} (sign-in needed).</p>`
          : html`<label for="reason">Reason for rejecting (required)</label>
            <textarea id="reason" name="reason" required maxlength="${DRAFT_LIMITS.rejectionReasonMaxChars}">${view.reason ?? ''}</textarea>`
      }
      <div class="actions"><button type="submit" ${approve ? '' : html`class="danger"`}>${approve ? 'Approve' : 'Reject'}</button></div>
    </form>`;
}

/** POST that decided: the outcome, as the webhook now carries it. */
export function decidedPage(draft: Draft): SafeHtml {
  return html`<h1>${draft.status === 'approved' ? 'Approved' : 'Rejected'}</h1>
    <p class="notice">Recorded as ${draft.status} by ${draft.reviewedBy?.name ?? 'you'}${draft.reviewedAt ? html` at ${when(draft.reviewedAt)}` : ''}. The agent is told now; there is nothing else to do.</p>
    ${draft.rejectionReason ? html`<p>Reason: ${draft.rejectionReason}</p>` : ''}
    ${draftCard(draft)}`;
}

/** The link was used, or the draft was decided or expired by any other way: who and when. */
export function closedPage(draft: Draft): SafeHtml {
  const outcome =
    draft.status === 'pending' || draft.status === 'expired'
      ? html`This draft expired${draft.expiresAt ? html` at ${when(draft.expiresAt)}` : ''} and can no longer be decided.`
      : html`Already decided: ${draft.status} by ${draft.reviewedBy?.name ?? 'someone'}${draft.reviewedAt ? html` at ${when(draft.reviewedAt)}` : ''}.`;
  return html`<h1>Nothing left to decide</h1>
    <p class="notice" role="status">${outcome}</p>
    ${draft.rejectionReason ? html`<p>Reason: ${draft.rejectionReason}</p>` : ''}
    ${draftCard(draft)}`;
}

/** The link is fine but this decision cannot be made here (the domain refused it): why, and where to go instead. */
export function cannotDecidePage(message: string, draft?: Draft): SafeHtml {
  return html`<h1>This cannot be decided from the email</h1>
    <p class="notice error" role="alert">${message}</p>
    ${draft ? html`<p>Open ${reviewLink(draft)} (sign-in needed).</p>${draftCard(draft)}` : html`<p><a href="/review">Go to the review page</a> (sign-in needed).</p>`}`;
}

const REFUSALS: Record<LinkRefusal, { status: number; message: string }> = {
  malformed: { status: 400, message: 'This link is incomplete or not a Processa decision link. Copy the whole link from the email, or use the review page.' },
  tampered: { status: 403, message: 'This link has been changed since it was sent, so it cannot be used.' },
  expired: { status: 410, message: 'This link has expired (links last 7 days, and never longer than the draft). Use the review page instead.' },
  'channel-gone': {
    status: 410,
    message: 'The notification channel that sent this link has been disabled or deleted, so its links no longer work. Use the review page instead.',
  },
  'not-recipient': { status: 403, message: 'This address no longer receives this channel’s notifications, so its links no longer work.' },
  'draft-missing': { status: 404, message: 'The draft this link is about does not exist.' },
};

export function refusedPage(reason: LinkRefusal): { status: number; body: SafeHtml } {
  const { status, message } = REFUSALS[reason];
  return {
    status,
    body: html`<h1>This link cannot be used</h1>
      <p class="notice error" role="alert">${message}</p>
      <p><a href="/review">Go to the review page</a> (sign-in needed).</p>`,
  };
}
