// The schemas of a decision's input (approve, reject) and the content and text checks they share
// with draft creation (draft.ts), apart from the create schema: the functions that decide drafts
// (pages, email links, Slack) do not bundle the metadata, expiry and reviewer schemas.
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import './zod-config.js';
import { DRAFT_LIMITS, type JsonObject } from './draft-model.js';

export const wellFormed = (s: string) => s.isWellFormed();
// C0 and C1 controls (tab and newline among them), line and paragraph separators, and the bidi
// marks, embeddings, overrides and isolates: in a one-line label they break or reorder what the
// reviewer reads (U+202E shows "Pay \u202Egpj.exe" as "Pay exe.jpg").
const CONTROL_OR_BIDI = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
export const isSingleLineText = (s: string) => !CONTROL_OR_BIDI.test(s);
export const SINGLE_LINE_MESSAGE = 'must not contain control or bidirectional formatting characters';
export const text = (max: number) =>
  z.string().check(z.maxLength(max, { message: `must be at most ${max} characters` }), z.refine(wellFormed, { message: 'must be valid Unicode text' }));

export const isPlainObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON.parse changes some numbers without a word: 1e400 becomes Infinity (which JSON cannot carry
 * at all), and a whole number written out digit by digit past ±(2^53−1) comes back with other
 * digits (12345678901234567891 becomes 12345678901234567000), so what the reviewer saw and the
 * receiver executes would differ from what was sent. Those are refused. From 10^21 up, numbers
 * travel in exponent form (1e+21, 1e300) as the floating-point value sent, and are kept.
 */
export const isExactNumber = (n: number) => Number.isFinite(n) && (Math.abs(n) <= Number.MAX_SAFE_INTEGER || Math.abs(n) >= 1e21);
export const INEXACT_NUMBER_MESSAGE = `cannot be kept exactly (a whole number beyond ±${Number.MAX_SAFE_INTEGER} loses digits, and 1e400 is not a number JSON can carry): send it as a string`;

/** Nesting depth, and the path of the first number that JSON cannot carry exactly. */
function inspectJson(value: unknown): { depth: number; inexactAt?: PropertyKey[] } {
  // Iterative, so hostile nesting cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number, PropertyKey[]]> = [[value, 1, []]];
  while (stack.length > 0) {
    const [v, d, path] = stack.pop()!;
    if (typeof v === 'number' && !isExactNumber(v)) return { depth: max, inexactAt: path };
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > DRAFT_LIMITS.contentMaxDepth) return { depth: max };
    for (const [key, child] of Object.entries(v)) stack.push([child, d + 1, [...path, Array.isArray(v) ? Number(key) : key]]);
  }
  return { depth: max };
}

export const contentSchema = z.custom<JsonObject>(isPlainObject, { message: 'must be a JSON object' }).check(
  z.superRefine((value, ctx) => {
    const { depth, inexactAt } = inspectJson(value);
    if (depth > DRAFT_LIMITS.contentMaxDepth) {
      ctx.addIssue({ code: 'custom', message: `must not be nested more than ${DRAFT_LIMITS.contentMaxDepth} levels deep` });
    }
    if (inexactAt) ctx.addIssue({ code: 'custom', message: INEXACT_NUMBER_MESSAGE, path: inexactAt });
  }),
);

export const approveSchema = z.strictObject({
  content: z.optional(contentSchema),
  /** The draft's approvalRound as the approver read it: if the content was edited since, the approval is refused (409 content_changed). */
  approvalRound: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000))),
});
export const rejectSchema = z.strictObject({ reason: z.optional(text(DRAFT_LIMITS.rejectionReasonMaxChars)) });
