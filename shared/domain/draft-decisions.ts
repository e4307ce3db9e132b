// The schemas of a decision's input (approve, reject) and the content and text checks they share
// with draft creation (draft.ts), apart from the create schema: the functions that decide drafts
// (pages, email links, Slack) do not bundle the metadata, expiry and reviewer schemas.
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import { DRAFT_LIMITS, type JsonObject } from './draft-model.js';

export const wellFormed = (s: string) => s.isWellFormed();
export const text = (max: number) =>
  z.string().check(z.maxLength(max, { message: `must be at most ${max} characters` }), z.refine(wellFormed, { message: 'must be valid Unicode text' }));

export const isPlainObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

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

export const contentSchema = z.custom<JsonObject>(isPlainObject, { message: 'must be a JSON object' }).check(
  z.superRefine((value, ctx) => {
    const { depth, nonFinite } = inspectJson(value);
    if (depth > DRAFT_LIMITS.contentMaxDepth) {
      ctx.addIssue({ code: 'custom', message: `must not be nested more than ${DRAFT_LIMITS.contentMaxDepth} levels deep` });
    }
    if (nonFinite) ctx.addIssue({ code: 'custom', message: 'must not contain numbers too large to represent (e.g. 1e400)' });
  }),
);

export const approveSchema = z.strictObject({
  content: z.optional(contentSchema),
  /** The draft's approvalRound as the approver read it: if the content was edited since, the approval is refused (409 content_changed). */
  approvalRound: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000))),
});
export const rejectSchema = z.strictObject({ reason: z.optional(text(DRAFT_LIMITS.rejectionReasonMaxChars)) });
