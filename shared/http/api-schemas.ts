// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { ROLES } from '../domain/roles.js';
import { createKeySchema, updateKeySchema } from '../domain/api-keys.js';
import { approveSchema, createDraftSchema, DRAFT_STATUSES, rejectSchema } from '../domain/draft.js';
import { createEndpointSchema, updateEndpointSchema } from '../webhooks/endpoints.js';
import { createChannelSchema, updateChannelSchema } from '../notifications/channel-settings.js';
import { retrySettingSchema } from '../webhooks/retry-policy.js';
import {
  EVENT_TYPES,
  sendTestEventSchema,
  TEST_EVENT_TYPES,
  type DraftApprovedPayload,
  type DraftCreatedPayload,
  type DraftExpiredPayload,
  type DraftRejectedPayload,
  type EventType,
} from '../webhooks/events.js';
import { redriveInputSchema } from '../webhooks/redrive.js';
import type { DeliveryExhaustedPayload, EndpointDisabledPayload } from '../webhooks/operational-events.js';
import { listDraftsQuerySchema, pageQuerySchema } from './query.js';

/**
 * The API's request and response shapes and the webhook event bodies, for the OpenAPI document
 * (shared/http/openapi.ts). Requests reuse the very schemas the handlers validate with; responses
 * describe what the views return and event bodies what the delivery sends, and tests check real
 * responses and real event bodies against them.
 *
 * Every schema that has a name is registered in one of two registries and becomes
 * components.schemas.<name>, referenced by $ref wherever it appears. Requests are described by
 * what they accept (zod's input side), responses and events by what they produce (output side).
 */
export interface SchemaMeta {
  id: string;
  description: string;
}
export const requestSchemas = z.registry<SchemaMeta>();
export const responseSchemas = z.registry<SchemaMeta>();

function named<T extends z.core.$ZodType>(registry: typeof requestSchemas, id: string, description: string, schema: T): T {
  registry.add(schema, { id, description });
  return schema;
}
const response = <T extends z.core.$ZodType>(id: string, description: string, schema: T): T => named(responseSchemas, id, description, schema);
const request = <T extends z.core.$ZodType>(id: string, description: string, schema: T): T => named(requestSchemas, id, description, schema);

const timestamp = z.string().check(z.meta({ format: 'date-time' }));
const jsonObject = z.record(z.string(), z.unknown());
const metadata = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const errorResponse = response(
  'Error',
  'Every error the API itself answers: a stable machine-readable code, a human message, and details (details.fields names each bad field on 400, 413 and 415).',
  z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.optional(z.unknown()) }) }),
);

/** What API Gateway answers by itself, before any function runs (e.g. its throttle's 429). */
export const gatewayErrorResponse = response(
  'GatewayError',
  'An answer API Gateway gives by itself, before any Processa function runs (its own body shape, e.g. {"message": "Too Many Requests"}).',
  z.object({ message: z.string() }),
);

const actor = response(
  'Actor',
  "Who did something: the API key used (its id, name and role, never its value). A decision made through an email's Approve or Reject link has the email channel's id (ep_…) as keyId, the recipient's address as name and the role reviewer.",
  z.object({ keyId: z.string(), name: z.string(), role: z.enum(ROLES) }),
);

const historyEntry = response(
  'DraftHistoryEntry',
  'One change to a draft: who did it and when. actor is null for changes nobody made (expiry).',
  z.object({
    action: z
      .enum(['created', 'approval', 'approvals_cleared', 'approved', 'rejected', 'expired'])
      .check(
        z.describe(
          "approval: one approval short of the quorum (requiredApprovals); approvals_cleared: approvals that stopped counting (listed in cleared): an edit voided those of the old content, or (with actor null and a reason) their keys were revoked or taken off the draft's assignment.",
        ),
      ),
    at: timestamp,
    actor: z.nullable(actor),
    contentEdited: z.optional(z.boolean()),
    reason: z.optional(z.string()),
    cleared: z.optional(z.array(z.object({ by: actor, at: timestamp }))),
  }),
);

