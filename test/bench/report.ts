/** Renders the collected runs as BENCHMARKS.md: headline first, then each section with every figure. */
import { functions } from '../../infra/app-definition.js';
import { hotPartitionsAt, quotaOf, type CapacityReport } from './capacity.js';
import type { BundleInfo, ColdStartRun, Timing, Variant } from './coldstart.js';
import { importReps, STACK_BUNDLING, TIMINGS, VARIANTS } from './coldstart.js';
import {
  API_ACCESS_LOG_BYTES,
  COST_VARIANT_LABELS,
  COST_VARIANTS,
  costModel,
  INDEX_RULES,
  KB4_CONTENT_BYTES,
  LIFECYCLE,
  PLATFORM_LOG_BYTES,
  type CostInputs,
  type CostRun,
  type CostVariant,
  type LifecycleFunction,
} from './cost.js';
import type { Machine } from './machine.js';
import { SECTIONS, type BenchOptions, type Section } from './options.js';
import { ISOLATION_CONCURRENCY, ISOLATION_HANG_AFTER_MS, ISOLATION_RATE, ISOLATION_TIMEOUT_MS, measured, type IsolationRun } from './isolation.js';
import {
  CREATE_CONCURRENCY,
  DECIDE_CONNECTIONS,
  QUEUE_PUMP_IDLE_SLEEP_MS,
  referenceCount,
  referenceRate,
  STREAM_PUMP_IDLE_SLEEP_MS,
  type DecidePhase,
  type PipelineRun,
} from './pipeline.js';
import { PRICES, PRICES_AS_OF, STEP_FUNCTIONS_FLOW, type Price } from './prices.js';
import { QUOTAS, QUOTAS_AS_OF, type Quota } from './quotas.js';
import { spread, type Percentiles, type Spread } from './stats.js';
import { BATCH_SIZE, CONCURRENT_BATCHES, POSTS_IN_FLIGHT, workerPhaseSeconds, type WorkerRun } from './worker.js';

export interface Results {
  options: BenchOptions;
  machine: Machine;
  startedAt: Date;
  finishedAt: Date;
  sectionSeconds: Partial<Record<Section, number>>;
  pipeline?: PipelineRun[];
  worker?: WorkerRun[];
  coldstart?: { bundles: BundleInfo[]; runs: ColdStartRun[] };
  cost?: CostRun[];
  isolation?: IsolationRun[];
  /** A model, not a measurement (capacity.ts). */
  capacity?: CapacityReport;
}

export const TARGETS = {
  decisionToWebhookP99Ms: 1000,
  lost: 0,
  workerRatio: 0.5,
  bundleBytes: 300 * 1024,
  importOverheadMs: 50,
  usdPerMillionDrafts: 6,
  /** The healthy endpoint's p99 beside a hanging one: within this factor of its p99 alone, or this many ms above it. */
  isolationP99Factor: 1.5,
  isolationP99ExtraMs: 250,
  /** Sustained decisions/s on AWS with no DynamoDB partition over its limit (capacity model). */
  capacityDecisionsPerSecond: 1000,
} as const;

/** The most the healthy endpoint's p99 with a hanging endpoint subscribed may be, given its p99 alone: either bound. */
const isolationAllowance = (baselineP99: number) => Math.max(baselineP99 * TARGETS.isolationP99Factor, baselineP99 + TARGETS.isolationP99ExtraMs);
export const isolationMet = (baselineP99: number, withHangingP99: number) => withHangingP99 <= isolationAllowance(baselineP99);

/**
 * Both phases of a run share one dev runtime, so each run is judged on its own pair; the verdict
 * is the median run's (by how far its p99 beside the hanging endpoint is from what it may be).
 */
function isolationVerdict(all: IsolationRun[]) {
  const runs = all.filter(measured);
  const excess = spread(runs.map((x) => x.withHanging.decisionToWebhook.p99 - isolationAllowance(x.baseline.decisionToWebhook.p99)));
  const ratio = spread(runs.map((x) => x.withHanging.decisionToWebhook.p99 / x.baseline.decisionToWebhook.p99));
  const metIn = runs.filter((x) => isolationMet(x.baseline.decisionToWebhook.p99, x.withHanging.decisionToWebhook.p99)).length;
  return { ok: runs.length > 0 && excess.median <= 0, ratio, metIn, runs: runs.length };
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const isNum = (v: number) => Number.isFinite(v);
export const ms = (v: number) =>
  !isNum(v) ? 'n/a' : Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : Math.abs(v) >= 10 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`;
const kb = (bytes: number) => (!isNum(bytes) ? 'n/a' : `${Math.round(bytes / 1024)} KB`);
const int = (v: number) => (!isNum(v) ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const num = (v: number, digits = 1) => (!isNum(v) ? 'n/a' : v.toFixed(digits));
const usd = (v: number) => (!isNum(v) ? 'n/a' : v >= 100 ? `$${v.toFixed(0)}` : `$${v.toFixed(2)}`);
const pct = (v: number) => (!isNum(v) ? 'n/a' : `${Math.round(v)}%`);
const verdict = (ok: boolean) => (ok ? 'pass' : '**fail**');
const met = (ok: boolean) => (ok ? 'met' : 'not met');

/** "median (min–max)" over the runs; just the median when there was one run or no spread. */
function sp(s: Spread, fmt: (v: number) => string): string {
  if (s.runs === 0) return 'n/a';
  const [a, b, c] = [fmt(s.median), fmt(s.min), fmt(s.max)];
  return s.runs === 1 || (b === a && c === a) ? a : `${a} (${b}–${c})`;
}
const over = <T>(runs: readonly T[], pick: (r: T) => number) => spread(runs.map(pick));
const pcts = <T>(runs: readonly T[], pick: (r: T) => Percentiles, fmt = ms) =>
  (['p50', 'p95', 'p99'] as const).map((p) =>
    sp(
      over(runs, (r) => pick(r)[p]),
      fmt,
    ),
  );

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Derived figures shared by the headline and the sections
// ---------------------------------------------------------------------------------------------

/** The per-function medians over runs of one case's draft lives (`plain`: the main replay). */
function costInputs(runs: CostRun[], variant: CostVariant = 'plain'): CostInputs {
  const of = (r: CostRun) => (variant === 'plain' ? r.perFunction : r.variants![variant]!.perFunction);
  const perFunction = Object.fromEntries(
    LIFECYCLE.map((f) => [
      f,
      {
        billedMsMean: over(runs, (r) => of(r)[f].billedMsMean).median,
        wru: over(runs, (r) => of(r)[f].wru).median,
        rru: over(runs, (r) => of(r)[f].rru).median,
        sqsRequests: over(runs, (r) => of(r)[f].sqsRequests).median,
        logBytes: over(runs, (r) => of(r)[f].logBytes).median,
      },
    ]),
  ) as CostInputs['perFunction'];
  return { perFunction };
}

const caseName = (variant: CostVariant) => ({ plain: 'plain', kb4: '4 KB', idempotent: 'idempotent' })[variant];

/** The cases this run measured (older runs without variants give just `plain`). */
const costVariantsOf = (runs: CostRun[]): CostVariant[] => COST_VARIANTS.filter((v) => v === 'plain' || runs.every((r) => r.variants?.[v]));

/** Per case: the total per million drafts over runs, its DynamoDB writes line, and everything else (the floor without writes). */
function costCases(runs: CostRun[]) {
  return costVariantsOf(runs).map((variant) => {
    const perRun = runs.map((run) => costModel(costInputs([run], variant)));
    const writes = (m: ReturnType<typeof costModel>) => m.lines.find((l) => l.item === 'DynamoDB writes')!;
    return {
      variant,
      total: spread(perRun.map((m) => m.processaTotal)),
      writesUsd: spread(perRun.map((m) => writes(m).processaUsd)),
      wru: spread(perRun.map((m) => writes(m).processa)),
      floor: spread(perRun.map((m) => m.processaTotal - writes(m).processaUsd)),
      drafts: runs[0]!.variants?.[variant as Exclude<CostVariant, 'plain'>]?.drafts ?? runs[0]!.drafts,
    };
  });
}

/** Functions whose invocations printed Powertools' empty-metrics warning in the cost replay (incl. the GET and idempotent-create extras). */
function emptyMetricsWarners(runs: CostRun[]): string[] {
  const names: string[] = [];
  for (const f of LIFECYCLE) if (runs.some((x) => x.perFunction[f].emptyMetricsWarningRate > 0.5)) names.push(`\`${f}\``);
  if (runs.some((x) => x.readDraft.emptyMetricsWarningRate > 0.5)) names.push('`readDrafts`');
  return names;
}

