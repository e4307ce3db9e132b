import { DRAFT_ID_PATTERN } from '../../domain/draft-model.js';

/**
 * The Approve and Reject buttons' action_ids carry the draft's id (and nothing else is trusted
 * from a click: the button's value is ignored). The modal asking for a reject reason has its own
 * callback_id and carries the draft id in private_metadata, which Slack returns signed.
 */
export type SlackDecisionAction = { kind: 'approve' | 'reject'; draftId: string; round?: number };

/** Approve also carries the approval round the message showed: the approval counts only for that content. */
export const approveActionId = (draftId: string, round?: number) => `processa_approve:${draftId}${round === undefined ? '' : `:r${round}`}`;
export const rejectActionId = (draftId: string) => `processa_reject:${draftId}`;
export const REJECT_MODAL_CALLBACK_ID = 'processa_reject_reason';
/** The modal's input block and element ids: Slack reports the typed reason under both. */
export const REASON_INPUT = { blockId: 'reason', actionId: 'reason' } as const;

export function parseDecisionAction(actionId: string): SlackDecisionAction | undefined {
  const match = /^processa_(approve|reject):([^:]+)(?::r(\d{1,7}))?$/.exec(actionId);
  if (!match || !DRAFT_ID_PATTERN.test(match[2]!)) return undefined;
  return { kind: match[1] as 'approve' | 'reject', draftId: match[2]!, ...(match[3] !== undefined ? { round: Number(match[3]) } : {}) };
}
