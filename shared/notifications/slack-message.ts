import { approveActionId, rejectActionId } from '../integrations/slack/actions.js';
import type { Notification } from './notification.js';
import { contentPreview, escapeMrkdwn, metadataLine, truncate } from './text.js';

/** Slack's own limits: a header's plain text 150 characters, a section's text 3000, a context element 2000. */
const LIMITS = { header: 150, section: 3000, context: 2000, fallback: 3000 } as const;

export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

/**
 * Escaped text no longer than `max` after escaping: the raw text is truncated first (so "&amp;"
 * is never cut in half) and shortened again while its escaped form is still too long.
 */
function escapedWithin(raw: string, max: number, shape: (escaped: string) => string = (s) => s): string {
  let budget = max;
  for (;;) {
    const text = shape(escapeMrkdwn(truncate(raw, budget)));
    if (text.length <= max || budget < 16) return text;
    budget = Math.floor(budget * 0.8);
  }
}

/** Inside a code block, a ``` in the content would end it: a zero-width space keeps the backticks apart. */
const codeBlock = (escaped: string) => '```' + escaped.replace(/```/g, '`\u200b`\u200b`') + '```';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

/** Block Kit for one notification: the waiting draft with a Review button, or the outcome after the decision. */
export function slackMessage(n: Notification): SlackMessage {
  const { draft } = n;
  const title = escapedWithin(draft.title, 200);
  if (n.event !== 'draft.created') {
    const outcome =
      n.event === 'draft.approved'
        ? `:white_check_mark: *${title}* was approved${draft.decidedBy ? ` by ${escapedWithin(draft.decidedBy, 200)}` : ''}`
        : n.event === 'draft.rejected'
          ? `:x: *${title}* was rejected${draft.decidedBy ? ` by ${escapedWithin(draft.decidedBy, 200)}` : ''}${
              draft.rejectionReason ? `: ${escapedWithin(draft.rejectionReason, 1000)}` : ''
            }`
          : `:hourglass: *${title}* expired undecided`;
    const blocks: Array<Record<string, unknown>> = [{ type: 'section', text: { type: 'mrkdwn', text: truncate(outcome, LIMITS.section) } }];
    if (draft.reviewUrl) blocks.push(reviewButton(draft.reviewUrl, 'View'));
    return { text: truncate(outcome, LIMITS.fallback), blocks };
  }
  const lead = n.test ? 'Test notification: ' : n.reminder ? 'Still waiting for review: ' : 'Waiting for review: ';
  const context = [
    metadataLine(draft.metadata, 500),
    draft.expiresAt ? `Expires ${when(draft.expiresAt)}` : 'No expiry',
    n.test ? 'This is a test; no draft is waiting.' : '',
  ].filter(Boolean);
  const blocks: Array<Record<string, unknown>> = [
    // plain_text: Slack renders it literally, so the title needs no escaping, only its length limit.
    { type: 'header', text: { type: 'plain_text', text: truncate(`${lead}${draft.title}`, LIMITS.header), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapedWithin(contentPreview(draft.content, LIMITS.section), LIMITS.section - 6, codeBlock) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: escapedWithin(context.join(' · '), LIMITS.context) }] },
  ];
  // A test notification's draft does not exist: it gets no decision buttons.
  const decide = n.test || draft.status !== 'pending' ? [] : decisionButtons(draft.id, draft.title, draft.approvalRound);
  if (draft.reviewUrl || decide.length > 0)
    blocks.push({ type: 'actions', elements: [...(draft.reviewUrl ? [button(draft.reviewUrl, 'Review', decide.length === 0)] : []), ...decide] });
  return { text: `${escapeMrkdwn(lead)}${title}`, blocks };
}

/**
 * Approve (after Slack's own confirmation) and Reject (which opens a modal for the reason): they
 * reach the Slack app's interactivity URL (POST /v1/integrations/slack/interactions).
 */
function decisionButtons(draftId: string, title: string, round: number | undefined) {
  return [
    {
      type: 'button',
      action_id: approveActionId(draftId, round),
      text: { type: 'plain_text', text: 'Approve' },
      style: 'primary',
      value: draftId,
      confirm: {
        title: { type: 'plain_text', text: 'Approve this draft?' },
        // plain_text: Slack shows it literally; its confirm text may be at most 300 characters.
        text: { type: 'plain_text', text: truncate(`Approve "${title}" as it is now?`, 300) },
        confirm: { type: 'plain_text', text: 'Approve' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    },
    { type: 'button', action_id: rejectActionId(draftId), text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: draftId },
  ];
}

const button = (url: string, label: string, primary: boolean) => ({
  type: 'button',
  text: { type: 'plain_text', text: label },
  url,
  ...(primary ? { style: 'primary' } : {}),
});

const reviewButton = (url: string, label: string) => ({ type: 'actions', elements: [button(url, label, false)] });
