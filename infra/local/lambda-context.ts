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

/** Loads a function's handler module, the same file the CDK stack bundles. */
export async function loadHandler<T = (event: unknown, context: Context) => Promise<unknown>>(name: FunctionName): Promise<T> {
  const url = new URL(`../../functions/${functions[name].folder}/handler.ts`, import.meta.url);
  const module = (await import(url.href)) as { handler?: T };
  if (typeof module.handler !== 'function') throw new Error(`functions/${functions[name].folder}/handler.ts does not export a handler`);
  return module.handler;
}
