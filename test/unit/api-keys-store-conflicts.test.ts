/**
 * Every decision by a key is a transaction that checks the key's item, and DynamoDB refuses a write
 * to an item such a transaction holds (TransactionConflict), which the SDK does not retry. A write
 * to a key item must retry that, and answer 503 (never 500) if the key stays busy.
 */
import { jest } from '@jest/globals';
import { TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../../shared/domain/errors.js';
import { DynamoApiKeyStore } from '../../shared/store/api-keys-store.js';

const keyHash = 'a'.repeat(64);
const record = { keyHash, id: 'key_1', name: 'alice', role: 'reviewer' as const, prefix: 'prk_aaaaaa', createdAt: '2026-12-01T00:00:00.000Z', createdBy: null };

const conflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });
const cancelledByConflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
  });

/** A client whose first `failures` sends throw what `error` makes; later ones answer `output`. */
function stubClient(failures: number, error: () => Error, output: unknown) {
  let calls = 0;
  const send = jest.fn(async () => {
    calls++;
    if (calls <= failures) throw error();
    return output;
  });
  return { client: { send } as unknown as DynamoDBDocumentClient, send };
}

describe('a key item write that meets a decision transaction in flight', () => {
  it('revoke retries TransactionConflict and returns the revoked record', async () => {
    const revoked = { ...record, revokedAt: '2026-12-01T01:00:00.000Z' };
    const { client, send } = stubClient(2, conflict, { Attributes: revoked });
    await expect(new DynamoApiKeyStore(client, 'keys').revoke(keyHash, revoked.revokedAt)).resolves.toEqual(revoked);
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('setGroups retries TransactionConflict and returns the regrouped record', async () => {
    const { client, send } = stubClient(2, conflict, { Attributes: { ...record, groups: ['ops'] } });
    await expect(new DynamoApiKeyStore(client, 'keys').setGroups(keyHash, ['ops'])).resolves.toMatchObject({ groups: ['ops'] });
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('setSlackUser retries a transaction cancelled by a conflict instead of calling the key changed', async () => {
    const { client, send } = stubClient(2, cancelledByConflict, {});
    await expect(new DynamoApiKeyStore(client, 'keys').setSlackUser(record, 'U12345')).resolves.toMatchObject({
      kind: 'updated',
      record: { slackUserId: 'U12345' },
    });
    expect(send).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['revoke', (store: DynamoApiKeyStore) => store.revoke(keyHash, '2026-12-01T01:00:00.000Z')],
    ['setGroups', (store: DynamoApiKeyStore) => store.setGroups(keyHash, [])],
  ])('%s still in conflict after its bounded retries is a 503 with Retry-After, not a 500', async (_name, write) => {
    const { client, send } = stubClient(Infinity, conflict, {});
    const error = await write(new DynamoApiKeyStore(client, 'keys')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
    expect(send).toHaveBeenCalledTimes(8);
  });

  it('setSlackUser still cancelled by conflicts after its bounded retries is a 503', async () => {
    const { client, send } = stubClient(Infinity, cancelledByConflict, {});
    await expect(new DynamoApiKeyStore(client, 'keys').setSlackUser(record, 'U12345')).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(send).toHaveBeenCalledTimes(8);
  });
});
