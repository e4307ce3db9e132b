/**
 * Lambda event filtering for the local pumps: the subset of the pattern syntax the definition
 * uses (nested objects whose leaves are arrays of allowed values). Anything else throws, so a
 * filter the local runtime cannot honour is noticed instead of silently passing everything.
 */
export type FilterPattern = { readonly [key: string]: FilterPattern | readonly (string | number | boolean | null)[] };

export function matchesFilter(pattern: FilterPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  for (const [key, expected] of Object.entries(pattern)) {
    const actual = (event as Record<string, unknown>)[key];
    if (Array.isArray(expected)) {
      if (expected.some((v) => typeof v === 'object' && v !== null)) throw new Error(`Unsupported filter operator under "${key}"`);
      if (!expected.includes(actual as never)) return false;
    } else if (!matchesFilter(expected as FilterPattern, actual)) {
      return false;
    }
  }
  return true;
}

/** Lambda passes a record if any of the filters matches it. */
export const matchesAny = (patterns: readonly FilterPattern[], event: unknown): boolean =>
  patterns.length === 0 || patterns.some((p) => matchesFilter(p, event));
