import { parseArgs } from 'node:util';

export const SECTIONS = ['pipeline', 'worker', 'coldstart', 'cost', 'isolation', 'capacity'] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  /** Drafts per pipeline run; messages per worker run. */
  n: number;
  /** Offered decisions per second in the pipeline (open loop). */
  rate: number;
  /** Runs per figure; each figure is the median of the runs, with min–max. */
  runs: number;
  quick: boolean;
  only: Section[];
  /** Where the report goes. */
  out: string;
  /** Longest wait for outstanding webhooks after the last decision. */
  drainSeconds: number;
}

export const USAGE = `npm run bench -- [--n 2000] [--rate 100] [--runs 3] [--quick] [--only pipeline|worker|coldstart|cost|isolation|capacity] [--out BENCHMARKS.md]

  --n       drafts per pipeline run and messages per worker run (default 2000; --quick: 200);
            isolation decides at most 400 per phase
  --rate    offered decisions per second, open loop (default 100)
  --runs    runs per figure; figures are the median with min–max (default 3; --quick: 2)
  --quick   a small smoke run that finishes in a few minutes
  --only    one section (repeat or comma-separate for several); the report keeps the other
            sections of the existing --out file as they were measured. capacity is a model
            from the settings and AWS's documented limits: no services, milliseconds
  --drain   seconds to wait for outstanding webhooks after the last decision (default 30)
  --out     report path (default BENCHMARKS.md at the repo root)`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number, got "${raw}"`);
  return value;
}

export function parseOptions(argv: string[], defaultOut: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' },
      rate: { type: 'string' },
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      drain: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const only = (values.only ?? [])
    .flatMap((o) => o.split(','))
    .map((o) => o.trim())
    .filter(Boolean);
  for (const section of only) {
    if (!(SECTIONS as readonly string[]).includes(section)) throw new Error(`--only must be one of ${SECTIONS.join(', ')}, got "${section}"`);
  }
  const options: BenchOptions = {
    n: positiveInt('n', values.n, quick ? 200 : 2000),
    rate: positiveInt('rate', values.rate, 100),
    runs: positiveInt('runs', values.runs, quick ? 2 : 3),
    quick,
    only: only.length > 0 ? (only as Section[]) : [...SECTIONS],
    out: values.out ?? defaultOut,
    drainSeconds: positiveInt('drain', values.drain, 30),
  };
  if (options.n > 100_000) throw new Error('--n is capped at 100000 to keep the run bounded');
  if (options.rate > 5_000) throw new Error('--rate is capped at 5000/s');
  if (options.runs > 20) throw new Error('--runs is capped at 20');
  return options;
}
