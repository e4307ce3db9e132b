/**
 * `npm run dev`: the whole of Processa on this machine. Flags: --demo-receiver starts a
 * verifying webhook receiver and registers it; --persist keeps data under
 * .processa/ (or PROCESSA_DATA_DIR)
 * across restarts; --quiet drops the request log. Environment: PORT, PROCESSA_BOOTSTRAP_KEY.
 *
 * Lifecycle: SIGINT/SIGTERM/SIGHUP stop everything (the npm script `exec`s node, so a signal npm
 * forwards reaches us, not a shell that would swallow it); so does the death of whoever started
 * us (see launcher-watch.ts), which covers SIGKILL of npm. Java dies with this process even on
 * SIGKILL (see dynamodb-local.ts). With --persist the data folder is ours alone (claimDataDir).
 */
import { parseArgs } from 'node:util';
import { JavaMissingError } from './dynamodb-local.js';
import { watchLauncher } from './launcher-watch.js';
import { startLocalRuntime, type LocalRuntime } from './runtime.js';
import { claimDataDir, DataDirInUseError, dataDir as resolveDataDir, liveRuntimes } from './runtime-info.js';

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
let releaseDataDir: (() => void) | undefined;
let stopping = false;

// Once npm and the terminal are gone, writing to a closed stdout must not crash us before java is stopped.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  // A stop that hangs must not keep us (and so java, whose guard waits for our exit) alive.
  setTimeout(() => process.exit(code || 1), 15_000).unref();
  await runtime?.stop().catch(() => undefined);
  releaseDataDir?.();
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
watchLauncher((pid) => {
  console.error(`Processa: the process that started it (pid ${pid}) is gone; stopping.`);
  void shutdown(0);
});

try {
  if (flags.persist) releaseDataDir = claimDataDir(dataDir);
  runtime = await startLocalRuntime({
    port,
    persist: flags.persist,
    dataDir,
    bootstrapKey: process.env.PROCESSA_BOOTSTRAP_KEY || undefined,
    demoReceiver: flags['demo-receiver'],
    onRequest: flags.quiet ? undefined : (line) => console.log(line),
  });
} catch (error) {
  releaseDataDir?.();
  if (error instanceof JavaMissingError || error instanceof DataDirInUseError) console.error(error.message);
  else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const other = liveRuntimes(dataDir).find((info) => new URL(info.apiUrl).port === String(port));
    console.error(
      `Port ${port} is already in use${other ? ` by another Processa dev runtime (pid ${other.pid})` : ''}: start this one with another PORT, e.g. PORT=0 npm run dev (0 picks a free port).`,
    );
  } else console.error('Processa failed to start:', error);
  process.exit(1);
}

// What to do next. The keys CLI finds this runtime by its data folder and, when several run, by PORT.
const apiPort = new URL(runtime.apiUrl).port;
const cliEnv = `${process.env.PROCESSA_DATA_DIR ? `PROCESSA_DATA_DIR=${dataDir} ` : ''}${apiPort !== '3000' ? `PORT=${apiPort} ` : ''}`;
console.log(`
Processa is running locally${flags.persist ? ` (data kept in ${dataDir})` : ' (in memory; --persist keeps data)'}
  API:        ${runtime.apiUrl}/v1
  Admin key:  ${runtime.adminKey}
  DynamoDB:   ${runtime.dynamodbEndpoint}
  SQS:        ${runtime.sqsEndpoint}${runtime.demoReceiver ? `\n  Receiver:   ${runtime.demoReceiver.url} (registered as a webhook endpoint; prints each verified event)` : ''}

Next:
  Review drafts:  ${runtime.apiUrl}/review (sign in with the admin key or a reviewer key)
  Webhooks:       ${runtime.apiUrl}/settings/webhooks (admin key: add your endpoint, send a test event, see deliveries)
  OpenAPI:        ${runtime.apiUrl}/v1/openapi.json
  Clients:        baseUrl ${runtime.apiUrl}/v1
                  TypeScript: npm run pack:client (shared/client/README.md); Python: pip install ./shared/client/python
  Slack:          ${runtime.apiUrl}/v1/integrations/slack/interactions is the Slack app's interactivity URL (through a tunnel); ${
    process.env.PROCESSA_SLACK_SIGNING_SECRET ? 'signing secret set' : 'set PROCESSA_SLACK_SIGNING_SECRET (and PROCESSA_SLACK_BOT_TOKEN for Reject) to use it'
  }
  Make keys:      ${cliEnv}npm run keys -- create --role agent --name my-agent (or --role reviewer; list, revoke)${
    runtime.demoReceiver ? '' : '\n  Demo receiver:  npm run dev -- --demo-receiver starts a receiver that prints every verified event'
  }
ready ${runtime.apiUrl}
Ctrl-C stops everything.`);