const maxOf = (values: number[]) => values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);

function coldStartSpreads(cs: NonNullable<Results['coldstart']>) {
  const names = cs.bundles.filter((b) => b.function !== 'empty').map((b) => b.function as string);
  const overhead = (name: string, timing: Timing) => over(cs.runs, (r) => r.overheadMs[name]?.[timing] ?? Number.NaN);
  return { names, overhead };
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/** The headline's rows, each with the section that measured it (its first column, so a partial run can replace its own). */
function headlineRows(r: Results): Array<{ section: Section; cells: string[] }> {
  const tagged: Array<{ section: Section; cells: string[] }> = [];
  const add = (section: Section, cells: string[]) => tagged.push({ section, cells });
  if (r.pipeline?.length) {
    const runs = r.pipeline;
    const p99 = over(runs, (x) => x.main.decisionToWebhook.p99);
    const refP99 = over(runs, (x) => x.reference.decisionToWebhook.p99);
    const lost = runs.reduce((a, x) => a + x.main.lost + x.reference.lost, 0);
    const decided = runs.reduce((a, x) => a + x.main.decided + x.reference.decided, 0);
    const dups = runs.reduce((a, x) => a + x.main.duplicateReceipts + x.reference.duplicateReceipts, 0);
    add('pipeline', [
      `Decision → webhook received, p99, at ${r.options.rate} decisions/s offered`,
      sp(p99, ms),
      `≤ ${ms(TARGETS.decisionToWebhookP99Ms)} locally`,
      verdict(p99.median <= TARGETS.decisionToWebhookP99Ms),
    ]);
    add('pipeline', [
      `… at ${referenceRate(r.options.rate)} decisions/s (unsaturated reference)`,
      sp(refP99, ms),
      `≤ ${ms(TARGETS.decisionToWebhookP99Ms)} locally`,
      verdict(refP99.median <= TARGETS.decisionToWebhookP99Ms),
    ]);
    add('pipeline', [
      `Throughput at ${r.options.rate} decisions/s offered`,
      `${sp(
        over(runs, (x) => x.main.achievedDecisionRate),
        (v) => num(v, 0),
      )} decisions/s answered; ${sp(
        over(runs, (x) => x.main.deliveryThroughput),
        (v) => num(v, 0),
      )} webhooks/s delivered`,
      '—',
      '—',
    ]);
    add('pipeline', [
      'Webhooks lost / duplicated (all runs)',
      `${int(lost)} lost, ${int(dups)} duplicates, of ${int(decided)} decisions`,
      '0 lost',
      verdict(lost === TARGETS.lost),
    ]);
  }
  if (r.worker?.length) {
    const ratio = over(r.worker, (x) => x.ratio);
    add('worker', [
      'Delivery handler ÷ raw undici POSTs (same bodies, same concurrency)',
      `${sp(ratio, (v) => num(v, 2))} — with DynamoDB answered in-process: ${sp(
        over(r.worker, (x) => x.stubbedRatio),
        (v) => num(v, 2),
      )}`,
      `≥ ${TARGETS.workerRatio}`,
      verdict(ratio.median >= TARGETS.workerRatio),
    ]);
  }
  if (r.coldstart) {
    const { names, overhead } = coldStartSpreads(r.coldstart);
    const bundles = r.coldstart.bundles.filter((b) => b.function !== 'empty');
    const largest = maxOf(bundles.map((b) => b.bytes.bundled));
    const worst = maxOf(names.map((n) => overhead(n, 'bundled').median));
    add('coldstart', [
      'Largest function bundle, as deployed',
      `${kb(largest)} — with @aws-sdk/* external ${kb(maxOf(bundles.map((b) => b.bytes.sdkExternal)))}`,
      `≤ ${kb(TARGETS.bundleBytes)}`,
      verdict(largest <= TARGETS.bundleBytes),
    ]);
    add('coldstart', [
      'Worst import overhead over an empty handler, as deployed',
      `${ms(worst)} (${ms(maxOf(names.map((n) => overhead(n, 'noSourceMaps').median)))} without --enable-source-maps)`,
      `≤ ${ms(TARGETS.importOverheadMs)}`,
      verdict(worst <= TARGETS.importOverheadMs),
    ]);
  }
  if (r.cost?.length) {
    const totals = r.cost.map((run) => costModel(costInputs([run])));
    const total = spread(totals.map((t) => t.processaTotal));
    const sfn = spread(totals.map((t) => t.stepFunctionsTotal));
    add('cost', [
      'Cost per million drafts on AWS',
      `${sp(total, usd)}; a Step Functions waitForTaskToken flow: ${sp(sfn, usd)}`,
      `≤ ${usd(TARGETS.usdPerMillionDrafts)}`,
      verdict(total.median <= TARGETS.usdPerMillionDrafts),
    ]);
    for (const c of costCases(r.cost).filter((x) => x.variant !== 'plain')) {
      add('cost', [
        `… ${COST_VARIANT_LABELS[c.variant]}`,
        sp(c.total, usd),
        `≤ ${usd(TARGETS.usdPerMillionDrafts)}`,
        verdict(c.total.median <= TARGETS.usdPerMillionDrafts),
      ]);
    }
  }
  if (r.isolation?.length) {
    const runs = r.isolation.filter(measured);
    const base = over(runs, (x) => x.baseline.decisionToWebhook.p99);
    const bad = over(runs, (x) => x.withHanging.decisionToWebhook.p99);
    const judged = isolationVerdict(r.isolation);
    const unmeasured = r.isolation.length - runs.length;
    add('isolation', [
      `Healthy endpoint's decision → webhook p99 at ${ISOLATION_RATE} decisions/s, with an endpoint that never answers subscribed too vs alone (same run)`,
      `${sp(bad, ms)} vs ${sp(base, ms)} alone; ratio per run ${sp(judged.ratio, (v) => `×${num(v, 2)}`)}; target met in ${judged.metIn} of ${runs.length} runs${unmeasured > 0 ? ` (${unmeasured} more without figures: see section 5)` : ''}`,
      `≤ ${num(TARGETS.isolationP99Factor, 1)}× alone or ≤ alone + ${ms(TARGETS.isolationP99ExtraMs)}, in the median run`,
      verdict(judged.ok),
    ]);
  }
  if (r.capacity) {
    const hot = hotPartitionsAt(r.capacity, TARGETS.capacityDecisionsPerSecond);
    const first = r.capacity.binding.map((b) => `${int(b.rate)}/s: ${b.rows[0] ?? 'none'}`).join('; ');
    add('capacity', [
      `DynamoDB partitions over their limit at ${int(TARGETS.capacityDecisionsPerSecond)} decisions/s on AWS (model from the settings, stack defaults)`,
      `${hot.length === 0 ? 'none' : hot.join('; ')}. First limit to bind — ${first}`,
      `no hot partition at ${int(TARGETS.capacityDecisionsPerSecond)}/s`,
      verdict(hot.length === 0),
    ]);
  }
  return tagged;
}

const HEADLINE_HEADER = ['section', 'figure', 'measured: median (min–max of runs)', 'target', ''];
const headlineTable = (rows: Array<{ section: Section; cells: string[] }>) =>
  `## Headline\n\n${table(
    HEADLINE_HEADER,
    rows.map((row) => [row.section, ...row.cells]),
  )}\n`;

function headline(r: Results): string {
  return headlineTable(headlineRows(r));
}

function phaseRows(label: string, runs: PipelineRun[], pick: (r: PipelineRun) => DecidePhase): string[][] {
  const a = pcts(runs, (r) => pick(r).decisionToWebhook);
  const b = pcts(runs, (r) => pick(r).commitToWebhook);
  return [[label, ...a, b[0]!, b[2]!]];
}

function pipelineSection(r: Results): string {
  const runs = r.pipeline!;
  const o = r.options;
  const ref = referenceRate(o.rate);
  const refN = referenceCount(o.n);
  const main = (pick: (p: DecidePhase) => number) => over(runs, (x) => pick(x.main));
  const refd = (pick: (p: DecidePhase) => number) => over(runs, (x) => pick(x.reference));
  const idle = pcts(runs, (x) => x.idleFloor);
  const idleP50 = over(runs, (x) => x.idleFloor.p50).median;
  const refP50 = refd((p) => p.decisionToWebhook.p50).median;
  const pollMax = STREAM_PUMP_IDLE_SLEEP_MS + QUEUE_PUMP_IDLE_SLEEP_MS;
  const saturated = main((p) => p.achievedDecisionRate).median < o.rate * 0.95;
  const cpuJava = main((p) => p.cpu.dynamodbLocal);
  const cpuRuntime = main((p) => p.cpu.runtime);
  const cpuBench = main((p) => p.cpu.bench);
  const lostTotal = runs.reduce((a, x) => a + x.main.lost + x.reference.lost, 0);
  const dupReceipts = runs.reduce((a, x) => a + x.main.duplicateReceipts + x.reference.duplicateReceipts, 0);
  const dupIds = runs.reduce((a, x) => a + x.main.duplicateIds + x.reference.duplicateIds, 0);
  const errors = runs.flatMap((x) => x.runtimeErrorSample);

  const latency = table(
    ['request', 'p50', 'p95', 'p99'],
    [
      [`create (POST /v1/drafts, ${CREATE_CONCURRENCY} concurrent agents, closed loop)`, ...pcts(runs, (x) => x.createLatency)],
      [`decide at ${o.rate}/s offered (open loop, from the scheduled start)`, ...pcts(runs, (x) => x.main.decideLatency)],
      [`decide at ${ref}/s offered (reference)`, ...pcts(runs, (x) => x.reference.decideLatency)],
    ],
  );
  const delivery = table(
    ['decisions', 'decision → webhook p50', 'p95', 'p99', 'reviewedAt → webhook p50', 'p99'],
    [
      ...phaseRows(`${int(o.n)} at ${o.rate}/s offered`, runs, (x) => x.main),
      ...phaseRows(`${int(refN)} at ${ref}/s offered (reference)`, runs, (x) => x.reference),
      ['10 one at a time on an idle system (floor)', ...idle, '—', '—'],
    ],
  );
  const integrity = table(
    ['figure', `at ${o.rate}/s offered`, `at ${ref}/s (reference)`],
    [
      [
        'decisions answered 200 (per run)',
        sp(
          main((p) => p.decided),
          int,
        ),
        sp(
          refd((p) => p.decided),
          int,
        ),
      ],
      [
        'decision errors (non-200 or transport)',
        sp(
          main((p) => p.decideErrors),
          int,
        ),
        sp(
          refd((p) => p.decideErrors),
          int,
        ),
      ],
      [
        'achieved decisions/s',
        sp(
          main((p) => p.achievedDecisionRate),
          (v) => num(v, 1),
        ),
        sp(
          refd((p) => p.achievedDecisionRate),
          (v) => num(v, 1),
        ),
      ],
      [
        'webhooks/s (first decision sent → last webhook)',
        sp(
          main((p) => p.deliveryThroughput),
          (v) => num(v, 1),
        ),
        sp(
          refd((p) => p.deliveryThroughput),
          (v) => num(v, 1),
        ),
      ],
      [
        'drain: last decision answered → last webhook',
        sp(
          main((p) => p.drainMs),
          ms,
        ),
        sp(
          refd((p) => p.drainMs),
          ms,
        ),
      ],
      [
        'lost (decided, no webhook within the drain timeout)',
        sp(
          main((p) => p.lost),
          int,
        ),
        sp(
          refd((p) => p.lost),
          int,
        ),
      ],
      [
        'duplicate receipts (same webhook-id again)',
        sp(
          main((p) => p.duplicateReceipts),
          int,
        ),
        sp(
          refd((p) => p.duplicateReceipts),
          int,
        ),
      ],
      [
        'scheduler lateness, max (client-side health check)',
        sp(
          main((p) => p.schedulerLagMaxMs),
          ms,
        ),
        sp(
          refd((p) => p.schedulerLagMaxMs),
          ms,
        ),
      ],
      [
        'CPU: DynamoDB Local (java), % of one core',
        sp(cpuJava, pct),
        sp(
          refd((p) => p.cpu.dynamodbLocal),
          pct,
        ),
      ],
      [
        'CPU: dev runtime (node: gateway, handlers, pumps)',
        sp(cpuRuntime, pct),
        sp(
          refd((p) => p.cpu.runtime),
          pct,
        ),
      ],
      [
        'CPU: this bench process (clients, receiver)',
        sp(cpuBench, pct),
        sp(
          refd((p) => p.cpu.bench),
          pct,
        ),
      ],
    ],
  );
  const other = table(
    ['figure', 'value'],
    [
      [
        'creates/s with 20 concurrent agents',
        sp(
          over(runs, (x) => x.createThroughput),
          (v) => num(v, 1),
        ),
      ],
      [
        'create errors',
        sp(
          over(runs, (x) => x.createErrors),
          int,
        ),
      ],
      [
        'receipts for no decision of the run / bad signatures',
        `${sp(
          over(runs, (x) => x.unexpected),
          int,
        )} / ${sp(
          over(runs, (x) => x.invalidSignatures),
          int,
        )}`,
      ],
      [
        'delivery log: succeeded attempts for the decided drafts',
        `${sp(
          over(runs, (x) => x.deliveryLogSucceeded),
          int,
        )} (of ${sp(
          over(runs, (x) => x.main.decided + x.reference.decided),
          int,
        )} decided; other outcomes: ${sp(
          over(runs, (x) => x.deliveryLogOther),
          int,
        )})`,
      ],
      [
        'dev runtime WARN / ERROR lines',
        `${sp(
          over(runs, (x) => x.runtimeWarnings),
          int,
        )} / ${sp(
          over(runs, (x) => x.runtimeErrors),
          int,
        )}`,
      ],
      [
        'dev runtime start-up (DynamoDB Local, SQS, tables, queues)',
        sp(
          over(runs, (x) => x.startupMs),
          ms,
        ),
      ],
      [
        'API requests per draft (create + decide)',
        sp(
          over(runs, (x) => x.apiRequestsPerDraft),
          int,
        ),
      ],
    ],
  );

  const p99 = main((p) => p.decisionToWebhook.p99).median;
  const refP99 = refd((p) => p.decisionToWebhook.p99).median;
  const achieved = main((p) => p.achievedDecisionRate).median;
  const notes: string[] = [];
  notes.push(
    `**Target: decision → webhook p99 ≤ ${ms(TARGETS.decisionToWebhookP99Ms)} locally — ${met(p99 <= TARGETS.decisionToWebhookP99Ms)} at ${o.rate}/s offered (${ms(p99)}), ` +
      `${met(refP99 <= TARGETS.decisionToWebhookP99Ms)} at ${ref}/s (${ms(refP99)}). ` +
      `Target: ${TARGETS.lost} lost — ${met(lostTotal === TARGETS.lost)}: ${int(lostTotal)} lost (${runs.length} run${runs.length > 1 ? 's' : ''}).**`,
  );
  const cpuTotal = cpuJava.median + cpuRuntime.median + cpuBench.median;
  notes.push(
    `Answered ${num(achieved, 1)} of the ${o.rate} decisions/s offered (${pct((100 * achieved) / o.rate)})${saturated ? ', under 95 %: the local stack was saturated' : ''}. ` +
      `CPU: DynamoDB Local ${pct(cpuJava.median)}, dev runtime ${pct(cpuRuntime.median)}, bench ${pct(cpuBench.median)}: ${pct(cpuTotal)} of the ${r.machine.cores * 100}% this ${r.machine.cores}-core machine has.`,
  );
  notes.push(
    `Polling: the stream pump sleeps ${STREAM_PUMP_IDLE_SLEEP_MS} ms after an empty read and each queue poller ${QUEUE_PUMP_IDLE_SLEEP_MS} ms after an empty receive, 0–${pollMax} ms per decision on an idle pipeline. ` +
      `Decision → webhook p50: idle floor ${ms(idleP50)}, reference ${ms(refP50)}, ${o.rate}/s phase ${ms(main((p) => p.decisionToWebhook.p50).median)}.`,
  );
  notes.push(`Duplicates: ${int(dupReceipts)} extra receipts across ${int(dupIds)} webhook-ids.`);
  if (errors.length > 0)
    notes.push(
      `Runtime errors seen (first lines): ${errors
        .slice(0, 3)
        .map((e) => `\`${e.replace(/`/g, "'")}\``)
        .join('; ')}`,
    );

  return `## 1. Pipeline on the dev runtime

