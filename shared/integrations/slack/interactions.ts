import { approverKeys, slackDecider, type ApiKeyStore } from '../../domain/api-keys.js';
import { AlreadyApprovedError, approvalsOf, ContentChangedError, NotAssignedError, requiredApprovalsOf } from '../../domain/approvals.js';
import { AlreadyDecidedError, DRAFT_LIMITS, DraftExpiredError, isPastExpiry, type Actor, type Decision, type Draft } from '../../domain/draft-model.js';
import { rejectSchema } from '../../domain/draft-decisions.js';
import { decideDraft, type DraftStore } from '../../domain/drafts-service.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { notificationOf, type ChannelEventType } from '../../notifications/notification.js';
import { slackMessage } from '../../notifications/slack-message.js';
import { escapeMrkdwn, truncate } from '../../notifications/text.js';
import { reviewUrlOf } from '../../webhooks/events.js';
import { parseDecisionAction, REASON_INPUT, REJECT_MODAL_CALLBACK_ID } from './actions.js';
import { rejectModalMetadata, type BlockActionsPayload, type SlackInteraction, type ViewSubmissionPayload } from './payloads.js';
import type { SlackApi } from './slack-api.js';

export interface SlackInteractionDeps {
  drafts: DraftStore;
  keys: ApiKeyStore;
  slack: SlackApi;
  /** Whether the bot token is configured: Reject's reason dialog (views.open) needs it. */
  canOpenModals: boolean;
  /** Public origin of the review pages, for the links in updated messages. */
  baseUrl: string;
  warn: (message: string, detail: Record<string, unknown>) => void;
  now?: () => Date;
}

/** The HTTP answer to Slack (a view_submission's errors keep its modal open; nothing else is read) and what was decided. */
export interface InteractionAnswer {
  body?: Record<string, unknown>;
  decided?: 'approved' | 'rejected';
}

export const NOT_ALLOWED = (slackUserId: string) =>
  `You are not allowed to decide Processa drafts from Slack: your Slack user (${escapeMrkdwn(slackUserId.slice(0, 64))}) is not linked to an active reviewer or admin key. ` +
  'An admin can link it (PATCH /v1/keys/{id} with {"slackUserId": "…"}).';
export const REJECT_NEEDS_BOT_TOKEN = (reviewUrl: string) =>
  `Rejecting from Slack asks for a reason in a dialog, which needs the Slack app's bot token, and none is configured. Reject on the review page instead: ${reviewUrl}`;

type Outcome = { kind: 'decided'; draft: Draft } | { kind: 'current'; draft: Draft } | { kind: 'missing' } | { kind: 'refused'; text: string };

export const NOT_ASSIGNED = 'This draft is assigned to other reviewers: only they (or an admin) can decide it.';
export const ALREADY_APPROVED = 'You already approved this draft; it waits for another reviewer’s approval.';
export const CONTENT_CHANGED = (reviewUrl: string) =>
  `This draft was edited after this message was sent, so your approval was not counted: review the new content on the review page: ${reviewUrl}`;
/** An approval short of the quorum: the draft stays pending, so the message (and its buttons) stay for the others. */
export const APPROVAL_RECORDED = (draft: Draft) =>
  `Your approval is recorded: ${approvalsOf(draft).length} of ${requiredApprovalsOf(draft)} approvals. The draft is approved once enough reviewers approve.`;

