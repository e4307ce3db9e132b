import { queues, tables, type QueueName, type TableName } from '../infra/app-definition.js';

/**
 * Configuration is read from the environment once, at cold start. A missing variable fails
 * the function immediately and by name, instead of surfacing later as a confusing 500.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export const tableNameFromEnv = (table: TableName): string => requireEnv(tables[table].envVar);
export const queueUrlFromEnv = (queue: QueueName): string => requireEnv(queues[queue].envVar);

/** Optional: the public origin of the API and pages, e.g. https://approvals.example.com. Derived from the request when unset. */
export const publicBaseUrlFromEnv = (): string | undefined => process.env.PUBLIC_BASE_URL || undefined;