${int(o.n)} drafts per run created by ${CREATE_CONCURRENCY} concurrent agent clients (undici, keep-alive), then decided (approve and reject alternating) by clients on ${DECIDE_CONNECTIONS} keep-alive connections at a steady offered rate, open loop: each decision is sent at its scheduled time whether or not earlier ones have been answered, and its latency counts from that time. A keep-alive receiver on 127.0.0.1, registered as a webhook endpoint, timestamps each delivery and verifies its signature. After the ${o.rate}/s phase and its drain, ${int(refN)} more drafts are decided at ${ref}/s (a quarter of the rate) as an unsaturated reference, then 10 single decisions on an idle system give the latency floor. A warm-up of 20 drafts runs first and is not counted. Each run starts a fresh \`npm run dev\` (startDevRuntime, \`PROCESSA_RETRY_BASE_SECONDS=1\`).

Decision → webhook is the receiver's timestamp minus the moment the decision's response was read, matched by draft id; reviewedAt → webhook uses the payload's own \`reviewedAt\`, set inside the decide handler, against the receiver's wall clock.

### API latency
${latency}

### Decision → webhook received
${delivery}

### Throughput and integrity
${integrity}

${other}

${notes.map((n) => `- ${n}`).join('\n')}
`;
}

function workerSection(r: Results): string {
  const runs = r.worker!;
  const rate = (pick: (w: WorkerRun) => number) => over(runs, pick);
  const rawMedian = rate((w) => w.rawRate).median;
  const rows = [
    [
      'delivery handler (sign, POST, log to DynamoDB Local)',
      sp(
        rate((w) => w.handlerRate),
        (v) => num(v, 0),
      ),
      sp(
        rate((w) => w.ratio),
        (v) => num(v, 2),
      ),
    ],
    [
      'delivery handler, every DynamoDB call answered in-process (test/bench/memory-dynamo.ts)',
      sp(
        rate((w) => w.stubbedRate),
        (v) => num(v, 0),
      ),
      sp(
        rate((w) => w.stubbedRatio),
        (v) => num(v, 2),
      ),
    ],
    [
      "raw node:http POSTs, keep-alive agent (the poster's client)",
      sp(
        rate((w) => w.nodeHttpRate),
        (v) => num(v, 0),
      ),
      sp(
        rate((w) => w.nodeHttpRate / w.rawRate),
        (v) => num(v, 2),
      ),
    ],
    [
      'raw undici Pool POSTs, keep-alive (the wire)',
      sp(
        rate((w) => w.rawRate),
        (v) => num(v, 0),
      ),
      '1.00',
    ],
  ];
  const calls = runs[0]!.dynamoCallsByCommand;
  const detail = table(
    ['figure', 'value'],
    [
      ['handler invocation, batch of 10: p50 / p95 / p99', pcts(runs, (w) => w.invocationMs).join(' / ')],
      [
        'DynamoDB Local GetItem: p50 / p99',
        `${sp(
          rate((w) => w.getItemMs.p50),
          ms,
        )} / ${sp(
          rate((w) => w.getItemMs.p99),
          ms,
        )}`,
      ],
      [
        'DynamoDB Local BatchWriteItem (delivery log): p50 / p99',
        `${sp(
          rate((w) => w.batchWriteMs.p50),
          ms,
        )} / ${sp(
          rate((w) => w.batchWriteMs.p99),
          ms,
        )}`,
      ],
      [
        'DynamoDB round-trips per message',
        `${sp(
          rate((w) => w.dynamoCallsPerMessage),
          (v) => num(v, 2),
        )} (${Object.entries(calls)
          .map(([k, v]) => `${k.replace('Command', '')} ${int(v)}`)
          .join(', ')} in run 1)`,
      ],
      [
        'BatchWriteItem calls per invocation',
        `${sp(
          rate((w) => w.batchWritesPerInvocation),
          (v) => num(v, 2),
        )}`,
      ],
      [
        'delivery-log items written ÷ messages',
        sp(
          rate((w) => w.logItemsWritten / w.handlerMessages),
          (v) => num(v, 2),
        ),
      ],
      [
        'SQS requests per message',
        sp(
          rate((w) => w.sqsCallsPerMessage),
          (v) => num(v, 2),
        ),
      ],
      [
        'messages the handler failed / POSTs missing at the receiver',
        `${sp(
          rate((w) => w.failures),
          int,
        )} / ${sp(
          rate((w) => w.receiverMismatch),
          int,
        )}`,
      ],
      [
        'log output per message',
        sp(
          rate((w) => w.logBytesPerMessage),
          (v) => `${int(v)} B`,
        ),
      ],
      [
        'handler messages per run',
        sp(
          rate((w) => w.handlerMessages),
          int,
        ),
      ],
    ],
  );
  const ratio = rate((w) => w.ratio).median;
  const stubbed = rate((w) => w.stubbedRatio).median;
  const getP50 = rate((w) => w.getItemMs.p50).median;
  const writeP50 = rate((w) => w.batchWriteMs.p50).median;
  const invP50 = rate((w) => w.invocationMs.p50).median;
  return `## 2. Delivery worker vs the wire

The real \`functions/deliver-webhooks/handler.ts\`, imported in this process with the environment the dev runtime gives it (tables and queue on a DynamoDB Local and SQS emulator started for the bench, \`PROCESSA_ALLOW_LOCALHOST_WEBHOOKS=true\`, log level INFO and metrics on as deployed), is fed SQS-shaped batches of ${BATCH_SIZE} (bodies from \`deliveryMessage(testEvent(), endpointId)\`, \`ApproximateReceiveCount\` 1, fresh \`SentTimestamp\`) by ${CONCURRENT_BATCHES} concurrent callers, as the queue's ${CONCURRENT_BATCHES} pollers would: up to ${POSTS_IN_FLIGHT} POSTs in flight. The same bodies are then POSTed raw at the same concurrency (${POSTS_IN_FLIGHT}) to the same keep-alive receiver. Each phase runs at least ${int(r.options.n)} messages and ${workerPhaseSeconds(r.options)} s, with a pause between phases; the order alternates between runs. DynamoDB calls are counted by a middleware on the shared \`documentClient()\`.

${table(['sender', 'messages/s', '÷ raw undici'], rows)}

${detail}

- **Target: handler ÷ raw ≥ ${TARGETS.workerRatio} — ${met(ratio >= TARGETS.workerRatio)} (${num(ratio, 2)}).**
- Invocation p50 ${ms(invP50)}, with a GetItem p50 of ${ms(getP50)} and a BatchWriteItem p50 of ${ms(writeP50)}: at ${CONCURRENT_BATCHES} concurrent batches of ${BATCH_SIZE} that is at most ${num((CONCURRENT_BATCHES * BATCH_SIZE * 1000) / invP50, 0)} messages/s.
- With its DynamoDB calls answered in-process: ${num(stubbed, 2)} of the raw undici rate (target ${met(stubbed >= TARGETS.workerRatio)}); node:http runs at ${num(rate((w) => w.nodeHttpRate).median / rawMedian, 2)} of undici.
- Timings on a ${r.machine.cores}-core machine vary between runs (DynamoDB Local's java shares the cores); the min–max shows how much.
`;
}

