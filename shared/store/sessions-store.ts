import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
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
      // A new session only: its id is the hash of 256 random bits, so an existing one is never overwritten.
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: session, ConditionExpression: 'attribute_not_exists(id)' }));
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
      // One map entry per endpoint, so two tabs adding endpoints each keep theirs. A nested SET needs
      // its map to exist and one expression may not both create and fill it: first make sure it is
      // there (takeFlash removes only entries, never the map), then set this endpoint's entry.
      for (const update of [
        { UpdateExpression: 'SET flashes = if_not_exists(flashes, :none)', ExpressionAttributeValues: { ':none': {} } },
        {
          UpdateExpression: 'SET flashes.#endpoint = :flash',
          ExpressionAttributeNames: { '#endpoint': flash.endpointId },
          ExpressionAttributeValues: { ':flash': { note: flash.note, expiresAtEpoch } },
        },
      ]) {
        await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: { id }, ConditionExpression: 'attribute_exists(id)', ...update }));
      }
    });
  }

  takeFlash(id: string, endpointId: string, now: Date): Promise<Flash | undefined> {
    return withStoreErrors(async () => {
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id },
            // Only this endpoint's entry: another tab's flash waits for that tab's own page. flash is
            // the single flash of earlier versions, which held a copy of the secret.
            UpdateExpression: 'REMOVE flashes.#endpoint, flash',
            // Also refuses a missing flashes map, on which a nested REMOVE would be invalid.
            ConditionExpression: 'attribute_exists(id) AND attribute_exists(flashes.#endpoint)',
            ExpressionAttributeNames: { '#endpoint': endpointId },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        const flash = (Attributes?.flashes as Record<string, { note: string; expiresAtEpoch: number }> | undefined)?.[endpointId];
        return flash && flash.expiresAtEpoch > epoch(now) ? { endpointId, note: flash.note } : undefined;
      } catch (error) {
        // No such session or no flash for this endpoint (never set, or already taken): nothing to show.
        if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
        throw error;
      }
    });
  }

  delete(id: string): Promise<void> {
    return withStoreErrors(async () => {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { id } }));
    });
  }

  takeSlot(counterId: string, limit: number, windowSeconds: number, now: Date): Promise<number> {
    return withStoreErrors(async () => {
      // Each round either takes a slot with a conditional write or sees, consistently, why it
      // could not; a lost race (another caller started the window first) simply goes round again.
      for (let round = 0; round < 5; round++) {
        if (
          await this.conditionally(
            {
              UpdateExpression: 'ADD hits :one',
              ConditionExpression: 'expiresAtEpoch > :now AND hits < :limit',
              ExpressionAttributeValues: { ':one': 1, ':now': epoch(now), ':limit': limit },
            },
            counterId,
          )
        )
          return 0;
        const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id: counterId }, ConsistentRead: true }));
        const live = Item !== undefined && Number(Item.expiresAtEpoch) > epoch(now);
        if (live && Number(Item.hits) >= limit) return Math.max(1, Number(Item.expiresAtEpoch) - epoch(now));
        if (live) continue;
        // No window yet, or the last one ended: start a new one holding this slot.
        const started = await this.conditionally(
          {
            UpdateExpression: 'SET hits = :one, expiresAtEpoch = :end',
            ConditionExpression: 'attribute_not_exists(id) OR expiresAtEpoch <= :now',
            ExpressionAttributeValues: { ':one': 1, ':now': epoch(now), ':end': epoch(now) + windowSeconds },
          },
          counterId,
        );
        if (started) return 0;
      }
      // Fail closed: a counter this contended is itself a sign of guessing.
      return 1;
    });
  }

  returnSlot(counterId: string, now: Date): Promise<void> {
    return withStoreErrors(async () => {
      await this.conditionally(
        {
          UpdateExpression: 'ADD hits :minusOne',
          ConditionExpression: 'expiresAtEpoch > :now AND hits > :zero',
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0, ':now': epoch(now) },
        },
        counterId,
      );
    });
  }

  /** An update that may be refused by its condition: true when it was applied. */
  private async conditionally(
    update: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>,
    id: string,
  ): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: { id }, ...update }));
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
