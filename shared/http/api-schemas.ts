// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { ROLES } from '../../infra/app-definition.js';
import { createKeySchema } from '../domain/api-keys.js';
import { approveSchema, createDraftSchema, DRAFT_STATUSES, rejectSchema } from '../domain/draft.js';
import { createEndpointSchema, updateEndpointSchema } from '../webhooks/endpoints.js';
import { EVENT_TYPES, sendTestEventSchema, TEST_EVENT_TYPES } from '../webhooks/events.js';
import { redriveInputSchema } from '../webhooks/redrive.js';
import { listDraftsQuerySchema, pageQuerySchema } from './query.js';

/**
 * The API's request and response shapes, for the OpenAPI document (shared/http/openapi.ts).
 * Requests reuse the very schemas the handlers validate with; responses describe what the
 * views return, and tests check real responses against them.
 */
const timestamp = z.string().meta({ format: 'date-time' });
const actor = z.object({ keyId: z.string(), name: z.string(), role: z.enum(ROLES) });
const jsonObject = z.record(z.string(), z.unknown());

export const errorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

export const draftResponse = z
  .object({
    id: z.string(),
    title: z.string(),
    content: jsonObject,
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    status: z.enum(DRAFT_STATUSES),
    createdAt: timestamp,
    createdBy: actor,
    reviewedAt: timestamp.nullable(),
    reviewedBy: actor.nullable(),
    rejectionReason: z.string().nullable(),
    originalContent: jsonObject.optional(),
    expiresAt: timestamp.nullable(),
    history: z.array(
      z.object({
        action: z.enum(['created', 'approved', 'rejected', 'expired']),
        at: timestamp,
        actor: actor.nullable(),
        contentEdited: z.boolean().optional(),
        reason: z.string().optional(),
      }),
    ),
    reviewUrl: z.string(),
  });

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const keyResponse = z
  .object({ id: z.string(), name: z.string(), role: z.enum(ROLES), prefix: z.string(), createdAt: timestamp, createdBy: z.string().nullable(), revokedAt: timestamp.nullable() });

export const endpointResponse = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    description: z.string(),
    enabled: z.boolean(),
    createdAt: timestamp,
    updatedAt: timestamp,
    secretRotatedAt: timestamp.nullable(),
    /** Rotated-out secrets that still sign, each until its own expiresAt. */
    previousSecrets: z.array(z.object({ createdAt: timestamp, expiresAt: timestamp })),
  });

export const deliveryResponse = z
  .object({
    endpointId: z.string(),
    eventId: z.string(),
    eventType: z.enum(EVENT_TYPES),
    draftId: z.string(),
    attempt: z.number().int(),
    outcome: z.enum(['succeeded', 'failed', 'dead']),
    httpStatus: z.number().int().nullable(),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    attemptedAt: timestamp,
    nextAttemptAt: timestamp.nullable(),
    test: z.boolean(),
  });

export interface Operation {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: ERROR_TEXT[s] ?? 'Error', schema: errorResponse }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request; details.fields names each bad field',
  401: 'Missing, unknown or revoked API key',
  403: 'The key’s role may not do this',
  404: 'Not found',
  409: 'Conflict: a decided draft (details.draft shows the state that won), or an endpoint write that kept losing to concurrent ones (retry)',
  413: 'Body or content too large',
  415: 'Content-Type is not application/json',
  422: 'Idempotency-Key reused with a different body',
  503: 'Busy; retry after Retry-After seconds',
};

