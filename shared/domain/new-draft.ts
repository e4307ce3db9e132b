// Creating a draft from validated input, apart from the schemas that validate it (draft.ts), so the
// drafts service does not bring those schemas into functions that never create a draft.
import { randomIdGenerator } from './ids.js';
import { ValidationError } from './errors.js';
import { actorRecord } from './approvals.js';
import { assertContentSize, DRAFT_LIMITS, type Actor, type Draft, type MetadataValue } from './draft-model.js';
import type { CreateDraftInput } from './draft.js';

const createDraftId = randomIdGenerator(24);
/** 25 characters starting with "c", shaped like the ids in the webhook documentation. */
export const newDraftId = (): string => `c${createDraftId()}`;

function assertExpiryWindow(expiresAt: string, now: Date): void {
  const ahead = (Date.parse(expiresAt) - now.getTime()) / 1000;
  if (ahead < DRAFT_LIMITS.expiresMinSeconds || ahead > DRAFT_LIMITS.expiresMaxSeconds) {
    throw new ValidationError([{ field: 'expiresAt', message: 'must be between one minute and one year from now' }]);
  }
}

export function newDraft(input: CreateDraftInput, creator: Actor, now: Date): Draft {
  assertContentSize(input.content);
  if (input.expiresAt !== undefined) assertExpiryWindow(input.expiresAt, now);
  const at = now.toISOString();
  const actor = actorRecord(creator);
  return {
    id: newDraftId(),
    title: input.title,
    content: input.content,
    metadata: (input.metadata ?? {}) as Record<string, MetadataValue>,
    status: 'pending',
    createdAt: at,
    createdBy: actor,
    ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
    reviewers: input.reviewers ?? [],
    requiredApprovals: input.requiredApprovals ?? 1,
    approvals: [],
    approvalRound: 0,
    history: [{ action: 'created', at, actor }],
  };
}
