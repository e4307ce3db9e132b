import { randomIdGenerator } from '../domain/ids.js';
// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { assertDeliverableUrl, type UrlPolicy } from './address-guard.js';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES, type EventType } from './events.js';
import { retrySettingSchema, type RetrySetting } from './retry-policy.js';
import { generateSecret } from './signing-secret.js';

/** After a rotation the previous secret keeps signing this long, so receivers can switch without downtime. */
export const PREVIOUS_SECRET_GRACE_SECONDS = 24 * 60 * 60;
/**
 * Rotated-out secrets still in their grace period, at most. Each one adds a signature to every
 * delivery, so the list is bounded; a rotation past it is refused rather than cutting a promised
 * grace period short.
 */
export const MAX_SECRETS_IN_GRACE = 20;
/** Optimistic-concurrency rounds before a contended endpoint write gives up with 409 conflict. */
export const ENDPOINT_WRITE_ROUNDS = 8;

export interface EndpointSecret {
  value: string;
  createdAt: string;
  /** Set on a secret that was rotated out; it stops signing at this time. */
  expiresAt?: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: EventType[];
  description: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** Newest first; the first is the current secret. */
  secrets: EndpointSecret[];
  /** Bumped by every write; a write applies only over the version it read (optimistic concurrency). */
  version: number;
  /** How failed deliveries are retried; absent: the stack's default (1 + 3 retries). */
  retry?: RetrySetting;
  /** Why and when it was disabled: by an admin (manual), its receiver answered 410 (gone), or every attempt failed for days (failing). */
  disabledReason?: DisabledReason;
  disabledAt?: string;
  /** A notification channel (shared/notifications/channels.ts) rather than a webhook: absent on webhooks. */
  channel?: 'slack' | 'email';
  /** Email channels: who gets each notification. */
  recipients?: string[];
  /** Channels: only drafts whose metadata has each of these pairs. */
  filter?: Record<string, string | number | boolean>;
  /** Channels: minutes after a draft's creation at which it is told again, once, that the draft is still pending; absent: never. */
  remindAfterMinutes?: number;
  /**
   * Email channels: when it was last disabled. Kept when it is enabled again: a decision link issued
   * up to then stays refused, so a leaked or forwarded link does not come back with the channel.
   */
  linksValidFrom?: string;
  /** Email channels: when an address was put on the channel after its creation; its links from before stay refused. */
  recipientAddedAt?: Record<string, string>;
}

export type DisabledReason = 'manual' | 'gone' | 'failing';

export type ReplaceResult = 'replaced' | 'missing' | 'conflict';

export interface EndpointStore {
  /** Stores a new endpoint (its version is 1). */
  put(endpoint: WebhookEndpoint): Promise<void>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  /**
   * Stores `endpoint` with version expectedVersion + 1, only if the stored one still has
   * expectedVersion: 'missing' when it was deleted, 'conflict' when another write came first.
   */
  replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<ReplaceResult>;
  delete(id: string): Promise<boolean>;
  listAll(): Promise<WebhookEndpoint[]>;
}

const newEndpointId = randomIdGenerator(20);
/** Ids are ep_ + a cuid; anything else cannot exist, and may not even be a valid DynamoDB key (over 2048 bytes). */
const isEndpointId = (id: string): boolean => /^ep_[a-z0-9]{1,40}$/.test(id);

const urlSchema = z
  .string({ error: 'must be a string' })
  .check(z.minLength(1, { message: 'must not be empty' }), z.maxLength(2048, { message: 'must be at most 2048 characters' }));
