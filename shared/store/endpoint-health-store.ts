import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hourKey, HEALTH_WINDOW_HOURS, type EndpointHealthStore, type HealthRecord } from '../webhooks/endpoint-health.js';
import { truncateError } from '../webhooks/delivery-log.js';
import { withStoreErrors } from './dynamo-client.js';

/**
 * One health item per endpoint in the deliveries table, in the endpoint's own partition. Its sort
 * key starts with "~", after every attempt key (a year) and every delivery state ("state#"), so
 * neither the log nor the state queries ever read it.
 */
const HEALTH_KEY = '~health';
const BUCKET = /^([sf])_(\d{10})$/;
/** Buckets this many hours past the window are removed by each update, so the item stays small. */
const PRUNE_HOURS = 6;
/** Pages of delivery states counted for "waiting for retry" before answering "at least". */
const MAX_COUNT_PAGES = 10;

export class DynamoEndpointHealthStore implements EndpointHealthStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(endpointId: string, outcome: { succeeded: boolean; at: Date; error?: string | null }): Promise<HealthRecord> {
    return withStoreErrors(async () => {
      const at = outcome.at.toISOString();
      const bucket = `${outcome.succeeded ? 's' : 'f'}_${hourKey(outcome.at)}`;
      const stale = Array.from({ length: PRUNE_HOURS }, (_, i) => hourKey(new Date(outcome.at.getTime() - (HEALTH_WINDOW_HOURS + 1 + i) * 3600_000))).flatMap(
        (h) => [`s_${h}`, `f_${h}`],
      );
      const names: Record<string, string> = { '#bucket': bucket, ...Object.fromEntries(stale.map((name, i) => [`#old${i}`, name])) };
      const remove = stale.map((_, i) => `#old${i}`);
      // One atomic update per attempt: counters by ADD, the failing streak by if_not_exists/REMOVE.
      const update = outcome.succeeded
        ? { expression: `ADD #bucket :one SET lastSuccessAt = :at REMOVE failingSince, ${remove.join(', ')}`, values: { ':one': 1, ':at': at } }
        : {
            expression: `ADD #bucket :one SET lastFailureAt = :at, lastError = :error, failingSince = if_not_exists(failingSince, :at) REMOVE ${remove.join(', ')}`,
            values: { ':one': 1, ':at': at, ':error': truncateError(outcome.error ?? 'failed') },
          };
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { endpointId, attemptKey: HEALTH_KEY },
          UpdateExpression: update.expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: update.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    });
  }

  get(endpointId: string): Promise<HealthRecord | undefined> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { endpointId, attemptKey: HEALTH_KEY } }));
      return Item ? toRecord(Item) : undefined;
    });
  }

  countWaiting(endpointId: string): Promise<{ count: number; atLeast: boolean }> {
    return withStoreErrors(async () => {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      for (let page = 0; page < MAX_COUNT_PAGES; page++) {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'endpointId = :e AND begins_with(attemptKey, :states)',
            FilterExpression: '#status = :waiting',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':e': endpointId, ':states': 'state#', ':waiting': 'waiting' },
            Select: 'COUNT',
            ExclusiveStartKey: start,
          }),
        );
        count += result.Count ?? 0;
        start = result.LastEvaluatedKey;
        if (!start) return { count, atLeast: false };
      }
      return { count, atLeast: true };
    });
  }
}

function toRecord(item: Record<string, unknown>): HealthRecord {
  const hours: HealthRecord['hours'] = {};
  for (const [name, value] of Object.entries(item)) {
    const match = BUCKET.exec(name);
    if (!match) continue;
    const hour = (hours[match[2]!] ??= { succeeded: 0, failed: 0 });
    if (match[1] === 's') hour.succeeded += Number(value);
    else hour.failed += Number(value);
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    hours,
    lastSuccessAt: text(item.lastSuccessAt),
    lastFailureAt: text(item.lastFailureAt),
    lastError: text(item.lastError),
    failingSince: text(item.failingSince),
  };
}
