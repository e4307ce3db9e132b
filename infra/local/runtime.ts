import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { queues, tables, type QueueName, type TableName } from '../app-definition.js';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { createHttpGateway } from './http-gateway.js';
import { startLocalSqs, type LocalSqs } from './local-sqs.js';
import { provisionQueues, provisionTables, type QueueUrls, type TableNames } from './provision.js';
import { runtimeFile, type RuntimeInfo } from './runtime-info.js';

export interface LocalRuntimeOptions {
  /** 0 picks a free port. */
  port: number;
  /** Keep DynamoDB data under dataDir across restarts; otherwise everything is in memory. */
  persist: boolean;
  dataDir: string;
  /** The admin key's value; random when absent. */
  bootstrapKey?: string;
  onRequest?: (line: string) => void;
}

export interface LocalRuntime {
  apiUrl: string;
  adminKey: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: TableNames;
  queues: QueueUrls;
  stop(): Promise<void>;
}

const RESOURCE_PREFIX = 'processa-dev';

/**
 * Starts the whole system in this process: DynamoDB Local (a java child), the SQS emulator,
 * the tables and queues from the shared definition, and the API served through the same
 * handler modules the stack deploys.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  // Lambdas run on Node 22; Node 20 is supported locally on purpose, so the SDK's upgrade notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dynamo: DynamoDbLocal = await startDynamoDbLocal({ dbPath: options.persist ? join(options.dataDir, 'dynamodb') : undefined });
    stops.push(dynamo.stop);
    const sqs: LocalSqs = await startLocalSqs();
    stops.push(sqs.stop);

    const dynamoClient = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
    const sqsClient = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
    const tableNames = await provisionTables(dynamoClient, RESOURCE_PREFIX);
    const queueUrls = await provisionQueues(sqsClient, RESOURCE_PREFIX);

    const server = createHttpGateway({ onRequest: options.onRequest });
    const port = await listen(server, options.port);
    stops.push(() => close(server));
    const apiUrl = `http://localhost:${port}`;

    // Handlers read their configuration from the environment at import, exactly as in Lambda.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      PUBLIC_BASE_URL: apiUrl,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...Object.fromEntries((Object.keys(tables) as TableName[]).map((t) => [tables[t].envVar, tableNames[t]])),
      ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, queueUrls[q]])),
    });

    const { ensureApiKey, generateKeyValue } = await import('../../shared/domain/api-keys.js');
    const { DynamoApiKeyStore } = await import('../../shared/store/api-keys-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    const adminKey = options.bootstrapKey ?? generateKeyValue();
    await ensureApiKey(new DynamoApiKeyStore(createDocumentClient(dynamoClient), tableNames.apiKeys), adminKey, { name: 'bootstrap-admin', role: 'admin' });

    mkdirSync(options.dataDir, { recursive: true });
    const file = runtimeFile(options.dataDir);
    const info: RuntimeInfo = {
      pid: process.pid,
      dynamodbPid: dynamo.process.pid,
      apiUrl,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      tables: tableNames,
      queues: queueUrls,
    };
    writeFileSync(file, JSON.stringify(info, null, 2));
    stops.push(async () => rmSync(file, { force: true }));
    stops.push(async () => {
      dynamoClient.destroy();
      sqsClient.destroy();
    });

    return { apiUrl, adminKey, dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, tables: tableNames, queues: queueUrls, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