/** One entry per API route key of the definition (the compiler and a test keep them in step). */
export const operations = {
  'POST /v1/drafts': { summary: 'Submit a draft for review', body: createDraftSchema, responses: { 201: { description: 'Created (or replayed for a repeated Idempotency-Key)', schema: draftResponse }, ...errors(400, 401, 403, 413, 415, 422, 503) } },
  'GET /v1/drafts': { summary: 'List drafts, newest first', query: listDraftsQuerySchema, responses: { 200: { description: 'A page of drafts', schema: page(draftResponse) }, ...errors(400, 401) } },
  'GET /v1/drafts/{id}': { summary: 'Get a draft', responses: { 200: { description: 'The draft', schema: draftResponse }, ...errors(400, 401, 404) } },
  'POST /v1/drafts/{id}/approve': { summary: 'Approve a draft, optionally with edited content', body: approveSchema, responses: { 200: { description: 'Approved', schema: draftResponse }, ...errors(400, 401, 403, 404, 409, 413, 415) } },
  'POST /v1/drafts/{id}/reject': { summary: 'Reject a draft with an optional reason', body: rejectSchema, responses: { 200: { description: 'Rejected', schema: draftResponse }, ...errors(400, 401, 403, 404, 409, 415) } },
  'POST /v1/keys': { summary: 'Create an API key (its value is in this response only)', body: createKeySchema, responses: { 201: { description: 'Created', schema: keyResponse.extend({ key: z.string() }) }, ...errors(400, 401, 403, 415) } },
  'GET /v1/keys': { summary: 'List API keys', query: pageQuerySchema, responses: { 200: { description: 'Keys (never their values)', schema: page(keyResponse) }, ...errors(400, 401, 403) } },
  'DELETE /v1/keys/{id}': { summary: 'Revoke an API key', responses: { 200: { description: 'Revoked', schema: keyResponse }, ...errors(401, 403, 404) } },
  'POST /v1/webhooks': { summary: 'Add a webhook endpoint (its secret is in this response only)', body: createEndpointSchema, responses: { 201: { description: 'Created', schema: endpointResponse.extend({ secret: z.string() }) }, ...errors(400, 401, 403, 415) } },
  'GET /v1/webhooks': { summary: 'List webhook endpoints', responses: { 200: { description: 'Endpoints', schema: z.object({ items: z.array(endpointResponse) }) }, ...errors(401, 403) } },
  'GET /v1/webhooks/{id}': { summary: 'Get a webhook endpoint', responses: { 200: { description: 'The endpoint', schema: endpointResponse }, ...errors(401, 403, 404) } },
  'PATCH /v1/webhooks/{id}': { summary: 'Change a webhook endpoint', body: updateEndpointSchema, responses: { 200: { description: 'Changed', schema: endpointResponse }, ...errors(400, 401, 403, 404, 409, 415) } },
  'DELETE /v1/webhooks/{id}': { summary: 'Delete a webhook endpoint', responses: { 200: { description: 'Deleted', schema: z.object({ id: z.string(), deleted: z.literal(true) }) }, ...errors(401, 403, 404) } },
  'POST /v1/webhooks/{id}/test': { summary: 'Send a test event ("Test Webhook") through the delivery queue: a draft.rejected with "test": true, or a sample draft.approved only if asked for', body: sendTestEventSchema, responses: { 202: { description: 'Queued', schema: z.object({ eventId: z.string(), draftId: z.string(), eventType: z.enum(TEST_EVENT_TYPES) }) }, ...errors(400, 401, 403, 404, 415) } },
  'GET /v1/webhooks/{id}/deliveries': { summary: 'Delivery attempts, newest first', query: pageQuerySchema, responses: { 200: { description: 'A page of attempts', schema: page(deliveryResponse) }, ...errors(400, 401, 403, 404) } },
  'POST /v1/webhooks/{id}/rotate-secret': { summary: 'Rotate the signing secret (the old one signs for 24 h more)', responses: { 200: { description: 'The new secret, shown once', schema: endpointResponse.extend({ secret: z.string(), previousSecretExpiresAt: timestamp.nullable() }) }, ...errors(401, 403, 404, 409) } },
  'POST /v1/webhooks/{id}/redrive': { summary: 'Send dead deliveries out again (optionally only those that died since a time); bounded per call', body: redriveInputSchema, responses: { 200: { description: 'How many were re-queued; complete is false when more are left for another call', schema: z.object({ redriven: z.number().int(), complete: z.boolean() }) }, ...errors(400, 401, 403, 404, 415) } },
  'GET /v1/openapi.json': { summary: 'This OpenAPI document', responses: { 200: { description: 'OpenAPI 3.1' } } },
} satisfies Record<string, Operation>;
