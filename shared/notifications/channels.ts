import type { Draft } from '../domain/draft.js';
import { deliveryMessage, type DeliveryMessage } from '../webhooks/delivery-message.js';
import type { WebhookEndpoint } from '../webhooks/endpoints.js';
import type { WebhookEvent } from '../webhooks/events.js';
import { CHANNEL_EVENT_TYPES, notificationOf, type ChannelEventType } from './notification.js';

/**
 * Notification channels are webhook endpoints of another kind: they live in the same store, are
 * fanned out, queued, retried, logged, dead-lettered and redriven by the same code; only the last
 * step differs (a Slack Block Kit POST or an email instead of a signed Standard Webhooks POST).
 *
 * This module is what fan-out, reminders and the delivery need; creating and changing channels (their
 * schemas, the URL guard, secrets) is in channel-settings.ts, so those functions do not bundle it.
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

/** Whether a draft's metadata has every pair of the channel's filter. */
export const matchesMetadata = (filter: WebhookEndpoint['filter'], metadata: Record<string, unknown>): boolean =>
  !filter || Object.entries(filter).every(([key, value]) => metadata[key] === value);

const isChannelEvent = (type: string): type is ChannelEventType => (CHANNEL_EVENT_TYPES as readonly string[]).includes(type);

/**
 * The message one endpoint gets for one event: a webhook the signed event itself; a channel the
 * draft as a notification (who decided, the review link), or nothing when its filter does not match.
 */
export function messageFor(endpoint: WebhookEndpoint, event: WebhookEvent, draft: Draft, baseUrl: () => string | undefined): DeliveryMessage | undefined {
  if (!isChannel(endpoint)) return deliveryMessage(event, endpoint);
  if (!isChannelEvent(event.type) || !matchesMetadata(endpoint.filter, draft.metadata)) return undefined;
  return { ...deliveryMessage(event, endpoint), body: JSON.stringify(notificationOf(draft, event.type, baseUrl())) };
}
