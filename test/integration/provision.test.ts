import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
});
