import { fileURLToPath } from 'node:url';

/**
 * X-Ray tracing of the functions, set by the `tracing` context:
 * - `off` (the default): no active tracing, no X-Ray permissions, and the tracer is swapped for a no-op
 *   at bundling, so the X-Ray SDK is neither deployed nor imported at cold start.
 * - `sampled`: Lambda active tracing, sampled by Lambda's own rule: the first invocation each second, then
 *   5% of the rest. That rule is the only one: Lambda does not apply X-Ray sampling rules to functions
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html: "This sampling rate cannot be
 *   configured for Lambda functions"), and the HTTP API, which would sample upstream, has no X-Ray
 *   support. So there is no reservoir or rate to set, nor a mode that traces everything.
 *
 * Off by default: X-Ray bills every recorded trace ($5 per million after 100,000 a month), the 1/s
 * reservoir is a fixed floor rather than a share (at 1 M drafts a month, about 0.39 a second, it records
 * about 84% of invocations), and the tracer with its SDK adds ~120 KB to every bundle (measured: createDraft
 * 680 → 557 KB).
 */
export const TRACING_MODES = ['off', 'sampled'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

export const DEFAULT_TRACING: TracingMode = 'off';

/** Lambda's fixed sampling rule for active tracing (see above): traces a second first, then a fraction of the rest. */
export const LAMBDA_SAMPLING = { reservoirPerSecond: 1, rate: 0.05 } as const;

/** The tracing mode the `tracing` context asks for; throws naming the key when the value is not a mode. */
export function resolveTracing(value: string | undefined): TracingMode {
  const mode = value ?? DEFAULT_TRACING;
  if (!(TRACING_MODES as readonly string[]).includes(mode)) throw new Error(`tracing must be one of ${TRACING_MODES.join(', ')}, got "${mode}"`);
  return mode as TracingMode;
}

/** The folder that stands in for `@aws-lambda-powertools/tracer` (and its /middleware) when tracing is off. */
export const TRACER_OFF_DIR = fileURLToPath(new URL('../../shared/tracing-off', import.meta.url));

/**
 * esbuild aliases for a function's bundle: with tracing off, the tracer package and its subpaths resolve
 * to the no-op in shared/tracing-off. Shared by the stack and the bundle bench, so both measure one thing.
 */
export const tracerAliases = (mode: TracingMode): Record<string, string> => (mode === 'off' ? { '@aws-lambda-powertools/tracer': TRACER_OFF_DIR } : {});
