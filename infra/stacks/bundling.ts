import { fileURLToPath } from 'node:url';
import { tracerAliases, type TracingMode } from './tracing.js';

/** The folder that stands in for `@aws-sdk/credential-provider-node` in a function's bundle. */
export const CREDENTIALS_FROM_ENV_DIR = fileURLToPath(new URL('../../shared/credentials-from-env', import.meta.url));

/**
 * esbuild aliases of every function's bundle, shared by the stack (infra/stacks/processa-function.ts)
 * and the bundle bench (test/bench/coldstart.ts) so both measure one thing:
 * - the SDK's default credential chain resolves to environment credentials only (shared/credentials-from-env);
 * - with tracing off, the tracer resolves to a no-op (infra/stacks/tracing.ts).
 */
export const functionBundleAliases = (tracing: TracingMode): Record<string, string> => ({
  '@aws-sdk/credential-provider-node': CREDENTIALS_FROM_ENV_DIR,
  ...tracerAliases(tracing),
});