const TIMING_LABEL: Record<Timing, string> = {
  bundled: 'as deployed',
  sdkExternal: '@aws-sdk/* external',
  noSourceMaps: 'as deployed, no --enable-source-maps',
};

function coldStartSection(r: Results): string {
  const cs = r.coldstart!;
  const { overhead } = coldStartSpreads(cs);
  const bundles = cs.bundles.filter((b) => b.function !== 'empty');
  const sizes = table(
    ['function', 'memory', ...VARIANTS.map((v) => `${TIMING_LABEL[v]}`), '≤ 300 KB', 'top 5 contributors, as deployed (bytes in output)'],
    bundles.map((b) => [
      `\`${b.function}\``,
      `${b.memoryMb} MB`,
      ...VARIANTS.map((v: Variant) => kb(b.bytes[v])),
      verdict(b.bytes.bundled <= TARGETS.bundleBytes),
      b.top.bundled.map((c) => `${c.name} ${kb(c.bytes)}`).join(', '),
    ]),
  );
  const times = table(
    ['function', ...TIMINGS.map((t) => TIMING_LABEL[t]), '≤ 50 ms'],
    bundles.map((b) => [
      `\`${b.function}\``,
      ...TIMINGS.map((t) => sp(overhead(b.function, t), ms)),
      verdict(overhead(b.function, 'bundled').median <= TARGETS.importOverheadMs),
    ]),
  );
  const empty = over(cs.runs, (x) => x.emptyMs);
  const mean = (t: Timing) => bundles.reduce((a, b) => a + overhead(b.function, t).median, 0) / bundles.length;
  const meanBytes = (v: Variant) => bundles.reduce((a, b) => a + b.bytes[v], 0) / bundles.length;
  const zodShare =
    bundles.reduce((a, b) => a + (b.top.bundled.find((c) => c.name === 'zod')?.bytes ?? 0), 0) / bundles.reduce((a, b) => a + b.bytes.bundled, 0);
  const mapBytes = maxOf(bundles.map((b) => b.mapBytes));
  const worst = maxOf(bundles.map((b) => overhead(b.function, 'bundled').median));
  const largest = maxOf(bundles.map((b) => b.bytes.bundled));
  return `## 3. Cold start proxy

Each function's \`handler.ts\` bundled with esbuild exactly as \`ProcessaFunction\` has CDK do it (ESM, \`node22\`, minify, source map ${STACK_BUNDLING.sourcesContent ? 'with' : 'without'} embedded sources, \`mainFields: module,main\`, the \`createRequire\` banner, no externals), with \`metafile: true\`. Import time: a fresh \`node --enable-source-maps\` process (the stack sets \`NODE_OPTIONS=--enable-source-maps\`) times \`await import(bundle)\` until \`handler\` is a function, with dummy table/queue variables and \`AWS_REGION\` set; the same for an empty handler bundle (${sp(empty, ms)}) is subtracted. ${importReps(r.options)} import${importReps(r.options) > 1 ? 's' : ''} per variant per run, interleaved; the median per run, then the median of runs. This is Node ${r.machine.node} on ${r.machine.cpu}, not a Graviton Lambda sandbox: read the figures relative to each other.

Variants, to see what would change without touching product code: **@aws-sdk/\\* external** (the nodejs22.x runtime ships SDK v3; externals resolve from node_modules here, as from /var/runtime on Lambda); and the deployed bundle imported without \`--enable-source-maps\`.

### Bundle size (KB = 1024 bytes)
${sizes}

### Import overhead over an empty handler
${times}

- **Targets: ≤ 300 KB per bundle — ${largest <= TARGETS.bundleBytes ? 'met' : `not met (largest ${kb(largest)})`}; ≤ 50 ms import overhead — ${worst <= TARGETS.importOverheadMs ? 'met' : `not met (worst ${ms(worst)})`}.**
- zod: ${pct(zodShare * 100)} of the deployed bytes. Average bundle: ${kb(meanBytes('bundled'))} as deployed, ${kb(meanBytes('sdkExternal'))} with \`@aws-sdk/*\` external.
- \`@aws-sdk/*\` external: mean import overhead ${ms(mean('sdkExternal'))}, against ${ms(mean('bundled'))} bundled.
- \`--enable-source-maps\`: ${ms(mean('bundled') - mean('noSourceMaps'))} more mean import overhead; the largest source map is ${kb(mapBytes)} (${STACK_BUNDLING.sourcesContent ? 'sources embedded' : 'without embedded sources'}).
- Mean import overhead per variant: ${TIMINGS.map((t) => `${TIMING_LABEL[t]} ${ms(mean(t))}`).join(', ')}.
`;
}

