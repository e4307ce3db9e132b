import { randomBytes } from 'node:crypto';
import type { EmailDecisionLinks } from './email-links.js';
import type { Notification } from './notification.js';
import { contentPreview, escapeHtml, metadataLine, truncate } from './text.js';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

/** One email as a sender sends it. */
export interface OutgoingEmail extends EmailMessage {
  from: string;
  to: string;
}

const PREVIEW_CHARS = 4000;

/**
 * Subject, plain text and HTML of one notification; every draft-supplied string is escaped in the
 * HTML. `links`: this recipient's own Approve and Reject links (pending drafts only), each opening
 * a confirmation page.
 */
export function emailMessage(n: Notification, links?: EmailDecisionLinks): EmailMessage {
  const { draft } = n;
  // A subject is one line: newlines in a hostile title must not start new headers.
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  const title = truncate(oneLine(draft.title), 150);
  const prefix = n.test ? '[Test] ' : '';
  if (n.event !== 'draft.created') {
    const by = draft.decidedBy ? ` by ${draft.decidedBy}` : '';
    const outcome =
      n.event === 'draft.approved'
        ? `Approved${by}`
        : n.event === 'draft.rejected'
          ? `Rejected${by}${draft.rejectionReason ? `: ${draft.rejectionReason}` : ''}`
          : 'Expired undecided';
    const link = draft.reviewUrl ? `\n\n${draft.reviewUrl}` : '';
    return {
      subject: `${prefix}${oneLine(truncate(`${n.event === 'draft.approved' ? 'Approved' : n.event === 'draft.rejected' ? 'Rejected' : 'Expired'}: ${title}`, 200))}`,
      text: `${draft.title}\n\n${outcome}${link}\n`,
      html: page(
        `<h1 style="font-size:18px">${escapeHtml(draft.title)}</h1><p>${escapeHtml(outcome)}</p>${
          draft.reviewUrl ? `<p><a href="${escapeHtml(draft.reviewUrl)}">View the draft</a></p>` : ''
        }`,
      ),
    };
  }
  const lead = n.test ? 'Test notification' : n.reminder ? 'Still waiting for review' : 'Waiting for review';
  const preview = contentPreview(draft.content, PREVIEW_CHARS);
  const meta = metadataLine(draft.metadata, 500);
  const expiry = draft.expiresAt ? `Expires ${draft.expiresAt}` : 'No expiry';
  const text = [
    `${lead}: ${draft.title}`,
    '',
    preview,
    '',
    meta,
    expiry,
    ...(links ? ['', `Approve: ${links.approveUrl}`, `Reject: ${links.rejectUrl}`, 'Each link asks you to confirm; it works once, for you alone.'] : []),
    ...(draft.reviewUrl ? ['', `${links ? 'Edit or review it' : 'Review it'}: ${draft.reviewUrl}`] : []),
    ...(n.test ? ['', 'This is a test; no draft is waiting.'] : []),
  ].join('\n');
  const html = page(
    `<p style="color:#555">${escapeHtml(lead)}</p><h1 style="font-size:18px">${escapeHtml(draft.title)}</h1>` +
      `<pre style="white-space:pre-wrap;background:#f5f5f5;padding:12px">${escapeHtml(preview)}</pre>` +
      `<p style="color:#555">${escapeHtml(meta)}<br>${escapeHtml(expiry)}</p>` +
      (links
        ? `<p><a href="${escapeHtml(links.approveUrl)}" style="${BUTTON}background:#1f7a4d">Approve</a> ` +
          `<a href="${escapeHtml(links.rejectUrl)}" style="${BUTTON}background:#b3261e">Reject</a></p>` +
          '<p style="color:#555;font-size:13px">Each link asks you to confirm; it works once, for you alone.</p>'
        : '') +
      (draft.reviewUrl ? `<p><a href="${escapeHtml(draft.reviewUrl)}" style="font-weight:bold">${links ? 'Edit or review it' : 'Review'}</a></p>` : '') +
      (n.test ? '<p>This is a test; no draft is waiting.</p>' : ''),
  );
  return { subject: `${prefix}${lead}: ${title}`, text: `${text}\n`, html };
}

const BUTTON = 'display:inline-block;padding:8px 16px;border-radius:6px;color:#fff;text-decoration:none;font-weight:bold;';
const page = (body: string) => `<!doctype html><html><body style="font-family:sans-serif">${body}</body></html>`;

/** RFC 2047 for a header value that is not plain ASCII. */
const headerValue = (value: string) => (/^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`);
const base64Lines = (text: string) =>
  (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');

/** The email as an RFC 5322 message (multipart/alternative), for the local outbox's .eml files. */
export function toEml(email: OutgoingEmail, date: Date): string {
  const boundary = `processa-${randomBytes(8).toString('hex')}`;
  return [
    `From: ${email.from}`,
    `To: ${email.to}`,
    `Subject: ${headerValue(email.subject)}`,
    `Date: ${date.toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(email.text),
    `--${boundary}`,
    'Content-Type: text/html; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(email.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
