// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { randomIdGenerator } from '../domain/ids.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { assertDeliverableUrl, type UrlPolicy } from '../webhooks/address-guard.js';
import { changeEndpoint, descriptionSchema, disabledRecord, publicEndpoint, type EndpointStore, type WebhookEndpoint } from '../webhooks/endpoints.js';
import { generateSecret } from '../webhooks/signing-secret.js';
import { DEFAULT_CHANNEL_EVENTS, isChannel, MAX_REMIND_AFTER_MINUTES } from './channels.js';
import { CHANNEL_EVENT_TYPES, type ChannelEventType } from './notification.js';

/** Creating and changing notification channels (POST /v1/notifications, the settings pages); see channels.ts. */

const SLACK_HOST = 'hooks.slack.com';
const MAX_RECIPIENTS = 20;
/** A plain address (local@domain.tld), without display names, spaces or header-breaking characters. */
const EMAIL = /^[^\s@<>()",;:\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

const eventsSchema = z.pipe(
  z
    .array(z.enum(CHANNEL_EVENT_TYPES, { error: `must be one of ${CHANNEL_EVENT_TYPES.join(', ')}` }))
    .check(z.minLength(1, { message: 'must name at least one event' })),
  z.transform((events: ChannelEventType[]) => [...new Set(events)]),
);
const filterSchema = z
  .record(
    z.string().check(z.minLength(1, { message: 'keys must not be empty' }), z.maxLength(100, { message: 'keys must be at most 100 characters' })),
    // z.number() refuses Infinity and NaN already (full zod's .finite() was a no-op).
    z.union([z.string().check(z.maxLength(1000)), z.number(), z.boolean()], { error: 'values must be strings, numbers or booleans' }),
  )
  .check(
    z.refine((f) => Object.keys(f).length <= 10, { message: 'must have at most 10 keys' }),
    z.describe('Only drafts whose metadata has each of these key/value pairs (e.g. {"source": "ai_agent_v1"}) reach the channel.'),
  );
const remindAfterSchema = z
  .number({ error: 'must be a whole number of minutes' })
  .check(
    z.int({ message: 'must be a whole number of minutes' }),
    z.minimum(1, { message: 'must be at least 1 minute' }),
    z.maximum(MAX_REMIND_AFTER_MINUTES, { message: `must be at most ${MAX_REMIND_AFTER_MINUTES} minutes (7 days)` }),
    z.describe('Remind the channel once, this many minutes after a draft was created, if it is still pending.'),
  );
/** An email channel's addresses, on create and on change alike: lower-cased, without repeats. */
// The limit counts distinct addresses: repeats are dropped first, as the README says.
const recipientsSchema = z
  .pipe(
    z
      .array(z.string().check(z.maxLength(254), z.regex(EMAIL, { message: 'must be email addresses such as reviewer@example.com' })))
      .check(z.minLength(1, { message: 'must name at least one address' })),
    z.transform((r: string[]) => [...new Set(r.map((a) => a.toLowerCase()))]),
  )
  .check(z.maxLength(MAX_RECIPIENTS, { message: `must name at most ${MAX_RECIPIENTS} addresses` }));
const common = {
  events: z.optional(eventsSchema),
  description: z.optional(descriptionSchema),
  filter: z.optional(filterSchema),
  remindAfterMinutes: z.optional(remindAfterSchema),
};

export const createChannelSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('slack'),
      url: z
        .string({ error: 'must be a string' })
        .check(z.minLength(1, { message: 'must not be empty' }), z.maxLength(2048, { message: 'must be at most 2048 characters' })),
      ...common,
    }),
    z.strictObject({
      kind: z.literal('email'),
      recipients: recipientsSchema,
      ...common,
    }),
  ],
  { error: 'must be "slack" or "email"' },
);
export type CreateChannelInput = z.output<typeof createChannelSchema>;

/** Changes to a channel's own settings (null clears the filter or the reminder). */
export const updateChannelSchema = z
  .strictObject({
    events: z.optional(eventsSchema),
    description: z.optional(descriptionSchema),
    filter: z.optional(z.nullable(filterSchema)),
    remindAfterMinutes: z.optional(z.nullable(remindAfterSchema)),
    enabled: z.optional(z.boolean()),
    /** Email channels only: replaces the addresses; one taken off loses its links at once. */
    recipients: z.optional(recipientsSchema),
  })
  .check(
    z.refine((patch) => Object.keys(patch).length > 0, {
      message: 'must change at least one of events, description, filter, remindAfterMinutes, enabled, recipients',
    }),
  );