function priceRow(name: string, p: Price): string[] {
  return [name, p.check ? `${p.unit} **(check)**` : p.unit, p.source + (p.note ? ` — ${p.note}` : '')];
}

function costSection(r: Results): string {
  const runs = r.cost!;
  const inputs = costInputs(runs);
  const model = costModel(inputs);
  const totals = runs.map((run) => costModel(costInputs([run])));
  const total = spread(totals.map((t) => t.processaTotal));
  const sfnTotal = spread(totals.map((t) => t.stepFunctionsTotal));
  const fmtQty = (v: number, unit: string) =>
    unit === 'GB' ? `${int(v * 1024 ** 3)} B` : unit === 'GB-s' ? `${num(v, 4)} GB-s` : `${num(v, v < 1 && v > 0 ? 2 : v % 1 === 0 ? 0 : 2)} ${unit}`;
  const lines = table(
    ['item', 'Processa per draft', 'Processa $/M drafts', 'Step Functions per draft', 'Step Functions $/M drafts', 'basis'],
    [
      ...model.lines.map((l) => [l.item, fmtQty(l.processa, l.unit), usd(l.processaUsd), fmtQty(l.stepFunctions, l.unit), usd(l.stepFunctionsUsd), l.basis]),
      [
        '**total**',
        '',
        `**${usd(model.processaTotal)}**`,
        '',
        `**${usd(model.stepFunctionsTotal)}**`,
        `per run: Processa ${sp(total, usd)}, Step Functions ${sp(sfnTotal, usd)}`,
      ],
    ],
  );
  const fn = (f: LifecycleFunction, pick: (c: CostRun['perFunction'][LifecycleFunction]) => number) => over(runs, (x) => pick(x.perFunction[f]));
  const perFunction = table(
    ['function', 'memory', 'duration p50 / p95', 'billed mean', 'WRU', 'RRU', 'DynamoDB calls', 'SQS requests', 'log bytes'],
    LIFECYCLE.map((f) => [
      `\`${f}\``,
      `${functions[f].memoryMb} MB`,
      `${sp(
        fn(f, (c) => c.ms.p50),
        ms,
      )} / ${sp(
        fn(f, (c) => c.ms.p95),
        ms,
      )}`,
      sp(
        fn(f, (c) => c.billedMsMean),
        (v) => `${num(v, 1)} ms`,
      ),
      sp(
        fn(f, (c) => c.wru),
        (v) => num(v, 1),
      ),
      sp(
        fn(f, (c) => c.rru),
        (v) => num(v, 1),
      ),
      Object.entries(runs[0]!.perFunction[f].dynamoCalls)
        .map(([k, v]) => `${k.replace('Command', '')} ×${num(v, v % 1 === 0 ? 0 : 2)}`)
        .join(', '),
      sp(
        fn(f, (c) => c.sqsRequests),
        (v) => num(v, 1),
      ),
      sp(
        fn(f, (c) => c.logBytes),
        (v) => `${int(v)} B`,
      ),
    ]),
  );
  const extra = (pick: (x: CostRun) => CostRun['readDraft']) => ({
    wru: over(runs, (x) => pick(x).wru),
    rru: over(runs, (x) => pick(x).rru),
    ms: over(runs, (x) => pick(x).ms.p50),
  });
  const idem = extra((x) => x.idempotentCreate);
  const get = extra((x) => x.readDraft);
  const create = fn('createDraft', (c) => c.wru);
  const decide = fn('decideDraft', (c) => c.wru);
  const log = fn('deliverWebhooks', (c) => c.wru);
  const rule = runs[0]!.ruleWru;
  const sizes = runs[0]!.itemBytes;
  const largest = [...model.lines].sort((a, b) => b.processaUsd - a.processaUsd).slice(0, 3);
  const transitionsUsd = model.lines.find((l) => l.item === 'Step Functions state transitions')?.stepFunctionsUsd ?? Number.NaN;
  const warned = emptyMetricsWarners(runs);
  const cases = costCases(runs);
  const caseTable = table(
    [
      'case',
      'drafts per run',
      'DynamoDB writes per draft',
      'DynamoDB writes $/M',
      'everything else $/M',
      'total $/M drafts',
      `≤ ${usd(TARGETS.usdPerMillionDrafts)}`,
    ],
    cases.map((c) => [
      `${caseName(c.variant)}: ${COST_VARIANT_LABELS[c.variant]}`,
      int(c.drafts),
      sp(c.wru, (v) => `${num(v, 1)} WRU`),
      sp(c.writesUsd, usd),
      sp(c.floor, usd),
      `**${sp(c.total, usd)}**`,
      verdict(c.total.median <= TARGETS.usdPerMillionDrafts),
    ]),
  );
  const plainCase = cases.find((c) => c.variant === 'plain')!;
  const floorUsd = plainCase.floor.median;
  const leftForWrites = TARGETS.usdPerMillionDrafts - floorUsd;
  const floorItems = model.lines
    .filter((l) => l.item !== 'DynamoDB writes' && l.processaUsd > 0)
    .sort((a, b) => b.processaUsd - a.processaUsd)
    .map((l) => `${l.item} ${usd(l.processaUsd)}`)
    .join(', ');
  const gbS = (ms100: number) => (functions.deliverWebhooks.memoryMb / 1024) * (ms100 / 1000) * PRICES.lambdaArmGbSecond.usd * 1e6;
  const prices = table(
    ['price', 'unit', 'source'],
    [
      priceRow('API Gateway HTTP API', PRICES.apiGatewayHttpRequests),
      priceRow('Lambda requests', PRICES.lambdaRequests),
      priceRow('Lambda duration, arm64', PRICES.lambdaArmGbSecond),
      priceRow('DynamoDB writes', PRICES.dynamoWriteRequestUnit),
      priceRow('DynamoDB reads', PRICES.dynamoReadRequestUnit),
      priceRow('DynamoDB Streams', PRICES.dynamoStreamsForLambda),
      priceRow('SQS', PRICES.sqsRequests),
      priceRow('CloudWatch Logs', PRICES.logsIngestedGb),
      priceRow('X-Ray', PRICES.xrayTraces),
      priceRow('Step Functions', PRICES.stepFunctionsStandardTransitions),
    ],
  );
  return `## 4. Cost per million drafts on AWS

Each run replays ${int(runs[0]!.drafts)} drafts' lives (after 5 for warm-up) in-process through the four handlers a draft touches, with the environment of the deployed stack (log level INFO, metrics on): \`createDraft\` and \`decideDraft\` get API Gateway v2 events, \`fanOutDecisions\` gets the stream record of the decision (its real old and new images), \`deliverWebhooks\` gets the message the fan-out put on the (emulated) queue. Every DynamoDB call the handlers make carries \`ReturnConsumedCapacity: INDEXES\` (added by a middleware on the shared client); DynamoDB Local ${runs.every((x) => x.capacityReturned) ? 'returned ConsumedCapacity for every call, so **the capacity figures are measured, not computed**' : '**did not return ConsumedCapacity for every call**; missing calls count as 0'}. Durations are wall time around each invocation against DynamoDB Local on loopback (a few ms per call, comparable to DynamoDB in-region); log bytes are everything the handler wrote to stdout/stderr. Per-draft counts assume batches of one (people decide one at a time), the conservative case: fuller batches lower only the Lambda request, SQS and X-Ray lines. Prices: ${PRICES_AS_OF}, kept in \`test/bench/prices.ts\`; free tiers are left out.

${lines}

**Target: ≤ ${usd(TARGETS.usdPerMillionDrafts)} per million drafts — ${met(model.processaTotal <= TARGETS.usdPerMillionDrafts)}: ${usd(model.processaTotal)}.** The Step Functions flow: ${usd(model.stepFunctionsTotal)}, ${num(model.stepFunctionsTotal / model.processaTotal, 1)}× as much; its ${STEP_FUNCTIONS_FLOW.length} state transitions per draft are ${usd(transitionsUsd)} of that (${pct((100 * transitionsUsd) / model.stepFunctionsTotal)}).

### Per draft, side by side
Each case is whole draft lives through the same four handlers, measured the same way (the 4 KB draft's content is ${int(KB4_CONTENT_BYTES)} bytes serialized; the idempotent one is created with an \`Idempotency-Key\`, so its create is a transaction with the key's claim).

${caseTable}

**Cost floor with the current architecture** (this run's figures, plain case): everything that does not depend on DynamoDB writes — ${floorItems} — is ${usd(floorUsd)} per million drafts. ${
    leftForWrites > 0
      ? `Within ${usd(TARGETS.usdPerMillionDrafts)} that leaves ${usd(leftForWrites)} for DynamoDB writes: at most ${num(leftForWrites / (PRICES.dynamoWriteRequestUnit.usd * 1e6), 1)} WRU per draft (measured now: ${cases.map((c) => `${num(c.wru.median, 1)} ${caseName(c.variant)}`).join(', ')}).`
      : `That alone exceeds ${usd(TARGETS.usdPerMillionDrafts)}: cutting DynamoDB writes cannot meet the target without changing the other lines.`
  }

${
  runs.some((x) => x.replayFailures.length > 0)
    ? `> ${runs.reduce((a, x) => a + x.replayFailures.length, 0)} replay(s) failed and were replaced by a fresh draft: ${[
        ...new Set(runs.flatMap((x) => x.replayFailures)),
      ]
        .slice(0, 3)
        .map((e) => `\`${e.replace(/`/g, "'")}\``)
        .join('; ')}\n\n`
    : ''
}### Measured per invocation (medians of runs)
${perFunction}

- A create with an \`Idempotency-Key\` is a TransactWriteItems (draft + claim; transactions cost double): ${sp(idem.wru, (v) => num(v, 1))} WRU and ${sp(idem.rru, (v) => num(v, 1))} RRU instead of ${sp(create, (v) => num(v, 1))} WRU — ${usd((idem.wru.median - create.median) * PRICES.dynamoWriteRequestUnit.usd * 1e6)} more per million drafts when agents send one.
- \`GET /v1/drafts/{id}\` (not in the per-draft total; agents that poll pay it per poll): ${sp(get.rru, (v) => num(v, 1))} RRU (auth lookup + consistent read), ${sp(get.ms, ms)}.
- Cross-check by DynamoDB's rules, from the item sizes (pending draft ${int(sizes.pendingDraft)} B, decided ${int(sizes.decidedDraft)} B, delivery-log item ${int(sizes.deliveryLogItem)} B; 1 WRU per started KB, each GSI write counted; projections ${INDEX_RULES.projections}): create ${rule.create} WRU (item + \`${INDEX_RULES.status}\` + \`${INDEX_RULES.created}\`), decide ${rule.decide} WRU (item; \`${INDEX_RULES.status}\` key moves: delete + put; \`${INDEX_RULES.created}\` ${INDEX_RULES.createdRewritten ? 'rewritten, projection ALL' : 'untouched: its keys do not change and it copies nothing else'}), delivery log ${rule.deliveryLog} WRU. Measured: create ${sp(create, (v) => num(v, 1))}, decide ${sp(decide, (v) => num(v, 1))}; the delivery function ${sp(log, (v) => num(v, 1))} in all, its log one of those writes.
- Largest lines: ${largest.map((l) => `${l.item} ${usd(l.processaUsd)}`).join(', ')} (of ${usd(model.processaTotal)}). Log bytes per invocation include ${PLATFORM_LOG_BYTES > 0 ? `${PLATFORM_LOG_BYTES} B of Lambda platform lines` : 'no Lambda platform lines (the functions log in JSON at system level WARN, which drops START, END and REPORT)'} and, per API request, ${API_ACCESS_LOG_BYTES} B of access log${warned.length > 0 ? `; Powertools' empty-metrics warning (\`No application metrics to publish…\`) was printed by ${warned.join(', ')}` : ''}.
- Sensitivity: the delivery function runs for as long as the customer's endpoint takes to answer (loopback here: ~1 ms). Each 100 ms of receiver time adds ${usd(gbS(100))} per million drafts at ${functions.deliverWebhooks.memoryMb} MB.
- X-Ray ${PRICES.xrayTraces.check ? '(check)' : ''}: ${model.lines.find((l) => l.item === 'X-Ray traces')?.basis ?? 'no line'}.
- Not per draft, so not in the total: EMF custom metrics, CloudWatch alarms, the SQS event source's empty long polls, DynamoDB storage and the log groups' storage.
- Step Functions flow assumed, one Standard execution per draft: ${STEP_FUNCTIONS_FLOW.map((s, i) => `${i + 1}. ${s}`).join('; ')}. It keeps the same API, the drafts table (the review pages still list drafts) and the delivery function with its log, and drops the stream fan-out and the queue.

