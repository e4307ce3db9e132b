// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { DRAFT_STATUSES } from '../domain/draft-model.js';

/** ?limit= on every listing: 1–100. */
const limitSchema = z.pipe(
  z.pipe(z.string().check(z.regex(/^\d+$/, { message: 'must be a whole number' })), z.transform(Number)),
  z.number().check(z.int(), z.minimum(1, { message: 'must be at least 1' }), z.maximum(100, { message: 'must be at most 100' })),
);
const cursorSchema = z.string().check(z.maxLength(2048, { message: 'is not a valid cursor' }));

/** ?limit=&cursor= as every paginated admin listing takes it. */
export const pageQuerySchema = z.strictObject({ limit: z.optional(limitSchema), cursor: z.optional(cursorSchema) });

/** GET /v1/drafts?status=&limit=&cursor= */
export const listDraftsQuerySchema = z.extend(pageQuerySchema, {
  status: z.optional(z.enum(DRAFT_STATUSES, { error: `must be one of ${DRAFT_STATUSES.join(', ')}` })),
  assignedTo: z
    .optional(z.literal('me', { error: 'must be "me"' }))
    .check(z.describe('me: the pending drafts assigned to the calling key (by id or one of its groups) that it has not approved yet')),
});
