import { randomIdGenerator } from './ids.js';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import { ValidationError } from './errors.js';
import { actorRecord, APPROVAL_LIMITS, GROUP_NAME_PATTERN, GROUP_PREFIX } from './approvals.js';
import { assertContentSize, DRAFT_LIMITS, KEY_ID_PATTERN, type Actor, type Draft, type JsonObject, type MetadataValue } from './draft-model.js';

export * from './draft-model.js';

const createDraftId = randomIdGenerator(24);
/** 25 characters starting with "c", shaped like the ids in the webhook documentation. */
export const newDraftId = (): string => `c${createDraftId()}`;

const wellFormed = (s: string) => s.isWellFormed();
const text = (max: number) =>
  z.string().check(z.maxLength(max, { message: `must be at most ${max} characters` }), z.refine(wellFormed, { message: 'must be valid Unicode text' }));

const titleSchema = text(DRAFT_LIMITS.titleMaxChars).check(z.refine((s) => s.trim().length > 0, { message: 'must not be empty' }));

const isPlainObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nesting depth, and whether any number is one JSON cannot carry back (1e400 parses to Infinity). */
function inspectJson(value: unknown): { depth: number; nonFinite: boolean } {
  // Iterative, so hostile nesting cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return { depth: max, nonFinite: true };
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > DRAFT_LIMITS.contentMaxDepth) return { depth: max, nonFinite: false };
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return { depth: max, nonFinite: false };
}

const contentSchema = z.custom<JsonObject>(isPlainObject, { message: 'must be a JSON object' }).check(
  z.superRefine((value, ctx) => {
    const { depth, nonFinite } = inspectJson(value);
    if (depth > DRAFT_LIMITS.contentMaxDepth) {
      ctx.addIssue({ code: 'custom', message: `must not be nested more than ${DRAFT_LIMITS.contentMaxDepth} levels deep` });
    }
    if (nonFinite) ctx.addIssue({ code: 'custom', message: 'must not contain numbers too large to represent (e.g. 1e400)' });
  }),
);

// z.number() refuses Infinity and NaN already (full zod's .finite() was a no-op).
const metadataValueSchema = z.union([text(DRAFT_LIMITS.metadataValueMaxChars), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null (metadata is flat)',
});

const metadataSchema = z.pipe(
  z.custom<Record<string, unknown>>(isPlainObject, { message: 'must be an object of scalar values' }).check(
    // Record parsing would silently drop an own "__proto__" key; refuse it instead.
    z.refine((m) => !Object.hasOwn(m, '__proto__'), { message: 'keys must not be "__proto__"' }),
  ),
  z
    .record(
      z
        .string()
        .check(
          z.minLength(1, { message: 'keys must not be empty' }),
          z.maxLength(DRAFT_LIMITS.metadataKeyMaxChars, { message: `keys must be at most ${DRAFT_LIMITS.metadataKeyMaxChars} characters` }),
          z.refine(wellFormed, { message: 'keys must be valid Unicode text' }),
        ),
      metadataValueSchema,
    )
    .check(z.refine((m) => Object.keys(m).length <= DRAFT_LIMITS.metadataMaxKeys, { message: `must have at most ${DRAFT_LIMITS.metadataMaxKeys} keys` })),
);

const expiresAtSchema = z.pipe(
  z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-02-10T12:05:00Z' }),
  z.transform((value: string) => new Date(value).toISOString()),
);

const reviewerRefSchema = z.string({ error: 'must be a string' }).check(
  z.refine((s) => KEY_ID_PATTERN.test(s) || (s.startsWith(GROUP_PREFIX) && GROUP_NAME_PATTERN.test(s.slice(GROUP_PREFIX.length))), {
    message: 'must be an API key id (key_…) or group:<name> (lowercase letters, digits, - and _)',
  }),
);
const reviewersSchema = z.array(reviewerRefSchema, { error: 'must be an array of key ids and group:<name>s' }).check(
  z.minLength(1, { message: 'must name at least one reviewer (leave it out to let any reviewer decide)' }),
  z.maxLength(APPROVAL_LIMITS.maxReviewers, { message: `must name at most ${APPROVAL_LIMITS.maxReviewers} reviewers` }),
  z.refine((list) => new Set(list).size === list.length, { message: 'must not name a reviewer twice' }),
);
const requiredApprovalsSchema = z
  .number({ error: 'must be a number' })
  .check(
    z.int({ message: 'must be a whole number' }),
    z.minimum(1, { message: `must be between 1 and ${APPROVAL_LIMITS.maxRequired}` }),
    z.maximum(APPROVAL_LIMITS.maxRequired, { message: `must be between 1 and ${APPROVAL_LIMITS.maxRequired}` }),
  );

export const createDraftSchema = z.strictObject({
  title: titleSchema,
  content: contentSchema,
  metadata: z.optional(metadataSchema),
  expiresAt: z.optional(expiresAtSchema),
  reviewers: z.optional(reviewersSchema),
  requiredApprovals: z.optional(requiredApprovalsSchema),
});
export type CreateDraftInput = z.output<typeof createDraftSchema>;

export const approveSchema = z.strictObject({
  content: z.optional(contentSchema),
  /** The draft's approvalRound as the approver read it: if the content was edited since, the approval is refused (409 content_changed). */
  approvalRound: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000))),
});
export const rejectSchema = z.strictObject({ reason: z.optional(text(DRAFT_LIMITS.rejectionReasonMaxChars)) });

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
