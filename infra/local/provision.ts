import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  DescribeTableCommand,
  LimitExceededException,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type Projection,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backfillDraftShards } from '../../shared/store/drafts-backfill.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { queues, tables, type IndexProjection, type QueueName, type TableDefinition, type TableName } from '../app-definition.js';

export type TableNames = Record<TableName, string>;
export type QueueUrls = Record<QueueName, string>;

/** The stack's projection of the same definition (infra/stacks/stateful.ts), as CreateTable spells it. */
const projection = (wanted: IndexProjection = { type: 'ALL' }): Projection =>
  wanted.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...wanted.attributes] } : { ProjectionType: wanted.type };

/** The CreateTable request for one definition: the local twin of the stateful construct's Table. */
export function createTableInput(physicalName: string, definition: TableDefinition) {
  const attributes = new Map<string, AttributeDefinition>();
  const keySchema = (pk: { name: string; type: 'S' | 'N' }, sk?: { name: string; type: 'S' | 'N' }) => {
    for (const key of [pk, sk]) if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
    return [{ AttributeName: pk.name, KeyType: 'HASH' as const }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : [])];
  };
  const KeySchema = keySchema(definition.partitionKey, definition.sortKey);
  const GlobalSecondaryIndexes = definition.indexes.map((index) => ({
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: projection(index.projection),
  }));
  return {
    TableName: physicalName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema,
    AttributeDefinitions: [...attributes.values()],
    ...(GlobalSecondaryIndexes.length > 0 ? { GlobalSecondaryIndexes } : {}),
    ...(definition.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream } } : {}),
  };
}

/** Creates every table of the definition (skipping ones that exist, for --persist) and returns their names. */
export async function provisionTables(client: DynamoDBClient, prefix: string): Promise<TableNames> {
  const names = {} as TableNames;
  for (const [name, definition] of Object.entries(tables) as [TableName, TableDefinition][]) {
    const physical = `${prefix}-${name}`;
    names[name] = physical;
    try {
      await client.send(new CreateTableCommand(createTableInput(physical, definition)));
      if (definition.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: physical, TimeToLiveSpecification: { Enabled: true, AttributeName: definition.ttlAttribute } }),
        );
      }
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      // A --persist folder from an older version: add the indexes the definition has gained since,
      // and give drafts stored before the sharded listing indexes their shard attributes.
      await reconcileIndexes(client, physical, definition);
      if (name === 'drafts') await backfillDraftShards(createDocumentClient(client), physical);
    }
  }
  return names;
}

/** Makes the table's indexes those of the definition, as a deploy would: drops the ones it no longer has, adds the new ones. */
export async function reconcileIndexes(client: DynamoDBClient, physical: string, definition: TableDefinition) {
  // A start interrupted mid-build leaves an index CREATING or DELETING; let it finish before reading what exists.
  await indexesSettled(client, physical);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: physical }));
  const wanted = createTableInput(physical, definition);
  const wantedNames = new Set((wanted.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const name of existing) {
    if (name && !wantedNames.has(name)) await updateIndexes(client, { TableName: physical, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: name } }] });
  }
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await updateIndexes(client, { TableName: physical, AttributeDefinitions: wanted.AttributeDefinitions, GlobalSecondaryIndexUpdates: [{ Create: index }] });
  }
}

/**
 * One index change at a time, as DynamoDB allows: waits for the change before it to settle, and
 * still retries a refusal, since the emulator's count of changes in flight and its DescribeTable
 * need not agree at every instant.
 */
async function updateIndexes(client: DynamoDBClient, input: ConstructorParameters<typeof UpdateTableCommand>[0]) {
  const physical = input.TableName!;
  for (let attempt = 1; ; attempt++) {
    await indexesSettled(client, physical);
    try {
      await client.send(new UpdateTableCommand(input));
      break;
    } catch (error) {
      if (!(error instanceof LimitExceededException) || attempt >= 50) throw error;
      await sleep(100);
    }
  }
  await indexesSettled(client, physical);
}

/**
 * Until every index is ACTIVE: DynamoDB Local builds a new index from the existing items in the
 * background (writes fail until it is done), and lists a dropped one as DELETING for about a second.
 */
async function indexesSettled(client: DynamoDBClient, physical: string) {
  for (let attempt = 0; attempt < 600; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: physical }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE')) return;
    await sleep(100);
  }
  throw new Error(`The indexes of ${physical} did not settle within a minute`);
}

export async function streamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.LatestStreamArn) throw new Error(`Table ${tableName} has no stream`);
  return Table.LatestStreamArn;
}

/** Creates the queues in dependency order (DLQs first), with the definition's redrive policy. */
export async function provisionQueues(client: SQSClient, prefix: string): Promise<QueueUrls> {
  const urls = {} as QueueUrls;
  const arns = {} as Record<QueueName, string>;
  const hasDlq = (name: QueueName) => 'deadLetterQueue' in queues[name];
  const names = Object.keys(queues) as QueueName[];
  for (const name of [...names.filter((n) => !hasDlq(n)), ...names.filter(hasDlq)]) {
    const definition = queues[name];
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(definition.retentionDays * 24 * 60 * 60),
    };
    if ('deadLetterQueue' in definition) {
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arns[definition.deadLetterQueue], maxReceiveCount: definition.maxReceiveCount });
    }
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: `${prefix}-${name}`, Attributes: attributes }));
    urls[name] = QueueUrl!;
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    arns[name] = Attributes!.QueueArn!;
  }
  return urls;
}
