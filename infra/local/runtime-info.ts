import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueueUrls, TableNames } from './provision.js';

/** Where the dev runtime keeps its data and its runtime.json: .processa/ at the repo root, or PROCESSA_DATA_DIR. */
export const dataDir = (): string => process.env.PROCESSA_DATA_DIR || fileURLToPath(new URL('../../.processa', import.meta.url));
export const runtimeFile = (dir: string = dataDir()) => join(dir, 'runtime.json');

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Finds the running dev runtime, or explains how to start one. */
export function readRuntimeInfo(dir: string = dataDir()): RuntimeInfo {
  const file = runtimeFile(dir);
  const hint = 'start it with `npm run dev` (or pass --stack <name> for a deployed stack)';
  if (!existsSync(file)) throw new Error(`No dev runtime is running (${file} not found): ${hint}`);
  const info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
  if (!alive(info.pid)) throw new Error(`The dev runtime recorded in ${file} (pid ${info.pid}) is not running: ${hint}`);
  return info;
}
