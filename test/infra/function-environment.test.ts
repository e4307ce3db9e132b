/**
 * Each handler cold-starts with only the environment the definition gives its function (its
 * tables, queues and settings, as the stack binds them), in a fresh Node process as Lambda would
 * load it: a handler that reads a variable its function is not bound to fails here, not at its
 * first cold start on AWS.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { functions, settings, type FunctionName } from '../../infra/app-definition.js';
import { localCommonEnv, localFunctionEnvironments, localSettingValues, perFunctionVariables } from '../../infra/local/handler-env.js';
import { loadHandler, useFunctionEnvironments } from '../../infra/local/lambda-context.js';
import type { QueueUrls, TableNames } from '../../infra/local/provision.js';
import { STACK_NAME_ENV } from '../../shared/observability.js';
import { LOCALHOST_ENV_VAR } from '../../shared/webhooks/address-guard.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const functionNames = Object.keys(functions) as FunctionName[];

// Nothing is called at import, so the endpoints need not answer.
const local = {
  dynamodbEndpoint: 'http://127.0.0.1:9',
  sqsEndpoint: 'http://127.0.0.1:9',
  tables: new Proxy({} as TableNames, { get: (_, name) => `test-${String(name)}` }),
  queues: new Proxy({} as QueueUrls, { get: (_, name) => `http://127.0.0.1:9/000000000000/test-${String(name)}` }),
};
const environments = localFunctionEnvironments(
  local,
  localSettingValues({ retryBaseSeconds: '1', webhookTimeoutMs: '2000', publicBaseUrl: 'http://localhost:3000' }),
);

/** Imports the function's handler in a new node process whose environment is exactly `env` (plus PATH). */
function coldStart(name: FunctionName, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const handler = new URL(`../../functions/${functions[name].folder}/handler.ts`, import.meta.url).href;
  const script = `const m = await import(${JSON.stringify(handler)}); if (typeof m.handler !== 'function') throw new Error('no handler export'); process.exit(0);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const commonEnv = { ...localCommonEnv(local), POWERTOOLS_SERVICE_NAME: 'processa' };

describe('each handler loads with only its own environment', () => {
  it.each(functionNames)(
    '%s',
    async (name) => {
      const { code, output } = await coldStart(name, { ...commonEnv, ...environments[name] });
      expect({ name, code, output: code === 0 ? '' : output }).toEqual({ name, code: 0, output: '' });
    },
    60_000,
  );

  it('fails, naming the variable, when a function lacks one of its bindings', async () => {
    const { DRAFTS_TABLE_NAME: _dropped, ...withoutDrafts } = environments.createDraft;
    const { code, output } = await coldStart('createDraft', { ...commonEnv, ...withoutDrafts });
    expect(code).not.toBe(0);
    expect(output).toContain('Missing required environment variable DRAFTS_TABLE_NAME');
  }, 60_000);
});

it('declares each setting under the name its reader uses', () => {
  expect(settings.stackName.envVar).toBe(STACK_NAME_ENV);
  expect(settings.allowLocalhostWebhooks.envVar).toBe(LOCALHOST_ENV_VAR);
});

describe("the local runtime's loadHandler", () => {
  const saved = { ...process.env };
  afterAll(() => {
    useFunctionEnvironments(undefined);
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it("hides every other function's variables while a handler is imported, then restores them", async () => {
    Object.assign(process.env, commonEnv, environments.createDraft);
    const { DRAFTS_TABLE_NAME: _dropped, ...withoutDrafts } = environments.expireDrafts;
    useFunctionEnvironments({ ...environments, expireDrafts: withoutDrafts }, perFunctionVariables());
    // createDraft's DRAFTS_TABLE_NAME is in the process, but not expireDrafts' to read.
    await expect(loadHandler('expireDrafts')).rejects.toThrow('Missing required environment variable DRAFTS_TABLE_NAME');
    expect(process.env.DRAFTS_TABLE_NAME).toBe(environments.createDraft.DRAFTS_TABLE_NAME);
    await expect(loadHandler('manageKeys')).resolves.toEqual(expect.any(Function));
  });
});
