// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../../domain/zod-config.js';
import { ValidationError } from '../../domain/errors.js';
import { parseOrThrow } from '../../domain/validation.js';
import { formFields } from '../../http/body.js';

/**
 * The interaction payloads this app acts on, as Slack sends them (form field `payload`, JSON).
 * Only the fields used are read; Slack's many others are dropped. Anything else Slack may send
 * (view_closed, shortcuts) parses as `other` and is acknowledged without effect.
 */
const user = z.object({
  id: z.string().check(z.maxLength(64)),
  username: z.optional(z.string().check(z.maxLength(200))),
  name: z.optional(z.string().check(z.maxLength(200))),
});

const blockActions = z.object({
  type: z.literal('block_actions'),
  user,
  trigger_id: z.optional(z.string().check(z.maxLength(500))),
  response_url: z.optional(z.string().check(z.maxLength(2048))),
  actions: z.array(z.object({ action_id: z.string().check(z.maxLength(255)) })).check(z.maxLength(20)),
});

const inputValue = z.object({ value: z.optional(z.nullable(z.string())) });
const viewSubmission = z.object({
  type: z.literal('view_submission'),
  user,
  view: z.object({
    callback_id: z.string().check(z.maxLength(255)),
    private_metadata: z.optional(z.string().check(z.maxLength(3000))),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), inputValue)) }),
  }),
});

const other = z.object({ type: z.string().check(z.maxLength(100)) });

export type BlockActionsPayload = z.output<typeof blockActions>;
export type ViewSubmissionPayload = z.output<typeof viewSubmission>;
export type SlackInteraction = BlockActionsPayload | ViewSubmissionPayload | { type: 'other'; slackType: string };

/** The form-encoded body Slack posts (payload=<JSON>), read after its signature was verified. */
export function parseInteraction(rawBody: string): SlackInteraction {
  const payload = formFields(rawBody).get('payload');
  if (payload === null) throw new ValidationError([{ field: 'payload', message: 'is required (a Slack interaction payload)' }]);
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new ValidationError([{ field: 'payload', message: 'must be JSON' }]);
  }
  const { type } = parseOrThrow(other, json);
  if (type === 'block_actions') return parseOrThrow(blockActions, json);
  if (type === 'view_submission') return parseOrThrow(viewSubmission, json);
  return { type: 'other', slackType: type };
}

/** What the reject modal carries through Slack: the draft and where to update the original message. */
export const rejectModalMetadata = z.strictObject({
  draftId: z.string().check(z.maxLength(64)),
  responseUrl: z.optional(z.string().check(z.maxLength(2048))),
});
export type RejectModalMetadata = z.output<typeof rejectModalMetadata>;
