// zod/mini: functional and tree-shakable, a fraction of zod's full build in every function's bundle.
import * as z from 'zod/mini';
import '../domain/zod-config.js';
import { ROLES } from '../domain/roles.js';
import { deliveryRetry } from '../webhooks/delivery-policy.js';
import { limits } from './limits.js';
import { routeKey, routes, type RouteDefinition } from './routes.js';
import { DRAFT_LIMITS } from '../domain/draft.js';
import { EVENT_TYPES } from '../webhooks/events.js';
import { operations, requestSchemas, responseSchemas, webhookEvents, type Operation, type SchemaMeta } from './api-schemas.js';

type JsonSchema = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';
const schemaRef = (name: string) => ({ $ref: `${SCHEMAS}${name}` });
const componentRef = (kind: 'responses' | 'headers' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Requests are described by what they accept (zod's input side), responses and events by what they produce. */
const conversion = (io: 'input' | 'output') => ({
  io,
  target: 'draft-2020-12' as const,
  // Custom validators (a JSON object of bounded depth and size) are objects on the wire.
  unrepresentable: 'any' as const,
  override: (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }) => {
    if ((ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type === 'custom') ctx.jsonSchema.type = 'object';
  },
  uri: (id: string) => `${SCHEMAS}${id}`,
});

const registryFor = (io: 'input' | 'output') => (io === 'input' ? requestSchemas : responseSchemas);

/** components.schemas: every named schema, referring to the others by $ref. */
function namedSchemas(): Record<string, JsonSchema> {
  const all: Record<string, JsonSchema> = {};
  for (const io of ['input', 'output'] as const) {
    const registry = registryFor(io);
    const { schemas } = z.toJSONSchema(registry, conversion(io)) as { schemas: Record<string, JsonSchema> };
    if ('__shared' in schemas) throw new Error('A named schema has an unnamed part that zod would share through $defs');
    for (const [name, converted] of Object.entries(schemas)) {
      if (name in all) throw new Error(`Two named schemas are called ${name}`);
      const { $schema: _schema, $id: _id, ...rest } = converted;
      const meta = registry.get(registry._idmap.get(name)!) as SchemaMeta;
      all[name] = { description: meta.description, ...rest };
    }
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
}

/** A named schema becomes its $ref; any other is converted in place. */
function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const name = registryFor(io).get(schema)?.id;
  if (name) return schemaRef(name);
  const { $schema: _schema, ...converted } = z.toJSONSchema(schema, conversion(io)) as JsonSchema;
  return converted;
}

function queryParameters(schema: z.core.$ZodType) {
  const converted = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: converted.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** The public API routes: those authenticated by Bearer key or open (the pages are not API). */
export const apiRoutes = (routes as readonly RouteDefinition[]).filter((r) => r.auth !== 'session');

/** Methods whose body the JSON middleware reads (size, content type, UTF-8, JSON) before any route runs. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

const errorContent = { 'application/json': { schema: schemaRef('Error') } };
const KIB = 1024;

/** Error responses several routes share, by status. 409 is described per route. */
const sharedResponses: Record<number, { name: string; response: Record<string, unknown> }> = {
  400: {
    name: 'BadRequest',
    response: {
      description:
        'Invalid request: code validation_failed (a body field, query parameter or path id; details.fields names each), malformed_json or invalid_encoding (the body is not JSON, or not UTF-8).',
      content: errorContent,
    },
  },
  401: {
    name: 'Unauthorized',
    response: {
      description: 'Missing, unknown or revoked API key: code unauthorized.',
      headers: { 'WWW-Authenticate': componentRef('headers', 'WwwAuthenticate') },
      content: errorContent,
    },
  },
  403: {
    name: 'Forbidden',
    response: { description: 'The key’s role may not do this: code forbidden (details.allowedRoles lists the roles that may).', content: errorContent },
  },
  404: { name: 'NotFound', response: { description: 'No such resource: code not_found.', content: errorContent } },
  413: {
    name: 'PayloadTooLarge',
    response: {
      description:
        `Too large: code payload_too_large, with details.limitBytes and details.actualBytes. The body may be at most ${limits.maxBodyBytes / KIB} KiB and a draft’s content ` +
        `at most ${DRAFT_LIMITS.contentMaxBytes / KIB} KiB serialized. (API Gateway refuses a request over 10 MB itself, with its own body.)`,
      content: { 'application/json': { schema: { anyOf: [schemaRef('Error'), schemaRef('GatewayError')] } } },
    },
  },
  415: {
    name: 'UnsupportedMediaType',
    response: { description: 'A body that is not Content-Type: application/json: code unsupported_media_type.', content: errorContent },
  },
  422: {
    name: 'IdempotencyKeyReused',
    response: { description: 'The Idempotency-Key was used before with a different body: code idempotency_key_reused.', content: errorContent },
  },
  429: {
    name: 'TooManyRequests',
    response: {
      description:
        'Throttled by API Gateway (the deployed API stage’s rate and burst limits, shared by all callers), before any function runs and with API Gateway’s own body. ' +
        'Nothing was done; retry with backoff. (The local runtime has no such throttle.)',
      content: { 'application/json': { schema: schemaRef('GatewayError') } },
    },
  },
  503: {
    name: 'ServiceUnavailable',
    response: {
      description:
        'The store is throttling (or a write kept meeting concurrent ones) and the request gave up after its own retries: code service_unavailable. Nothing was half-written; retry after Retry-After seconds.',
      headers: { 'Retry-After': componentRef('headers', 'RetryAfter') },
      content: errorContent,
    },
  },
};

const sharedHeaders = {
  RetryAfter: { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 0 } },
  WwwAuthenticate: { description: 'The authentication scheme the API expects.', required: true, schema: { type: 'string', const: 'Bearer' } },
};

/**
 * The error statuses a route can answer: those of its kind (every body route can get 400, 413 and
 * 415 from the JSON middleware; every keyed route 401, and 503 since authenticating reads the key
 * store; 403 unless every role may call it; every route 429 from API Gateway's stage throttle) and
 * those its operation names.
 */
function errorStatuses(route: RouteDefinition, operation: Operation): number[] {
  const statuses = new Set<number>(operation.errors ?? []);
  const keyed = route.auth !== 'none';
  const body = BODY_METHODS.has(route.method);
  if (body || operation.query) statuses.add(400);
  if (body) [413, 415].forEach((s) => statuses.add(s));
  if (keyed) [401, 503].forEach((s) => statuses.add(s));
  if (keyed && !ROLES.every((role) => route.roles.includes(role))) statuses.add(403);
  if (operation.conflict) statuses.add(409);
  statuses.add(429);
  return [...statuses].sort((a, b) => a - b);
}

const TAGS = [
  {
    name: 'Drafts',
    prefix: '/v1/drafts',
    description: 'Agents submit drafts of actions; reviewers approve (possibly with edits) or reject them, exactly once.',
  },
  {
    name: 'API keys',
    prefix: '/v1/keys',
    description: 'Keys for agents, reviewers and admins (admin only). A key’s value is shown once; only a hash is stored.',
  },
  {
    name: 'Webhook endpoints',
    prefix: '/v1/webhooks',
    description: 'Where decisions are delivered (admin only): endpoints, their secrets, test events, the delivery log and redrive.',
  },
  {
    name: 'Notification channels',
    prefix: '/v1/notifications',
    description:
      'Slack and email channels that tell reviewers a draft waits (admin only). A channel is an endpoint (ep_…): manage it, test it, read its delivery log and redrive it under /v1/webhooks/{id}.',
  },
  {
    name: 'Integrations',
    prefix: '/v1/integrations',
    description: 'Endpoints other services call: the Slack app’s interactivity URL (Decide from Slack), verified by its signing secret.',
  },
  { name: 'API description', prefix: '/v1/openapi.json', description: 'This document.' },
  { name: 'Webhook events', description: 'What Processa POSTs to your endpoints, signed with the Standard Webhooks scheme.' },
] as const;

function tagFor(path: string): string {
  const tag = TAGS.find((t) => 'prefix' in t && (path === t.prefix || path.startsWith(`${t.prefix}/`)));
  if (!tag) throw new Error(`No OpenAPI tag covers ${path}`);
  return tag.name;
}

const PATH_IDS: Record<string, string> = {
  '/v1/drafts': 'The draft’s id.',
  '/v1/keys': 'The API key’s id (key_…).',
  '/v1/webhooks': 'The webhook endpoint’s id (ep_…).',
};

const signatureDescription =
  'Verify every request before acting on it: `webhook-signature` holds `v1,` + base64 HMAC-SHA256, keyed with the base64-decoded part of the endpoint’s `whsec_` secret, ' +
  'of `{webhook-id}.{webhook-timestamp}.{raw body}` (the Standard Webhooks scheme; any Standard Webhooks library verifies it). ' +
  `A delivery succeeds on a 2xx answer within ${deliveryRetry.timeoutMs / 1000} s; anything else is retried with exponential backoff and jitter, ` +
  `${deliveryRetry.maxAttempts} attempts in all, then the delivery is dead (shown in the delivery log) until redriven. ` +
  'Delivery is at least once: deduplicate on `webhook-id` (the same on every retry and redrive of an event) or on the draft id.';

function webhooksSection() {
  const failed = 'Not received: the attempt failed and is retried (see the description), then the delivery is dead until redriven.';
  return Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const event = webhookEvents[type];
      const name = responseSchemas.get(event.schema)?.id;
      if (!name) throw new Error(`The ${type} event body has no named schema`);
      return [
        type,
        {
          post: {
            operationId: `webhook_${type.replace(/[^A-Za-z0-9]+/g, '_')}`,
            summary: event.summary,
            description: `Processa POSTs this to each endpoint subscribed to ${type} (User-Agent: Processa-Webhooks/1.0). ${signatureDescription}`,
            tags: ['Webhook events'],
            // Nothing is sent for the receiver to authenticate but the signature headers.
            security: [],
            parameters: ['WebhookId', 'WebhookTimestamp', 'WebhookSignature'].map((p) => componentRef('parameters', p)),
            requestBody: { required: true, content: { 'application/json': { schema: schemaRef(name), examples: event.examples } } },
            responses: {
              '2XX': {
                description: `Received: any 2xx within the timeout (${deliveryRetry.timeoutMs / 1000} s) ends the delivery; the response body is ignored.`,
              },
              '3XX': { description: `${failed} Redirects are not followed.` },
              '4XX': { description: failed },
              '5XX': { description: failed },
            },
          },
        },
      ];
    }),
  );
}

