/**
 * The one description of Processa's resources. The CDK stack (infra/stacks) and the local
 * runtime (infra/local) both build from it, so tables, queues, functions, routes and retry
 * settings cannot drift between AWS and a laptop. Pure data: no CDK or SDK imports. It imports
 * the domain's words (roles, limits, retry policy, routes, stream filters) from shared/; nothing
 * in shared/ or functions/ imports it.
 */

import { DEFAULT_AUTO_DISABLE_DAYS } from '../shared/webhooks/endpoint-health.js';
import { DEFAULT_BREAKER_COOLDOWN_SECONDS, DEFAULT_BREAKER_FAILURES } from '../shared/webhooks/circuit-breaker.js';
import { ROLES, type Role } from '../shared/domain/roles.js';
import { queueEnvVars, tableEnvVars } from '../shared/config.js';
import { limits } from '../shared/http/limits.js';
import { defaultRoute, routeFor, routeKey, routes as routeTable, type RouteShape } from '../shared/http/routes.js';
import { createdStreamFilter, decisionStreamFilter, expiryStreamFilter } from '../shared/store/drafts-stream.js';
import { deliveryLogRetentionDays, deliveryRetry } from '../shared/webhooks/delivery-policy.js';

// Domain vocabulary and the HTTP contract live in shared/ (which never imports infra/); they are
// re-exported here so infra code and tests keep one place to read the whole app from.
export {
  createdStreamFilter,
  decisionStreamFilter,
  defaultRoute,
  deliveryLogRetentionDays,
  deliveryRetry,
  expiryStreamFilter,
  limits,
  routeFor,
  routeKey,
  ROLES,
  type Role,
};

export type AttributeType = 'S' | 'N';
export interface KeyAttribute {
  name: string;
  type: AttributeType;
}
/**
 * Which attributes an index copies from the table: every write of an item pays for its copies,
 * so an index read by key lookups afterwards keeps only the keys (KEYS_ONLY).
 */
