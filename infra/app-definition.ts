/**
 * The one description of Processa's resources. The CDK stack (infra/stacks) and the local
 * runtime (infra/local) both build from it, so tables, queues, functions, routes and retry
 * settings cannot drift between AWS and a laptop. Pure data: no CDK or SDK imports, so that
 * handlers may read route roles from it without pulling infrastructure code into bundles.
 */

export const ROLES = ['agent', 'reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type AttributeType = 'S' | 'N';
export interface KeyAttribute {
  name: string;
  type: AttributeType;
}
export interface IndexDefinition {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}
export interface TableDefinition {
  /** Environment variable through which functions learn the table's physical name. */
  envVar: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: IndexDefinition[];
  stream?: 'NEW_AND_OLD_IMAGES';
  ttlAttribute?: string;
}

export const tables = {
  drafts: {
    envVar: 'DRAFTS_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [
      // Newest first within one status: the review queue ("pending") and decided drafts.
      { name: 'by-status', partitionKey: { name: 'status', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
      // Newest first across all statuses (every draft item carries kind = "draft").
      { name: 'by-created', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
      // Sparse: only pending drafts with an expiresAt carry expiryQueue, so the sweep reads just those.
      { name: 'pending-by-expiry', partitionKey: { name: 'expiryQueue', type: 'S' }, sortKey: { name: 'expiresAt', type: 'S' } },
    ],
    // Decisions leave the table through its stream; old and new images let the stream
    // filter pass only pending → decided transitions.
    stream: 'NEW_AND_OLD_IMAGES',
  },
  apiKeys: {
    envVar: 'API_KEYS_TABLE_NAME',
    // Looked up on every request by the SHA-256 of the presented key; the key itself is never stored.
    partitionKey: { name: 'keyHash', type: 'S' },
    indexes: [{ name: 'by-id', partitionKey: { name: 'id', type: 'S' } }],
  },
  idempotency: {
    envVar: 'IDEMPOTENCY_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
  webhooks: {
    envVar: 'WEBHOOKS_TABLE_NAME',
    partitionKey: { name: 'id', type: 'S' },
    // Every endpoint item carries kind = "endpoint": fan-out and listing query it, never scan.
    indexes: [{ name: 'by-kind', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } }],
  },
  sessions: {
    envVar: 'SESSIONS_TABLE_NAME',
    // Page sign-in sessions (by token hash) and sign-in throttling counters, both expiring by TTL.
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
  deliveries: {
    envVar: 'DELIVERIES_TABLE_NAME',
    // Per endpoint: one item per delivery attempt (attemptKey = time#event#n, newest first) and one
    // delivery state per event (attemptKey = state#event: attempt counter, status, the message).
    // Both expire by TTL.
    partitionKey: { name: 'endpointId', type: 'S' },
    sortKey: { name: 'attemptKey', type: 'S' },
    // Sparse: only dead delivery states carry deadEndpointId, so redrive reads exactly an endpoint's
    // dead deliveries (since a time), however many other messages the DLQ holds.
    indexes: [{ name: 'dead-by-endpoint', partitionKey: { name: 'deadEndpointId', type: 'S' }, sortKey: { name: 'diedAt', type: 'S' } }],
    ttlAttribute: 'expiresAtEpoch',
  },
} as const satisfies Record<string, TableDefinition>;
export type TableName = keyof typeof tables;

/**
 * Webhook retry policy: 4 attempts in all, counted by the delivery itself (its state item), not by
 * SQS receives; after the last failure the delivery function moves the message to the DLQ.
 */
export const deliveryRetry = {
  maxAttempts: 4,
  /**
   * The queue's maxReceiveCount: only a backstop for messages whose invocations keep dying. Receives
   * lost to throttling or timeouts count there but are not attempts, so it sits well above 4.
   */
  backstopReceives: 12,
  /** First retry delay; later ones double, with full jitter. Overridden by PROCESSA_RETRY_BASE_SECONDS. */
  baseSeconds: 30,
  /** SQS allows a visibility timeout of at most 12 hours. */
  maxBackoffSeconds: 12 * 60 * 60,
  /** Per-attempt HTTP timeout. Overridden by PROCESSA_WEBHOOK_TIMEOUT_MS. */
  timeoutMs: 10_000,
} as const;

export interface QueueDefinition {
  envVar: string;
  visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the dead-letter queue. */
  maxReceiveCount?: number;
  deadLetterQueue?: QueueName;
  retentionDays: number;
}

export const queues = {
  deliveries: {
    envVar: 'DELIVERIES_QUEUE_URL',
    // 6× the delivery function's timeout (30 s), as AWS recommends for an SQS event source, so a
    // throttled or retried invocation does not make the message visible again mid-attempt.
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: deliveryRetry.backstopReceives,
    deadLetterQueue: 'deliveriesDlq',
    retentionDays: 4,
  },
  deliveriesDlq: {
    envVar: 'DELIVERIES_DLQ_URL',
    visibilityTimeoutSeconds: 60,
    retentionDays: 14,
  },
  /** Stream batches the fan-out could not process after all retries: kept for an operator, alarmed on. */
  fanOutFailures: {
    envVar: 'FAN_OUT_FAILURES_QUEUE_URL',
    visibilityTimeoutSeconds: 60,
    retentionDays: 14,
  },
} as const satisfies Record<string, QueueDefinition>;
export type QueueName = 'deliveries' | 'deliveriesDlq' | 'fanOutFailures';

export type TableAccess = 'read' | 'write' | 'readWrite';
/** Producers send; consumers receive, change visibility and delete. */
export type QueueAccess = 'send' | 'consume' | 'sendConsume';

export interface FunctionDefinition {
  /** Folder under functions/ holding handler.ts, which exports `handler`. */
  folder: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  tables: Partial<Record<TableName, TableAccess>>;
  queues?: Partial<Record<QueueName, QueueAccess>>;
}

export const functions = {
  createDraft: {
    folder: 'create-draft',
    description: 'POST /v1/drafts: an agent submits a draft for review',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { drafts: 'write', idempotency: 'readWrite', apiKeys: 'read' },
  },
  readDrafts: {
    folder: 'read-drafts',
    description: 'GET /v1/drafts and /v1/drafts/{id}',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { drafts: 'read', apiKeys: 'read' },
  },
  decideDraft: {
    folder: 'decide-draft',
    description: 'POST /v1/drafts/{id}/approve|reject: a reviewer decides a draft, exactly once',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { drafts: 'readWrite', apiKeys: 'read' },
  },
  manageKeys: {
    folder: 'manage-keys',
    description: 'POST/GET/DELETE /v1/keys: admins manage API keys',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { apiKeys: 'readWrite' },
  },
  describeApi: {
    folder: 'describe-api',
    description: 'GET /v1/openapi.json: the OpenAPI 3.1 document; $default: the documented 404/405 for any other request',
    memoryMb: 256,
    timeoutSeconds: 5,
    tables: {},
  },
  manageWebhooks: {
    folder: 'manage-webhooks',
    description: '/v1/webhooks: endpoints, secrets, test events, delivery log and redrive',
    memoryMb: 512,
    timeoutSeconds: 20,
    // Deliveries: redrive turns dead delivery states back into waiting ones.
    tables: { webhooks: 'readWrite', deliveries: 'readWrite', apiKeys: 'read' },
    queues: { deliveries: 'send', deliveriesDlq: 'consume' },
  },
  reviewPages: {
    folder: 'review-pages',
    description: '/review: the hosted approval pages (sign in, list, read, approve, reject)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { drafts: 'readWrite', sessions: 'readWrite', apiKeys: 'read' },
  },
  webhookSettingsPages: {
    folder: 'webhook-settings-pages',
    description: '/settings/webhooks: admins manage endpoints, test events and redrive in the browser',
    memoryMb: 512,
    timeoutSeconds: 20,
    // Sessions: read to sign in, write only for the one-time secret shown after a redirect.
    // API keys: each request re-checks that the key behind the session is still valid.
    tables: { webhooks: 'readWrite', deliveries: 'readWrite', sessions: 'readWrite', apiKeys: 'read' },
    queues: { deliveries: 'send', deliveriesDlq: 'consume' },
  },
  expireDrafts: {
    folder: 'expire-drafts',
    description: 'Every minute: pending drafts past their expiresAt become expired',
    memoryMb: 256,
    timeoutSeconds: 60,
    tables: { drafts: 'readWrite' },
  },
  fanOutDecisions: {
    folder: 'fan-out-decisions',
    description: 'Drafts stream → one delivery message per decision and subscribed endpoint',
    memoryMb: 512,
    timeoutSeconds: 30,
    // Deliveries: records each delivery's state (waiting) before queueing it.
    tables: { webhooks: 'read', deliveries: 'write' },
    queues: { deliveries: 'send' },
  },
  deliverWebhooks: {
    folder: 'deliver-webhooks',
    description: 'Delivery queue → signed POST to the endpoint, retried with backoff, logged',
    memoryMb: 512,
    // Per-attempt HTTP timeout (10 s) plus signing and logging; the queue's visibility timeout is 6× this.
    timeoutSeconds: 30,
    // Deliveries: reads and conditionally writes each delivery's state (its attempt counter).
    tables: { webhooks: 'read', deliveries: 'readWrite' },
    // The DLQ: after the 4th failed attempt the function moves the message there itself.
    queues: { deliveries: 'consume', deliveriesDlq: 'send' },
  },
} as const satisfies Record<string, FunctionDefinition>;
export type FunctionName = keyof typeof functions;

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: /v1/drafts/{id}. */
  path: string;
  function: FunctionName;
  /** Roles allowed to call the route; every route must name them ([] only for the sign-in form). */
  roles: readonly Role[];
  /** How callers prove their role: a Bearer API key (the default), a page session cookie, or not at all (roles must be []). */
  auth?: 'bearer' | 'session' | 'none';
}

const anyRole = ROLES;
const deciders = ['reviewer', 'admin'] as const;
const adminOnly = ['admin'] as const;

export const routes = [
  { method: 'POST', path: '/v1/drafts', function: 'createDraft', roles: ['agent', 'admin'] },
  { method: 'GET', path: '/v1/drafts', function: 'readDrafts', roles: anyRole },
  { method: 'GET', path: '/v1/drafts/{id}', function: 'readDrafts', roles: anyRole },
  { method: 'POST', path: '/v1/drafts/{id}/approve', function: 'decideDraft', roles: deciders },
  { method: 'POST', path: '/v1/drafts/{id}/reject', function: 'decideDraft', roles: deciders },
  { method: 'POST', path: '/v1/keys', function: 'manageKeys', roles: adminOnly },
  { method: 'GET', path: '/v1/keys', function: 'manageKeys', roles: adminOnly },
  { method: 'DELETE', path: '/v1/keys/{id}', function: 'manageKeys', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'PATCH', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'DELETE', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/test', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks/{id}/deliveries', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/redrive', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/openapi.json', function: 'describeApi', roles: [], auth: 'none' },
  // Hosted pages: GET /review shows the sign-in form to visitors without a session.
  { method: 'GET', path: '/review', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/login', function: 'reviewPages', roles: [], auth: 'session' },
  { method: 'POST', path: '/review/logout', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'GET', path: '/review/{id}', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/{id}/approve', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/{id}/reject', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'GET', path: '/settings/webhooks', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/test', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/rotate-secret', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/redrive', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/delete', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
] as const satisfies readonly RouteDefinition[];

export const routeKey = (route: Pick<RouteDefinition, 'method' | 'path'>): string => `${route.method} ${route.path}`;

export function routeFor(key: string): RouteDefinition {
  const route = (routes as readonly RouteDefinition[]).find((r) => routeKey(r) === key);
  if (!route) throw new Error(`No route is defined for ${key}`);
  return route;
}

/**
 * API Gateway's catch-all route: every request no route above matches (unknown path, or a known
 * path with another method) goes to this function, which answers in the documented error shape
 * instead of API Gateway's own {"message":"Not Found"}. The local gateway falls back to it too.
 * Not an API operation, so it is kept out of `routes` (and of the OpenAPI document).
 */
export const defaultRoute = { key: '$default', function: 'describeApi' } as const satisfies { key: string; function: FunctionName };

/**
 * Lambda event filter (same syntax as EventSourceMapping FilterCriteria) that lets only
 * decisions through: an update whose old image is pending and new image is decided.
 */
export const decisionStreamFilter = {
  eventName: ['MODIFY'],
  dynamodb: {
    OldImage: { status: { S: ['pending'] } },
    NewImage: { status: { S: ['approved', 'rejected'] } },
  },
} as const;

/** Expiry, as a filter: pending → expired. */
export const expiryStreamFilter = {
  eventName: ['MODIFY'],
  dynamodb: {
    OldImage: { status: { S: ['pending'] } },
    NewImage: { status: { S: ['expired'] } },
  },
} as const;

/**
 * Scheduled functions. Expiry is a sweep rather than DynamoDB TTL: TTL deletes the item (we keep
 * expired drafts and their history) and may lag by up to two days; a sweep every minute of a
 * sparse index is precise and cheap.
 */
export const schedules = [{ function: 'expireDrafts', rateMinutes: 1 }] as const satisfies ReadonlyArray<{ function: FunctionName; rateMinutes: number }>;

/** The drafts stream → fan-out function mapping; the local stream pump reads the same settings. */
export const streamConsumer = {
  function: 'fanOutDecisions',
  table: 'drafts',
  batchSize: 100,
  startingPosition: 'TRIM_HORIZON',
  filters: [decisionStreamFilter, expiryStreamFilter],
  /** Each failing batch is split and retried; what still fails goes to the fanOutFailures queue. */
  bisectBatchOnError: true,
  retryAttempts: 10,
  onFailure: 'fanOutFailures',
  reportBatchItemFailures: true,
} as const satisfies { function: FunctionName; table: TableName; onFailure: QueueName; [k: string]: unknown };

/** The delivery queue → delivery function mapping; the local queue pump reads the same settings. */
export const queueConsumer = {
  function: 'deliverWebhooks',
  queue: 'deliveries',
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  /** Parallel pollers: a slow endpoint holds up one batch, never the whole queue. */
  maxConcurrency: 5,
  reportBatchItemFailures: true,
} as const satisfies { function: FunctionName; queue: QueueName; [k: string]: unknown };

/** Delivery attempts stay in the log this long. */
export const deliveryLogRetentionDays = 30;

/** Request limits enforced by every JSON handler (API Gateway itself allows 10 MB). */
export const limits = {
  maxBodyBytes: 256 * 1024,
} as const;