### Prices used
${prices}
`;
}

function isolationSection(r: Results): string {
  const all = r.isolation!;
  const runs = all.filter(measured);
  const unmeasured = all
    .map((x, i) => ({ run: i + 1, createErrors: x.createErrors, measured: measured(x) }))
    .filter((x) => !x.measured)
    .map((x) => `run ${x.run} (${int(x.createErrors)} of its drafts could not be created)`);
  const phase = (pick: (x: IsolationRun) => DecidePhase) => pcts(runs, (x) => pick(x).decisionToWebhook);
  const judged = isolationVerdict(runs);
  const lost = runs.reduce((a, x) => a + x.baseline.lost + x.withHanging.lost, 0);
  const decisions = all[0]!.decisions;
  const perRun = table(
    ['run', 'p99 alone', 'p99 with the hanging endpoint', 'ratio', 'target'],
    all.map((x, i) => [
      String(i + 1),
      ms(x.baseline.decisionToWebhook.p99),
      ms(x.withHanging.decisionToWebhook.p99),
      `×${num(x.withHanging.decisionToWebhook.p99 / x.baseline.decisionToWebhook.p99, 2)}`,
      measured(x) ? met(isolationMet(x.baseline.decisionToWebhook.p99, x.withHanging.decisionToWebhook.p99)) : 'no figures',
    ]),
  );
  return `## 5. Isolation: a hanging endpoint beside a healthy one

