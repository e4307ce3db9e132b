/**
 * Every function's bundle takes its AWS credentials from the environment only (infra/stacks/bundling.ts):
 * the SDK's default chain is aliased to shared/credentials-from-env. These bundle a client as the stack
 * does, check which credential providers made it in, and run the bundle to see where it finds credentials.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { functionBundleAliases } from '../../infra/stacks/bundling.js';
import { STACK_BUNDLING } from '../bench/coldstart.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Resolves the credentials a bundled DynamoDB client would sign with, printing them (or the error) as JSON. */
const ENTRY = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({ region: 'eu-west-1' });
client.config.credentials().then(
  (c) => console.log(JSON.stringify({ accessKeyId: c.accessKeyId, sessionToken: c.sessionToken })),
  (e) => console.log(JSON.stringify({ error: e.name, message: e.message })),
);
`;

let dir: string;
let bundle: string;
let metafile: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'processa-bundling-'));
  bundle = join(dir, 'index.mjs');
  const result = await build({
    ...STACK_BUNDLING,
    mainFields: [...STACK_BUNDLING.mainFields],
    external: [...STACK_BUNDLING.external],
    alias: functionBundleAliases('off'),
    stdin: { contents: ENTRY, resolveDir: repoRoot, loader: 'ts', sourcefile: 'credentials-entry.ts' },
    outfile: bundle,
    absWorkingDir: repoRoot,
    metafile: true,
    logLevel: 'silent',
  });
  metafile = result.metafile;
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the bundle in a fresh node with only `env` (plus PATH), as a Lambda sandbox would. */
function resolveIn(env: Record<string, string>): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'processa-home-'));
  try {
    // A HOME of its own: nothing of the machine's ~/.aws reaches the run.
    const run = spawnSync(process.execPath, [bundle], {
      env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

describe('function bundles: credentials from the environment only', () => {
  it('bundle no credential provider but the environment one, nor the clients SSO and STS need', () => {
    const packages = new Set(Object.keys(metafile.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? relative(repoRoot, input)));
    const providers = [...packages].filter((p) => /credential-provider|token-providers|nested-clients|client-sso|client-sts/.test(p)).sort();
    expect(providers).toEqual(['@aws-sdk/credential-provider-env']);
    expect(packages).toContain('shared/credentials-from-env/index.ts');
  });

  it("find the role's credentials where Lambda puts them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", () => {
    expect(resolveIn({ AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' })).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      sessionToken: 'token',
    });
  });

  it('look nowhere else: without them, no profile, SSO or metadata lookup, just the environment provider error', () => {
    expect(resolveIn({ AWS_PROFILE: 'someone' })).toEqual({ error: 'CredentialsProviderError', message: 'Unable to find environment variable credentials.' });
  });
});
