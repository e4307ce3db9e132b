import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveRuntimes, type RuntimeInfo } from '../../infra/local/runtime-info.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const tsxBin = join(repoRoot, 'node_modules', '.bin', 'tsx');

export interface DevRuntime {
  url: string;
  adminKey: string;
  dataDir: string;
  /** The runtime's node process, or npm's when started with `npm: true` (the runtime is then info().pid). */
  process: ChildProcess;
  output(): string;
  /** This instance's runtime file (found by its URL: several instances may share a data folder). */
  info(): RuntimeInfo;
  stop(): Promise<number | null>;
}

/**
 * Starts `npm run dev`'s entry point as a separate process on a free port, with its data in a
 * temporary folder, and waits for its "ready" line. Fails loudly with the runtime's output.
 * `npm: true` starts it through `npm run dev` itself (npm → sh → tsx → node), as a user does.
 */
export async function startDevRuntime(options: { args?: string[]; env?: Record<string, string>; dataDir?: string; npm?: boolean } = {}): Promise<DevRuntime> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'processa-e2e-'));
  const adminKey = options.env?.PROCESSA_BOOTSTRAP_KEY ?? `prk_e2e_${Math.random().toString(36).slice(2)}`;
  const args = ['--quiet', ...(options.args ?? [])];
  // As `npm run dev` runs it: node with tsx's loader, no tsx CLI in between (that CLI SIGKILLs its
  // child when the child is slow to acknowledge a relayed Ctrl-C, which a loaded machine often is).
  const [command, argv] = options.npm
    ? ['npm', ['run', '--silent', 'dev', '--', ...args]]
    : [process.execPath, ['--import', 'tsx', 'infra/local/dev.ts', ...args]];
  const child = spawn(command, argv, {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', PROCESSA_DATA_DIR: dataDir, PROCESSA_BOOTSTRAP_KEY: adminKey, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev runtime not ready after 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/^ready (http:\/\/\S+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`dev runtime exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    adminKey,
    dataDir,
    process: child,
    output: () => output,
    info: () => {
      const info = liveRuntimes(dataDir).find((candidate) => candidate.apiUrl === url);
      if (!info) throw new Error(`no runtime file for ${url} in ${dataDir}`);
      return info;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      // A runtime that ignores Ctrl-C must not hang the suite: SIGKILL its launcher, which it notices and stops.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited.finally(() => clearTimeout(timer));
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A small JSON client for the API. */
export function apiClient(baseUrl: string, key?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json };
  };
}