Each run starts a fresh \`npm run dev\` (\`PROCESSA_RETRY_BASE_SECONDS=1\`, the stack's default POST timeout of ${ms(ISOLATION_TIMEOUT_MS)}, so an attempt unanswered for ${ms(ISOLATION_HANG_AFTER_MS)} counts toward its endpoint's breaker; up to ${ISOLATION_CONCURRENCY} concurrent batches, the definition's maxConcurrency) with one healthy keep-alive receiver subscribed. After a warm-up of 20, ${int(decisions)} decisions at ${ISOLATION_RATE}/s (open loop) measure the healthy endpoint alone; then an endpoint whose receiver reads each POST and never answers is subscribed too, and ${int(decisions)} more decisions at ${ISOLATION_RATE}/s measure the healthy endpoint beside it, from the hanging endpoint's first delivery on (its breaker starts closed). Decision → webhook as in section 1, at the healthy receiver.

${table(
  ['healthy endpoint, decision → webhook', 'p50', 'p95', 'p99'],
  [
    [`alone, ${int(decisions)} at ${ISOLATION_RATE}/s`, ...phase((x) => x.baseline)],
    [`with the hanging endpoint, ${int(decisions)} at ${ISOLATION_RATE}/s`, ...phase((x) => x.withHanging)],
  ],
)}

${perRun}

${table(
  ['figure', 'value'],
  [
    [
      'POSTs the hanging endpoint received (of its deliveries)',
      `${sp(
        over(runs, (x) => x.hangingPosts),
        int,
      )} (of ${int(decisions)})`,
    ],
    ['healthy webhooks lost (measured runs)', int(lost)],
  ],
)}

${unmeasured.length > 0 ? `- Without figures, left out of the medians and the verdict: ${unmeasured.join(', ')}.\n` : ''}- **Target: the healthy endpoint's p99 beside the hanging one ≤ ${num(TARGETS.isolationP99Factor, 1)}× its p99 alone, or ≤ alone + ${ms(TARGETS.isolationP99ExtraMs)}, in the median run — ${met(judged.ok)} (met in ${judged.metIn} of ${runs.length} measured runs; ratio ${sp(judged.ratio, (v) => `×${num(v, 2)}`)}).**
- CPU while deciding, dev runtime / DynamoDB Local, % of one core: alone ${sp(
    over(runs, (x) => x.baseline.cpu.runtime),
    pct,
  )} / ${sp(
    over(runs, (x) => x.baseline.cpu.dynamodbLocal),
    pct,
  )}, with the hanging endpoint ${sp(
    over(runs, (x) => x.withHanging.cpu.runtime),
    pct,
  )} / ${sp(
    over(runs, (x) => x.withHanging.cpu.dynamodbLocal),
    pct,
  )}. A busy machine (see the load average) delays both phases alike; the per-run pairs above are the comparison.
`;
}

function capacitySection(c: CapacityReport): string {
  const a = c.assumptions;
  const fmt = (v: number) => (v >= 100 ? int(v) : num(v, v >= 10 ? 0 : 1));
  const cell = (row: CapacityReport['rows'][number], i: number) => {
    const load = row.loads[i]!;
    if (row.rampOnly) return `${fmt(load)}${load > row.limit ? ' (ramp: needs time)' : ''}`;
    return load > row.limit ? `**${fmt(load)} — binds**` : `${fmt(load)} (${pct((100 * load) / row.limit)})`;
  };
  const limitCell = (row: CapacityReport['rows'][number]) => {
    const quota = quotaOf(row);
    const value = Number.isFinite(row.limit) ? `${fmt(row.limit)} ${row.unit}` : `unlimited ${row.unit}`;
    return quota ? `${value} — [${quota.check ? 'source (check)' : 'source'}](${quota.source})` : `${value} — ${row.setting ?? 'setting'}`;
  };
  const rows = c.rows.map((row) => [row.resource, row.perDecision, ...c.rates.map((_, i) => cell(row, i)), limitCell(row), row.lift]);
  const quotaRows = (Object.values(QUOTAS) as Quota[]).map((q) => [
    Number.isFinite(q.value) ? int(q.value) : 'unlimited',
    `${q.unit}${q.note ? `. ${q.note}` : ''}${q.check ? ' **(check)**' : ''}`,
    q.lift,
    q.source,
  ]);
  const binding = c.binding
    .map((b, i) =>
      b.rows.length > 0
        ? `at ${int(b.rate)}/s: ${b.rows.join('; ')}`
        : `at ${int(b.rate)}/s: none binds; nearest ${c.nearest[i]!.resource} at ${pct(100 * c.nearest[i]!.share)} of its limit`,
    )
    .join('. ');
  return `## 6. Capacity on AWS (a model, not a measurement)

Computed by \`capacity.ts\` from the app's own settings (\`infra/app-definition.ts\`: \`draftListShards\`, \`deliveryShards\`, \`streamConsumer\`, \`queueConsumer\`, index projections; the stack's throttle defaults, \`infra/stacks/throttle.ts\`) and AWS's documented limits (\`quotas.ts\`, sources below): what one decision puts on each resource, at ${c.rates.map(int).join(', ')} decisions/s sustained, with the create that preceded it. Cells: load, and its share of the limit; **binds** when over it. Nothing here was run on AWS.

Assumed, not read from settings: API functions ${ms(a.apiFunctionSeconds * 1000)} per invocation; a stream batch ${ms(a.fanOutBatchSeconds * 1000)} + ${ms(a.fanOutSecondsPerRecord * 1000)} per record; the receiver answers in ${ms(a.receiverSeconds * 1000)}; ${a.endpoints} endpoint subscribed to every decision; ${a.draftItemWriteUnits} WRU per draft item write (drafts up to 1 KB); ${c.measured.endpointWritesPerMessage === undefined ? `${a.endpointWritesPerMessage} write units per message on its endpoint's keys (section 4 measures them; run it with this section to use its figure)` : `(measured in section 4 of this run: ${num(a.endpointWritesPerMessage, 1)} write units per message on its endpoint's keys)`}; one API key per role.

${table(['resource', 'per decision', ...c.rates.map((r) => `at ${int(r)}/s`), 'limit', 'what lifts it'], rows)}

**Over their limit, worst first** — ${binding}.

### AWS limits used
${table(['default', 'what', 'how to get more', 'source'], quotaRows)}

${QUOTAS_AS_OF}.
`;
}