export const draftResponse = response(
  'Draft',
  'A draft of an action an agent wants to take, with its review state and history. originalContent is present when a reviewer approved edited content.',
  z.object({
    id: z.string(),
    title: z.string(),
    content: jsonObject,
    metadata,
    status: z.enum(DRAFT_STATUSES),
    createdAt: timestamp,
    createdBy: actor,
    reviewedAt: z.nullable(timestamp),
    reviewedBy: z.nullable(actor),
    rejectionReason: z.nullable(z.string()),
    originalContent: z.optional(jsonObject),
    expiresAt: z.nullable(timestamp),
    reviewers: z
      .array(z.string())
      .check(z.describe('Key ids and group:<name>s who may decide (admins too); empty: any reviewer or admin. Others get 403 not_assigned.')),
    requiredApprovals: z.number().check(z.int(), z.describe('Distinct approvals of the same content that make the draft approved.')),
    approvals: z
      .array(z.object({ by: actor, at: timestamp }))
      .check(z.describe('The approvals of the current content so far, in order; an edit clears them (see history approvals_cleared).')),
    approvalRound: z
      .number()
      .check(
        z.int(),
        z.describe(
          'Counts the edits made while reviewing; pass it back as approvalRound when approving to refuse the approval if the content changed since you read it.',
        ),
      ),
    history: z.array(historyEntry),
    reviewUrl: z.string(),
  }),
);

const page = <T extends z.core.$ZodType>(id: string, what: string, item: T) =>
  response(
    id,
    `A page of ${what}; pass nextCursor as ?cursor= for the next page (null on the last one).`,
    z.object({ items: z.array(item), nextCursor: z.nullable(z.string()) }),
  );

const keyFields = {
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  prefix: z.string(),
  createdAt: timestamp,
  createdBy: z.nullable(z.string()),
  revokedAt: z.nullable(timestamp),
  slackUserId: z.nullable(z.string()).check(z.describe('The Slack member id linked to this key (it may approve and reject from Slack), or null.')),
  groups: z.array(z.string()).check(z.describe('Reviewer groups this key belongs to; drafts assigned to group:<name> may be decided by its keys.')),
};
export const keyResponse = response('ApiKey', 'An API key as stored: never its value, only its first characters (prefix).', z.object({ ...keyFields }));
const newKeyResponse = response(
  'NewApiKey',
  'A new API key, with its value (key): shown in this response only, since only a hash is stored.',
  z.object({ ...keyFields, key: z.string() }),
);

const endpointFields = {
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  description: z.string(),
  enabled: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
  secretRotatedAt: z.nullable(timestamp),
  /** Rotated-out secrets that still sign, each until its own expiresAt. */
  previousSecrets: z.array(z.object({ createdAt: timestamp, expiresAt: timestamp })),
  /** How failed deliveries are retried: "standard" (the default), "extended", or a custom ladder. */
  retry: retrySettingSchema,
  /** Why it is disabled (null while enabled): manual (an admin), gone (its receiver answered 410) or failing (every attempt failed for days). */
  disabledReason: z.nullable(z.enum(['manual', 'gone', 'failing'])),
  disabledAt: z.nullable(timestamp),
  /** Notification channels only (POST /v1/notifications): slack or email; absent on webhooks. */
  channel: z.optional(z.enum(['slack', 'email'])),
  /** Email channels: the addresses notified. */
  recipients: z.optional(z.array(z.string())),
  /** Channels: only drafts whose metadata has each of these pairs. */
  filter: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
  /** Channels: minutes after a draft's creation when the channel hears once more about it while it is still pending. */
  remindAfterMinutes: z.optional(z.number().check(z.int())),
};
export const endpointResponse = response(
  'WebhookEndpoint',
  'A receiver of webhook events (never its secret). previousSecrets lists rotated-out secrets that still sign, each until its expiresAt; retry is its retry policy; disabledReason says why it is disabled.',
  z.object({ ...endpointFields }),
);
const endpointWithHealthResponse = response(
  'WebhookEndpointWithHealth',
  'A webhook endpoint with its delivery health: state (healthy, failing: the last attempt failed, disabled), success rate and attempts over 24 h, last success, last failure with its error, since when every attempt failed, and deliveries waiting for a retry.',
  z.object({
    ...endpointFields,
    health: z.object({
      state: z.enum(['healthy', 'failing', 'disabled']),
      successRate24h: z.nullable(z.number().check(z.minimum(0), z.maximum(1))),
      attempts24h: z.number().check(z.int()),
      lastSuccessAt: z.nullable(timestamp),
      lastFailure: z.nullable(z.object({ at: timestamp, error: z.nullable(z.string()) })),
      failingSince: z.nullable(timestamp),
      waitingForRetry: z.number().check(z.int()),
    }),
  }),
);
const newEndpointResponse = response(
  'NewWebhookEndpoint',
  'A new webhook endpoint with its signing secret (whsec_…), shown in this response only.',
  z.object({ ...endpointFields, secret: z.string() }),
);
const rotatedEndpointResponse = response(
  'RotatedWebhookEndpoint',
  'The endpoint after a rotation, with its new secret (shown in this response only) and when the secret it replaced stops signing.',
  z.object({ ...endpointFields, secret: z.string(), previousSecretExpiresAt: z.nullable(timestamp) }),
);

