/**
 * The drafts table's indexes as the stack builds them and as the local runtime creates them:
 * both come from the one definition (infra/app-definition.ts), so they must agree, and the
 * listing indexes copy keys only (a draft's write cost must not grow with its content).
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { tables, type TableName } from '../../infra/app-definition.js';
import { createTableInput } from '../../infra/local/provision.js';
import { Stateful } from '../../infra/stacks/stateful.js';

type Json = Record<string, any>;

let resources: Json[];
let stateful: Stateful;

beforeAll(() => {
  const stack = new Stack(new App(), 'Indexes');
  stateful = new Stateful(stack, 'Stateful', { removalPolicy: RemovalPolicy.DESTROY });
  resources = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, Json>);
});

/** The synthesized AWS::DynamoDB::Table of one table of the definition. */
function tableResource(name: TableName): Json {
  const logicalId = Stack.of(stateful).getLogicalId(stateful.tables[name].node.defaultChild as never);
  const template = Template.fromStack(Stack.of(stateful)).toJSON().Resources as Record<string, Json>;
  return template[logicalId]!.Properties;
}

describe('drafts table indexes', () => {
  it('are the sharded, keys-only listing indexes and the sharded sparse expiry index', () => {
    expect(resources.length).toBeGreaterThan(0);
    const { GlobalSecondaryIndexes, AttributeDefinitions } = tableResource('drafts');
    expect(GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'by-status-shard',
        KeySchema: [
          { AttributeName: 'statusShard', KeyType: 'HASH' },
          { AttributeName: 'listKey', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'by-created-shard',
        KeySchema: [
          { AttributeName: 'createdShard', KeyType: 'HASH' },
          { AttributeName: 'listKey', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: 'expiry-shard',
        KeySchema: [
          { AttributeName: 'expiryShard', KeyType: 'HASH' },
          { AttributeName: 'expiresAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]);
    expect(AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['id', 'statusShard', 'createdShard', 'listKey', 'expiryShard', 'expiresAt'].map((n) => ({ AttributeName: n, AttributeType: 'S' })),
      ),
    );
  });

  it('the local runtime creates every table with the same indexes, key schemas and projections as the stack', () => {
    for (const name of Object.keys(tables) as TableName[]) {
      const local = createTableInput(`local-${name}`, tables[name]);
      const deployed = tableResource(name);
      const indexes = (list: Json[] | undefined) =>
        (list ?? [])
          .map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }))
          .sort((a, b) => a.IndexName.localeCompare(b.IndexName));
      expect({ name, indexes: indexes(local.GlobalSecondaryIndexes) }).toEqual({ name, indexes: indexes(deployed.GlobalSecondaryIndexes) });
      expect({ name, keys: local.KeySchema }).toEqual({ name, keys: deployed.KeySchema });
      const attributes = (list: Json[]) => [...list].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
      expect({ name, attributes: attributes(local.AttributeDefinitions) }).toEqual({ name, attributes: attributes(deployed.AttributeDefinitions) });
    }
  });

  it('the local CreateTable spells an INCLUDE projection with its attributes', () => {
    const definition = { ...tables.drafts, indexes: [{ ...tables.drafts.indexes[0], projection: { type: 'INCLUDE' as const, attributes: ['title'] } }] };
    expect(createTableInput('t', definition).GlobalSecondaryIndexes?.[0]?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['title'] });
  });
});