const eventsSchema = z.pipe(
  z.array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` })).check(z.minLength(1, { message: 'must name at least one event' })),
  z.transform((events: EventType[]) => [...new Set(events)]),
);
export const descriptionSchema = z.string().check(
  z.maxLength(500, { message: 'must be at most 500 characters' }),
  z.refine((s) => s.isWellFormed(), { message: 'must be valid Unicode text' }),
);

/**
 * Why and since when an endpoint (or channel) is disabled after a change: enabling clears the record;
 * disabling by hand records it; an already disabled one keeps its reason.
 */
export function disabledRecord(
  current: WebhookEndpoint,
  enabled: boolean,
  now: Date,
): Pick<WebhookEndpoint, 'disabledReason' | 'disabledAt' | 'linksValidFrom'> {
  if (enabled) return {};
  return current.enabled
    ? { disabledReason: 'manual', disabledAt: now.toISOString(), ...linksEndAt(current, now) }
    : { disabledReason: current.disabledReason, disabledAt: current.disabledAt };
}

/** Disabling an email channel ends the decision links it sent so far, in the same write. */
const linksEndAt = (endpoint: WebhookEndpoint, now: Date): Pick<WebhookEndpoint, 'linksValidFrom'> =>
  endpoint.channel === 'email' ? { linksValidFrom: now.toISOString() } : {};

export const createEndpointSchema = z.strictObject({
  url: urlSchema,
  events: z.optional(eventsSchema),
  description: z.optional(descriptionSchema),
  retry: z.optional(retrySettingSchema),
});
export const updateEndpointSchema = z
  .strictObject({
    url: z.optional(urlSchema),
    events: z.optional(eventsSchema),
    description: z.optional(descriptionSchema),
    enabled: z.optional(z.boolean()),
    retry: z.optional(retrySettingSchema),
  })
  .check(z.refine((patch) => Object.keys(patch).length > 0, { message: 'must change at least one of url, events, description, enabled, retry' }));

/** Secrets that may sign at `now`: the current one, plus rotated-out ones still in their grace period. */
export function activeSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  return endpoint.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.value);
}

/** Rotated-out secrets that still sign at `now`, with the time each stops (oldest last). */
export function secretsInGrace(endpoint: WebhookEndpoint, now: Date): Array<{ createdAt: string; expiresAt: string }> {
  return endpoint.secrets
    .filter((s): s is EndpointSecret & { expiresAt: string } => s.expiresAt !== undefined && Date.parse(s.expiresAt) > now.getTime())
    .map((s) => ({ createdAt: s.createdAt, expiresAt: s.expiresAt }));
}

/** The endpoint as the API shows it: never its secrets, but when each rotated-out one stops signing. */
export function publicEndpoint(endpoint: WebhookEndpoint, now = new Date()) {
  const { secrets, version: _version, retry, disabledReason, disabledAt, linksValidFrom: _from, recipientAddedAt: _added, ...rest } = endpoint;
  return {
    ...rest,
    retry: retry ?? 'standard',
    disabledReason: endpoint.enabled ? null : (disabledReason ?? 'manual'),
    disabledAt: endpoint.enabled ? null : (disabledAt ?? null),
    secretRotatedAt: secrets.length > 1 ? secrets[0]!.createdAt : null,
    previousSecrets: secretsInGrace(endpoint, now),
  };
}

export async function createEndpoint(store: EndpointStore, input: z.output<typeof createEndpointSchema>, policy: UrlPolicy, now = new Date()) {
  const url = await assertDeliverableUrl(input.url, policy);
  const at = now.toISOString();
  const endpoint: WebhookEndpoint = {
    id: `ep_${newEndpointId()}`,
    url: url.href,
    events: input.events ?? [...DEFAULT_EVENT_TYPES],
    description: input.description ?? '',
    enabled: true,
    createdAt: at,
    updatedAt: at,
    secrets: [{ value: generateSecret(), createdAt: at }],
    version: 1,
    ...(input.retry !== undefined ? { retry: input.retry } : {}),
  };
  await store.put(endpoint);
  return { ...publicEndpoint(endpoint), secret: endpoint.secrets[0]!.value };
}

export async function getEndpoint(store: EndpointStore, id: string): Promise<WebhookEndpoint> {
  const endpoint = isEndpointId(id) ? await store.get(id) : undefined;
  if (!endpoint) throw new NotFoundError('webhook endpoint', id);
  return endpoint;
}

/**
 * Read-modify-write of one endpoint without lost updates: `change` is applied to the stored
 * endpoint and written only over the version it was applied to. When another writer came first,
 * the change is applied again to what that writer left, so concurrent PATCHes and rotations all
 * take effect; only a write that loses ENDPOINT_WRITE_ROUNDS times in a row gets 409 conflict.
 */
export async function changeEndpoint(
  store: EndpointStore,
  id: string,
  change: (current: WebhookEndpoint) => WebhookEndpoint | Promise<WebhookEndpoint>,
): Promise<WebhookEndpoint> {
  for (let round = 0; round < ENDPOINT_WRITE_ROUNDS; round++) {
    if (round > 0) await sleep(Math.random() * 20 * 2 ** Math.min(round, 4));
    const current = await getEndpoint(store, id);
    const updated = { ...(await change(current)), version: current.version + 1 };
    const result = await store.replace(updated, current.version);
    if (result === 'replaced') return updated;
    if (result === 'missing') throw new NotFoundError('webhook endpoint', id);
  }
  throw new ConflictError('conflict', `Webhook endpoint ${id} is being changed by other requests at the same time; retry`, { id });
}

export async function updateEndpoint(store: EndpointStore, id: string, patch: z.output<typeof updateEndpointSchema>, policy: UrlPolicy, now = new Date()) {
  // The URL is checked once, outside the retry loop: resolving it is slow and does not depend on the stored endpoint.
  const url = patch.url !== undefined ? (await assertDeliverableUrl(patch.url, policy)).href : undefined;
  const updated = await changeEndpoint(store, id, (endpoint) => {
    const enabled = patch.enabled ?? endpoint.enabled;
    const { disabledReason: _reason, disabledAt: _at, ...rest } = endpoint;
    return {
      ...rest,
      url: url ?? endpoint.url,
      events: patch.events ?? endpoint.events,
      description: patch.description ?? endpoint.description,
      enabled,
      ...(patch.retry !== undefined ? { retry: patch.retry } : {}),
      updatedAt: now.toISOString(),
      ...disabledRecord(endpoint, enabled, now),
    };
  });
  return publicEndpoint(updated, now);
}

export async function deleteEndpoint(store: EndpointStore, id: string): Promise<void> {
  if (!isEndpointId(id) || !(await store.delete(id))) throw new NotFoundError('webhook endpoint', id);
}

/**
 * A new current secret. The one it replaces keeps signing for 24 h, and secrets rotated out
 * earlier keep the end time they were promised: a second rotation never cuts the first short.
 * `clock` is read in each write round, so a rotation that had to be re-applied over a concurrent
 * one dates its secret and grace period from when it actually took effect.
 */
export async function rotateSecret(store: EndpointStore, id: string, clock: () => Date = () => new Date()) {
  const secret = generateSecret();
  let now = clock();
  let graceEnds: string | null = null;
  const updated = await changeEndpoint(store, id, (endpoint) => {
    now = clock();
    const at = now.toISOString();
    const [current, ...older] = endpoint.secrets;
    // Secrets whose grace has ended are dropped; the rest keep their own end times.
    const stillSigning = older.filter((s) => s.expiresAt !== undefined && Date.parse(s.expiresAt) > now.getTime());
    if (stillSigning.length + (current ? 1 : 0) > MAX_SECRETS_IN_GRACE) {
      const nextEnd = stillSigning.map((s) => s.expiresAt!).sort()[0];
      throw new ConflictError(
        'too_many_secrets',
        `${MAX_SECRETS_IN_GRACE} rotated-out secrets are still in their grace period; the next one stops signing at ${nextEnd}. Rotate again after that.`,
        {
          id,
          nextGraceEndsAt: nextEnd,
        },
      );
    }
    graceEnds = current ? new Date(now.getTime() + PREVIOUS_SECRET_GRACE_SECONDS * 1000).toISOString() : null;
    const fresh: EndpointSecret = { value: secret, createdAt: at };
    return { ...endpoint, updatedAt: at, secrets: [fresh, ...(current && graceEnds ? [{ ...current, expiresAt: graceEnds }] : []), ...stillSigning] };
  });
  return { ...publicEndpoint(updated, now), secret, previousSecretExpiresAt: graceEnds };
}

/**
 * Disables an endpoint for a reason of the system's (e.g. its receiver answered 410 Gone); already
 * disabled: unchanged. Returns the endpoint when this call disabled it, undefined when it already
 * was, so of several deliveries that find it gone at once exactly one announces it.
 */
export async function disableEndpoint(store: EndpointStore, id: string, reason: DisabledReason, now = new Date()): Promise<WebhookEndpoint | undefined> {
  let disabledHere = false;
  const updated = await changeEndpoint(store, id, (endpoint) => {
    // Decided on the version the write applies to: a round lost to another writer decides again.
    disabledHere = endpoint.enabled;
    return endpoint.enabled
      ? { ...endpoint, enabled: false, disabledReason: reason, disabledAt: now.toISOString(), updatedAt: now.toISOString(), ...linksEndAt(endpoint, now) }
      : endpoint;
  });
  return disabledHere ? updated : undefined;
}
