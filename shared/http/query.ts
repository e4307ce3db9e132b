// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { DRAFT_STATUSES } from '../domain/draft.js';

/** ?limit= on every listing: 1–100. */
const limitSchema = z
  .string()
  .regex(/^\d+$/, { message: 'must be a whole number' })
  .transform(Number)
  .pipe(z.number().int().min(1, { message: 'must be at least 1' }).max(100, { message: 'must be at most 100' }));
const cursorSchema = z.string().max(2048, { message: 'is not a valid cursor' });

/** ?limit=&cursor= as every paginated admin listing takes it. */
export const pageQuerySchema = z.strictObject({ limit: limitSchema.optional(), cursor: cursorSchema.optional() });

/** GET /v1/drafts?status=&limit=&cursor= */
export const listDraftsQuerySchema = pageQuerySchema.extend({
  status: z.enum(DRAFT_STATUSES, { error: `must be one of ${DRAFT_STATUSES.join(', ')}` }).optional(),
  assignedTo: z
    .literal('me', { error: 'must be "me"' })
    .optional()
    .describe('me: the pending drafts assigned to the calling key (by id or one of its groups) that it has not approved yet'),
});
