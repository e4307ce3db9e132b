import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue as StreamAttributeValue, Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { count, logger, publishMetrics, METRICS, tracer } from '../../shared/observability.js';
import { fromItem } from '../../shared/store/drafts-store.js';
import { deliveryQueueFromEnv, deliveryStateStoreFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';
import { endpointSnapshot, fanOutDecision } from '../../shared/webhooks/fan-out.js';

const endpoints = endpointStoreFromEnv();
const queue = deliveryQueueFromEnv();
const states = deliveryStateStoreFromEnv();

const image = (attributes: Record<string, StreamAttributeValue> | undefined) =>
  attributes ? unmarshall(attributes as Record<string, AttributeValue>) : undefined;

/**
 * Drafts stream → delivery queue. The event source filter passes only pending → decided (or
 * expired) updates; each becomes one message per subscribed endpoint. A record that fails is reported
 * alone, so Lambda retries from it without redoing the decisions before it.
 */
export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) => {
  // One processor per invocation: invocations may overlap in one process, and prepare() clears its failures.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const snapshot = endpointSnapshot(endpoints);
  return processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      const before = image(record.dynamodb?.OldImage);
      const after = image(record.dynamodb?.NewImage);
      if (before?.status !== 'pending' || !after || !['approved', 'rejected', 'expired'].includes(String(after.status))) return;
      const draft = fromItem(after);
      const messages = await fanOutDecision(draft, snapshot, queue, states);
      count(METRICS.webhooksEnqueued, messages.length);
      logger.info('decision fanned out', { draftId: draft.id, eventType: messages[0]?.eventType, eventId: messages[0]?.eventId, endpoints: messages.length });
    },
    processor,
    { context },
  );
}).use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics());
