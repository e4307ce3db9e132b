import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { functions, type FunctionName } from '../app-definition.js';

/** A Lambda context for in-process invocations, with the definition's memory and timeout. */
export function lambdaContext(name: FunctionName, requestId: string = randomUUID()): Context {
  const definition = functions[name];
  const deadline = Date.now() + definition.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `processa-local-${definition.folder}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:processa-local-${definition.folder}`,
    memoryLimitInMB: String(definition.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/processa-local-${definition.folder}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

let environments: Partial<Record<FunctionName, Record<string, string>>> | undefined;
let perFunction = new Set<string>();
let importing: Promise<unknown> = Promise.resolve();

/**
 * From now on loadHandler imports each handler with only its own environment (tables, queues,
 * settings), as Lambda would: a variable of the definition that is not the function's is absent
 * while its module is evaluated. Undefined turns it off.
 */
export function useFunctionEnvironments(given: Record<FunctionName, Record<string, string>> | undefined, variables: Set<string> = new Set()): void {
  environments = given;
  perFunction = variables;
}

/** Evaluates `load` with the process environment narrowed to `own` among the per-function variables, one at a time. */
function withEnvironment<T>(own: Record<string, string>, load: () => Promise<T>): Promise<T> {
  const run = importing.then(async () => {
    const saved = new Map<string, string | undefined>();
    for (const name of new Set([...perFunction, ...Object.keys(own)])) {
      saved.set(name, process.env[name]);
      if (name in own) process.env[name] = own[name];
      else delete process.env[name];
    }
    try {
      return await load();
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
  importing = run.catch(() => undefined);
  return run;
}

/**
 * Loads a function's handler module, the same file the CDK stack bundles. Handlers read their
 * configuration at import, so with useFunctionEnvironments in effect a handler that reads a table,
 * queue or setting it is not bound to fails here, as it would at cold start on AWS.
 */
export async function loadHandler<T = (event: unknown, context: Context) => Promise<unknown>>(name: FunctionName): Promise<T> {
  const folder = functions[name].folder;
  // A relative specifier with .js: tsx and jest both map it to the .ts source.
  const load = () => import(`../../functions/${folder}/handler.js`) as Promise<{ handler?: T }>;
  const own = environments?.[name];
  const module = own ? await withEnvironment(own, load) : await load();
  if (typeof module.handler !== 'function') throw new Error(`functions/${folder}/handler.ts does not export a handler`);
  return module.handler;
}
