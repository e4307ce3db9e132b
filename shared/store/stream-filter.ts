/**
 * Lambda event filtering (the EventSourceMapping FilterCriteria pattern syntax), for the subset
 * the definition uses: nested objects whose leaves are arrays of allowed values. Anything else
 * throws, so a filter that cannot be honoured is noticed instead of silently passing everything.
 * The local pumps filter records with it (infra/local/event-filter.ts), and the fan-out checks
 * its records against the very filters the event source mapping uses.
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
