/**
 * `npm run dev`: the whole of Processa on this machine. Flags: --demo-receiver starts a
 * verifying webhook receiver and registers it; --persist keeps data under
 * .processa/ (or PROCESSA_DATA_DIR)
 * across restarts; --quiet drops the request log. Environment: PORT, PROCESSA_BOOTSTRAP_KEY.
 */
import { parseArgs } from 'node:util';
import { JavaMissingError } from './dynamodb-local.js';
import { startLocalRuntime, type LocalRuntime } from './runtime.js';
import { dataDir as resolveDataDir } from './runtime-info.js';

const { values: flags } = parseArgs({
  options: {
    persist: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    'demo-receiver': { type: 'boolean', default: false },
  },
  strict: true,
});

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}

const dataDir = resolveDataDir();
let runtime: LocalRuntime | undefined;
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  await runtime?.stop();
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

try {
  runtime = await startLocalRuntime({
    port,
    persist: flags.persist,
    dataDir,
    bootstrapKey: process.env.PROCESSA_BOOTSTRAP_KEY || undefined,
    demoReceiver: flags['demo-receiver'],
    onRequest: flags.quiet ? undefined : (line) => console.log(line),
  });
} catch (error) {
  if (error instanceof JavaMissingError) console.error(error.message);
  else console.error('Processa failed to start:', error);
  process.exit(1);
}

console.log(`
Processa is running locally${flags.persist ? ` (data kept in ${dataDir})` : ' (in memory; --persist keeps data)'}
  API:        ${runtime.apiUrl}/v1
  Admin key:  ${runtime.adminKey}
  DynamoDB:   ${runtime.dynamodbEndpoint}
  SQS:        ${runtime.sqsEndpoint}${runtime.demoReceiver ? `\n  Receiver:   ${runtime.demoReceiver.url} (registered as a webhook endpoint; prints each verified event)` : ''}
ready ${runtime.apiUrl}
Ctrl-C stops everything.`);
