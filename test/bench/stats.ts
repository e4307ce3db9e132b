/** Small statistics helpers: percentiles of one run, and the median (with min–max) across runs. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many runs the figure summarises. */
  runs: number;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length > 0 ? Math.max(...values) : Number.NaN,
  };
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** The median of one figure over several runs, with its range. NaN values (a run that had none) are left out. */
export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const sorted = [...finite].sort((a, b) => a - b);
  // The true median (mean of the middle two for an even count), so 2 runs do not just report the lower one.
  const mid = sorted.length / 2;
  const med = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: med, min: sorted[0]!, max: sorted.at(-1)!, runs: finite.length };
}

/** Spreads of every numeric field of per-run records that share a shape. */
export function spreadOf<T extends object>(runs: readonly T[], pick: (run: T) => number): Spread {
  return spread(runs.map(pick));
}
