import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiClient, isAlive, repoRoot, startDevRuntime, tsxBin } from '../support/dev-runtime.js';
import { eventually } from '../support/receiver.js';

const run = promisify(execFile);
/** A CLI run's exit code and output, whether it failed or not. */
const outcome = (running: Promise<{ stdout: string; stderr: string }>) =>
  running.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

const answers = (url: string) =>
  fetch(`${url}/v1/drafts`).then(
    () => true,
    () => false,
  );
const runtimeFiles = (dir: string) => readdirSync(dir).filter((name) => /^runtime.*\.json$/.test(name));

describe('npm run dev', () => {
  it('serves the API, stops every child on Ctrl-C, and keeps data with --persist', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'processa-persist-'));
    try {
      const first = await startDevRuntime({ args: ['--persist'], dataDir, env: { PROCESSA_BOOTSTRAP_KEY: 'prk_fixed_for_scripts' } });
      expect(first.adminKey).toBe('prk_fixed_for_scripts');
      expect(first.output()).toContain('Admin key:  prk_fixed_for_scripts');
      const api = apiClient(first.url, first.adminKey);
      const created = await api('POST', '/v1/drafts', { title: 'survives restarts', content: { a: 1 } });
      expect(created.status).toBe(201);

      const { pid, dynamodbPid } = first.info();
      expect(dynamodbPid && isAlive(dynamodbPid)).toBe(true);

      // A second --persist runtime on the same folder would share DynamoDB Local's files: refused, naming the first.
      const refused = await outcome(
        run(tsxBin, ['infra/local/dev.ts', '--persist', '--quiet'], { cwd: repoRoot, env: { ...process.env, PORT: '0', PROCESSA_DATA_DIR: dataDir } }),
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`Another Processa dev runtime (pid ${pid}, ${first.url}) keeps its --persist data in ${dataDir}`);
      expect((await api('GET', `/v1/drafts/${created.body.id}`)).status).toBe(200);

      expect(await first.stop()).toBe(0);
      expect(isAlive(dynamodbPid!)).toBe(false);
      expect(runtimeFiles(dataDir)).toEqual([]);
      expect(readdirSync(dataDir)).not.toContain('persist.lock');

      const second = await startDevRuntime({ args: ['--persist'], dataDir, env: { PROCESSA_BOOTSTRAP_KEY: 'prk_fixed_for_scripts' } });
      try {
        const again = await apiClient(second.url, second.adminKey)('GET', `/v1/drafts/${created.body.id}`);
        expect(again.status).toBe(200);
        expect(again.body.title).toBe('survives restarts');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('takes DynamoDB Local down with it when the runtime is SIGKILLed', async () => {
    const runtime = await startDevRuntime();
    try {
      const { pid, dynamodbPid } = runtime.info();
      expect(dynamodbPid && isAlive(dynamodbPid)).toBe(true);
      process.kill(pid, 'SIGKILL');
      await eventually(() => !isAlive(dynamodbPid!), 10_000, 'java to exit');
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)(
    'stops everything when the `npm run dev` process gets %s',
    async (signal) => {
      const runtime = await startDevRuntime({ npm: true });
      try {
        const { pid, dynamodbPid } = runtime.info();
        expect(await answers(runtime.url)).toBe(true);
        process.kill(runtime.process.pid!, signal);
        await eventually(async () => !(await answers(runtime.url)), 15_000, 'the API to stop answering');
        await eventually(() => !isAlive(pid) && !isAlive(dynamodbPid!), 15_000, 'the runtime and java to exit');
        expect(runtimeFiles(runtime.dataDir)).toEqual([]);
      } finally {
        await runtime.stop();
      }
    },
    120_000,
  );

  it('keeps runtime state per instance: two in one folder each keep their file, and the CLI picks by PORT', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'processa-two-'));
    const keys = (args: string[], env: Record<string, string>) =>
      outcome(run(tsxBin, ['infra/cli/keys.ts', ...args], { cwd: repoRoot, env: { ...process.env, PROCESSA_DATA_DIR: dataDir, PORT: '', ...env } }));
    const a = await startDevRuntime({ dataDir });
    const b = await startDevRuntime({ dataDir });
    try {
      expect(runtimeFiles(dataDir)).toHaveLength(2);
      expect(a.info().pid).not.toBe(b.info().pid);

      // Neither is on the default port 3000: the CLI says which exist instead of guessing.
      const ambiguous = await keys(['list'], {});
      expect(ambiguous.code).toBe(1);
      expect(ambiguous.stderr).toMatch(/2 dev runtimes are running in .*Say which with PORT/);
      expect(ambiguous.stderr).toContain(a.url);
      expect(ambiguous.stderr).toContain(b.url);

      const created = await keys(['create', '--role', 'agent', '--name', 'for-b', '--json'], { PORT: new URL(b.url).port });
      const key = JSON.parse(created.stdout).key as string;
      expect((await apiClient(b.url, key)('GET', '/v1/drafts')).status).toBe(200);
      expect((await apiClient(a.url, key)('GET', '/v1/drafts')).status).toBe(401);

      // Stopping one leaves the other's file, and the CLI finds the survivor without PORT.
      await b.stop();
      expect(a.info().apiUrl).toBe(a.url);
      const listed = await keys(['list'], {});
      expect(listed.stderr).toBe('');
      expect(listed.stdout).toContain('bootstrap-admin');
      expect(listed.stdout).not.toContain('for-b');
    } finally {
      await b.stop();
      await a.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('says in one line how to install Java when it is missing', async () => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'no-java-'));
    try {
      const result = await run(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'infra/local/dev.ts'], {
        cwd: repoRoot,
        env: { ...process.env, PATH: emptyPath, PORT: '0', PROCESSA_DATA_DIR: emptyPath },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Java 17\+ is required.*apt-get install -y openjdk-17-jre-headless/);
    } finally {
      rmSync(emptyPath, { recursive: true, force: true });
    }
  });

  it('explains how to start it when `npm run keys` finds no runtime', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'no-runtime-'));
    const result = await run(tsxBin, ['infra/cli/keys.ts', 'list'], { cwd: repoRoot, env: { ...process.env, PROCESSA_DATA_DIR: emptyDir } }).catch((e) => e);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/No dev runtime is running.*npm run dev/);
    rmSync(emptyDir, { recursive: true, force: true });
  });
});
