/**
 * The variables through which a function learns its tables' and queues' physical names. The
 * function reads them, so they are named here; infra/app-definition.ts binds each table and queue
 * to its variable (and checks it names the same tables and queues).
 */
export const tableEnvVars = {
  drafts: 'DRAFTS_TABLE_NAME',
  apiKeys: 'API_KEYS_TABLE_NAME',
  idempotency: 'IDEMPOTENCY_TABLE_NAME',
  webhooks: 'WEBHOOKS_TABLE_NAME',
  sessions: 'SESSIONS_TABLE_NAME',
  deliveries: 'DELIVERIES_TABLE_NAME',
} as const;
export const queueEnvVars = {
  deliveries: 'DELIVERIES_QUEUE_URL',
  deliveriesDlq: 'DELIVERIES_DLQ_URL',
  notifications: 'NOTIFICATIONS_QUEUE_URL',
  fanOutFailures: 'FAN_OUT_FAILURES_QUEUE_URL',
} as const;
export type TableName = keyof typeof tableEnvVars;
export type QueueName = keyof typeof queueEnvVars;

/**
 * Configuration is read from the environment once, at cold start. A missing variable fails
 * the function immediately and by name, instead of surfacing later as a confusing 500.
 */
function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export const tableNameFromEnv = (table: TableName): string => requireEnv(tableEnvVars[table]);
export const queueUrlFromEnv = (queue: QueueName): string => requireEnv(queueEnvVars[queue]);

/** Optional: the public origin of the API and pages, e.g. https://approvals.example.com. Derived from the request when unset. */
export const publicBaseUrlFromEnv = (): string | undefined => process.env.PUBLIC_BASE_URL || undefined;
