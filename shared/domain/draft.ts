// The create-draft schema. The model (draft-model.ts), the decision schemas (draft-decisions.ts) and
// newDraft (new-draft.ts) live apart so each function bundles only the schemas it parses; all re-exported here.
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import { APPROVAL_LIMITS, GROUP_NAME_PATTERN, GROUP_PREFIX } from './approvals.js';
import { DRAFT_LIMITS, KEY_ID_PATTERN } from './draft-model.js';
import {
  contentSchema,
  INEXACT_NUMBER_MESSAGE,
  isExactNumber,
  isPlainObject,
  isSingleLineText,
  SINGLE_LINE_MESSAGE,
  text,
  wellFormed,
} from './draft-decisions.js';

export * from './draft-model.js';
export * from './new-draft.js';
export { approveSchema, rejectSchema } from './draft-decisions.js';

const titleSchema = text(DRAFT_LIMITS.titleMaxChars).check(
  z.refine((s) => s.trim().length > 0, { message: 'must not be empty' }),
  z.refine(isSingleLineText, { message: SINGLE_LINE_MESSAGE }),
);

// z.number() refuses Infinity and NaN already (full zod's .finite() was a no-op). The exactness
// check sits after the union so that its message, not the union's, names the problem.
const metadataValueSchema = z
  .union([text(DRAFT_LIMITS.metadataValueMaxChars), z.number(), z.boolean(), z.null()], {
    error: 'must be a string, number, boolean or null (metadata is flat)',
  })
  .check(z.refine((v) => typeof v !== 'number' || isExactNumber(v), { message: INEXACT_NUMBER_MESSAGE }));

const metadataSchema = z.pipe(
  z.custom<Record<string, unknown>>(isPlainObject, { message: 'must be an object of scalar values' }).check(
    // Record parsing would silently drop an own "__proto__" key; refuse it instead.
    z.refine((m) => !Object.hasOwn(m, '__proto__'), { message: 'keys must not be "__proto__"' }),
    // Here rather than on the record's keys, whose failures zod reports only as "Invalid key in record".
    z.refine((m) => Object.keys(m).every(isSingleLineText), { message: `keys ${SINGLE_LINE_MESSAGE}` }),
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

// null means no expiry, as absent does: every draft reads back "expiresAt": null, and a client may send back what it read.
const expiresAtSchema = z.pipe(
  z.nullable(
    z.pipe(
      z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-02-10T12:05:00Z' }),
      z.transform((value: string) => new Date(value).toISOString()),
    ),
  ),
  z.transform((value: string | null) => value ?? undefined),
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
