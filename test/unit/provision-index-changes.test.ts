import { DescribeTableCommand, LimitExceededException, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tables } from '../../infra/app-definition.js';
import { reconcileIndexes } from '../../infra/local/provision.js';

/**
 * DynamoDB's rule, as DynamoDB Local enforces it under load: while one index of a table is being
 * created or dropped, any other index change is refused. A change stays in flight for a few
 * DescribeTable calls, and the first change after one settles may still be refused once (the
 * emulator's lag). Real timing cannot be forced in DynamoDB Local, so the rule is modelled here.
 */
function tableWithRule(initial: string[]) {
  const indexes = initial.map((name) => ({ name, status: 'ACTIVE', describesLeft: 0 }));
  let refuseNextAfterSettle = false;
  const log: string[] = [];
  const inFlight = () => indexes.some((index) => index.status !== 'ACTIVE');
  const client = {
    async send(command: unknown) {
      if (command instanceof DescribeTableCommand) {
        for (const index of [...indexes]) {
          if (index.status === 'ACTIVE' || --index.describesLeft > 0) continue;
          if (index.status === 'DELETING') indexes.splice(indexes.indexOf(index), 1);
          else index.status = 'ACTIVE';
          refuseNextAfterSettle = true;
        }
        return { Table: { TableStatus: 'ACTIVE', GlobalSecondaryIndexes: indexes.map((i) => ({ IndexName: i.name, IndexStatus: i.status })) } };
      }
      if (command instanceof UpdateTableCommand) {
        const [update] = command.input.GlobalSecondaryIndexUpdates ?? [];
        if (inFlight() || refuseNextAfterSettle) {
          refuseNextAfterSettle = false;
          log.push('refused');
          throw new LimitExceededException({ message: 'Only 1 online index can be created or deleted simultaneously per table', $metadata: {} });
        }
        if (update?.Delete) {
          log.push(`drop ${update.Delete.IndexName}`);
          indexes.find((i) => i.name === update.Delete!.IndexName)!.status = 'DELETING';
          indexes.find((i) => i.name === update.Delete!.IndexName)!.describesLeft = 3;
        } else if (update?.Create) {
          log.push(`create ${update.Create.IndexName}`);
          indexes.push({ name: update.Create.IndexName!, status: 'CREATING', describesLeft: 3 });
        }
        return {};
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as DynamoDBClient;
  return { client, indexes, log };
}

describe('reconciling a --persist table with the definition, one index change at a time', () => {
  const wanted = tables.drafts.indexes.map((i) => i.name).sort();

  it('waits out each drop and build before the next change, and retries a refusal that comes just after', async () => {
    const table = tableWithRule(['by-status', 'by-created', 'pending-by-expiry']);
    await reconcileIndexes(table.client, 'processa-dev-drafts', tables.drafts);
    expect(table.indexes.map((i) => `${i.name}:${i.status}`).sort()).toEqual(wanted.map((name) => `${name}:ACTIVE`));
    const changes = table.log.filter((entry) => entry !== 'refused');
    expect(changes).toEqual([
      ...['by-status', 'by-created', 'pending-by-expiry'].map((n) => `drop ${n}`),
      ...tables.drafts.indexes.map((i) => `create ${i.name}`),
    ]);
  });

  it('lets an index an interrupted start was building finish instead of asking for another beside it', async () => {
    const table = tableWithRule([]);
    table.indexes.push({ name: tables.drafts.indexes[0]!.name, status: 'CREATING', describesLeft: 5 });
    await reconcileIndexes(table.client, 'processa-dev-drafts', tables.drafts);
    expect(table.indexes.map((i) => `${i.name}:${i.status}`).sort()).toEqual(wanted.map((name) => `${name}:ACTIVE`));
    expect(table.log.filter((entry) => entry !== 'refused')).toEqual(tables.drafts.indexes.slice(1).map((i) => `create ${i.name}`));
  });
});
