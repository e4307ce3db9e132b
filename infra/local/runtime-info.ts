import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueueUrls, TableNames } from './provision.js';

/** Where the dev runtime keeps its data and its runtime files: .processa/ at the repo root, or PROCESSA_DATA_DIR. */
export const dataDir = (): string => process.env.PROCESSA_DATA_DIR || fileURLToPath(new URL('../../.processa', import.meta.url));

/**
 * One file per running instance, keyed by its pid, so instances sharing a data folder (several
 * in-memory runtimes in one checkout, on different ports) never overwrite or delete each other's.
 */
export const runtimeFile = (dir: string = dataDir(), pid: number = process.pid) => join(dir, `runtime-${pid}.json`);
/** runtime.json is what earlier versions wrote; still read so an older running instance is found. */
const RUNTIME_FILE = /^runtime(?:-\d+)?\.json$/;

export interface RuntimeInfo {
  pid: number;
  dynamodbPid?: number;
  apiUrl: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: TableNames;
  queues: QueueUrls;
  demoReceiverUrl?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, it just is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed runtime its parent has not reaped yet still answers kill(0); on Linux, see that it is a zombie.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux'; // no /proc (macOS): kill(0) is the answer; on Linux it just exited
  }
}

/**
 * The dev runtimes recorded in dir whose process is alive, oldest pid first. Files left behind by
 * a runtime that died without cleaning up (SIGKILL) are removed on the way.
 */
export function liveRuntimes(dir: string = dataDir()): RuntimeInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: RuntimeInfo[] = [];
  for (const name of names.filter((n) => RUNTIME_FILE.test(n))) {
    const file = join(dir, name);
    let info: RuntimeInfo;
    try {
      info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
    } catch {
      continue; // being written right now, or not ours to judge
    }
    if (typeof info.pid === 'number' && isAlive(info.pid)) live.push(info);
    else rmSync(file, { force: true });
  }
  return live.sort((a, b) => a.pid - b.pid);
}

const portOf = (info: RuntimeInfo) => new URL(info.apiUrl).port;

/**
 * Finds the running dev runtime, or explains how to start one. With several in the folder, PORT
 * (default 3000, as for `npm run dev`) says which: the CLI then talks to the instance that
 * `npm run dev` in the same environment started.
 */
export function readRuntimeInfo(dir: string = dataDir(), port: string = process.env.PORT || '3000'): RuntimeInfo {
  const live = liveRuntimes(dir);
  if (live.length === 0)
    throw new Error(`No dev runtime is running (none recorded in ${dir}): start it with \`npm run dev\` (or pass --stack <name> for a deployed stack)`);
  if (live.length === 1) return live[0]!;
  const chosen = live.filter((info) => portOf(info) === port);
  if (chosen.length === 1) return chosen[0]!;
  const list = live.map((info) => `${info.apiUrl} (pid ${info.pid})`).join(', ');
  throw new Error(`${live.length} dev runtimes are running in ${dir}: ${list}. Say which with PORT, e.g. PORT=${portOf(live[0]!)} npm run keys -- list`);
}

export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirInUseError';
  }
}

/**
 * --persist: one runtime at a time owns a folder's DynamoDB files and stream checkpoints (two
 * DynamoDB Locals on one database file would corrupt each other's view). Claims dir for this
 * process through a lock file holding its pid, taking over a lock whose owner is dead; returns the
 * release. In-memory runtimes need no claim and may share the folder.
 */
export function claimDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, 'persist.lock');
  const owner = (): number => Number(readFileSync(lock, 'utf8').trim());
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (owner() === process.pid) rmSync(lock, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let pid: number;
    try {
      pid = owner();
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      const url = liveRuntimes(dir).find((info) => info.pid === pid)?.apiUrl;
      throw new DataDirInUseError(
        `Another Processa dev runtime (pid ${pid}${url ? `, ${url}` : ''}) keeps its --persist data in ${dir}. ` +
          `Stop it first, or give this one its own folder: PROCESSA_DATA_DIR=<another folder> npm run dev -- --persist ` +
          `(if pid ${pid} is not a Processa runtime, delete ${lock}).`,
      );
    }
    rmSync(lock, { force: true }); // its owner died without releasing it
  }
  throw new DataDirInUseError(`Could not claim ${dir} for --persist: ${lock} keeps changing; is another runtime starting there?`);
}
