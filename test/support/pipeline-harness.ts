import type { Context, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { startPipeline as startLocalPipeline } from '../../infra/local/pipeline.js';

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
 * The delivery pipeline in this process, started as the dev runtime starts it (infra/local/pipeline.ts:
 * DynamoDB Local, the SQS emulator, the stream and queue pumps, the real handler modules, each
 * with only its own environment), with hooks to inject faults. The test process itself sees
 * every table and queue, to use the stores directly.
 */
export async function startPipeline(options: PipelineOptions = {}) {
  const errors: unknown[] = [];
  const pipeline = await startLocalPipeline({
    resourcePrefix: `chaos${Math.random().toString(36).slice(2, 8)}`,
    dbPath: options.dbPath,
    visibilitySeconds: options.visibilitySeconds,
    settings: { retryBaseSeconds: String(options.retryBaseSeconds ?? 1), webhookTimeoutMs: '2000' },
    exposeResources: true,
    wrapFanOut: options.wrapFanOut,
    wrapDelivery: options.wrapDelivery,
    onError: (_source, error) => errors.push(error),
  });
  const stores = await import('../../shared/stores.js');
  return {
    drafts: stores.draftStoreFromEnv(),
    endpoints: stores.endpointStoreFromEnv(),
    deliveryLog: stores.deliveryLogStoreFromEnv(),
    sqsClient: pipeline.sqsClient,
    queueUrls: pipeline.queues,
    errors,
    restartDynamo: pipeline.restartDynamo,
    stop: pipeline.stop,
  };
}
