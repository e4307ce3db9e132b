import { approvalsMissing, approvalsOf, GROUP_PREFIX, needsAssignedReview, requiredApprovalsOf, reviewersOf, roundOf } from '../domain/approvals.js';
import { isPastExpiry, type Draft, type DraftStatus, type JsonObject } from '../domain/draft-model.js';
import { html, type SafeHtml } from './html.js';
import type { Viewer } from './layout.js';

/** The list's tabs: "assigned" is the pending drafts naming my key or one of my groups that I have not approved. */
export type ListTab = DraftStatus | 'assigned';

const STATUS_TABS: Array<[ListTab, string]> = [
  ['assigned', 'Assigned to me'],
  ['pending', 'Pending'],
  ['approved', 'Approved'],
  ['rejected', 'Rejected'],
  ['expired', 'Expired'],
];

export function age(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

const when = (iso: string) =>
  html`<time datetime="${iso}">${iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
    .replace(/Z$/, ' UTC')}</time>`;
const badge = (status: string) => html`<span class="badge ${status}">${status}</span>`;

/** A group by its name, a key by its name when the page knows it (a revoked or unknown key by its id). */
const reviewerLabel = (ref: string, names: Readonly<Record<string, string>> = {}) =>
  ref.startsWith(GROUP_PREFIX) ? `group ${ref.slice(GROUP_PREFIX.length)}` : (names[ref] ?? ref);
const names = (draft: Draft) => approvalsOf(draft).map((a) => a.by.name);

/** "1 of 2 approvals (alice)" on drafts that need more than one or have any. */
function approvalsLine(draft: Draft): SafeHtml | '' {
  const required = requiredApprovalsOf(draft);
  const approvals = approvalsOf(draft);
  if (required === 1 && approvals.length === 0) return '';
  const who = approvals.length > 0 ? ` (${names(draft).join(', ')})` : '';
  return html`<span class="approvals">${approvals.length} of ${required} approvals${who}</span>`;
}

export function listPage(viewer: Viewer, view: { status: ListTab; items: Draft[]; nextCursor?: string; pendingCount: number; now: Date }): SafeHtml {
  const tabs = STATUS_TABS.map(
    ([status, label]) =>
      html`<li><a href="/review?status=${status}" ${status === view.status ? html`aria-current="page"` : ''}>${label}${status === 'pending' ? ` (${view.pendingCount})` : ''}</a></li>`,
  );
  const items = view.items.map((d) => {
    const approvals = d.status === 'pending' ? approvalsLine(d) : '';
    return html`<li>
      <a href="/review/${d.id}"><strong>${d.title}</strong></a> ${badge(d.status)}
      <div class="muted">${age(d.createdAt, view.now)}${d.metadata.source !== undefined ? html` · from ${String(d.metadata.source)}` : ''} · by ${d.createdBy.name}${approvals !== '' ? html` · ${approvals}` : ''}</div>
    </li>`;
  });
  const heading =
    view.status === 'assigned'
      ? 'Assigned to me'
      : view.status === 'pending'
        ? `${view.pendingCount} pending ${view.pendingCount === 1 ? 'draft' : 'drafts'}`
        : `${view.status[0]!.toUpperCase()}${view.status.slice(1)} drafts`;
  return html`<h1>${heading}</h1>
    <ul class="tabs">${tabs}</ul>
    <div class="card">${view.items.length === 0 ? html`<p class="muted">Nothing here.</p>` : html`<ul class="drafts">${items}</ul>`}</div>
    ${view.nextCursor ? html`<p><a href="/review?status=${view.status}&amp;cursor=${encodeURIComponent(view.nextCursor)}">Older drafts →</a></p>` : ''}`;
}

const isEmailLike = (content: JsonObject): content is JsonObject & { to: string; subject: string; body: string } =>
  typeof content.to === 'string' && typeof content.subject === 'string' && typeof content.body === 'string';

/** Content as a person reads it: an email as an email, anything else as formatted JSON. */
export function readableContent(content: JsonObject): SafeHtml {
  if (!isEmailLike(content)) return html`<pre>${JSON.stringify(content, null, 2)}</pre>`;
  const { to, subject, body, ...rest } = content;
  return html`<dl><dt>To</dt><dd>${to}</dd><dt>Subject</dt><dd>${subject}</dd>
    ${Object.entries(rest).map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`)}</dl>
    <div class="email-body">${body}</div>`;
}

export interface DraftPageState {
  /** Whether the viewer may decide (assignment, shared/domain/approvals.ts); without it the page offers no buttons. */
  canDecide?: boolean;
  /** The viewer approved the current content already: only an edit (which restarts the quorum) is left. */
  alreadyApproved?: boolean;
  /** The reviewer's edited JSON, kept when it was refused. */
  editText?: string;
  /** Names of the keys assigned by id, to show people rather than ids. */
  reviewerNames?: Readonly<Record<string, string>>;
  error?: string;
  notice?: string;
}

export function draftPage(viewer: Viewer, draft: Draft, state: DraftPageState = {}): SafeHtml {
  const metadata = Object.entries(draft.metadata);
  const expired = draft.status === 'expired' || (draft.status === 'pending' && isPastExpiry(draft, new Date()));
  const decided = draft.status !== 'pending' || expired;
  const canDecide = state.canDecide ?? true;
  const reviewers = reviewersOf(draft);
  const reviewerLabels = reviewers.map((r) => reviewerLabel(r, state.reviewerNames)).join(', ');
  const missing = approvalsMissing(draft);
  const assignment = needsAssignedReview(draft)
    ? html`<section class="card" id="approvals"><h2>Approvals</h2>
      <p>${approvalsLine(draft) || `0 of ${requiredApprovalsOf(draft)} approvals`}</p>
      <p>Who may decide: ${reviewers.length > 0 ? `${reviewerLabels} (and admins)` : 'any reviewer or admin'}.</p>
      ${
        !decided && missing > 0
          ? html`<p id="still-needed">Still needed: ${missing} more ${missing === 1 ? 'approval' : 'approvals'} from ${
              reviewers.length > 0 ? reviewerLabels : 'other reviewers'
            }${approvalsOf(draft).length > 0 ? html`, other than ${names(draft).join(', ')}` : ''}.</p>`
          : ''
      }
      ${draft.status === 'approved' && approvalsOf(draft).length > 0 ? html`<p id="approvers">Approved by ${names(draft).join(', ')}.</p>` : ''}
    </section>`
    : '';
  const history = draft.history.map(
    (h) =>
      html`<li>${h.action} ${h.actor ? html`by ${h.actor.name} (${h.actor.role})` : ''} · ${when(h.at)}${h.contentEdited ? ' · content edited' : ''}${h.reason ? html` · “${h.reason}”` : ''}</li>`,
  );
  return html`<p><a href="/review">← All drafts</a></p>
    <h1>${draft.title} ${badge(draft.status)}</h1>
    ${state.notice ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
    ${state.error ? html`<p class="notice error" role="alert">${state.error}</p>` : ''}
    ${
      decided && draft.reviewedBy && draft.reviewedAt
        ? html`<p class="notice" id="decided">${draft.status === 'approved' ? 'Approved' : 'Rejected'} by ${draft.reviewedBy.name} (${draft.reviewedBy.role}) · ${when(draft.reviewedAt)}${draft.rejectionReason ? html` · reason: “${draft.rejectionReason}”` : ''}</p>`
        : ''
    }
    ${expired ? html`<p class="notice error" id="expired">Expired at ${when(draft.expiresAt!)}; it can no longer be decided.</p>` : ''}
    ${!decided && draft.expiresAt ? html`<p class="notice">Decide before ${when(draft.expiresAt)}.</p>` : ''}
    ${assignment}
    <section class="card"><h2>Content</h2>${readableContent(draft.content)}
      <details><summary class="muted">As JSON</summary><pre>${JSON.stringify(draft.content, null, 2)}</pre></details>
      ${draft.originalContent ? html`<details><summary class="muted">Original content from the agent</summary><pre>${JSON.stringify(draft.originalContent, null, 2)}</pre></details>` : ''}
    </section>
    <section class="card"><h2>Details</h2><dl>
      <dt>Created</dt><dd>${when(draft.createdAt)} by ${draft.createdBy.name}</dd>
      ${metadata.map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}
      <dt>Id</dt><dd>${draft.id}</dd></dl></section>
    ${!decided && !canDecide ? html`<p class="notice" id="not-assigned">This draft is assigned to other reviewers; you cannot decide it.</p>` : ''}
    ${!decided && canDecide && state.alreadyApproved ? html`<p class="notice" id="already-approved">You approved this content; it waits for other reviewers. Editing it would clear the approvals and restart.</p>` : ''}
    ${
      decided || !canDecide
        ? ''
        : html`<section class="card"><h2>Decide</h2>
      <form method="post" action="/review/${draft.id}/approve">
        <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
        <input type="hidden" name="round" value="${String(roundOf(draft))}">
        <label for="content">Content to approve (edit the JSON to change it)</label>
        <textarea id="content" name="content" spellcheck="false">${state.editText ?? JSON.stringify(draft.content, null, 2)}</textarea>
        <div class="actions"><button type="submit">Approve</button></div>
      </form>
      <form method="post" action="/review/${draft.id}/reject">
        <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
        <label for="reason">Reason for rejecting (optional)</label>
        <input id="reason" name="reason" type="text" maxlength="1000">
        <div class="actions"><button class="danger" type="submit">Reject</button></div>
      </form></section>`
    }
    <section class="card"><h2>History</h2><ul>${history}</ul></section>`;
}