/** Each section starts with this marker, so a partial run (--only) can replace just its own. */
const sectionMarker = (section: Section) => `<!-- bench-section: ${section} -->`;

export function renderReport(r: Results): string {
  const o = r.options;
  const minutes = (r.finishedAt.getTime() - r.startedAt.getTime()) / 60_000;
  const m = r.machine;
  const sections = o.only.join(', ');
  const partial =
    o.only.length < SECTIONS.length ? `\n\n> This report covers only: ${sections} (\`--only\`). Run \`npm run bench\` for all ${SECTIONS.length}.` : '';
  const quick = o.quick ? '\n\n> **Quick run** (`--quick`): small n, fewer runs and repetitions; a smoke test, not a measurement to quote.' : '';
  const perSection = Object.entries(r.sectionSeconds)
    .map(([s, v]) => `${s} ${Math.round(v!)} s`)
    .join(', ');
  const parts = [
    `# Benchmarks

Measured by \`npm run bench\` on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${num(minutes, 1)} min: ${perSection}).

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory · Node ${m.node} · ${m.os} · ${m.java} (DynamoDB Local) · load average ${m.loadAverage.map((v) => v.toFixed(2)).join(' / ')} (1/5/15 min) at the start.
Options: \`--n ${o.n} --rate ${o.rate} --runs ${o.runs}${o.quick ? ' --quick' : ''}\`. Every figure is the median of ${o.runs} run${o.runs > 1 ? 's' : ''}; brackets give the min–max over the runs.${quick}${partial}
`,
    headline(r),
    `## How to run

\`\`\`sh
npm run bench                       # all six sections, rewrites BENCHMARKS.md (10–15 minutes on 2 cores)
npm run bench -- --quick            # smoke run: n=200, 2 runs, 2–3 minutes
npm run bench -- --only isolation   # one section: pipeline | worker | coldstart | cost | isolation | capacity (repeatable); the others stay as they were
npm run bench -- --n 1000 --rate 50 --runs 5 --drain 60 --out /tmp/bench.md
PROCESSA_BENCH_DUMP=/tmp/d.csv npm run bench -- --only pipeline   # also dump per-decision timings and the runtime's INFO log
\`\`\`

It needs what \`npm run dev\` needs (Java 17+ for DynamoDB Local), uses loopback only, bounds every loop in count and time, and prints a progress line on stderr. Other work on the machine skews the figures (the load average above says how busy it was); on 2 cores the pipeline figures in particular vary from run to run. It is not part of \`npm test\`. The code is in \`test/bench/\`: \`pipeline.ts\`, \`worker.ts\`, \`coldstart.ts\`, \`cost.ts\` with \`prices.ts\`, \`isolation.ts\`, \`capacity.ts\` with \`quotas.ts\`; this file is written by \`report.ts\`.
`,
  ];
  for (const [section, body] of sectionBodies(r)) parts.push(`${sectionMarker(section)}\n${body}`);
  return `${parts.join('\n')}`;
}

function sectionBodies(r: Results): Array<[Section, string]> {
  const bodies: Array<[Section, string]> = [];
  if (r.pipeline?.length) bodies.push(['pipeline', pipelineSection(r)]);
  if (r.worker?.length) bodies.push(['worker', workerSection(r)]);
  if (r.coldstart) bodies.push(['coldstart', coldStartSection(r)]);
  if (r.cost?.length) bodies.push(['cost', costSection(r)]);
  if (r.isolation?.length) bodies.push(['isolation', isolationSection(r)]);
  if (r.capacity) bodies.push(['capacity', capacitySection(r.capacity)]);
  return bodies;
}

const REMEASURED = '> Re-measured alone: ';

/**
 * The report after a partial run (--only): the previous report with the sections this run measured
 * replaced (their headline rows and their section), everything else as it was measured, and a
 * line saying which sections were re-measured when.
 */
export function mergeReport(previous: string, r: Results): string {
  const ran = new Set(r.options.only);
  const headlineAt = previous.indexOf('## Headline');
  const howToAt = previous.indexOf('## How to run');
  if (headlineAt < 0 || howToAt < headlineAt) return renderReport(r);
  const kept = previous
    .slice(0, headlineAt)
    .trimEnd()
    .split('\n')
    // A previous re-measurement of exactly these sections is superseded by this one.
    .filter((line) => !(line.startsWith(REMEASURED) && line.slice(REMEASURED.length).split(' (')[0] === r.options.only.join(', ')));
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  const m = r.machine;
  const header = [
    ...kept,
    '',
    `${REMEASURED}${r.options.only.join(', ')} (\`npm run bench -- --only ${r.options.only.join(',')} --n ${r.options.n} --runs ${r.options.runs}${r.options.quick ? ' --quick' : ''}\` on ${r.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${m.loadAverage.map((v) => v.toFixed(2)).join(' / ')} at its start); the other sections are from the run above.`,
    '',
  ].join('\n');

  const previousRows = previous
    .slice(headlineAt, howToAt)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| section') && !l.startsWith('| ---'))
    .map((l) => {
      const cells = l.slice(2, -2).split(' | ');
      return { section: cells[0] as Section, cells: cells.slice(1) };
    });
  const freshRows = headlineRows(r);
  const rows = SECTIONS.flatMap((section) => (ran.has(section) ? freshRows : previousRows).filter((row) => row.section === section));

  const previousBodies = new Map<Section, string>();
  const chunks = previous.split(/^(?=<!-- bench-section: )/m).slice(1);
  for (const chunk of chunks) {
    const section = /^<!-- bench-section: (\w+) -->/.exec(chunk)?.[1] as Section | undefined;
    if (section) previousBodies.set(section, chunk.trimEnd());
  }
  const freshBodies = new Map(sectionBodies(r).map(([section, body]) => [section, `${sectionMarker(section)}\n${body}`.trimEnd()]));
  const bodies = SECTIONS.map((section) => (ran.has(section) ? freshBodies.get(section) : previousBodies.get(section))).filter((b): b is string => !!b);

  const howTo = renderReport(r)
    .split('## How to run')[1]!
    .split(/^<!-- bench-section: /m)[0]!
    .trimEnd();
  return `${[header, headlineTable(rows), `## How to run${howTo}\n`, ...bodies.map((b) => `${b}\n`)].join('\n')}`;
}

/** A few lines for the terminal. */
export function summaryLines(r: Results): string[] {
  return headline(r)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| section') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(' | ').filter(Boolean).join('  ·  '));
}
