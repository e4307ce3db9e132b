import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Flash, Session, SessionStore } from '../domain/sessions.js';
import { withStoreErrors } from './dynamo-client.js';

const epoch = (now: Date) => Math.floor(now.getTime() / 1000);

export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  put(session: Session): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: session }));
    });
  }

  get(id: string): Promise<Session | undefined> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
      return Item as Session | undefined;
    });
  }

  setFlash(id: string, flash: Flash, expiresAtEpoch: number): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET flash = :flash',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':flash': { ...flash, expiresAtEpoch } },
        }),
      );
    });
  }

  takeFlash(id: string, now: Date): Promise<Flash | undefined> {
    return withStoreErrors(async () => {
      const { Attributes } = await this.client.send(
        new UpdateCommand({ TableName: this.tableName, Key: { id }, UpdateExpression: 'REMOVE flash', ConditionExpression: 'attribute_exists(id)', ReturnValues: 'UPDATED_OLD' }),
      );
      const flash = Attributes?.flash as (Flash & { expiresAtEpoch: number }) | undefined;
      if (!flash || flash.expiresAtEpoch <= epoch(now)) return undefined;
      return { endpointId: flash.endpointId, secret: flash.secret, note: flash.note };
    });
  }

  delete(id: string): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { id } }));
    });
  }

  hit(counterId: string, windowSeconds: number, now: Date): Promise<number> {
    return withStoreErrors(async () => {
      // A counter past its window starts again at 1; otherwise it grows atomically.
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id: counterId },
            UpdateExpression: 'ADD hits :one',
            ConditionExpression: 'attribute_exists(id) AND expiresAtEpoch > :now',
            ExpressionAttributeValues: { ':one': 1, ':now': epoch(now) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Number(Attributes?.hits ?? 1);
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        await this.client.send(new PutCommand({ TableName: this.tableName, Item: { id: counterId, hits: 1, expiresAtEpoch: epoch(now) + windowSeconds } }));
        return 1;
      }
    });
  }

  count(counterId: string, now: Date): Promise<number> {
    return withStoreErrors(async () => {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id: counterId }, ConsistentRead: true }));
      return Item && Number(Item.expiresAtEpoch) > epoch(now) ? Number(Item.hits) : 0;
    });
  }
}
