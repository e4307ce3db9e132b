import { randomIdGenerator } from '../domain/ids.js';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import type { Draft } from '../domain/draft.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { assertDeliverableUrl, type UrlPolicy } from '../webhooks/address-guard.js';
import { deliveryMessage, type DeliveryMessage } from '../webhooks/delivery-message.js';
import { changeEndpoint, publicEndpoint, type EndpointStore, type WebhookEndpoint } from '../webhooks/endpoints.js';
import type { WebhookEvent } from '../webhooks/events.js';
import { generateSecret } from '../webhooks/signing.js';
import { CHANNEL_EVENT_TYPES, notificationOf, type ChannelEventType } from './notification.js';

/**
 * Notification channels are webhook endpoints of another kind: they live in the same store, are
 * fanned out, queued, retried, logged, dead-lettered and redriven by the same code; only the last
 * step differs (a Slack Block Kit POST or an email instead of a signed Standard Webhooks POST).
 */
export const CHANNEL_KINDS = ['slack', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** What a new channel is told about by default: a draft waits, and what became of it. */
export const DEFAULT_CHANNEL_EVENTS: readonly ChannelEventType[] = ['draft.created', 'draft.approved', 'draft.rejected'];

export const isChannel = (endpoint: Pick<WebhookEndpoint, 'channel'>): endpoint is WebhookEndpoint & { channel: ChannelKind } =>
  endpoint.channel === 'slack' || endpoint.channel === 'email';

/** A week at most: past that a draft has usually expired or been forgotten on purpose. */
export const MAX_REMIND_AFTER_MINUTES = 7 * 24 * 60;

/** The channel's reminder threshold, when it has one (webhooks never have one). */
export const remindAfterOf = (endpoint: WebhookEndpoint): number | undefined => (isChannel(endpoint) ? endpoint.remindAfterMinutes : undefined);

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
const descriptionSchema = z.string().check(
  z.maxLength(500, { message: 'must be at most 500 characters' }),
  z.refine((s) => s.isWellFormed(), { message: 'must be valid Unicode text' }),
);
const remindAfterSchema = z
  .number({ error: 'must be a whole number of minutes' })
  .check(
    z.int({ message: 'must be a whole number of minutes' }),
    z.minimum(1, { message: 'must be at least 1 minute' }),
    z.maximum(MAX_REMIND_AFTER_MINUTES, { message: `must be at most ${MAX_REMIND_AFTER_MINUTES} minutes (7 days)` }),
    z.describe('Remind the channel once, this many minutes after a draft was created, if it is still pending.'),
  );
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
      recipients: z.pipe(
        z
          .array(z.string().check(z.maxLength(254), z.regex(EMAIL, { message: 'must be email addresses such as reviewer@example.com' })))
          .check(
            z.minLength(1, { message: 'must name at least one address' }),
            z.maxLength(MAX_RECIPIENTS, { message: `must name at most ${MAX_RECIPIENTS} addresses` }),
          ),
        z.transform((r: string[]) => [...new Set(r.map((a) => a.toLowerCase()))]),
      ),
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
  })
  .check(
    z.refine((patch) => Object.keys(patch).length > 0, { message: 'must change at least one of events, description, filter, remindAfterMinutes, enabled' }),
  );
export type UpdateChannelInput = z.output<typeof updateChannelSchema>;

const newChannelId = randomIdGenerator(20);

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
  const url = input.kind === 'slack' ? (await assertSlackUrl(input.url, policy)).href : `mailto:${input.recipients.join(',')}`;
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
      // As for webhooks: enabling clears the record; disabling by hand records it.
      ...(!enabled
        ? current.enabled
          ? { disabledReason: 'manual' as const, disabledAt: now.toISOString() }
          : { disabledReason: current.disabledReason, disabledAt: current.disabledAt }
        : {}),
    };
    return next;
  });
  return publicEndpoint(updated, now);
}

/** Whether a draft's metadata has every pair of the channel's filter. */
export const matchesMetadata = (filter: WebhookEndpoint['filter'], metadata: Record<string, unknown>): boolean =>
  !filter || Object.entries(filter).every(([key, value]) => metadata[key] === value);

const isChannelEvent = (type: string): type is ChannelEventType => (CHANNEL_EVENT_TYPES as readonly string[]).includes(type);

/**
 * The message one endpoint gets for one event: a webhook the signed event itself; a channel the
 * draft as a notification (who decided, the review link), or nothing when its filter does not match.
 */
export function messageFor(endpoint: WebhookEndpoint, event: WebhookEvent, draft: Draft, baseUrl: () => string | undefined): DeliveryMessage | undefined {
  if (!isChannel(endpoint)) return deliveryMessage(event, endpoint.id);
  if (!isChannelEvent(event.type) || !matchesMetadata(endpoint.filter, draft.metadata)) return undefined;
  return { ...deliveryMessage(event, endpoint.id), body: JSON.stringify(notificationOf(draft, event.type, baseUrl())) };
}