export const deliveryResponse = response(
  'Delivery',
  'One delivery attempt of one event to one endpoint. outcome dead means the last attempt failed; it goes out again only when redriven.',
  z.object({
    endpointId: z.string(),
    eventId: z.string(),
    eventType: z.enum(EVENT_TYPES),
    draftId: z.nullable(z.string()).check(z.describe('null for operational events (endpoint.disabled, delivery.exhausted), which are about no draft.')),
    attempt: z.number().check(z.int()),
    outcome: z.enum(['succeeded', 'failed', 'dead']),
    httpStatus: z.nullable(z.number().check(z.int())),
    durationMs: z.number().check(z.int()),
    error: z.nullable(z.string()),
    attemptedAt: timestamp,
    nextAttemptAt: z.nullable(timestamp),
    test: z.boolean(),
  }),
);

// Webhook event bodies, exactly as shared/webhooks/events.ts builds them and the published webhook
// documentation shows them. Fields may be added in later versions; none is renamed or dropped.
const testFlag = z
  .optional(z.literal(true))
  .check(z.describe('Present (true) only on test events sent with "Test Webhook"; their draft id starts with test_ and no real draft was decided.'));
const laterFields = 'Fields may be added in later versions; none is renamed or dropped.';

export const draftApprovedEvent = response(
  'DraftApprovedEvent',
  `Body of a draft.approved event: the approved content (as edited by the reviewer, if it was) to execute. ${laterFields}`,
  z.object({
    event: z.literal('draft.approved'),
    draft: z.object({ id: z.string(), title: z.string(), content: jsonObject, metadata, reviewedAt: timestamp }),
    timestamp,
    test: testFlag,
  }),
);
export const draftRejectedEvent = response(
  'DraftRejectedEvent',
  `Body of a draft.rejected event; rejectionReason is null when the reviewer gave none. The default "Test Webhook" event is one of these with "test": true. ${laterFields}`,
  z.object({
    event: z.literal('draft.rejected'),
    draft: z.object({ id: z.string(), title: z.string(), rejectionReason: z.nullable(z.string()), reviewedAt: timestamp }),
    timestamp,
    test: testFlag,
  }),
);
export const draftExpiredEvent = response(
  'DraftExpiredEvent',
  `Body of a draft.expired event (opt-in): a draft passed its expiresAt undecided; timestamp is when it was marked expired. ${laterFields}`,
  z.object({
    event: z.literal('draft.expired'),
    draft: z.object({ id: z.string(), title: z.string(), metadata, expiresAt: timestamp }),
    timestamp,
  }),
);

export const draftCreatedEvent = response(
  'DraftCreatedEvent',
  `Body of a draft.created event (opt-in): a draft waits for review; reviewUrl is its review page, expiresAt null when it never expires. ${laterFields}`,
  z.object({
    event: z.literal('draft.created'),
    draft: z.object({
      id: z.string(),
      title: z.string(),
      content: jsonObject,
      metadata,
      createdAt: timestamp,
      expiresAt: z.nullable(timestamp),
      reviewUrl: z.string(),
      reviewers: z.array(z.string()).check(z.describe('Who may decide: key ids and group:<name>s; empty when any reviewer may.')),
      requiredApprovals: z.number().check(z.int(), z.describe('Distinct approvals of the same content that make the draft approved.')),
    }),
    timestamp,
  }),
);

