import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/**
 * Middy middleware for every function: every log line of the invocation carries its
 * request id (function_request_id, the key Powertools' injectLambdaContext uses) and nothing else
 * from the context. injectLambdaContext also adds the function's name, ARN, memory size and
 * cold_start to every line, about 230 bytes each that the log group and the request id already
 * tell; the workers log a line or two per batch, so that was a third of their log bytes. No
 * function uses injectLambdaContext: its context outlives resetKeys in the one shared logger, so in
 * one process (the local runtime, the bench) a worker's lines carried an API function's name.
 */
export function logRequestId(logger: Logger) {
  const reset = async () => logger.resetKeys();
  return {
    before: async (request: { context: Context }) => {
      logger.resetKeys();
      logger.appendKeys({ function_request_id: request.context.awsRequestId });
    },
    after: reset,
    onError: reset,
  };
}