/** Through the same conditional write as the API: of racing decisions one wins; the others see the winner. */
async function decide(deps: SlackInteractionDeps, draftId: string, decision: Decision, actor: Actor, slackUserId: string): Promise<Outcome> {
  try {
    // approverKeys: approvals by keys revoked since stop counting toward a quorum, as through the API.
    return { kind: 'decided', draft: await decideDraft(deps.drafts, draftId, decision, actor, deps.now?.(), approverKeys(deps.keys)) };
  } catch (error) {
    if (error instanceof AlreadyDecidedError || error instanceof DraftExpiredError) return { kind: 'current', draft: error.current };
    if (error instanceof NotFoundError || error instanceof ValidationError) return { kind: 'missing' };
    // Assignment and quorum (shared/domain/approvals.ts) apply to Slack as to the API: say why, change nothing.
    if (error instanceof NotAssignedError) return { kind: 'refused', text: NOT_ASSIGNED };
    // The linked key was revoked between the click's lookup and the decision's write (which checks it): nothing was decided.
    if (error instanceof UnauthorizedError) return { kind: 'refused', text: NOT_ALLOWED(slackUserId) };
    if (error instanceof AlreadyApprovedError) return { kind: 'refused', text: ALREADY_APPROVED };
    if (error instanceof ContentChangedError) return { kind: 'refused', text: CONTENT_CHANGED(reviewUrlOf(deps.baseUrl, draftId)) };
    throw error;
  }
}

const eventOf = (draft: Draft): ChannelEventType =>
  draft.status === 'approved' ? 'draft.approved' : draft.status === 'rejected' ? 'draft.rejected' : 'draft.expired';

/** The original message, replaced by the outcome: who decided and how (and, when it happened here, by which Slack user). */
export function outcomeMessage(draft: Draft, baseUrl: string, decidedInSlackBy?: string): Record<string, unknown> {
  const message = slackMessage(notificationOf(draft, eventOf(draft), baseUrl));
  const note = decidedInSlackBy ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `Decided in Slack by <@${decidedInSlackBy}>` }] }] : [];
  return { replace_original: true, text: message.text, blocks: [...message.blocks, ...note] };
}

const ephemeral = (text: string) => ({ response_type: 'ephemeral', replace_original: false, text });

