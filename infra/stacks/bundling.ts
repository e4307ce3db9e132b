import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { tracerAliases, type TracingMode } from './tracing.js';

/** The folder that stands in for `@aws-sdk/credential-provider-node` in a function's bundle. */
export const CREDENTIALS_FROM_ENV_DIR = fileURLToPath(new URL('../../shared/credentials-from-env', import.meta.url));
/** The folder that stands in for `@smithy/core/event-streams`, which no operation Processa calls uses. */
export const NO_EVENT_STREAMS_DIR = fileURLToPath(new URL('../../shared/no-event-streams', import.meta.url));
/** The folder that stands in for `@aws-sdk/endpoint-cache`, which no DynamoDB command reads. */
export const NO_ENDPOINT_CACHE_DIR = fileURLToPath(new URL('../../shared/no-endpoint-cache', import.meta.url));

/**
 * esbuild aliases of every function's bundle, shared by the stack (infra/stacks/processa-function.ts)
 * and the bundle bench (test/bench/coldstart.ts) so both measure one thing:
 * - the SDK's default credential chain resolves to environment credentials only (shared/credentials-from-env);
 * - the SDK's event-stream codec, which it loads only for operations that stream events, resolves to a
 *   stub that throws (shared/no-event-streams): no DynamoDB, SQS, SES or SNS call Processa makes loads it;
 * - the DynamoDB client's endpoint-discovery cache, built but never read (no command adds the discovery
 *   middleware), resolves to a stub that throws if used (shared/no-endpoint-cache);
 * - with tracing off, the tracer resolves to a no-op (infra/stacks/tracing.ts).
 */
export const functionBundleAliases = (tracing: TracingMode): Record<string, string> => ({
  '@aws-sdk/credential-provider-node': CREDENTIALS_FROM_ENV_DIR,
  '@smithy/core/event-streams': NO_EVENT_STREAMS_DIR,
  '@aws-sdk/endpoint-cache': NO_ENDPOINT_CACHE_DIR,
  ...tracerAliases(tracing),
});

/**
 * A function's bundle as esbuild options: ProcessaFunction hands these to CDK's NodejsFunction (which
 * runs esbuild with them), and the bundle bench and the bundle tests run esbuild with them directly.
 */
export const functionEsbuildOptions = (tracing: TracingMode) =>
  ({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    // Maps without embedded sources: stack traces still resolve, and cold starts parse far less.
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // Some CommonJS dependencies call require() for Node built-ins; ESM has no require.
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    // Bundle the AWS SDK too: the versions in package-lock.json are the ones tested, not whatever the
    // Lambda runtime happens to ship (and a bundled SDK imports faster than the runtime's).
    external: [],
    alias: functionBundleAliases(tracing),
  }) satisfies BuildOptions;