export type UpdateChannelInput = z.output<typeof updateChannelSchema>;

const newChannelId = randomIdGenerator(20);
const mailtoOf = (recipients: string[]) => `mailto:${recipients.join(',')}`;

/** A Slack incoming webhook (https://hooks.slack.com/…), through the same SSRF guard as webhooks; locally a loopback receiver too. */
export async function assertSlackUrl(raw: string, policy: UrlPolicy): Promise<URL> {
  const url = await assertDeliverableUrl(raw, policy);
  const loopback = policy.allowLocalhostHttp && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!loopback && (url.protocol !== 'https:' || url.hostname !== SLACK_HOST))
    throw new ValidationError([{ field: 'url', message: `must be a Slack incoming webhook URL (https://${SLACK_HOST}/services/…)` }]);
  return url;
}

/** POST /v1/notifications: a Slack or email channel, stored as an endpoint of that kind (ids ep_…, like every endpoint). */
export async function createChannel(store: EndpointStore, input: CreateChannelInput, policy: UrlPolicy, now = new Date()) {
  const url = input.kind === 'slack' ? (await assertSlackUrl(input.url, policy)).href : mailtoOf(input.recipients);
  const at = now.toISOString();
  const endpoint: WebhookEndpoint = {
    id: `ep_${newChannelId()}`,
    channel: input.kind,
    url,
    ...(input.kind === 'email' ? { recipients: input.recipients } : {}),
    events: [...(input.events ?? DEFAULT_CHANNEL_EVENTS)],
    description: input.description ?? '',
    enabled: true,
    createdAt: at,
    updatedAt: at,
    // Unused by Slack and email, kept so a channel is a whole endpoint (rotation, listing) like any other.
    secrets: [{ value: generateSecret(), createdAt: at }],
    version: 1,
    ...(input.filter ? { filter: input.filter } : {}),
    ...(input.remindAfterMinutes !== undefined ? { remindAfterMinutes: input.remindAfterMinutes } : {}),
  };
  await store.put(endpoint);
  return publicEndpoint(endpoint, now);
}

/**
 * Changes a channel's settings through the endpoints' optimistic-concurrency loop (no lost
 * update when 20 run at once); a webhook endpoint is refused as not found, it has no such settings.
 */
export async function updateChannel(store: EndpointStore, id: string, patch: UpdateChannelInput, now = new Date()) {
  const updated = await changeEndpoint(store, id, (current) => {
    if (!isChannel(current)) throw new NotFoundError('notification channel', id);
    if (patch.recipients && current.channel !== 'email') throw new ValidationError([{ field: 'recipients', message: 'only an email channel has recipients' }]);
    const { disabledReason: _reason, disabledAt: _at, filter: _filter, remindAfterMinutes: _remind, ...rest } = current;
    const enabled = patch.enabled ?? current.enabled;
    const filter = patch.filter === undefined ? current.filter : (patch.filter ?? undefined);
    const remind = patch.remindAfterMinutes === undefined ? current.remindAfterMinutes : (patch.remindAfterMinutes ?? undefined);
    const next: WebhookEndpoint = {
      ...rest,
      events: patch.events ?? current.events,
      description: patch.description ?? current.description,
      enabled,
      updatedAt: now.toISOString(),
      ...(filter ? { filter } : {}),
      ...(remind !== undefined ? { remindAfterMinutes: remind } : {}),
      ...disabledRecord(current, enabled, now),
      ...(patch.recipients ? recipientsChange(current, patch.recipients, now) : {}),
    };
    return next;
  });
  return publicEndpoint(updated, now);
}

/**
 * New addresses for an email channel, decided on the version the write applies to. An address
 * taken off no longer passes the link check; one put on (back) is dated now, so links it was sent
 * before (while it was on the channel earlier) stay refused.
 */
function recipientsChange(current: WebhookEndpoint, recipients: string[], now: Date): Pick<WebhookEndpoint, 'recipients' | 'url' | 'recipientAddedAt'> {
  const before = new Set(current.recipients ?? []);
  const addedAt: Record<string, string> = {};
  for (const address of recipients) {
    const at = before.has(address) ? current.recipientAddedAt?.[address] : now.toISOString();
    if (at !== undefined) addedAt[address] = at;
  }
  return { recipients, url: mailtoOf(recipients), recipientAddedAt: addedAt };
}
