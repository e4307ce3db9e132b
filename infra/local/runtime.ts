import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { deliveryRetry, queueConsumer, schedules, streamConsumer } from '../app-definition.js';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { startDemoReceiver, type DemoReceiver } from './demo-receiver.js';
import { createHttpGateway } from './http-gateway.js';
import { localHandlerEnv } from './handler-env.js';
import { lambdaContext, loadHandler } from './lambda-context.js';
import { startQueuePump } from './queue-pump.js';
import { startStreamPump } from './stream-pump.js';
import { startLocalSqs, type LocalSqs } from './local-sqs.js';
import { provisionQueues, provisionTables, streamArn, type QueueUrls, type TableNames } from './provision.js';
import { runtimeFile, type RuntimeInfo } from './runtime-info.js';

export interface LocalRuntimeOptions {
  /** 0 picks a free port. */
  port: number;
  /** Keep DynamoDB data under dataDir across restarts; otherwise everything is in memory. */
  persist: boolean;
  dataDir: string;
  /** The admin key's value; random when absent. */
  bootstrapKey?: string;
  /** Start a verifying webhook receiver and register it as an endpoint. */
  demoReceiver?: boolean;
  onRequest?: (line: string) => void;
  /** Lines worth a developer's attention: demo deliveries, pump errors. */
  log?: (line: string) => void;
}

export interface LocalRuntime {
  apiUrl: string;
  adminKey: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tables: TableNames;
  queues: QueueUrls;
  demoReceiver?: DemoReceiver;
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

    // Handlers read their configuration from the environment at import, exactly as in Lambda,
    // so it is complete before the first request can arrive.
    Object.assign(process.env, {
      ...localHandlerEnv({ dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, tables: tableNames, queues: queueUrls }),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      // CloudWatch metrics (EMF lines) mean nothing on a laptop; set it to false to see them.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      PROCESSA_RETRY_BASE_SECONDS: process.env.PROCESSA_RETRY_BASE_SECONDS ?? '1',
      PROCESSA_WEBHOOK_TIMEOUT_MS: process.env.PROCESSA_WEBHOOK_TIMEOUT_MS ?? String(deliveryRetry.timeoutMs),
    });
    const server = createHttpGateway({ onRequest: options.onRequest });
    const port = await listen(server, options.port);
    stops.push(() => close(server));
    const apiUrl = `http://localhost:${port}`;
    process.env.PUBLIC_BASE_URL = apiUrl;

    const { ensureApiKey, generateKeyValue } = await import('../../shared/domain/api-keys.js');
    const { DynamoApiKeyStore } = await import('../../shared/store/api-keys-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    const adminKey = options.bootstrapKey ?? generateKeyValue();
    await ensureApiKey(new DynamoApiKeyStore(createDocumentClient(dynamoClient), tableNames.apiKeys), adminKey, { name: 'bootstrap-admin', role: 'admin' });

    mkdirSync(options.dataDir, { recursive: true });
    const log = options.log ?? ((line: string) => console.log(line));
    const reportError = (what: string) => (error: unknown) => log(`${what}: ${error instanceof Error ? error.message : String(error)}`);

    // The event sources: the drafts stream into the fan-out, the delivery queue into delivery.
    const streamPump = startStreamPump({
      dynamodbEndpoint: dynamo.endpoint,
      streamArn: await streamArn(dynamoClient, tableNames[streamConsumer.table]),
      handler: await loadHandler(streamConsumer.function),
      context: () => lambdaContext(streamConsumer.function),
      failures: { client: sqsClient, queueUrl: queueUrls[streamConsumer.onFailure] },
      checkpointFile: options.persist ? join(options.dataDir, 'stream-checkpoints.json') : undefined,
      onError: reportError('stream pump'),
    });
    stops.push(streamPump.stop);
    if (options.persist) {
      // The emulated queues live in memory: deliveries whose persisted state still has attempts to make go back on the queue.
      const { requeueWaitingDeliveries } = await import('../../shared/webhooks/redrive.js');
      const { DynamoDeliveryStateStore } = await import('../../shared/store/deliveries-store.js');
      const { SqsDeliveryQueue } = await import('../../shared/store/sqs-queues.js');
      const states = new DynamoDeliveryStateStore(createDocumentClient(dynamoClient), tableNames.deliveries);
      const requeued = await requeueWaitingDeliveries(states, new SqsDeliveryQueue(sqsClient, queueUrls[queueConsumer.queue]));
      if (requeued > 0) log(`re-queued ${requeued} pending ${requeued === 1 ? 'delivery' : 'deliveries'} from the persisted delivery states`);
    }
    const { Attributes } = await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls[queueConsumer.queue], AttributeNames: ['QueueArn'] }));
    const queuePump = startQueuePump({
      client: sqsClient,
      queueUrl: queueUrls[queueConsumer.queue],
      queueArn: Attributes!.QueueArn!,
      handler: await loadHandler(queueConsumer.function),
      context: () => lambdaContext(queueConsumer.function),
      onError: reportError('queue pump'),
    });
    stops.push(queuePump.stop);

    // Scheduled functions on a timer; PROCESSA_SCHEDULE_SECONDS shortens the period for tests.
    for (const schedule of schedules) {
      const handler = await loadHandler(schedule.function);
      const periodMs = Number(process.env.PROCESSA_SCHEDULE_SECONDS ?? schedule.rateMinutes * 60) * 1000;
      let running: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        running = running.then(() =>
          handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString() }, lambdaContext(schedule.function)).catch(
            reportError(`${schedule.function} schedule`),
          ),
        );
      }, periodMs);
      stops.push(async () => {
        clearInterval(timer);
        await running;
      });
    }

    let demoReceiver: DemoReceiver | undefined;
    if (options.demoReceiver) {
      demoReceiver = await startDemoReceiver(log);
      stops.push(demoReceiver.stop);
      const { createEndpoint } = await import('../../shared/webhooks/endpoints.js');
      const { DynamoEndpointStore } = await import('../../shared/store/webhooks-store.js');
      const endpoint = await createEndpoint(
        new DynamoEndpointStore(createDocumentClient(dynamoClient), tableNames.webhooks),
        { url: demoReceiver.url, description: 'Demo receiver (npm run dev --demo-receiver)' },
        { allowLocalhostHttp: true },
      );
      demoReceiver.setSecret(endpoint.secret);
    }

    const file = runtimeFile(options.dataDir);
    const info: RuntimeInfo = {
      pid: process.pid,
      dynamodbPid: dynamo.process.pid,
      apiUrl,
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      tables: tableNames,
      queues: queueUrls,
      ...(demoReceiver ? { demoReceiverUrl: demoReceiver.url } : {}),
    };
    writeFileSync(file, JSON.stringify(info, null, 2));
    stops.push(async () => rmSync(file, { force: true }));
    stops.push(async () => {
      dynamoClient.destroy();
      sqsClient.destroy();
    });

    return { apiUrl, adminKey, dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, tables: tableNames, queues: queueUrls, demoReceiver, stop: stopAll };
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
