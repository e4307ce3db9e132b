import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  hourKey,
  HEALTH_WINDOW_HOURS,
  inOrderHealthWrite,
  mergedHealthWrite,
  type EndpointHealthStore,
  type HealthOutcome,
  type HealthRecord,
  type HealthWrite,
} from '../webhooks/endpoint-health.js';
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
/**
 * Tries of one batch's update. Each refusal means another batch's write landed in between and
 * changed what this one relied on. The first retry goes at once (the refusal returned the record to
 * merge into); later ones wait a jittered, doubling moment, so batches contending for one busy
 * endpoint spread out instead of spending a write each per round. 40 batches at once, all out of
 * order, needed at most 8. Past the last, the error reaches the worker, which logs the health as
 * not recorded and delivers on: health is bookkeeping, never a reason to hold a delivery.
 */
const MAX_ROUNDS = 10;
const backoffMs = (round: number) => Math.random() * 10 * 2 ** (round - 2);

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
      const latest = Math.max(...outcomes.map((o) => o.at.getTime()));
      let write = inOrderHealthWrite(outcomes);
      for (let round = 1; ; round++) {
        try {
          return await this.write(endpointId, write, latest);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException) || round === MAX_ROUNDS) throw error;
          // Refused: the record holds an attempt that started after one of the batch's (or its streak
          // changed meanwhile). Merged into the record as the refusal saw it, atomically with it.
          write = mergedHealthWrite(outcomes, toRecord(error.Item ? unmarshall(error.Item) : {}));
          if (round >= 2) await sleep(backoffMs(round));
        }
      }
    });
  }

  /** One atomic update: counters by ADD, the fields that follow attempt order only under the write's condition. */
  private async write(endpointId: string, write: HealthWrite, latest: number): Promise<HealthRecord> {
    const counted = Object.keys(write.counts);
    const stale = Array.from({ length: PRUNE_HOURS }, (_, i) => hourKey(new Date(latest - (HEALTH_WINDOW_HOURS + 1 + i) * 3600_000)))
      .flatMap((h) => [`s_${h}`, `f_${h}`])
      // An attribute may appear in one clause only.
      .filter((name) => !counted.includes(name));
    const names: Record<string, string> = {
      ...Object.fromEntries(counted.map((name, i) => [`#b${i}`, name])),
      ...Object.fromEntries(stale.map((name, i) => [`#old${i}`, name])),
    };
    const values: Record<string, unknown> = Object.fromEntries(counted.map((name, i) => [`:b${i}`, write.counts[name]]));
    const set: string[] = [];
    const remove = stale.map((_, i) => `#old${i}`);
    if (write.lastSuccessAt) {
      set.push('lastSuccessAt = :ls');
      values[':ls'] = write.lastSuccessAt;
    }
    if (write.lastFailure) {
      set.push('lastFailureAt = :lf', 'lastError = :error');
      values[':lf'] = write.lastFailure.at;
      values[':error'] = truncateError(write.lastFailure.error);
    }
    if (write.failingSince === 'clear') remove.unshift('failingSince');
    else if (write.failingSince) {
      set.push(write.failingSince.keep ? 'failingSince = if_not_exists(failingSince, :fs)' : 'failingSince = :fs');
      values[':fs'] = write.failingSince.set;
    }
    // ISO timestamps of one format (toISOString) compare correctly as strings.
    const conditions: string[] = [];
    if (write.successBefore) {
      conditions.push('(attribute_not_exists(lastSuccessAt) OR lastSuccessAt < :successBefore)');
      values[':successBefore'] = write.successBefore;
    }
    if (write.failureBefore) {
      conditions.push('(attribute_not_exists(lastFailureAt) OR lastFailureAt < :failureBefore)');
      values[':failureBefore'] = write.failureBefore;
    }
    if (write.streakSeen === 'running') {
      conditions.push('(attribute_not_exists(failingSince) OR attribute_not_exists(lastSuccessAt) OR failingSince > lastSuccessAt)');
    } else if (write.streakSeen?.failingSince === null) conditions.push('attribute_not_exists(failingSince)');
    else if (write.streakSeen) {
      conditions.push('failingSince = :seen');
      values[':seen'] = write.streakSeen.failingSince;
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
        ConditionExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return toRecord(Attributes ?? {});
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