// Operational events: what the delivery system did, about no draft (opt-in; also sent to the alarm topic).
export const endpointDisabledEvent = response(
  'EndpointDisabledEvent',
  'Body of an endpoint.disabled event (opt-in): Processa disabled an endpoint because its receiver answered 410 Gone (disabledReason gone) ' +
    "or every attempt failed for autoDisableDays (failing). Never sent to the disabled endpoint itself, nor for an admin's own disable. " +
    `Enable it again with PATCH {"enabled": true}, then redrive with since to send what it missed. ${laterFields}`,
  z.object({
    event: z.literal('endpoint.disabled'),
    endpoint: z.object({ id: z.string(), url: z.string(), disabledReason: z.enum(['gone', 'failing']), disabledAt: timestamp }),
    timestamp,
  }),
);
export const deliveryExhaustedEvent = response(
  'DeliveryExhaustedEvent',
  'Body of a delivery.exhausted event (opt-in): a delivery died with its attempts spent (or SQS gave up on it) and waits for a redrive. ' +
    'A dead delivery of an operational event is told to the operator only, never as another delivery.exhausted. ' +
    `draftId is null when the dead delivery was of an event without a draft. ${laterFields}`,
  z.object({
    event: z.literal('delivery.exhausted'),
    delivery: z.object({
      endpointId: z.string(),
      eventId: z.string(),
      eventType: z.enum(EVENT_TYPES),
      draftId: z.nullable(z.string()),
      attempts: z.number().check(z.int()),
      lastError: z.nullable(z.string()),
      diedAt: timestamp,
    }),
    timestamp,
  }),
);
type SameNested<A, B, K extends string> =
  SameKeys<A, B> extends true ? SameKeys<A extends Record<K, infer D> ? D : never, B extends Record<K, infer E> ? E : never> : false;
const sameOperationalShape: [
  SameNested<z.output<typeof endpointDisabledEvent>, EndpointDisabledPayload, 'endpoint'>,
  SameNested<z.output<typeof deliveryExhaustedEvent>, DeliveryExhaustedPayload, 'delivery'>,
] = [true, true];
void sameOperationalShape;

/** The event schemas have exactly the payload types' fields (the tests check real bodies against them too). */
type Keys<T> = T extends object ? keyof T : never;
type SameKeys<A, B> = [Exclude<Keys<A>, Keys<B>>, Exclude<Keys<B>, Keys<A>>] extends [never, never] ? true : false;
type SameShape<A, B> =
  SameKeys<A, B> extends true
    ? SameKeys<A extends { draft: infer D } ? D : never, B extends { draft: infer E } ? E : never> extends true
      ? true
      : false
    : false;
const sameShape: [
  SameShape<z.output<typeof draftApprovedEvent>, DraftApprovedPayload>,
  SameShape<z.output<typeof draftRejectedEvent>, DraftRejectedPayload>,
  SameShape<z.output<typeof draftExpiredEvent>, DraftExpiredPayload>,
  SameShape<z.output<typeof draftCreatedEvent>, DraftCreatedPayload>,
] = [true, true, true, true];
void sameShape;

