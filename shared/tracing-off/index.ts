/**
 * What `@aws-lambda-powertools/tracer` becomes in a function's bundle when the stack's tracing is off
 * (an esbuild alias, infra/stacks/tracing.ts): the same calls, doing nothing, so neither the tracer nor
 * the X-Ray SDK it wraps (aws-xray-sdk-core) is bundled or imported at cold start. Never imported by name:
 * the local runtime and tests keep the real tracer, which is a no-op outside Lambda anyway.
 */
export class Tracer {
  constructor(_options?: unknown) {}

  /** The client itself: there is nothing to record its calls to. */
  captureAWSv3Client<T>(client: T): T {
    return client;
  }

  isTracingEnabled(): boolean {
    return false;
  }

  putAnnotation(_key: string, _value: unknown): void {}

  putMetadata(_key: string, _value: unknown, _namespace?: string): void {}
}
