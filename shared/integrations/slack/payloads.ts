// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { parseOrThrow } from '../../domain/validation.js';
import { formFields } from '../../http/body.js';

/**
 * The interaction payloads this app acts on, as Slack sends them (form field `payload`, JSON).
 * Only the fields used are read; Slack's many others are dropped. Anything else Slack may send
 * (view_closed, shortcuts) parses as `other` and is acknowledged without effect.
 */
const user = z.object({
  id: z.string().max(64),
  username: z.string().max(200).optional(),
  name: z.string().max(200).optional(),
});

const blockActions = z.object({
  type: z.literal('block_actions'),
  user,
  trigger_id: z.string().max(500).optional(),
  response_url: z.string().max(2048).optional(),
  actions: z.array(z.object({ action_id: z.string().max(255) })).max(20),
});

const inputValue = z.object({ value: z.string().nullable().optional() });
const viewSubmission = z.object({
  type: z.literal('view_submission'),
  user,
  view: z.object({
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000).optional(),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), inputValue)) }),
  }),
});

const other = z.object({ type: z.string().max(100) });

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
export const rejectModalMetadata = z.strictObject({ draftId: z.string().max(64), responseUrl: z.string().max(2048).optional() });
export type RejectModalMetadata = z.output<typeof rejectModalMetadata>;
