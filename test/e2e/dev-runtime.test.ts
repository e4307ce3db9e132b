import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiClient, isAlive, repoRoot, startDevRuntime, tsxBin } from '../support/dev-runtime.js';

const run = promisify(execFile);

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

      const { dynamodbPid } = first.info();
      expect(dynamodbPid && isAlive(dynamodbPid)).toBe(true);
      expect(await first.stop()).toBe(0);
      expect(isAlive(dynamodbPid!)).toBe(false);
      expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);

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
