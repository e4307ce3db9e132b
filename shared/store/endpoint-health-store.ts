import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { healthChange, hourKey, HEALTH_WINDOW_HOURS, type EndpointHealthStore, type HealthOutcome, type HealthRecord } from '../webhooks/endpoint-health.js';
import { truncateError } from '../webhooks/delivery-log.js';
import { deliveryPartitions } from './delivery-shards.js';
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

  record(endpointId: string, outcome: HealthOutcome): Promise<HealthRecord> {
    return this.recordAll(endpointId, [outcome]);
  }

  recordAll(endpointId: string, outcomes: HealthOutcome[]): Promise<HealthRecord> {
    return withStoreErrors(async () => {
      if (outcomes.length === 0) throw new Error('Endpoint health: no outcomes to record');
      const change = healthChange(outcomes);
      const latest = Math.max(...outcomes.map((o) => o.at.getTime()));
      const counted = Object.keys(change.counts);
      const stale = Array.from({ length: PRUNE_HOURS }, (_, i) => hourKey(new Date(latest - (HEALTH_WINDOW_HOURS + 1 + i) * 3600_000)))
        .flatMap((h) => [`s_${h}`, `f_${h}`])
        // An attribute may appear in one clause only.
        .filter((name) => !counted.includes(name));
      const names: Record<string, string> = {
        ...Object.fromEntries(counted.map((name, i) => [`#b${i}`, name])),
        ...Object.fromEntries(stale.map((name, i) => [`#old${i}`, name])),
      };
      const values: Record<string, unknown> = Object.fromEntries(counted.map((name, i) => [`:b${i}`, change.counts[name]]));
      // One atomic update for all of them: counters by ADD, the failing streak by if_not_exists/REMOVE.
      const set: string[] = [];
      const remove = stale.map((_, i) => `#old${i}`);
      if (change.lastSuccessAt) {
        set.push('lastSuccessAt = :ls');
        values[':ls'] = change.lastSuccessAt;
      }
      if (change.lastFailure) {
        set.push('lastFailureAt = :lf', 'lastError = :error');
        values[':lf'] = change.lastFailure.at;
        values[':error'] = truncateError(change.lastFailure.error);
      }
      if (change.failingSince === 'clear') remove.unshift('failingSince');
      else if (change.failingSince) {
        set.push(change.failingSince.keep ? 'failingSince = if_not_exists(failingSince, :fs)' : 'failingSince = :fs');
        values[':fs'] = change.failingSince.set;
      }
      const expression = [
        `ADD ${counted.map((_, i) => `#b${i} :b${i}`).join(', ')}`,
        set.length > 0 ? `SET ${set.join(', ')}` : '',
        remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { endpointId, attemptKey: HEALTH_KEY },
          UpdateExpression: expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
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
      // States are spread over the endpoint's delivery shards (and its plain id, before sharding): counted in parallel.
      const perPartition = await Promise.all(
        deliveryPartitions(endpointId).map(async (partition) => {
          let count = 0;
          let start: Record<string, unknown> | undefined;
          for (let page = 0; page < MAX_COUNT_PAGES; page++) {
            const result = await this.client.send(
              new QueryCommand({
                TableName: this.tableName,
                KeyConditionExpression: 'endpointId = :e AND begins_with(attemptKey, :states)',
                FilterExpression: '#status = :waiting',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':e': partition, ':states': 'state#', ':waiting': 'waiting' },
                Select: 'COUNT',
                ExclusiveStartKey: start,
              }),
            );
            count += result.Count ?? 0;
            start = result.LastEvaluatedKey;
            if (!start) return { count, atLeast: false };
          }
          return { count, atLeast: true };
        }),
      );
      return { count: perPartition.reduce((sum, p) => sum + p.count, 0), atLeast: perPartition.some((p) => p.atLeast) };
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
