/**
 * `npm run bench`: measures the pipeline on the dev runtime, the delivery worker against the wire,
 * cold-start proxies of every function bundle, the cost per million drafts and isolation from a
 * hanging endpoint, and models capacity on AWS from the settings, then rewrites BENCHMARKS.md at the repo root (with --only, just those
 * sections of it). Flags: see USAGE in options.ts. Not part of `npm test`.
 */
// First: the in-process sections (worker, cost) run the handlers as deployed with tracing off (the
// stack's default), where no X-Ray SDK is loaded; imported, its automatic mode would hook every promise.
import '../../infra/local/xray-manual-mode.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { capacityModel } from './capacity.js';
import { buildBundles, runColdStart } from './coldstart.js';
import { runCost } from './cost.js';
import { stopLocalStack } from './local-stack.js';
import { describeMachine } from './machine.js';
import { parseOptions, SECTIONS, USAGE, type BenchOptions, type Section } from './options.js';
import { runIsolation } from './isolation.js';
import { runPipeline } from './pipeline.js';
import { say } from './progress.js';
import { mergeReport, renderReport, summaryLines, type Results } from './report.js';
import { runWorker } from './worker.js';

const defaultOut = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2), defaultOut);
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}

// The SDK's Node 20 notice is noise here (Lambda runs Node 22), as in the dev runtime.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    say(`\n${signal}: stopping DynamoDB Local and the SQS emulator…`);
    void stopLocalStack().finally(() => process.exit(130));
  });
}

const results: Results = {
  options,
  machine: describeMachine(),
  startedAt: new Date(),
  finishedAt: new Date(),
  sectionSeconds: {},
};
const wants = (s: Section) => options.only.includes(s);

async function timed(section: Section, work: () => Promise<void>) {
  const started = performance.now();
  say(`\n== ${section} ==`);
  await work();
  results.sectionSeconds[section] = (performance.now() - started) / 1000;
}

say(
  `Processa bench: n=${options.n}, rate=${options.rate}/s, runs=${options.runs}${options.quick ? ' (quick)' : ''}, sections: ${options.only.join(', ')}\n` +
    `Machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}`,
);

try {
  // Cold start first, on a quiet machine (no DynamoDB Local running yet).
  if (wants('coldstart')) {
    await timed('coldstart', async () => {
      const bundles = await buildBundles();
      try {
        const runs = [];
        for (let i = 1; i <= options.runs; i++) runs.push(runColdStart(bundles, options, i));
        results.coldstart = { bundles: bundles.infos, runs };
      } finally {
        bundles.cleanup();
      }
    });
  }
  if (wants('pipeline')) {
    await timed('pipeline', async () => {
      results.pipeline = [];
      for (let i = 1; i <= options.runs; i++) results.pipeline.push(await runPipeline(options, i));
    });
  }
  if (wants('worker')) {
    await timed('worker', async () => {
      results.worker = [];
      for (let i = 1; i <= options.runs; i++) results.worker.push(await runWorker(options, i));
    });
  }
  if (wants('isolation')) {
    await timed('isolation', async () => {
      results.isolation = [];
      for (let i = 1; i <= options.runs; i++) results.isolation.push(await runIsolation(options, i));
    });
  }
  if (wants('cost')) {
    await timed('cost', async () => {
      results.cost = [];
      for (let i = 1; i <= options.runs; i++) results.cost.push(await runCost(options, i));
    });
  }
  if (wants('capacity')) {
    await timed('capacity', async () => {
      // The cost section's measured writes per delivered message, when it ran in this run.
      const cost = results.cost?.map((run) => run.perFunction.fanOutDecisions.wru + run.perFunction.deliverWebhooks.wru).sort((x, y) => x - y);
      results.capacity = capacityModel(cost?.length ? { endpointWritesPerMessage: cost[Math.floor(cost.length / 2)] } : {});
    });
  }
} catch (error) {
  say(`\nbench failed: ${(error as Error).stack ?? String(error)}`);
  await stopLocalStack().catch(() => undefined);
  process.exit(1);
}
await stopLocalStack();

results.finishedAt = new Date();
const fresh = renderReport(results);
// A run of some sections replaces only those in an existing report; the others stay as they were measured.
const partial = options.only.length < SECTIONS.length && existsSync(options.out);
writeFileSync(options.out, partial ? mergeReport(readFileSync(options.out, 'utf8'), results) : fresh);
say(`\nWrote ${options.out}`);
for (const line of summaryLines(results)) console.log(line);
// Keep-alive sockets and SDK clients of in-process handlers must not hold the process open.
process.exit(0);
