import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
// First: it must run before anything imports the X-Ray SDK.
import './xray-manual-mode.js';
import { deliveryRetry, schedules, settings } from '../app-definition.js';
import { startDemoReceiver, type DemoReceiver } from './demo-receiver.js';
import { createHttpGateway } from './http-gateway.js';
import { lambdaContext, loadHandler } from './lambda-context.js';
import { startPipeline, type Pipeline } from './pipeline.js';
import type { QueueUrls, TableNames } from './provision.js';
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
  mkdirSync(options.dataDir, { recursive: true });
  // Lines worth a developer's attention: demo deliveries, pump errors, re-queued deliveries.
  const log = (line: string) => console.log(line);
  const reportError = (what: string) => (error: unknown) => log(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  try {
    const pipeline: Pipeline = await startPipeline({
      resourcePrefix: RESOURCE_PREFIX,
      dbPath: options.persist ? join(options.dataDir, 'dynamodb') : undefined,
      settings: {
        retryBaseSeconds: process.env.PROCESSA_RETRY_BASE_SECONDS ?? '1',
        webhookTimeoutMs: process.env.PROCESSA_WEBHOOK_TIMEOUT_MS ?? String(deliveryRetry.timeoutMs),
        // Unset: the default (5 days); tests shorten it to see an endpoint auto-disabled.
        autoDisableDays: process.env.PROCESSA_AUTO_DISABLE_DAYS || undefined,
        // Unset: the stack's defaults (5 failures, 30 s); set to try the breaker on a laptop.
        breakerFailures: process.env.PROCESSA_BREAKER_FAILURES || undefined,
        breakerCooldownSeconds: process.env.PROCESSA_BREAKER_COOLDOWN_SECONDS || undefined,
        // No SNS locally: operator notices (endpoint.disabled, delivery.exhausted) go to the log and here.
        operatorOutbox: join(options.dataDir, 'outbox'),
        // No SES locally: notification emails land in the outbox as .eml files, each with a line in the log.
        emailOutbox: join(options.dataDir, 'outbox'),
        // Decide from Slack: the Slack app's secrets come from npm run dev's own environment only (Slack issues them).
        slackSigningSecret: process.env.PROCESSA_SLACK_SIGNING_SECRET || undefined,
        slackBotToken: process.env.PROCESSA_SLACK_BOT_TOKEN || undefined,
        slackApiUrl: process.env.PROCESSA_SLACK_API_URL || undefined,
        // No Secrets Manager locally: the email-link key is generated once into this file and kept.
        emailLinkKeyFile: join(options.dataDir, 'email-link-key'),
      },
      processEnv: {
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        // CloudWatch metrics (EMF lines) mean nothing on a laptop; set it to false to see them.
        POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      },
      checkpointFile: options.persist ? join(options.dataDir, 'stream-checkpoints.json') : undefined,
      beforePumps: async ({ dynamoClient, sqsClient, tables, queues }) => {
        if (!options.persist) return;
        // The emulated queues live in memory: deliveries whose persisted state still has attempts to make go back on the queue.
        const { requeueWaitingDeliveries } = await import('../../shared/webhooks/redrive.js');
        const { DynamoDeliveryStateStore } = await import('../../shared/store/deliveries-store.js');
        const { SqsDeliveryQueue } = await import('../../shared/store/sqs-queues.js');
        const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
        const states = new DynamoDeliveryStateStore(createDocumentClient(dynamoClient), tables.deliveries);
        const requeued = await requeueWaitingDeliveries(states, new SqsDeliveryQueue(sqsClient, queues.deliveries, queues.notifications));
        if (requeued > 0) log(`re-queued ${requeued} pending ${requeued === 1 ? 'delivery' : 'deliveries'} from the persisted delivery states`);
      },
      onError: (source, error) => reportError(source)(error),
    });
    stops.push(pipeline.stop);
    const { dynamoClient, tables: tableNames, queues: queueUrls } = pipeline;

    const server = createHttpGateway({ onRequest: options.onRequest });
    const port = await listen(server, options.port);
    stops.push(() => close(server));
    const apiUrl = `http://localhost:${port}`;
    // Read on every request, while other handlers run: in one process it can only be process-wide.
    process.env[settings.publicBaseUrl.envVar] = apiUrl;

    const { ensureApiKey, generateKeyValue } = await import('../../shared/domain/api-keys.js');
    const { DynamoApiKeyStore } = await import('../../shared/store/api-keys-store.js');
    const { createDocumentClient } = await import('../../shared/store/dynamo-client.js');
    const adminKey = options.bootstrapKey ?? generateKeyValue();
    await ensureApiKey(new DynamoApiKeyStore(createDocumentClient(dynamoClient), tableNames.apiKeys), adminKey, { name: 'bootstrap-admin', role: 'admin' });

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
      dynamodbPid: pipeline.dynamoProcess().pid,
      apiUrl,
      dynamodbEndpoint: pipeline.dynamodbEndpoint,
      sqsEndpoint: pipeline.sqsEndpoint,
      tables: tableNames,
      queues: queueUrls,
      ...(demoReceiver ? { demoReceiverUrl: demoReceiver.url } : {}),
    };
    writeFileSync(file, JSON.stringify(info, null, 2));
    stops.push(async () => rmSync(file, { force: true }));

    return {
      apiUrl,
      adminKey,
      dynamodbEndpoint: pipeline.dynamodbEndpoint,
      sqsEndpoint: pipeline.sqsEndpoint,
      tables: tableNames,
      queues: queueUrls,
      demoReceiver,
      stop: stopAll,
    };
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
