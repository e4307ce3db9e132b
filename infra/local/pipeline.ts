import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { queueConsumers, streamConsumer } from '../app-definition.js';
import type { SettingValues } from '../function-environment.js';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import {
  allResourceVariables,
  localCommonEnv,
  localFunctionEnvironments,
  localSettingValues,
  perFunctionVariables,
  type FunctionEnvironments,
} from './handler-env.js';
import { lambdaContext, loadHandler, useFunctionEnvironments } from './lambda-context.js';
import { startLocalSqs } from './local-sqs.js';
import { freePort } from './ports.js';
import { provisionQueues, provisionTables, streamArn, type QueueUrls, type TableNames } from './provision.js';
import { startQueuePump } from './queue-pump.js';
import { startStreamPump } from './stream-pump.js';

/** A batch handler as Lambda calls it: it may report partial failures. */
type Handler<E> = (event: E, context: Context) => Promise<(E extends SQSEvent ? SQSBatchResponse : DynamoDBBatchResponse) | void>;

export interface PipelineOptions {
  /** Physical names are `<prefix>-<table or queue>`. */
  resourcePrefix: string;
  /** Keep DynamoDB Local's data in this folder (restarts and --persist); in memory otherwise. */
  dbPath?: string;
  /** The functions' settings, over the local defaults (localSettingValues). */
  settings?: SettingValues;
  /** Extra process-wide variables, e.g. the Powertools log level. */
  processEnv?: Record<string, string>;
  /**
   * Also put every table and queue variable in this process's environment, for test code and
   * tools that use the stores as an operator would. Handlers still see only their own at import.
   */
  exposeResources?: boolean;
  /** Start the stream and queue pumps (the event source mappings); default true. */
  pumps?: boolean;
  /** Shortens the delivery queues' visibility timeout, so Lambda-style redelivery after a crash is quick. */
  visibilitySeconds?: number;
  /** Remembers the stream position across restarts (--persist). */
  checkpointFile?: string;
  /** Runs after provisioning and before the pumps start (e.g. re-queue persisted deliveries). */
  beforePumps?: (pipeline: Pick<Pipeline, 'dynamoClient' | 'sqsClient' | 'tables' | 'queues'>) => Promise<void>;
  wrapFanOut?: (real: Handler<DynamoDBStreamEvent>) => Handler<DynamoDBStreamEvent>;
  /** Wraps each queue consumer (deliverWebhooks, deliverNotifications). */
  wrapDelivery?: (real: Handler<SQSEvent>) => Handler<SQSEvent>;
  onError?: (source: 'stream pump' | 'queue pump', error: unknown) => void;
}

export interface Pipeline {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** DynamoDB Local's java process. */
  dynamoProcess: () => DynamoDbLocal['process'];
  dynamoClient: DynamoDBClient;
  sqsClient: SQSClient;
  tables: TableNames;
  queues: QueueUrls;
  /** Each function's own variables, as the stack gives them. */
  environments: FunctionEnvironments;
  /** Stops DynamoDB Local (data kept when dbPath was given) and starts it again on the same port after `downMs`. */
  restartDynamo(downMs: number): Promise<void>;
  /** Stops the pumps, the emulators and the clients, and restores the process environment. */
  stop(): Promise<void>;
}

/**
 * The pipeline in this process, built from the definition: DynamoDB Local and the SQS emulator,
 * the tables and queues, each handler loaded with only its own environment, and the event source
 * mappings (the drafts stream into the fan-out, each delivery queue into its worker) as pumps. The
 * dev runtime, the fault tests and the benchmarks all start it here.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const savedEnv = { ...process.env };
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  try {
    const port = await freePort();
    let dynamo = await startDynamoDbLocal({ port, dbPath: options.dbPath });
    stops.push(() => dynamo.stop());
    const sqs = await startLocalSqs();
    stops.push(sqs.stop);
    const dynamoClient = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
    const sqsClient = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
    stops.push(async () => {
      dynamoClient.destroy();
      sqsClient.destroy();
    });
    const tables = await provisionTables(dynamoClient, options.resourcePrefix);
    const queues = await provisionQueues(sqsClient, options.resourcePrefix);
    if (options.visibilitySeconds !== undefined) {
      for (const consumer of queueConsumers) {
        await sqsClient.send(
          new SetQueueAttributesCommand({ QueueUrl: queues[consumer.queue], Attributes: { VisibilityTimeout: String(options.visibilitySeconds) } }),
        );
      }
    }

    const resources = { dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, tables, queues };
    // Handlers read their configuration at import, exactly as in Lambda: the common part is
    // process-wide, the rest each handler gets for itself (loadHandler).
    Object.assign(process.env, localCommonEnv(resources), options.processEnv, options.exposeResources ? allResourceVariables(resources) : {});
    const environments = localFunctionEnvironments(resources, localSettingValues(options.settings));
    useFunctionEnvironments(environments, perFunctionVariables());
    stops.push(async () => {
      useFunctionEnvironments(undefined);
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
    });

    await options.beforePumps?.({ dynamoClient, sqsClient, tables, queues });
    if (options.pumps ?? true) {
      const fanOut = await loadHandler<Handler<DynamoDBStreamEvent>>(streamConsumer.function);
      const streamPump = startStreamPump({
        dynamodbEndpoint: dynamo.endpoint,
        streamArn: await streamArn(dynamoClient, tables[streamConsumer.table]),
        handler: options.wrapFanOut ? options.wrapFanOut(fanOut) : fanOut,
        context: () => lambdaContext(streamConsumer.function),
        failures: { client: sqsClient, queueUrl: queues[streamConsumer.onFailure] },
        checkpointFile: options.checkpointFile,
        onError: (error) => options.onError?.('stream pump', error),
      });
      stops.push(streamPump.stop);
      // One pump per queue → function mapping of the definition (webhooks, notifications), as Lambda has one event source each.
      for (const consumer of queueConsumers) {
        const deliver = await loadHandler<Handler<SQSEvent>>(consumer.function);
        const { Attributes } = await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: queues[consumer.queue], AttributeNames: ['QueueArn'] }));
        const queuePump = startQueuePump({
          consumer,
          client: sqsClient,
          queueUrl: queues[consumer.queue],
          queueArn: Attributes!.QueueArn!,
          handler: options.wrapDelivery ? options.wrapDelivery(deliver) : deliver,
          context: () => lambdaContext(consumer.function),
          onError: (error) => options.onError?.('queue pump', error),
        });
        stops.push(queuePump.stop);
      }
    }

    return {
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      dynamoProcess: () => dynamo.process,
      dynamoClient,
      sqsClient,
      tables,
      queues,
      environments,
      async restartDynamo(downMs: number) {
        await dynamo.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        dynamo = await startDynamoDbLocal({ port, dbPath: options.dbPath });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
