import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { queueConsumer, streamConsumer } from '../../infra/app-definition.js';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import { localHandlerEnv } from '../../infra/local/handler-env.js';
import { lambdaContext } from '../../infra/local/lambda-context.js';
import { startLocalSqs } from '../../infra/local/local-sqs.js';
import { freePort } from '../../infra/local/ports.js';
import { provisionQueues, provisionTables, streamArn } from '../../infra/local/provision.js';
import { startQueuePump } from '../../infra/local/queue-pump.js';
import { startStreamPump } from '../../infra/local/stream-pump.js';

type Handler<E> = (event: E, context: Context) => Promise<any>;

export interface PipelineOptions {
  /** Keep DynamoDB Local's data on disk, so it can be restarted mid-test. */
  dbPath?: string;
  /** The delivery queue's visibility timeout, shortened so Lambda-style redelivery after a crash is quick. */
  visibilitySeconds?: number;
  retryBaseSeconds?: number;
  wrapFanOut?: (real: Handler<DynamoDBStreamEvent>) => Handler<DynamoDBStreamEvent>;
  wrapDelivery?: (real: Handler<SQSEvent>) => Handler<SQSEvent>;
}

/**
 * The delivery pipeline in this process, as the dev runtime runs it (DynamoDB Local, the SQS
 * emulator, the stream and queue pumps, the real handler modules), with hooks to inject faults.
 */
export async function startPipeline(options: PipelineOptions = {}) {
  const savedEnv = { ...process.env };
  const port = await freePort();
  let dynamo: DynamoDbLocal = await startDynamoDbLocal({ port, dbPath: options.dbPath });
  const sqs = await startLocalSqs();
  const dynamoClient = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
  const sqsClient = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  const prefix = `chaos${Math.random().toString(36).slice(2, 8)}`;
  const tableNames = await provisionTables(dynamoClient, prefix);
  const queueUrls = await provisionQueues(sqsClient, prefix);
  if (options.visibilitySeconds !== undefined) {
    await sqsClient.send(new SetQueueAttributesCommand({ QueueUrl: queueUrls.deliveries, Attributes: { VisibilityTimeout: String(options.visibilitySeconds) } }));
  }
  Object.assign(process.env, {
    ...localHandlerEnv({ dynamodbEndpoint: dynamo.endpoint, sqsEndpoint: sqs.endpoint, tables: tableNames, queues: queueUrls }),
    PROCESSA_RETRY_BASE_SECONDS: String(options.retryBaseSeconds ?? 1),
    PROCESSA_WEBHOOK_TIMEOUT_MS: '2000',
  });
  // Imported after the environment is set, as Lambda loads them.
  const fanOut = (await import('../../functions/fan-out-decisions/handler.js')).handler as unknown as Handler<DynamoDBStreamEvent>;
  const deliver = (await import('../../functions/deliver-webhooks/handler.js')).handler as unknown as Handler<SQSEvent>;
  const stores = await import('../../shared/stores.js');

  const errors: unknown[] = [];
  const streamPump = startStreamPump({
    dynamodbEndpoint: dynamo.endpoint,
    streamArn: await streamArn(dynamoClient, tableNames.drafts),
    handler: options.wrapFanOut ? options.wrapFanOut(fanOut) : fanOut,
    context: () => lambdaContext(streamConsumer.function),
    failures: { client: sqsClient, queueUrl: queueUrls[streamConsumer.onFailure] },
    onError: (e) => errors.push(e),
  });
  const { Attributes } = await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls.deliveries, AttributeNames: ['QueueArn'] }));
  const queuePump = startQueuePump({
    client: sqsClient,
    queueUrl: queueUrls[queueConsumer.queue],
    queueArn: Attributes!.QueueArn!,
    handler: options.wrapDelivery ? options.wrapDelivery(deliver) : deliver,
    context: () => lambdaContext(queueConsumer.function),
    onError: (e) => errors.push(e),
  });

  return {
    drafts: stores.draftStoreFromEnv(),
    endpoints: stores.endpointStoreFromEnv(),
    deliveryLog: stores.deliveryLogStoreFromEnv(),
    sqsClient,
    queueUrls,
    errors,
    /** Stops DynamoDB Local (data kept when dbPath was given) and starts it again on the same port after `downMs`. */
    async restartDynamo(downMs: number) {
      await dynamo.stop();
      await new Promise((r) => setTimeout(r, downMs));
      dynamo = await startDynamoDbLocal({ port, dbPath: options.dbPath });
    },
    async stop() {
      await queuePump.stop();
      await streamPump.stop();
      await sqs.stop();
      await dynamo.stop();
      dynamoClient.destroy();
      sqsClient.destroy();
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
    },
  };
}
