import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BreakerRecord, BreakerStore } from '../webhooks/circuit-breaker.js';
import { withStoreErrors } from './dynamo-client.js';

/**
 * One circuit-breaker item per endpoint in the deliveries table, in the endpoint's partition. Its
 * sort key starts with "~", after every attempt key and delivery state, so neither the log nor the
 * state queries read it. Every transition is one conditional update: no read-modify-write.
 */
export const BREAKER_KEY = '~breaker';

export class DynamoBreakerStore implements BreakerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key = (endpointId: string) => ({ endpointId, attemptKey: BREAKER_KEY });

  get(endpointId: string): Promise<BreakerRecord | undefined> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(endpointId), ConsistentRead: true }));
      return Item ? toBreakerRecord(Item) : undefined;
    });
  }

  claimProbe(endpointId: string, now: Date, leaseUntil: string): Promise<boolean> {
    // Half-open (its open time has passed) and no probe lease running: only one delivery wins this.
    return this.conditional({
      UpdateExpression: 'SET probeUntil = :lease',
      ConditionExpression: 'openUntil <= :now AND (attribute_not_exists(probeUntil) OR probeUntil <= :now)',
      ExpressionAttributeValues: { ':lease': leaseUntil, ':now': now.toISOString() },
      Key: this.key(endpointId),
    });
  }

  recordSuccess(endpointId: string): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(endpointId),
          UpdateExpression: 'SET consecutiveFailures = :zero REMOVE openUntil, probeUntil',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
    });
  }

  recordFailure(endpointId: string): Promise<BreakerRecord> {
    return withStoreErrors(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(endpointId),
          UpdateExpression: 'ADD consecutiveFailures :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toBreakerRecord(Attributes ?? {});
    });
  }

  open(endpointId: string, now: Date, until: string, threshold: number): Promise<boolean> {
    // Still failing enough, and not open already (a half-open breaker whose probe failed reopens).
    return this.conditional({
      UpdateExpression: 'SET openUntil = :until REMOVE probeUntil',
      ConditionExpression: 'consecutiveFailures >= :k AND (attribute_not_exists(openUntil) OR openUntil <= :now)',
      ExpressionAttributeValues: { ':until': until, ':now': now.toISOString(), ':k': threshold },
      Key: this.key(endpointId),
    });
  }

  private conditional(update: {
    UpdateExpression: string;
    ConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
    Key: Record<string, string>;
  }) {
    return withStoreErrors(async () => {
      try {
        await this.client.send(new UpdateCommand({ TableName: this.tableName, ...update }));
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    });
  }
}

export function toBreakerRecord(item: Record<string, unknown>): BreakerRecord {
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return { consecutiveFailures: Number(item.consecutiveFailures ?? 0), openUntil: text(item.openUntil), probeUntil: text(item.probeUntil) };
}
