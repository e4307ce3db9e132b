import { queues, tables, type QueueName, type TableName } from '../app-definition.js';
import { LOCAL_AWS } from './dynamodb-local.js';
import type { QueueUrls, TableNames } from './provision.js';

/**
 * The environment the handler modules read at import, pointed at local emulators: what the
 * stack's bindTable/bindQueue give each function in AWS, plus endpoints and fake credentials.
 * The dev runtime, the fault-test harness and the benchmarks all build it here.
 */
export function localHandlerEnv(local: { dynamodbEndpoint: string; sqsEndpoint: string; tables: TableNames; queues: QueueUrls }): Record<string, string> {
  return {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: local.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: local.sqsEndpoint,
    // Lambdas run on Node 22; Node 20 is supported locally on purpose, so the SDK's upgrade notice is noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Only local runs may deliver to http://localhost; the stack never sets this.
    PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
    ...Object.fromEntries((Object.keys(tables) as TableName[]).map((t) => [tables[t].envVar, local.tables[t]])),
    ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, local.queues[q]])),
  };
}