/** The modal asking for the reason; private_metadata takes the draft and the message to update along. */
export function rejectModal(draft: Draft, responseUrl: string | undefined): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REJECT_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify({ draftId: draft.id, ...(responseUrl ? { responseUrl } : {}) }),
    title: { type: 'plain_text', text: 'Reject draft' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(truncate(draft.title, 200))}*` } },
      {
        type: 'input',
        block_id: REASON_INPUT.blockId,
        label: { type: 'plain_text', text: 'Reason (the agent is told)' },
        element: { type: 'plain_text_input', action_id: REASON_INPUT.actionId, multiline: true, max_length: DRAFT_LIMITS.rejectionReasonMaxChars },
      },
    ],
  };
}

/**
 * Acts on one verified Slack interaction. Every click re-reads the Slack user's key (a revoked
 * or unlinked key stops deciding at once). Approve decides at once (Slack asked for confirmation);
 * Reject opens the reason modal, whose submission decides. The message is then replaced with the
 * outcome through response_url; a click on an already decided draft shows that outcome instead.
 */
export async function handleSlackInteraction(interaction: SlackInteraction, deps: SlackInteractionDeps): Promise<InteractionAnswer> {
  if (interaction.type === 'block_actions') return onButton(interaction, deps);
  if (interaction.type === 'view_submission') return onReasonSubmitted(interaction, deps);
  return {};
}

async function onButton(interaction: BlockActionsPayload, deps: SlackInteractionDeps): Promise<InteractionAnswer> {
  const action = interaction.actions.map((a) => parseDecisionAction(a.action_id)).find((a) => a !== undefined);
  if (!action) return {};
  const respond = responder(deps, interaction.response_url);
  const actor = await slackDecider(deps.keys, interaction.user.id);
  if (!actor) {
    await respond(ephemeral(NOT_ALLOWED(interaction.user.id)));
    return {};
  }
  if (action.kind === 'approve') {
    const outcome = await decide(deps, action.draftId, { kind: 'approve', seenRound: action.round }, actor, interaction.user.id);
    if (outcome.kind === 'missing') {
      await respond(ephemeral('That draft no longer exists.'));
      return {};
    }
    if (outcome.kind === 'refused') {
      await respond(ephemeral(outcome.text));
      return {};
    }
    if (outcome.kind === 'decided' && outcome.draft.status === 'pending') {
      await respond(ephemeral(APPROVAL_RECORDED(outcome.draft)));
      return {};
    }
    const decidedHere = outcome.kind === 'decided';
    await respond(outcomeMessage(outcome.draft, deps.baseUrl, decidedHere ? interaction.user.id : undefined));
    return decidedHere ? { decided: 'approved' } : {};
  }
  const draft = await deps.drafts.get(action.draftId);
  if (!draft) {
    await respond(ephemeral('That draft no longer exists.'));
    return {};
  }
  if (draft.status !== 'pending' || isPastExpiry(draft, deps.now?.() ?? new Date())) {
    await respond(outcomeMessage(draft.status === 'pending' ? { ...draft, status: 'expired' } : draft, deps.baseUrl));
    return {};
  }
  const reviewUrl = reviewUrlOf(deps.baseUrl, draft.id);
  if (!deps.canOpenModals || !interaction.trigger_id) {
    await respond(ephemeral(REJECT_NEEDS_BOT_TOKEN(reviewUrl)));
    return {};
  }
  try {
    await deps.slack.openView(interaction.trigger_id, rejectModal(draft, interaction.response_url));
  } catch (error) {
    deps.warn('slack views.open failed', { draftId: draft.id, error: String(error) });
    await respond(ephemeral(`The reason dialog could not be opened. Reject on the review page instead: ${reviewUrl}`));
  }
  return {};
}

async function onReasonSubmitted(interaction: ViewSubmissionPayload, deps: SlackInteractionDeps): Promise<InteractionAnswer> {
  const { view } = interaction;
  if (view.callback_id !== REJECT_MODAL_CALLBACK_ID) return {};
  const metadata = parseMetadata(view.private_metadata);
  const errors = (text: string) => ({ body: { response_action: 'errors', errors: { [REASON_INPUT.blockId]: text } } });
  const actor = await slackDecider(deps.keys, interaction.user.id);
  if (!actor) return errors(NOT_ALLOWED(interaction.user.id));
  const reason = (view.state.values[REASON_INPUT.blockId]?.[REASON_INPUT.actionId]?.value ?? '').trim();
  if (!reason) return errors('A reason is required: the agent is told why.');
  const checked = rejectSchema.safeParse({ reason });
  if (!checked.success) return errors(`The reason ${checked.error.issues[0]?.message ?? 'is not valid'}.`);
  const outcome = await decide(deps, metadata.draftId, { kind: 'reject', reason: checked.data.reason }, actor, interaction.user.id);
  if (outcome.kind === 'missing') return errors('That draft no longer exists.');
  if (outcome.kind === 'refused') return errors(outcome.text);
  const respond = responder(deps, metadata.responseUrl);
  if (outcome.kind === 'decided') {
    await respond(outcomeMessage(outcome.draft, deps.baseUrl, interaction.user.id));
    return { decided: 'rejected' };
  }
  await respond(outcomeMessage(outcome.draft, deps.baseUrl));
  const by = outcome.draft.reviewedBy ? ` by ${outcome.draft.reviewedBy.name}` : '';
  return errors(`This draft was already ${outcome.draft.status}${by}; nothing was changed.`);
}

function parseMetadata(raw: string | undefined) {
  try {
    const parsed = rejectModalMetadata.safeParse(JSON.parse(raw ?? ''));
    if (parsed.success) return parsed.data;
  } catch {
    // Falls through to the refusal below.
  }
  throw new ValidationError([{ field: 'payload.view.private_metadata', message: 'is not the reject dialog this app opened' }]);
}

/** Posts to response_url when there is one; a failure is logged, never undoes or hides the decision. */
const responder = (deps: SlackInteractionDeps, responseUrl: string | undefined) => async (message: Record<string, unknown>) => {
  if (!responseUrl) return;
  await deps.slack.respond(responseUrl, message).catch((error: unknown) => deps.warn('slack response_url failed', { error: String(error) }));
};
