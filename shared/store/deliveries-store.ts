import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
// A namespace import lets esbuild tree-shake zod (a named `z` import pulls in all of it).
import * as z from 'zod';
import { deliveryLogExpiry, type DeliveryAttempt, type DeliveryLogStore } from '../webhooks/delivery-log.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { withStoreErrors } from './dynamo-client.js';

const positionSchema = (endpointId: string) => z.strictObject({ endpointId: z.literal(endpointId), attemptKey: z.string().min(1).max(300) });

/** Newest first within an endpoint; the event id and attempt make keys unique. */
const attemptKey = (a: DeliveryAttempt) => `${a.attemptedAt}#${a.eventId}#${a.attempt}`;

export class DynamoDeliveryLogStore implements DeliveryLogStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(attempts: DeliveryAttempt[]): Promise<void> {
    return withStoreErrors(async () => {
      for (let i = 0; i < attempts.length; i += 25) {
        let pending: Record<string, unknown>[] = attempts.slice(i, i + 25).map((a) => ({
          PutRequest: { Item: { ...a, attemptKey: attemptKey(a), expiresAtEpoch: deliveryLogExpiry(new Date(a.attemptedAt)) } },
        }));
        // BatchWrite may leave items unprocessed under load: retry those with backoff.
        for (let round = 0; pending.length > 0; round++) {
          if (round >= 6) throw new Error(`Delivery log: ${pending.length} attempts left unwritten`);
          if (round > 0) await sleep(50 * 2 ** round);
          const { UnprocessedItems } = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
          pending = (UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined) ?? [];
        }
      }
    });
  }

  list(endpointId: string, limit: number, cursor?: string): Promise<{ items: DeliveryAttempt[]; nextCursor?: string }> {
    const start = cursor !== undefined ? decodeCursor(cursor, `deliveries:${endpointId}`, positionSchema(endpointId)) : undefined;
    return withStoreErrors(async () => {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'endpointId = :e',
          ExpressionAttributeValues: { ':e': endpointId },
          ScanIndexForward: false,
          Limit: limit + 1,
          ExclusiveStartKey: start,
        }),
      );
      const page = Items.slice(0, limit).map(({ attemptKey: _k, expiresAtEpoch: _x, ...a }) => a as DeliveryAttempt);
      const last = page.at(-1);
      return {
        items: page,
        nextCursor: Items.length > limit && last ? encodeCursor(`deliveries:${endpointId}`, { endpointId, attemptKey: attemptKey(last) }) : undefined,
      };
    });
  }
}
