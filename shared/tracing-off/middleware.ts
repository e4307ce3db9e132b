/** `@aws-lambda-powertools/tracer/middleware` when tracing is off (see ./index.ts): a middleware that does nothing. */
export const captureLambdaHandler = (_tracer?: unknown, _options?: unknown) => ({
  // middy refuses a middleware without before, after or onError.
  before: (): void => undefined,
});
