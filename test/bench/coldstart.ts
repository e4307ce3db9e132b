/**
 * 3. Cold start proxy: every function bundled as the stack bundles it (infra/stacks/processa-function.ts),
 * its size and biggest contributors from the metafile, and the time a fresh node process takes to
 * import it and reach a ready handler, minus the same for an empty handler.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { functions, queues, tables, type FunctionName } from '../../infra/app-definition.js';
import { functionEsbuildOptions } from '../../infra/stacks/bundling.js';
import { DEFAULT_TRACING } from '../../infra/stacks/tracing.js';
import type { BenchOptions } from './options.js';
import { progress } from './progress.js';
import { median } from './stats.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The bundling options of ProcessaFunction (what NodejsFunction runs esbuild with), from infra/stacks/bundling.ts. */
export const STACK_BUNDLING = functionEsbuildOptions(DEFAULT_TRACING);

/** The nodejs22.x runtime ships AWS SDK v3; this is the variant that leaves it out of the bundle. */
export const SDK_EXTERNAL = ['@aws-sdk/*'];

/** bundled: as the stack deploys it. sdkExternal: @aws-sdk/* left to the runtime. */
export const VARIANTS = ['bundled', 'sdkExternal'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Contributor {
  name: string;
  bytes: number;
}

export interface BundleInfo {
  function: FunctionName | 'empty';
  memoryMb: number;
  bytes: Record<Variant, number>;
  mapBytes: number;
  top: Record<Variant, Contributor[]>;
}

/** What is timed: each variant with --enable-source-maps (as deployed: NODE_OPTIONS), and the deployed bundle without it. */
export const TIMINGS = [...VARIANTS, 'noSourceMaps'] as const;
export type Timing = (typeof TIMINGS)[number];

export interface ColdStartRun {
  /** Median import time of the empty handler in this run (ms). */
  emptyMs: number;
  /** Per function and timing: median import time minus the empty handler's (ms). */
  overheadMs: Record<string, Record<Timing, number>>;
}

/** Dummy values for everything a handler module reads at import. */
export function dummyEnv(): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'dummy',
    AWS_SECRET_ACCESS_KEY: 'dummy',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'processa',
    POWERTOOLS_METRICS_DISABLED: 'true',
    PUBLIC_BASE_URL: 'https://approvals.example.com',
    ...Object.fromEntries(Object.values(tables).map((t) => [t.envVar, 'dummy-table'])),
    ...Object.fromEntries(Object.values(queues).map((q) => [q.envVar, 'https://sqs.us-east-1.amazonaws.com/000000000000/dummy'])),
  };
}

/** node_modules/<name> or node_modules/@scope/<name> → the package; anything else is the app's own code. */
export function packageOf(inputPath: string): string {
  const at = inputPath.lastIndexOf('node_modules/');
  if (at < 0) return '(app code: functions/, shared/, infra/)';
  const rest = inputPath.slice(at + 'node_modules/'.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

function topContributors(metafile: Metafile, outfile: string, count = 5): Contributor[] {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(outfile))?.[1];
  if (!output) return [];
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) byPackage.set(packageOf(path), (byPackage.get(packageOf(path)) ?? 0) + bytesInOutput);
  return [...byPackage]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

const IMPORT_TIMER = `
const started = performance.now();
const module = await import(process.argv[2]);
if (typeof module.handler !== 'function') { console.error('no handler export'); process.exit(3); }
const ready = performance.now();
process.stdout.write(JSON.stringify({ ms: ready - started }));
`;

export interface Bundles {
  dir: string;
  infos: BundleInfo[];
  path(name: string, variant: Variant): string;
  timer: string;
  cleanup(): void;
}

export async function buildBundles(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'processa-bench-bundles-'));
  // Externalised packages resolve from here, as they would from /var/runtime/node_modules on Lambda.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const emptyEntry = join(dir, 'empty-handler.ts');
  writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
  const timer = join(dir, 'import-timer.mjs');
  writeFileSync(timer, IMPORT_TIMER);

  const names = [...(Object.keys(functions) as FunctionName[]), 'empty' as const];
  const path = (name: string, variant: Variant) => join(dir, name, variant, 'index.mjs');
  const infos: BundleInfo[] = [];
  const bar = progress('coldstart: bundling', names.length * VARIANTS.length);
  for (const name of names) {
    const entry = name === 'empty' ? emptyEntry : join(repoRoot, 'functions', functions[name].folder, 'handler.ts');
    const info: BundleInfo = {
      function: name,
      memoryMb: name === 'empty' ? 0 : functions[name].memoryMb,
      bytes: { bundled: 0, sdkExternal: 0 },
      mapBytes: 0,
      top: { bundled: [], sdkExternal: [] },
    };
    for (const variant of VARIANTS) {
      const outfile = path(name, variant);
      mkdirSync(join(dir, name, variant), { recursive: true });
      const result = await build({
        ...STACK_BUNDLING,
        mainFields: [...STACK_BUNDLING.mainFields],
        external: variant === 'sdkExternal' ? [...SDK_EXTERNAL] : [...STACK_BUNDLING.external],
        entryPoints: [entry],
        outfile,
        absWorkingDir: repoRoot,
        metafile: true,
        logLevel: 'silent',
      });
      info.bytes[variant] = statSync(outfile).size;
      if (variant === 'bundled') info.mapBytes = statSync(`${outfile}.map`).size;
      info.top[variant] = topContributors(result.metafile, `${name}/${variant}/index.mjs`);
      bar.tick();
    }
    infos.push(info);
  }
  bar.done();
  return { dir, infos, path, timer, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One fresh node process importing one bundle; the time from before import() to a ready handler. */
function importOnce(bundles: Bundles, bundle: string, sourceMaps: boolean): number {
  const result = spawnSync(process.execPath, [...(sourceMaps ? ['--enable-source-maps'] : []), bundles.timer, bundle], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...dummyEnv() },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`importing ${bundle} failed (${result.status}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { ms: number }).ms;
}

export const importReps = (options: BenchOptions) => (options.quick ? 1 : 2);

export function runColdStart(bundles: Bundles, options: BenchOptions, runIndex: number): ColdStartRun {
  const reps = importReps(options);
  const names = bundles.infos.map((i) => i.function);
  const bar = progress(`coldstart ${runIndex}/${options.runs}: imports`, reps * names.length * TIMINGS.length);
  const samples = new Map<string, number[]>();
  const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
  // Interleaved, so a noisy moment does not land on one function or variant only.
  for (let rep = 0; rep < reps; rep++) {
    for (const name of names) {
      for (const timing of TIMINGS) {
        const variant: Variant = timing === 'noSourceMaps' ? 'bundled' : timing;
        add(`${name}:${timing}`, importOnce(bundles, bundles.path(name, variant), timing !== 'noSourceMaps'));
        bar.tick();
      }
    }
  }
  bar.done();
  const med = (key: string) => median(samples.get(key) ?? []);
  const overheadMs: ColdStartRun['overheadMs'] = {};
  for (const name of names) {
    if (name === 'empty') continue;
    overheadMs[name] = Object.fromEntries(TIMINGS.map((t) => [t, med(`${name}:${t}`) - med(`empty:${t}`)])) as Record<Timing, number>;
  }
  return { emptyMs: med('empty:bundled'), overheadMs };
}
