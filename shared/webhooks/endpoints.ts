import { init } from '@paralleldrive/cuid2';
// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { NotFoundError } from '../domain/errors.js';
import { assertDeliverableUrl, type UrlPolicy } from './address-guard.js';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES, type EventType } from './events.js';
import { generateSecret } from './signing.js';

/** After a rotation the previous secret keeps signing this long, so receivers can switch without downtime. */
export const PREVIOUS_SECRET_GRACE_SECONDS = 24 * 60 * 60;

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
}

export interface EndpointStore {
  put(endpoint: WebhookEndpoint): Promise<void>;
  get(id: string): Promise<WebhookEndpoint | undefined>;
  /** Replaces the endpoint only if it still exists; returns false otherwise. */
  replace(endpoint: WebhookEndpoint): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  listAll(): Promise<WebhookEndpoint[]>;
}

const newEndpointId = init({ length: 20 });
/** Ids are ep_ + a cuid; anything else cannot exist, and may not even be a valid DynamoDB key (over 2048 bytes). */
const isEndpointId = (id: string): boolean => /^ep_[a-z0-9]{1,40}$/.test(id);

const urlSchema = z.string({ error: 'must be a string' }).min(1, { message: 'must not be empty' }).max(2048, { message: 'must be at most 2048 characters' });
const eventsSchema = z
  .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }))
  .min(1, { message: 'must name at least one event' })
  .transform((events) => [...new Set(events)]);
const descriptionSchema = z.string().max(500, { message: 'must be at most 500 characters' }).refine((s) => s.isWellFormed(), { message: 'must be valid Unicode text' });

export const createEndpointSchema = z.strictObject({
  url: urlSchema,
  events: eventsSchema.optional(),
  description: descriptionSchema.optional(),
});
export const updateEndpointSchema = z
  .strictObject({ url: urlSchema.optional(), events: eventsSchema.optional(), description: descriptionSchema.optional(), enabled: z.boolean().optional() })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'must change at least one of url, events, description, enabled' });

/** Secrets that may sign at `now`: the current one, plus rotated-out ones still in their grace period. */
export function activeSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  return endpoint.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.value);
}

export const subscribes = (endpoint: WebhookEndpoint, type: EventType): boolean => endpoint.enabled && endpoint.events.includes(type);

/** The endpoint as the API shows it: never its secrets. */
export function publicEndpoint(endpoint: WebhookEndpoint) {
  const { secrets, ...rest } = endpoint;
  return { ...rest, secretRotatedAt: secrets.length > 1 ? secrets[0]!.createdAt : null };
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
  };
  await store.put(endpoint);
  return { ...publicEndpoint(endpoint), secret: endpoint.secrets[0]!.value };
}

export async function getEndpoint(store: EndpointStore, id: string): Promise<WebhookEndpoint> {
  const endpoint = isEndpointId(id) ? await store.get(id) : undefined;
  if (!endpoint) throw new NotFoundError('webhook endpoint', id);
  return endpoint;
}

export async function updateEndpoint(store: EndpointStore, id: string, patch: z.output<typeof updateEndpointSchema>, policy: UrlPolicy, now = new Date()) {
  const endpoint = await getEndpoint(store, id);
  const url = patch.url !== undefined ? (await assertDeliverableUrl(patch.url, policy)).href : endpoint.url;
  const updated: WebhookEndpoint = {
    ...endpoint,
    url,
    events: patch.events ?? endpoint.events,
    description: patch.description ?? endpoint.description,
    enabled: patch.enabled ?? endpoint.enabled,
    updatedAt: now.toISOString(),
  };
  if (!(await store.replace(updated))) throw new NotFoundError('webhook endpoint', id);
  return publicEndpoint(updated);
}

export async function deleteEndpoint(store: EndpointStore, id: string): Promise<void> {
  if (!isEndpointId(id) || !(await store.delete(id))) throw new NotFoundError('webhook endpoint', id);
}

/** A new current secret; the previous one keeps signing for 24 h. Older rotated secrets are dropped. */
export async function rotateSecret(store: EndpointStore, id: string, now = new Date()) {
  const endpoint = await getEndpoint(store, id);
  const at = now.toISOString();
  const graceEnds = new Date(now.getTime() + PREVIOUS_SECRET_GRACE_SECONDS * 1000).toISOString();
  const [current] = endpoint.secrets;
  const fresh: EndpointSecret = { value: generateSecret(), createdAt: at };
  const updated: WebhookEndpoint = { ...endpoint, updatedAt: at, secrets: [fresh, ...(current ? [{ ...current, expiresAt: graceEnds }] : [])] };
  if (!(await store.replace(updated))) throw new NotFoundError('webhook endpoint', id);
  return { ...publicEndpoint(updated), secret: fresh.value, previousSecretExpiresAt: current ? graceEnds : null };
}
