/**
 * Tracing is off outside Lambda (Powertools' tracer is inert here), yet the X-Ray SDK, in its
 * default automatic mode, installs an async hook when imported that then runs on every promise of
 * the dev runtime's one process: several percent of its CPU under load. Manual mode installs none.
 * The SDK reads this once, at import: runtime.ts imports this module before anything that loads it.
 */
process.env.AWS_XRAY_MANUAL_MODE ??= 'true';