/** The webhooks section: one entry per event type (a missing one fails to compile). */
export const webhookEvents: Record<EventType, { summary: string; schema: z.core.$ZodType; examples: Record<string, { summary: string; value: unknown }> }> = {
  'draft.approved': {
    summary: 'A draft was approved: execute its content',
    schema: draftApprovedEvent,
    examples: {
      approved: {
        summary: 'An approved email (from the webhook documentation)',
        value: {
          event: 'draft.approved',
          draft: {
            id: 'cmlgx2hvq0002k6gve9fuaz0k',
            title: 'Send welcome email',
            content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
            metadata: { source: 'ai_agent_v1' },
            reviewedAt: '2026-02-10T12:05:00Z',
          },
          timestamp: '2026-02-10T12:05:00Z',
        },
      },
    },
  },
  'draft.rejected': {
    summary: 'A draft was rejected: do not execute it',
    schema: draftRejectedEvent,
    examples: {
      rejected: {
        summary: 'A rejection with a reason (from the webhook documentation)',
        value: {
          event: 'draft.rejected',
          draft: {
            id: 'cmlgx2hvq0002k6gve9fuaz0k',
            title: 'Send welcome email',
            rejectionReason: 'Content violates policy',
            reviewedAt: '2026-02-10T12:05:00Z',
          },
          timestamp: '2026-02-10T12:05:00Z',
        },
      },
      test: {
        summary: 'The default "Test Webhook" event',
        value: {
          event: 'draft.rejected',
          draft: {
            id: 'test_5f0c2b9e8d7a6f5e4d3c2b1a',
            title: 'Test event from Processa',
            rejectionReason: 'Test event sent with "Test Webhook" from Processa. No draft was rejected; nothing needs to be done.',
            reviewedAt: '2026-02-10T12:05:00.000Z',
          },
          timestamp: '2026-02-10T12:05:00.000Z',
          test: true,
        },
      },
    },
  },
  'draft.expired': {
    summary: 'A draft expired undecided (opt-in: only endpoints subscribed to draft.expired get it)',
    schema: draftExpiredEvent,
    examples: {
      expired: {
        summary: 'A draft that nobody decided before its expiresAt',
        value: {
          event: 'draft.expired',
          draft: { id: 'cmlgx2hvq0002k6gve9fuaz0k', title: 'Send welcome email', metadata: { source: 'ai_agent_v1' }, expiresAt: '2026-02-11T12:00:00.000Z' },
          timestamp: '2026-02-11T12:00:04.000Z',
        },
      },
    },
  },
  'draft.created': {
    summary: 'A draft waits for review (opt-in: only endpoints subscribed to draft.created get it); nothing to execute',
    schema: draftCreatedEvent,
    examples: {
      created: {
        summary: 'A new draft, with the link a reviewer opens',
        value: {
          event: 'draft.created',
          draft: {
            id: 'cmlgx2hvq0002k6gve9fuaz0k',
            title: 'Send welcome email',
            content: { to: 'user@example.com', subject: 'Welcome!', body: 'Hello...' },
            metadata: { source: 'ai_agent_v1' },
            createdAt: '2026-02-10T12:00:00.000Z',
            expiresAt: null,
            reviewUrl: 'https://approvals.example.com/review/cmlgx2hvq0002k6gve9fuaz0k',
            reviewers: [],
            requiredApprovals: 1,
          },
          timestamp: '2026-02-10T12:00:00.000Z',
        },
      },
    },
  },
  'endpoint.disabled': {
    summary: 'Processa disabled an endpoint (410 Gone, or failing for days): opt-in, for operators; nothing to execute',
    schema: endpointDisabledEvent,
    examples: {
      gone: {
        summary: 'A receiver answered 410 Gone',
        value: {
          event: 'endpoint.disabled',
          endpoint: {
            id: 'ep_k2v9x8q1w3e4r5t6y7u8',
            url: 'https://hooks.example.com/processa',
            disabledReason: 'gone',
            disabledAt: '2026-02-10T12:05:03.000Z',
          },
          timestamp: '2026-02-10T12:05:03.000Z',
        },
      },
    },
  },
  'delivery.exhausted': {
    summary: 'A delivery died after its last attempt and waits for a redrive: opt-in, for operators; nothing to execute',
    schema: deliveryExhaustedEvent,
    examples: {
      exhausted: {
        summary: 'A draft.approved that failed all 4 attempts',
        value: {
          event: 'delivery.exhausted',
          delivery: {
            endpointId: 'ep_k2v9x8q1w3e4r5t6y7u8',
            eventId: 'msg_3kq0bnd1Wc9yT7pQ2xVmZr5sAeL',
            eventType: 'draft.approved',
            draftId: 'cmlgx2hvq0002k6gve9fuaz0k',
            attempts: 4,
            lastError: 'HTTP 503',
            diedAt: '2026-02-10T12:08:41.000Z',
          },
          timestamp: '2026-02-10T12:08:41.000Z',
        },
      },
    },
  },
};

/** Error statuses only some routes answer; the document adds those every route of a kind can answer (see openapi.ts). */
export type RouteErrorStatus = 400 | 404 | 422;

export interface Operation {
  summary: string;
  body?: z.core.$ZodType;
  query?: z.core.$ZodType;
  /** The success response, keyed by its status. */
  responses: Record<number, { description: string; schema?: z.core.$ZodType }>;
  /** Errors this route answers beyond the ones derived from its kind: 400 for a bad query or path id, 404, 422. */
  errors?: readonly RouteErrorStatus[];
  /** 409: when the route answers it, what the conflict is and its codes. */
  conflict?: string;
}

const decided = 'The draft is no longer pending: code already_decided (details.draft shows the state that won, with who decided and when) or draft_expired.';
const endpointDisabled = 'code endpoint_disabled: the endpoint is disabled; enable it (PATCH {"enabled": true}) first.';
const endpointRace = 'code conflict: the endpoint kept being changed by concurrent requests; retry.';

