// Handlers log JSON to stdout; tests assert on responses, so keep the output readable.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Lambdas run on Node 22; Node 20 is supported locally on purpose, so the SDK's upgrade notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// EMF metric lines would flood the test output; the stack test checks metric wiring instead.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
