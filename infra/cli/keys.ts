/**
 * `npm run keys -- <create|list|revoke>`: manage API keys straight in the keys table, against
 * the running dev runtime (found through its .processa/runtime-<pid>.json; with several running,
 * PORT picks one) or, with --stack, a deployed stack (table name from its outputs, credentials
 * from the usual AWS SDK chain).
 *
 *   npm run keys -- create --role agent --name bot [--json]
 *   npm run keys -- list
 *   npm run keys -- revoke key_abc123
 *   npm run keys -- create --role admin --name ops --stack Processa [--region eu-west-1]
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApiKey, createKeySchema, publicKey, revokeApiKey } from '../../shared/domain/api-keys.js';
import { DomainError } from '../../shared/domain/errors.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { DynamoApiKeyStore } from '../../shared/store/api-keys-store.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { outputNames } from '../stacks/outputs.js';
import { localTarget, requireOutput, stackOutputs, UsageError } from './targets.js';

const USAGE = `Usage:
  npm run keys -- create --role <agent|reviewer|admin> --name <name> [--stack <name>] [--region <r>] [--json]
  npm run keys -- list [--stack <name>] [--region <r>] [--json]
  npm run keys -- revoke <key-id> [--stack <name>] [--region <r>] [--json]`;

async function keyStore(stack: string | undefined, region: string | undefined): Promise<DynamoApiKeyStore> {
  if (stack) {
    const tableName = requireOutput(await stackOutputs(stack, region), outputNames.table('apiKeys'), stack);
    return new DynamoApiKeyStore(createDocumentClient(new DynamoDBClient({ region })), tableName);
  }
  const { info, dynamodb } = localTarget();
  return new DynamoApiKeyStore(createDocumentClient(new DynamoDBClient(dynamodb)), info.tables.apiKeys);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      name: { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  const print = (human: string, data: unknown) => console.log(values.json ? JSON.stringify(data, null, 2) : human);

  switch (command) {
    case 'create': {
      const input = parseOrThrow(createKeySchema, { role: values.role, name: values.name });
      const created = await createApiKey(await keyStore(values.stack, values.region), input, 'cli');
      print(`Created ${created.role} key "${created.name}" (${created.id}). It is shown only now:\n${created.key}`, created);
      return;
    }
    case 'list': {
      const store = await keyStore(values.stack, values.region);
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(100, cursor);
        all.push(...page.items.map(publicKey));
        cursor = page.nextCursor;
      } while (cursor);
      all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const lines = all.map((k) => `${k.id}  ${k.role.padEnd(8)}  ${k.prefix}…  ${k.name}${k.revokedAt ? `  (revoked ${k.revokedAt})` : ''}`);
      print(lines.join('\n') || 'No keys.', all);
      return;
    }
    case 'revoke': {
      const id = rest[0];
      if (!id) throw new UsageError('revoke needs the key id, e.g. npm run keys -- revoke key_abc123');
      const revoked = await revokeApiKey(await keyStore(values.stack, values.region), id);
      print(`Revoked ${revoked.id} ("${revoked.name}") at ${revoked.revokedAt}`, revoked);
      return;
    }
    default:
      throw new UsageError(command ? `Unknown command "${command}"` : 'No command given');
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else if (error instanceof DomainError) console.error(error.message);
  else if (error instanceof Error && /Unknown option|unexpected argument/i.test(error.message)) console.error(`${error.message}\n\n${USAGE}`);
  else console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