/** One entry per API route key of the definition (the compiler and a test keep them in step). */
export const operations = {
  'POST /v1/drafts': {
    summary: 'Submit a draft for review',
    body: request(
      'CreateDraftRequest',
      'A draft to review: content is any JSON object (at most 64 KiB serialized), metadata a flat object of scalars.',
      createDraftSchema,
    ),
    responses: { 201: { description: 'Created (or replayed for a repeated Idempotency-Key)', schema: draftResponse } },
    errors: [422],
  },
  'GET /v1/drafts': {
    summary: 'List drafts, newest first',
    query: listDraftsQuerySchema,
    responses: { 200: { description: 'A page of drafts', schema: page('DraftPage', 'drafts, newest first', draftResponse) } },
  },
  'GET /v1/drafts/{id}': { summary: 'Get a draft', responses: { 200: { description: 'The draft', schema: draftResponse } }, errors: [400, 404] },
  'POST /v1/drafts/{id}/approve': {
    summary: 'Approve a draft, optionally with edited content',
    body: request(
      'ApproveDraftRequest',
      'An approval; content replaces the draft’s content (the webhook carries the edited content) and clears earlier approvals of the old content. A draft with reviewers answers 403 not_assigned to keys it does not assign (admins excepted).',
      approveSchema,
    ),
    responses: {
      200: {
        description: 'Approved, or (requiredApprovals above 1) the approval is recorded and the draft stays pending until the quorum: see status and approvals',
        schema: draftResponse,
      },
    },
    errors: [400, 404],
    conflict: `${decided} Or code already_approved: this key already approved the current content.`,
  },
  'POST /v1/drafts/{id}/reject': {
    summary: 'Reject a draft with an optional reason',
    body: request('RejectDraftRequest', 'A rejection, with an optional reason for the agent.', rejectSchema),
    responses: { 200: { description: 'Rejected', schema: draftResponse } },
    errors: [400, 404],
    conflict: decided,
  },
  'POST /v1/keys': {
    summary: 'Create an API key (its value is in this response only)',
    body: request(
      'CreateApiKeyRequest',
      'A new API key: a name to recognise it by, its role and, optionally, the Slack user who may decide from Slack as it.',
      createKeySchema,
    ),
    responses: { 201: { description: 'Created', schema: newKeyResponse } },
    conflict: 'code slack_user_already_linked: another key links this Slack user.',
  },
  'GET /v1/keys': {
    summary: 'List API keys',
    query: pageQuerySchema,
    responses: { 200: { description: 'Keys (never their values)', schema: page('ApiKeyPage', 'API keys', keyResponse) } },
  },
  'PATCH /v1/keys/{id}': {
    summary: 'Link (or unlink with null) the Slack user who may decide from Slack as this key',
    body: request(
      'UpdateApiKeyRequest',
      "The Slack member id (U… or W…) to link, or null to unlink (one key per Slack user); and/or groups, which replaces the key's reviewer groups.",
      updateKeySchema,
    ),
    responses: { 200: { description: 'Changed', schema: keyResponse } },
    errors: [404],
    conflict:
      'code slack_user_already_linked: another key links this Slack user (unlink it there first); key_revoked: a revoked key cannot be changed; conflict: changed concurrently, retry.',
  },
  'DELETE /v1/keys/{id}': { summary: 'Revoke an API key', responses: { 200: { description: 'Revoked', schema: keyResponse } }, errors: [404] },
  'POST /v1/webhooks': {
    summary: 'Add a webhook endpoint (its secret is in this response only)',
    body: request(
      'CreateWebhookEndpointRequest',
      'A new webhook endpoint: an https URL and the events it subscribes to (default draft.approved and draft.rejected).',
      createEndpointSchema,
    ),
    responses: { 201: { description: 'Created', schema: newEndpointResponse } },
  },
  'POST /v1/notifications': {
    summary: 'Add a notification channel: Slack (incoming webhook) or email',
    body: request(
      'CreateNotificationChannelRequest',
      'A channel that tells reviewers a draft waits (and what became of it): kind slack with a Slack incoming-webhook url (https://hooks.slack.com/…), or kind email with recipients. ' +
        'events default to draft.created, draft.approved and draft.rejected; filter limits it to drafts whose metadata matches. ' +
        'A channel is an endpoint (ep_…): list, change, delete, test, read its delivery log and redrive it under /v1/webhooks/{id}.',
      createChannelSchema,
    ),
    responses: { 201: { description: 'Created', schema: endpointResponse } },
  },
  'GET /v1/webhooks': {
    summary: 'List webhook endpoints',
    responses: {
      200: {
        description: 'Endpoints',
        schema: response('WebhookEndpointList', 'Every webhook endpoint (never their secrets).', z.object({ items: z.array(endpointResponse) })),
      },
    },
  },
  'GET /v1/webhooks/{id}': {
    summary: 'Get a webhook endpoint and its delivery health',
    responses: { 200: { description: 'The endpoint, with its health', schema: endpointWithHealthResponse } },
    errors: [404],
  },
  'PATCH /v1/webhooks/{id}': {
    summary: 'Change a webhook endpoint',
    body: request(
      'UpdateWebhookEndpointRequest',
      'The fields to change (at least one): a webhook endpoint takes the first shape; a Slack or email channel the second (recipients: email channels only; null clears filter or remindAfterMinutes).',
      z.union([updateEndpointSchema, updateChannelSchema]),
    ),
    responses: { 200: { description: 'Changed', schema: endpointResponse } },
    errors: [404],
    conflict: endpointRace,
  },
  'DELETE /v1/webhooks/{id}': {
    summary: 'Delete a webhook endpoint',
    responses: {
      200: {
        description: 'Deleted',
        schema: response('DeletedWebhookEndpoint', 'The id of the endpoint that was deleted.', z.object({ id: z.string(), deleted: z.literal(true) })),
      },
    },
    errors: [404],
  },
  'POST /v1/webhooks/{id}/test': {
    summary: 'Send a test event ("Test Webhook") through the delivery queue: a draft.rejected with "test": true, or a sample draft.approved only if asked for',
    body: request('SendTestEventRequest', 'Which test event to send; an empty body sends the default draft.rejected.', sendTestEventSchema),
    responses: {
      202: {
        description: 'Queued',
        schema: response(
          'TestEventQueued',
          'The test event that was queued: its webhook-id (eventId), its test_ draft id and its type.',
          z.object({ eventId: z.string(), draftId: z.string(), eventType: z.enum(TEST_EVENT_TYPES) }),
        ),
      },
    },
    errors: [404],
    conflict: endpointDisabled,
  },
  'GET /v1/webhooks/{id}/deliveries': {
    summary: 'Delivery attempts, newest first',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of attempts', schema: page('DeliveryPage', 'delivery attempts, newest first', deliveryResponse) } },
    errors: [404],
  },
  'POST /v1/webhooks/{id}/rotate-secret': {
    summary: 'Rotate the signing secret (the old one signs for 24 h more)',
    responses: { 200: { description: 'The new secret, shown once', schema: rotatedEndpointResponse } },
    errors: [404],
    conflict: `${endpointRace} Or code too_many_secrets: too many rotated-out secrets are still in their grace period (details.nextGraceEndsAt says when the next one stops signing).`,
  },
  'POST /v1/webhooks/{id}/redrive': {
    summary: 'Send dead deliveries out again (optionally only those that died since a time); bounded per call',
    body: request('RedriveRequest', 'Which dead deliveries to send again; an empty body means all of them.', redriveInputSchema),
    responses: {
      200: {
        description: 'How many were re-queued; complete is false when more are left for another call',
        schema: response(
          'RedriveResult',
          'How many dead deliveries were queued again, and whether none is left (false: call again).',
          z.object({ redriven: z.number().check(z.int()), complete: z.boolean() }),
        ),
      },
    },
    errors: [404],
    conflict: endpointDisabled,
  },
  'POST /v1/integrations/slack/interactions': {
    summary:
      "The Slack app's interactivity URL (Slack calls it): Approve and Reject buttons and the reject-reason dialog. No key: each request must be signed with the app's signing secret (401 otherwise, 503 while none is configured)",
    responses: { 200: { description: 'Acknowledged (empty body), or the reason dialog’s errors ({"response_action": "errors", …})' } },
  },
  'GET /v1/openapi.json': { summary: 'This OpenAPI document', responses: { 200: { description: 'OpenAPI 3.1' } } },
} satisfies Record<string, Operation>;