const webhookParameters = {
  WebhookId: {
    name: 'webhook-id',
    in: 'header',
    required: true,
    description: 'The event’s id: the same on every retry and redrive of the event, so receivers deduplicate on it. Test events’ ids start with msg_test_.',
    schema: { type: 'string', pattern: '^msg_[A-Za-z0-9_-]+$' },
  },
  WebhookTimestamp: {
    name: 'webhook-timestamp',
    in: 'header',
    required: true,
    description: 'When this attempt was signed, in Unix seconds. Refuse timestamps far from now (Standard Webhooks libraries allow 5 minutes) against replays.',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  WebhookSignature: {
    name: 'webhook-signature',
    in: 'header',
    required: true,
    description:
      'Space-separated `v1,<base64 HMAC-SHA256>` signatures, one per secret that signs: the current one, and during a rotation the previous one until its grace period ends. One matching signature is enough.',
    schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$' },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Repeating a request with the same key (1–255 visible ASCII characters) replays the first 201 instead of creating another draft; with a different body it is refused (422).',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
};

/** The local runtime's address; a deployment's own document (GET /v1/openapi.json) names itself instead. */
const DEFAULT_SERVER = {
  url: 'http://localhost:3000',
  description: 'The local runtime (`npm run dev`). A deployed API is at the stack’s ApiUrl output; its GET /v1/openapi.json names itself here.',
};

const description = [
  'A human approval gate for AI agents: an agent submits a *draft* of an action, a person approves it (possibly after editing it) or rejects it, and the decision is delivered to your endpoint as a signed webhook (see `webhooks`).',
  '',
  'Authenticate with an API key: `Authorization: Bearer <key>`. A key has one role: **agent** (create and read drafts), **reviewer** (read and decide drafts) or **admin** (everything, plus webhook endpoints and API keys); each operation lists its roles in `x-roles`.',
  '',
  `Errors are \`{"error": {"code", "message", "details"?}}\` (\`Error\`); \`details.fields\` names each bad field. Bodies are JSON (\`Content-Type: application/json\`, at most ${limits.maxBodyBytes / KIB} KiB). ` +
    'API Gateway may answer 429 by itself, with its own body (`GatewayError`); 429 and 503 (which carries `Retry-After`) mean nothing was done, so retry with backoff.',
].join('\n');

/**
 * OpenAPI 3.1, generated from the route definition and the zod schemas the handlers validate
 * with, so the document cannot drift from the code.
 */
export function openApiDocument(serverUrl?: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const usedResponses = new Set<number>();
  for (const route of apiRoutes) {
    const key = routeKey(route);
    const operation = (operations as Record<string, Operation>)[key];
    if (!operation) throw new Error(`No OpenAPI operation is described for ${key}`);
    const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      description: PATH_IDS[Object.keys(PATH_IDS).find((p) => route.path.startsWith(`${p}/`)) ?? ''] ?? 'The id.',
      schema: { type: 'string' },
    }));
    const open = route.auth === 'none';
    const errors = Object.fromEntries(
      errorStatuses(route, operation).map((status) => {
        if (status === 409) return [status, { description: operation.conflict, content: errorContent }];
        const shared = sharedResponses[status];
        if (!shared) throw new Error(`No shared description of a ${status} response (${key})`);
        usedResponses.add(status);
        return [status, componentRef('responses', shared.name)];
      }),
    );
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
      summary: operation.summary,
      description: open ? 'Open: no key needed.' : `Roles: ${route.roles.join(', ')}.`,
      tags: [tagFor(route.path)],
      ...(open ? { security: [] } : { 'x-roles': route.roles }),
      parameters: [
        ...pathParameters,
        ...(operation.query ? queryParameters(operation.query) : []),
        ...(key === 'POST /v1/drafts' ? [componentRef('parameters', 'IdempotencyKey')] : []),
      ],
      ...(operation.body
        ? {
            requestBody: {
              required: route.method !== 'POST' || key === 'POST /v1/drafts' || key.endsWith('/v1/keys') || key === 'POST /v1/webhooks',
              content: { 'application/json': { schema: jsonSchema(operation.body, 'input') } },
            },
          }
        : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(operation.responses).map(([status, response]) => [
            status,
            {
              description: response.description,
              content: { 'application/json': { schema: response.schema ? jsonSchema(response.schema, 'output') : { type: 'object' } } },
            },
          ]),
        ),
        ...errors,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Processa API', version: '1.0.0', description },
    servers: [serverUrl ? { url: serverUrl } : DEFAULT_SERVER],
    security: [{ bearerAuth: [] }],
    tags: TAGS.map(({ name, description }) => ({ name, description })),
    paths,
    webhooks: webhooksSection(),
    components: {
      schemas: namedSchemas(),
      responses: Object.fromEntries([...usedResponses].sort((a, b) => a - b).map((s) => [sharedResponses[s]!.name, sharedResponses[s]!.response])),
      headers: sharedHeaders,
      parameters: webhookParameters,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (prk_…), sent as `Authorization: Bearer <key>`.' } },
    },
  };
}
