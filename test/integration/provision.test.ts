import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { tables } from '../../infra/app-definition.js';
import { createTableInput, provisionTables } from '../../infra/local/provision.js';

const client = new DynamoDBClient({});
afterAll(() => client.destroy());

describe('local provisioning of a --persist folder from an older version', () => {
  it('adds the indexes the definition gained since the tables were made', async () => {
    const prefix = `processa-old-${Math.random().toString(36).slice(2, 8)}`;
    // The deliveries table as an older version made it: no indexes.
    const old = createTableInput(`${prefix}-deliveries`, { ...tables.deliveries, indexes: [] });
    await client.send(new CreateTableCommand(old));

    await provisionTables(client, prefix);

    const { Table } = await client.send(new DescribeTableCommand({ TableName: `${prefix}-deliveries` }));
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(tables.deliveries.indexes.map((i) => i.name).sort());
    // Running it again changes nothing and does not fail.
    await expect(provisionTables(client, prefix)).resolves.toMatchObject({ deliveries: `${prefix}-deliveries` });
  });

  describe('index changes go one at a time, as DynamoDB allows only one per table', () => {
    const drafts = (prefix: string) => `${prefix}-drafts`;
    const indexNames = async (table: string) => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      return (Table?.GlobalSecondaryIndexes ?? []).map((i) => `${i.IndexName}:${i.IndexStatus}`).sort();
    };
    const wantedIndexes = tables.drafts.indexes.map((i) => `${i.name}:ACTIVE`).sort();
    // Enough items that building or dropping an index takes DynamoDB Local a noticeable while.
    const fill = async (table: string) => {
      for (let batch = 0; batch < 20; batch++) {
        const items = Array.from({ length: 25 }, (_, i) => {
          const id = `d${batch * 25 + i}`;
          const attr = (name: string, value: string) => ({ [name]: { S: value } });
          return {
            PutRequest: {
              Item: {
                ...attr('id', id),
                ...attr('status', 'pending'),
                ...attr('kind', 'draft'),
                ...attr('listKey', `2026-01-01T00:00:00.000Z#${id}`),
                ...attr('expiryQueue', 'pending'),
                ...attr('expiresAt', '2026-01-02T00:00:00.000Z'),
              },
            },
          };
        });
        await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
      }
    };
    const cleanUp = async (prefix: string) => {
      for (const name of Object.keys(tables)) await client.send(new DeleteTableCommand({ TableName: `${prefix}-${name}` })).catch(() => undefined);
    };

    it('drops three indexes the definition no longer has and adds its three, one after another, on a table with items', async () => {
      const prefix = `processa-drop-${Math.random().toString(36).slice(2, 8)}`;
      await client.send(
        new CreateTableCommand(
          createTableInput(drafts(prefix), {
            ...tables.drafts,
            indexes: [
              { name: 'by-status', partitionKey: { name: 'status', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
              { name: 'by-created', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'listKey', type: 'S' } },
              { name: 'pending-by-expiry', partitionKey: { name: 'expiryQueue', type: 'S' }, sortKey: { name: 'expiresAt', type: 'S' } },
            ],
          }),
        ),
      );
      try {
        await fill(drafts(prefix));
        await provisionTables(client, prefix);
        expect(await indexNames(drafts(prefix))).toEqual(wantedIndexes);
      } finally {
        await cleanUp(prefix);
      }
    });

    it('a start after one interrupted while an index was still being built waits for it, then adds the rest', async () => {
      const prefix = `processa-building-${Math.random().toString(36).slice(2, 8)}`;
      const wanted = createTableInput(drafts(prefix), tables.drafts);
      await client.send(new CreateTableCommand(createTableInput(drafts(prefix), { ...tables.drafts, indexes: [] })));
      try {
        await fill(drafts(prefix));
        // The interrupted start: it asked for the first index and never waited for it.
        await client.send(
          new UpdateTableCommand({
            TableName: drafts(prefix),
            AttributeDefinitions: wanted.AttributeDefinitions,
            GlobalSecondaryIndexUpdates: [{ Create: wanted.GlobalSecondaryIndexes![0]! }],
          }),
        );
        await provisionTables(client, prefix);
        expect(await indexNames(drafts(prefix))).toEqual(wantedIndexes);
      } finally {
        await cleanUp(prefix);
      }
    });
  });
});
