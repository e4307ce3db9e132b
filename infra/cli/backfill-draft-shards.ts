/**
 * `npx tsx infra/cli/backfill-draft-shards.ts --stack <name> [--region <r>]`: gives the drafts of
 * a deployment made before the sharded listing indexes their shard attributes, so they appear in
 * by-status-shard, by-created-shard and expiry-shard (README: "Upgrading a deployment"). Safe to
 * run again, and while the app runs (each update is conditional on the status it read). The
 * local runtime does the same by itself at start.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { backfillDraftShards } from '../../shared/store/drafts-backfill.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { outputNames } from '../stacks/outputs.js';
import { requireOutput, stackOutputs } from './targets.js';

const { values } = parseArgs({ options: { stack: { type: 'string' }, region: { type: 'string' } } });
if (!values.stack) {
  console.error('Usage: npx tsx infra/cli/backfill-draft-shards.ts --stack <name> [--region <r>]');
  process.exit(2);
}
const tableName = requireOutput(await stackOutputs(values.stack, values.region), outputNames.table('drafts'), values.stack);
const { updated, skipped } = await backfillDraftShards(createDocumentClient(new DynamoDBClient({ region: values.region })), tableName);
console.log(`${tableName}: ${updated} drafts given their shard attributes${skipped ? `, ${skipped} deleted meanwhile` : ''}`);