export type IndexProjection = { type: 'KEYS_ONLY' } | { type: 'INCLUDE'; attributes: readonly string[] } | { type: 'ALL' };
export interface IndexDefinition {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  /** ALL when left out. */
  projection?: IndexProjection;
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

/** How many partitions each draft listing index spreads its items over (shared/store/draft-shards.ts says why). */
export { DRAFT_LIST_SHARDS as draftListShards } from '../shared/store/draft-shards.js';
/** How many partitions each webhook endpoint's deliveries spread over (shared/store/delivery-shards.ts says why). */
export { DELIVERY_SHARDS as deliveryShards } from '../shared/store/delivery-shards.js';

export const tables = {
  drafts: {
    envVar: tableEnvVars.drafts,
    partitionKey: { name: 'id', type: 'S' },
    // Keys only: a listing fetches its page's drafts by id, so a draft's write cost does not grow
    // with its content. Partition keys carry the shard (<scope>#0..draftListShards-1).
    indexes: [
      // Newest first within one status (statusShard = <status>#<n>): the review queue and decided drafts.
      { name: 'by-status-shard', partitionKey: { name: 'statusShard', type: 'S' }, sortKey: { name: 'listKey', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
      // Newest first across all statuses (createdShard = all#<n>).
      {
        name: 'by-created-shard',
        partitionKey: { name: 'createdShard', type: 'S' },
        sortKey: { name: 'listKey', type: 'S' },
        projection: { type: 'KEYS_ONLY' },
      },
      // Sparse: only pending drafts with an expiresAt carry expiryShard (pending#<n>), so the sweep reads just those.
      { name: 'expiry-shard', partitionKey: { name: 'expiryShard', type: 'S' }, sortKey: { name: 'expiresAt', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
    ],
    // Decisions leave the table through its stream; old and new images let the stream
    // filter pass only pending → decided transitions.
    stream: 'NEW_AND_OLD_IMAGES',
  },
  apiKeys: {
    envVar: tableEnvVars.apiKeys,
    // Looked up on every request by the SHA-256 of the presented key; the key itself is never stored.
    partitionKey: { name: 'keyHash', type: 'S' },
    indexes: [{ name: 'by-id', partitionKey: { name: 'id', type: 'S' } }],
  },
  idempotency: {
    envVar: tableEnvVars.idempotency,
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
  webhooks: {
    envVar: tableEnvVars.webhooks,
    partitionKey: { name: 'id', type: 'S' },
    // Every endpoint item carries kind = "endpoint": fan-out and listing query it, never scan.
    indexes: [{ name: 'by-kind', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'createdAt', type: 'S' } }],
  },
  sessions: {
    envVar: tableEnvVars.sessions,
    // Page sign-in sessions (by token hash), sign-in throttling counters and the uses of email
    // decision links, all expiring by TTL.
    partitionKey: { name: 'id', type: 'S' },
    indexes: [],
    ttlAttribute: 'expiresAtEpoch',
  },
  deliveries: {
    envVar: tableEnvVars.deliveries,
    // Per endpoint: one item per delivery attempt (attemptKey = time#event#n, newest first) and one
    // delivery state per event (attemptKey = state#event: attempt counter, status, the message).
    // Both expire by TTL. The partition key's value is `<endpoint id>#<shard of the event id>`
    // (deliveryShards partitions per endpoint, so one busy endpoint is not a hot partition; the plain
    // id is in plainEndpointId); items from before sharding, and the endpoint's health and breaker
    // items, are under the plain endpoint id.
    partitionKey: { name: 'endpointId', type: 'S' },
    sortKey: { name: 'attemptKey', type: 'S' },
    // Sparse: only dead delivery states carry deadEndpointId, so redrive reads exactly an endpoint's
    // dead deliveries (since a time), however many other messages the DLQ holds. Its value is the
    // state's partition (<endpoint id>#<shard>, or the plain id before sharding): redrive reads each.
    indexes: [{ name: 'dead-by-endpoint', partitionKey: { name: 'deadEndpointId', type: 'S' }, sortKey: { name: 'diedAt', type: 'S' } }],
    ttlAttribute: 'expiresAtEpoch',
  },
} as const satisfies Record<keyof typeof tableEnvVars, TableDefinition>;
export type TableName = keyof typeof tables;

// deliveryRetry (shared/webhooks/delivery-policy.ts) sets the delivery queue's maxReceiveCount below.

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
    envVar: queueEnvVars.deliveries,
    // 6× the delivery function's timeout (30 s), as AWS recommends for an SQS event source, so a
    // throttled or retried invocation does not make the message visible again mid-attempt.
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: deliveryRetry.backstopReceives,
    deadLetterQueue: 'deliveriesDlq',
    retentionDays: 4,
  },
  /**
   * Slack and email channels' deliveries and operator notices, worked by deliverNotifications, so the
   * webhook worker bundles no SES, SNS or notification code. Same retry settings as deliveries.
   */
  notifications: {
    envVar: queueEnvVars.notifications,
    visibilityTimeoutSeconds: 180,
    maxReceiveCount: deliveryRetry.backstopReceives,
    // One DLQ for both: redrive re-sends each dead delivery to its target's queue (the message says which).
    deadLetterQueue: 'deliveriesDlq',
    retentionDays: 4,
  },
  deliveriesDlq: {
    envVar: queueEnvVars.deliveriesDlq,
    visibilityTimeoutSeconds: 60,
    retentionDays: 14,
  },
  /** Stream batches the fan-out could not process after all retries: kept for an operator, alarmed on. */
  fanOutFailures: {
    envVar: queueEnvVars.fanOutFailures,
    visibilityTimeoutSeconds: 60,
    retentionDays: 14,
  },
} as const satisfies Record<keyof typeof queueEnvVars, QueueDefinition>;
export type QueueName = 'deliveries' | 'notifications' | 'deliveriesDlq' | 'fanOutFailures';

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
  slackInteractions: {
    folder: 'slack-interactions',
    description: "POST /v1/integrations/slack/interactions: Approve and Reject from Slack messages, verified by the Slack app's signing secret",
    memoryMb: 512,
    timeoutSeconds: 10,
    // Drafts: decided conditionally, as through the API. API keys: the Slack user's linked key, re-read on every click.
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
    description: '/v1/webhooks and /v1/notifications: endpoints and channels, secrets, health and the delivery log',
    memoryMb: 512,
    timeoutSeconds: 20,
    // Deliveries: read only, for each endpoint's health and delivery log (test sends and redrive are webhookQueueActions').
    tables: { webhooks: 'readWrite', deliveries: 'read', apiKeys: 'read' },
  },
  webhookQueueActions: {
    folder: 'webhook-queue-actions',
    description: 'POST /v1/webhooks/{id}/test and /redrive: a test event, or the dead deliveries, onto the delivery queues',
    memoryMb: 512,
    timeoutSeconds: 20,
    // Deliveries: redrive turns dead delivery states back into waiting ones.
    tables: { webhooks: 'read', deliveries: 'readWrite', apiKeys: 'read' },
    queues: { deliveries: 'send', notifications: 'send', deliveriesDlq: 'consume' },
  },
  reviewPages: {
    folder: 'review-pages',
    description: '/review: the hosted approval pages (sign in, list, read, approve, reject)',
    memoryMb: 512,
    timeoutSeconds: 10,
    tables: { drafts: 'readWrite', sessions: 'readWrite', apiKeys: 'read' },
  },
  emailDecisions: {
    folder: 'email-decisions',
    description: "/email-decisions/{token}: a notification email's Approve or Reject link: a confirmation page, and the decision on POST",
    memoryMb: 512,
    timeoutSeconds: 10,
    // Drafts: read for the page, decided conditionally. Sessions: each used link's record (and the
    // form's CSRF cookie needs no storage). Webhooks: the channel must still exist, be enabled and
    // list the recipient. No API keys: these pages resume no session (the link's token is the credential).
    tables: { drafts: 'readWrite', sessions: 'readWrite', webhooks: 'read' },
  },
  webhookSettingsPages: {
    folder: 'webhook-settings-pages',
    description: '/settings/webhooks: admins manage endpoints and channels in the browser',
    memoryMb: 512,
    timeoutSeconds: 20,
    // Deliveries: read only, for the page's health and delivery log (its Test and Redrive forms are webhookSettingsQueueActions').
    // Sessions: read to sign in, write only for the one-time secret shown after a redirect.
    // API keys: each request re-checks that the key behind the session is still valid.
    tables: { webhooks: 'readWrite', deliveries: 'read', sessions: 'readWrite', apiKeys: 'read' },
  },
  webhookSettingsQueueActions: {
    folder: 'webhook-settings-queue-actions',
    description: "/settings/webhooks/{id}/test and /redrive: the settings page's Test and Redrive forms",
    memoryMb: 512,
    timeoutSeconds: 20,
    // Deliveries: redrive turns dead delivery states back into waiting ones; the page shows health and the log.
    // Sessions: read to sign in, and deleted when the key behind one was revoked.
    tables: { webhooks: 'read', deliveries: 'readWrite', sessions: 'readWrite', apiKeys: 'read' },
    queues: { deliveries: 'send', notifications: 'send', deliveriesDlq: 'consume' },
  },
  expireDrafts: {
    folder: 'expire-drafts',
    description: 'Every minute: pending drafts past their expiresAt become expired; channels with remindAfterMinutes are reminded of drafts still pending',
    memoryMb: 256,
    timeoutSeconds: 60,
    // Webhooks: the channels that want reminders. Deliveries: each reminder's state, created
    // conditionally (one per draft per channel) before it is queued; a reminder the queue refused is recorded dead.
    tables: { drafts: 'readWrite', webhooks: 'read', deliveries: 'readWrite' },
    // Reminders go to channels only: the notifications queue.
    queues: { notifications: 'send' },
  },
  sweepDeadLetters: {
    folder: 'sweep-dead-letters',
    description:
      'Every 5 minutes: the DLQ sweep a redrive starts with: deliveries SQS dead-lettered on their own recorded dead and announced, dead-lettered operator notices sent again',
    memoryMb: 256,
    timeoutSeconds: 60,
    // Deliveries: each swept delivery's state, marked dead conditionally, and its log entry; the
    // states of the delivery.exhausted events it queues. Webhooks: the endpoints subscribed to them.
    tables: { webhooks: 'read', deliveries: 'readWrite' },
    // The DLQ: received, deleted, released, never sent to. delivery.exhausted to subscribed endpoints
    // (deliveries) and channels and the operator (notifications), where dead-lettered notices go back too.
    queues: { deliveriesDlq: 'consume', deliveries: 'send', notifications: 'send' },
  },
  fanOutDecisions: {
    folder: 'fan-out-decisions',
    description: 'Drafts stream → one delivery message per decision and subscribed endpoint',
    memoryMb: 512,
    timeoutSeconds: 30,
    // Deliveries: records each delivery's state (waiting) before queueing it, unless one from
    // before the sharded keys exists (a read of the plain key).
    tables: { webhooks: 'read', deliveries: 'readWrite' },
    // Webhook endpoints' messages to deliveries, channels' to notifications.
    queues: { deliveries: 'send', notifications: 'send' },
  },
  deliverWebhooks: {
    folder: 'deliver-webhooks',
    description: 'Delivery queue → signed POST to the webhook endpoint, retried with backoff, logged',
    memoryMb: 512,
    // Per-attempt HTTP timeout (10 s) plus signing and logging; the queue's visibility timeout is 6× this.
    timeoutSeconds: 30,
    // Deliveries: reads and conditionally writes each delivery's state (its attempt counter).
    // Webhooks: writes only to disable an endpoint whose receiver answered 410 Gone.
    tables: { webhooks: 'readWrite', deliveries: 'readWrite' },
    // The DLQ: after the 4th failed attempt the function moves the message there itself.
    // Sends to the delivery queues: operational events (endpoint.disabled, delivery.exhausted) for subscribed
    // endpoints and channels; to notifications also operator notices, and channels' messages that came here.
    queues: { deliveries: 'sendConsume', notifications: 'send', deliveriesDlq: 'send' },
  },
  deliverNotifications: {
    folder: 'deliver-notifications',
    description: 'Notifications queue → Slack message or emails of a channel, retried with backoff, logged; operator notices to the alarm topic',
    memoryMb: 512,
    // As deliverWebhooks: one attempt's timeout (10 s) plus rendering and logging; the queue's visibility timeout is 6× this.
    timeoutSeconds: 30,
    // The same delivery states, log, health and breaker items as webhooks, per channel; webhooks: disables a failing channel.
    tables: { webhooks: 'readWrite', deliveries: 'readWrite' },
    queues: { notifications: 'sendConsume', deliveries: 'send', deliveriesDlq: 'send' },
  },
} as const satisfies Record<string, FunctionDefinition>;
export type FunctionName = keyof typeof functions;

/** A route of shared/http/routes.ts, whose `function` is one of the functions above. */
export type RouteDefinition = RouteShape<FunctionName>;
/** The route table (shared/http/routes.ts); here every route's function is checked to exist. */
export const routes = routeTable satisfies readonly RouteDefinition[];

// decisionStreamFilter and expiryStreamFilter: shared/store/drafts-stream.ts (the fan-out matches records by the same data).

/**
 * Scheduled functions. Expiry is a sweep rather than DynamoDB TTL: TTL deletes the item (we keep
 * expired drafts and their history) and may lag by up to two days; a sweep every minute of a
 * sparse index is precise and cheap.
 */
export const schedules = [
  { function: 'expireDrafts', rateMinutes: 1 },
  // The DLQ sweep a redrive starts with, also on its own: what SQS dead-letters by itself is announced, and a
  // dead-lettered operator notice re-sent, within 5 minutes. Not every minute: a pass re-reads the dead
  // deliveries' copies at the DLQ's front (up to 10 receives), and minutes are soon enough for both.
  { function: 'sweepDeadLetters', rateMinutes: 5 },
] as const satisfies ReadonlyArray<{ function: FunctionName; rateMinutes: number }>;

/** The drafts stream → fan-out function mapping; the local stream pump reads the same settings. */
export const streamConsumer = {
  function: 'fanOutDecisions',
  table: 'drafts',
  batchSize: 100,
  startingPosition: 'TRIM_HORIZON',
  /**
   * Batches each stream shard may have in flight at once (Lambda allows 1–10). One shard carries
   * a table partition's changes (up to ~1,000 writes/s); at 1 the fan-out handles them one batch after
   * another and can fall behind (BENCHMARKS.md, capacity). Records of one draft stay in order: Lambda
   * keeps a partition key's records in order at any factor; so does the local stream pump (infra/local/stream-pump.ts).
   */
  parallelizationFactor: 4,
  // Decisions and expiries (webhooks), and inserts of pending drafts (draft.created, notification channels).
  filters: [decisionStreamFilter, expiryStreamFilter, createdStreamFilter],
  /** Each failing batch is split and retried; what still fails goes to the fanOutFailures queue. */
  bisectBatchOnError: true,
  retryAttempts: 10,
  onFailure: 'fanOutFailures',
  reportBatchItemFailures: true,
} as const satisfies { function: FunctionName; table: TableName; onFailure: QueueName; [k: string]: unknown };

export interface QueueConsumerDefinition {
  function: FunctionName;
  queue: QueueName;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maxConcurrency: number;
  reportBatchItemFailures: boolean;
}

/** The delivery queue → webhook delivery function mapping; the local queue pump reads the same settings. */
export const queueConsumer = {
  function: 'deliverWebhooks',
  queue: 'deliveries',
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  /**
   * Concurrent invocations (batches). A batch with an attempt to a receiver that never answers is
   * held for the POST timeout; until that endpoint's breaker opens (K attempts unanswered for
   * hangAfterMs, shared/webhooks/circuit-breaker.ts) a few batches may be held so, and the rest
   * of this keeps the other endpoints' messages moving. Lambda scales up to it as the queue backs up.
   */
  maxConcurrency: 50,
  reportBatchItemFailures: true,
} as const satisfies QueueConsumerDefinition;

/** The notifications queue → notification delivery function mapping: as the webhooks', fewer at once (Slack and SES rates). */
export const notificationConsumer = {
  function: 'deliverNotifications',
  queue: 'notifications',
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  maxConcurrency: 10,
  reportBatchItemFailures: true,
} as const satisfies QueueConsumerDefinition;

/** Every queue → function mapping: the stack builds an SQS event source for each, the local runtime a queue pump. */
export const queueConsumers: readonly QueueConsumerDefinition[] = [queueConsumer, notificationConsumer];

export interface SettingDefinition {
  /** The environment variable that carries it. */
  envVar: string;
  /** The functions that read it: only these are given it, by the stack and by the local runtime. */
  functions: readonly FunctionName[];
  description: string;
  /**
   * Where its value comes from. `stack`: the stack sets it on AWS from a context value (the key)
   * or the default; `local`: only the local runtime sets it (the stack never does); when both
   * leave it unset the reader falls back as described.
   */
  stack?: { context: string; default: number | string };
  /** The stack sets it to one of its own resources' identifiers (and grants what it needs on it), not from context. */
  stackResource?: 'alarmTopicArn' | 'emailLinkKeySecret';
  /**
   * Its value names a Secrets Manager secret. Its functions read it through the AWS Parameters and Secrets
   * Lambda Extension (shared/store/secret-string.ts), which the stack adds to them when the setting is bound,
   * so no Secrets Manager client is in their bundles.
   */
  secretsManagerSecret?: true;
  /** When the reader looks at it: at import (cold start) or on every request. */
  readAt: 'import' | 'request';
}

/**
 * Every setting a function reads from its environment besides its tables and queues, declared
 * once: infra/stacks binds each only to the functions listed here, and so does the local runtime
 * (infra/function-environment.ts builds both). The local runtime's own switches (PORT,
 * PROCESSA_BOOTSTRAP_KEY, PROCESSA_DATA_DIR, PROCESSA_SCHEDULE_SECONDS) are not functions' settings.
 */
export const settings = {
  retryBaseSeconds: {
    envVar: 'PROCESSA_RETRY_BASE_SECONDS',
    functions: ['deliverWebhooks', 'deliverNotifications'],
    description: 'First webhook retry delay in seconds; later ones double, with equal jitter. Locally 1 unless set.',
    stack: { context: 'retryBaseSeconds', default: deliveryRetry.baseSeconds },
    readAt: 'import',
  },
  webhookTimeoutMs: {
    envVar: 'PROCESSA_WEBHOOK_TIMEOUT_MS',
    functions: ['deliverWebhooks', 'deliverNotifications'],
    description: 'Per-attempt webhook HTTP timeout in milliseconds.',
    stack: { context: 'webhookTimeoutMs', default: deliveryRetry.timeoutMs },
    readAt: 'import',
  },
  autoDisableDays: {
    envVar: 'PROCESSA_AUTO_DISABLE_DAYS',
    functions: ['deliverWebhooks', 'deliverNotifications'],
    description: 'An endpoint whose every attempt failed for this many days is disabled (disabledReason "failing").',
    stack: { context: 'autoDisableDays', default: DEFAULT_AUTO_DISABLE_DAYS },
    readAt: 'import',
  },
  breakerFailures: {
    envVar: 'PROCESSA_BREAKER_FAILURES',
    functions: ['deliverWebhooks', 'deliverNotifications'],
    description:
      "Consecutive failed attempts (an attempt unanswered after hangAfterMs counts at once) that open an endpoint's circuit breaker (K): a whole number from 1 to 100.",
    stack: { context: 'breakerFailures', default: DEFAULT_BREAKER_FAILURES },
    readAt: 'import',
  },
  breakerCooldownSeconds: {
    envVar: 'PROCESSA_BREAKER_COOLDOWN_SECONDS',
    functions: ['deliverWebhooks', 'deliverNotifications'],
    description: "How long an open breaker defers its endpoint's deliveries before one probe is let through: whole seconds from 1 to 3600.",
    stack: { context: 'breakerCooldownSeconds', default: DEFAULT_BREAKER_COOLDOWN_SECONDS },
    readAt: 'import',
  },
  operatorTopicArn: {
    envVar: 'PROCESSA_OPERATOR_TOPIC_ARN',
    // The others that see a delivery die or an endpoint be disabled queue their notices for this function.
    functions: ['deliverNotifications'],
    description:
      'The alarm SNS topic, where operator notices (endpoint.disabled, delivery.exhausted) are published: the stack sets it and grants sns:Publish on that topic alone. Unset locally: notices go to the log and the outbox folder.',
    stackResource: 'alarmTopicArn',
    readAt: 'import',
  },
  operatorOutbox: {
    envVar: 'PROCESSA_OPERATOR_OUTBOX',
    functions: ['deliverNotifications'],
    description: 'Only the local runtime sets it: the folder (.processa/outbox) where operator notices are appended as JSON lines, there being no SNS.',
    readAt: 'import',
  },
  notifyFrom: {
    envVar: 'PROCESSA_NOTIFY_FROM',
    functions: ['deliverNotifications'],
    description:
      'The sender of notification emails (a verified SES identity): the stack sets it from the notifyFrom context and lets the notification delivery function send as that identity alone. Unset: email channels fail their deliveries (logged) until it is configured.',
    readAt: 'import',
  },
  emailOutbox: {
    envVar: 'PROCESSA_EMAIL_OUTBOX',
    functions: ['deliverNotifications'],
    description: 'Only the local runtime sets it: notification emails are written there as .eml files (and logged) instead of sent through SES.',
    readAt: 'import',
  },
  emailLinkKeySecret: {
    envVar: 'PROCESSA_EMAIL_LINK_KEY_SECRET',
    // Those that sign the links (the emails) and check them (the confirmation pages).
    functions: ['deliverNotifications', 'emailDecisions'],
    description:
      'The Secrets Manager secret holding the HMAC key of email decision links: generated by the stack (or named by the emailLinkKeySecret context); these functions may read that secret alone. Unset locally.',
    stackResource: 'emailLinkKeySecret',
    secretsManagerSecret: true,
    readAt: 'import',
  },
  emailLinkKeyFile: {
    envVar: 'PROCESSA_EMAIL_LINK_KEY_FILE',
    functions: ['deliverNotifications', 'emailDecisions'],
    description: 'Only the local runtime sets it: the file (.processa/email-link-key) holding the email-link key, generated on first use and kept.',
    readAt: 'import',
  },
  slackSecret: {
    envVar: 'PROCESSA_SLACK_SECRET',
    functions: ['slackInteractions'],
    description:
      'The Secrets Manager secret (name or ARN, from the slackSecret context) holding the Slack app\'s signing secret, as a plain string or as JSON {"signingSecret": "…", "botToken": "xoxb-…"}: the stack lets this function read that secret alone. Unset: the interactivity URL answers 503.',
    secretsManagerSecret: true,
    readAt: 'import',
  },
  slackSigningSecret: {
    envVar: 'PROCESSA_SLACK_SIGNING_SECRET',
    functions: ['slackInteractions'],
    description:
      "Only the local runtime sets it, from the same variable of npm run dev's environment: the Slack app's signing secret (on AWS it is in the slackSecret secret).",
    readAt: 'import',
  },
  slackBotToken: {
    envVar: 'PROCESSA_SLACK_BOT_TOKEN',
    functions: ['slackInteractions'],
    description:
      "Only the local runtime sets it, from the same variable of npm run dev's environment: the Slack app's bot token (xoxb-…), which Reject's reason dialog (views.open) needs.",
    readAt: 'import',
  },
  slackApiUrl: {
    envVar: 'PROCESSA_SLACK_API_URL',
    functions: ['slackInteractions'],
    description: 'Only the local runtime sets it (tests point it at a local receiver): the Slack Web API base URL; https://slack.com/api when unset.',
    readAt: 'import',
  },
  allowLocalhostWebhooks: {
    envVar: 'PROCESSA_ALLOW_LOCALHOST_WEBHOOKS',
    functions: ['manageWebhooks', 'webhookSettingsPages', 'deliverWebhooks', 'deliverNotifications', 'slackInteractions'],
    description: 'Only the local runtime sets it ("true"): webhook endpoints may be http://localhost. The stack never sets it.',
    readAt: 'import',
  },
  stackName: {
    envVar: 'PROCESSA_STACK_NAME',
    functions: Object.keys(functions) as FunctionName[],
    description: 'The `stack` dimension of the custom metrics: the stack name on AWS; unset locally (the metrics then say "local").',
    stack: { context: 'stackName', default: 'Processa' },
    readAt: 'import',
  },
  publicBaseUrl: {
    envVar: 'PUBLIC_BASE_URL',
    functions: ['createDraft', 'readDrafts', 'decideDraft', 'describeApi', 'fanOutDecisions', 'expireDrafts', 'slackInteractions'],
    description:
      'Public origin of the API and pages, for links such as reviewUrl. On AWS unset for the API functions (derived from the request) and the API URL for the fan-out (draft.created has no request); locally the URL npm run dev prints.',
    readAt: 'request',
  },
} as const satisfies Record<string, SettingDefinition>;
export type SettingName = keyof typeof settings;

/**
 * Whether function `name` reads a Secrets Manager secret on AWS, and so needs the Parameters and Secrets
 * extension: one of its settings names a secret and is bound (a stack resource always is; others when given a value).
 */
export const readsSecretsManager = (name: FunctionName, values: Partial<Record<SettingName, string | undefined>>): boolean =>
  (Object.entries(settings) as Array<[SettingName, SettingDefinition]>).some(
    ([setting, definition]) =>
      definition.secretsManagerSecret === true &&
      definition.functions.includes(name) &&
      (definition.stackResource !== undefined || values[setting] !== undefined),
  );

/** The settings whose value the stack takes from one of its own resources (a topic, a secret). */
export const settingsFromStackResource = (resource: NonNullable<SettingDefinition['stackResource']>): SettingDefinition[] =>
  Object.values(settings as Record<SettingName, SettingDefinition>).filter((definition) => definition.stackResource === resource);
