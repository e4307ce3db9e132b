import { functions, queues, settings, tables, type FunctionName, type QueueName, type SettingName, type TableName } from '../app-definition.js';
import { definedVariables, functionEnvironment, type SettingValues } from '../function-environment.js';
import { LOCAL_AWS } from './dynamodb-local.js';
import type { QueueUrls, TableNames } from './provision.js';

export interface LocalResources {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: TableNames;
  queues: QueueUrls;
}

/**
 * What every handler may read from the process: the region, fake credentials and the emulators'
 * endpoints (on AWS the Lambda runtime provides the first two, and the SDK's default endpoints
 * the last). No table, queue or setting: those are each function's own (localFunctionEnvironments).
 */
export function localCommonEnv(local: Pick<LocalResources, 'dynamodbEndpoint' | 'sqsEndpoint'>): Record<string, string> {
  return {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: local.sqsEndpoint,
    // Lambdas run on Node 22; Node 20 is supported locally on purpose, so the SDK's upgrade notice is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** The local values of the definition's settings; `overrides` wins (an undefined value leaves the setting unset). */
export function localSettingValues(overrides: SettingValues = {}): SettingValues {
  return {
    // Only local runs may deliver to http://localhost; the stack never sets it.
    allowLocalhostWebhooks: 'true',
    ...overrides,
  };
}

export type FunctionEnvironments = Record<FunctionName, Record<string, string>>;

/**
 * Each function's own variables, built from the definition exactly as the stack builds them
 * (infra/function-environment.ts): its tables, its queues, the settings it reads.
 */
export function localFunctionEnvironments(local: LocalResources, values: SettingValues): FunctionEnvironments {
  const environments = {} as FunctionEnvironments;
  for (const name of Object.keys(functions) as FunctionName[]) {
    environments[name] = functionEnvironment(name, { table: (t) => local.tables[t], queue: (q) => local.queues[q], settings: values }) as Record<
      string,
      string
    >;
  }
  return environments;
}

/**
 * The variables a handler may only see when they are its own at import: every table, queue and
 * import-time setting. Request-time settings (PUBLIC_BASE_URL) are read while other handlers run,
 * so in one process they can only be process-wide; every function that reads one is given it.
 */
export const perFunctionVariables = (): Set<string> => {
  const requestTime = (Object.keys(settings) as SettingName[]).filter((s) => settings[s].readAt === 'request').map((s) => settings[s].envVar);
  return new Set(definedVariables().filter((v) => !(requestTime as string[]).includes(v)));
};

/** Every table and queue variable at once: for test code and tools that act as an operator, never for handlers. */
export function allResourceVariables(local: LocalResources): Record<string, string> {
  return {
    ...Object.fromEntries((Object.keys(tables) as TableName[]).map((t) => [tables[t].envVar, local.tables[t]])),
    ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, local.queues[q]])),
  };
}
