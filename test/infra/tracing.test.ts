/**
 * With tracing off (the stack's default) the tracer package is aliased to shared/tracing-off at bundling
 * (infra/stacks/tracing.ts). These check that the no-op covers every tracer call the functions make, that
 * middy accepts its middleware, and that the alias really keeps the tracer and the X-Ray SDK out.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import middy from '@middy/core';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build } from 'esbuild';
import { configFromContext } from '../../infra/stacks/context.js';
import { ProcessaStack } from '../../infra/stacks/processa-stack.js';
import { resolveTracing, TRACER_OFF_DIR, tracerAliases } from '../../infra/stacks/tracing.js';
import { Tracer } from '../../shared/tracing-off/index.js';
import { captureLambdaHandler } from '../../shared/tracing-off/middleware.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every .ts source of the functions and shared code (not the built client). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'dist' || entry === 'node_modules' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}
const appSources = [...sources(join(repoRoot, 'functions')), ...sources(join(repoRoot, 'shared'))].filter((path) => !path.startsWith(TRACER_OFF_DIR));

describe('the no-op tracer (tracing off)', () => {
  it('has every method the functions call on the tracer', () => {
    const called = new Set(appSources.flatMap((path) => [...readFileSync(path, 'utf8').matchAll(/\btracer\.(\w+)\(/g)].map((m) => m[1]!)));
    expect(called.size).toBeGreaterThan(0);
    const noop = new Tracer({ serviceName: 'processa' }) as unknown as Record<string, unknown>;
    for (const method of called) expect({ method, type: typeof noop[method] }).toEqual({ method, type: 'function' });
    const client = { send: () => 'sent' };
    expect(new Tracer().captureAWSv3Client(client)).toBe(client);
  });

  it('exports every name the functions import from the tracer package and its subpaths', () => {
    for (const path of appSources) {
      for (const m of readFileSync(path, 'utf8').matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-lambda-powertools\/tracer(\/[\w/]+)?'/g)) {
        const module = join(TRACER_OFF_DIR, `${m[2] ?? '/index'}.ts`);
        const exported = readFileSync(module, 'utf8');
        for (const name of m[1]!
          .split(',')
          .map((spec) => spec.replace(/^\s*type\s+/, '').trim())
          .filter(Boolean))
          expect({ in: relative(repoRoot, path), name, exported: new RegExp(`export (const|class|function) ${name}\\b`).test(exported) }).toEqual({
            in: relative(repoRoot, path),
            name,
            exported: true,
          });
      }
    }
  });

  it('its middleware is one middy accepts, and the handler still answers', async () => {
    const handler = middy(async (event: { n: number }) => event.n + 1).use(captureLambdaHandler(new Tracer()));
    await expect(handler({ n: 1 }, {} as never)).resolves.toBe(2);
  });
});

describe('the tracer alias', () => {
  /** The node_modules packages in a bundle of an entry that imports the tracer as the functions do. */
  async function bundledPackages(mode: 'off' | 'sampled'): Promise<string[]> {
    const result = await build({
      stdin: {
        contents:
          "import { Tracer } from '@aws-lambda-powertools/tracer';\n" +
          "import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';\n" +
          "export const handler = [new Tracer({ serviceName: 'processa' }), captureLambdaHandler];\n",
        resolveDir: repoRoot,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: repoRoot,
      alias: tracerAliases(mode),
    });
    return [...new Set(Object.keys(result.metafile.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? relative(repoRoot, input)))];
  }

  it('off: neither the tracer nor the X-Ray SDK is bundled, only shared/tracing-off', async () => {
    const packages = await bundledPackages('off');
    expect(packages.filter((p) => /tracer|xray/.test(p))).toEqual([]);
    expect(packages).toEqual(expect.arrayContaining(['shared/tracing-off/index.ts', 'shared/tracing-off/middleware.ts']));
  }, 60_000);

  it('sampled: the real tracer and aws-xray-sdk-core are bundled', async () => {
    expect(await bundledPackages('sampled')).toEqual(expect.arrayContaining(['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core']));
  }, 60_000);

  it('the default is off, and the mode is validated naming the key', () => {
    expect(resolveTracing(undefined)).toBe('off');
    expect(resolveTracing('sampled')).toBe('sampled');
    expect(() => resolveTracing('all')).toThrow('tracing must be one of off, sampled, got "all"');
  });
});

describe('cdk-nag with tracing=sampled', () => {
  it('AwsSolutions: no unacknowledged finding (the X-Ray actions on "*" are acknowledged only where granted)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'processa-tracing-nag-'));
    try {
      const app = new App({ outdir, context: { tracing: 'sampled', 'aws:cdk:bundling-stacks': [] } });
      const config = configFromContext(app.node);
      const stack = new ProcessaStack(app, config.stackName, config.props);
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      expect(report.violations.map((v) => ({ rule: v.ruleName, resources: v.violatingResources.map((r) => r.constructPath) }))).toEqual([]);
      expect(stack.nagAcknowledgments.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]').every((a) => a.reason.includes('X-Ray'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
