import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logRequestId } from '../../shared/log-request-id.js';
import { count, logBatchSummary, logger, publishMetrics, METRICS, tracer } from '../../shared/observability.js';
import { publicBaseUrlFromEnv } from '../../shared/config.js';
import { decodeDraftImage, isCreatedRecord, isDecisionRecord } from '../../shared/store/drafts-stream.js';
import { deliveryLogStoreFromEnv, deliveryQueueFromEnv, deliveryStateStoreFromEnv, endpointStoreFromEnv } from '../../shared/store-factories.js';
import { coalescingQueue } from '../../shared/webhooks/coalescing-queue.js';
import { endpointSnapshot, fanOutCreated, fanOutDecision } from '../../shared/webhooks/fan-out.js';

const endpoints = endpointStoreFromEnv();
const queue = deliveryQueueFromEnv();
const states = deliveryStateStoreFromEnv();
// Where deliveries held for a disabled endpoint are logged.
const log = deliveryLogStoreFromEnv();

/** Where reviewers open a draft: PUBLIC_BASE_URL (the stack sets it to the API's URL; locally the dev runtime's). */
const reviewBaseUrl = (): string => {
  const url = publicBaseUrlFromEnv();
  if (!url) throw new Error('PUBLIC_BASE_URL is not set: draft.created needs it for reviewUrl');
  return url;
};

/**
 * Drafts stream → delivery queue. New pending drafts become draft.created for the endpoints that opted in. The event source filter passes only pending → decided (or
 * expired) updates; each becomes one message per subscribed endpoint. A record that fails is reported
 * alone, so Lambda retries from it without redoing the decisions before it.
 */
export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) => {
  // One processor per invocation: invocations may overlap in one process, and prepare() clears its failures.
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const snapshot = endpointSnapshot(endpoints);
  // The batch's records fan out at once: their new delivery states share one read for pre-sharding
  // copies, and their messages go out together in sends of 10 rather than one send per record.
  const batchStates = states.forBatch();
  const batchQueue = coalescingQueue(queue);
  // Tallies for the batch's one summary line: a line per record at INFO would cost more in log bytes than the work it reports.
  const tally = { created: 0, decisions: 0, messages: 0 };
  const response = await processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      try {
        await fanOutRecord(record);
      } catch (error) {
        // Failures are the exception worth a line each: the batch processor itself logs nothing.
        logger.error('stream record not fanned out', { eventId: record.eventID, sequenceNumber: record.dynamodb?.SequenceNumber, error: error as Error });
        throw error;
      }
    },
    processor,
    { context },
  );
  logBatchSummary('stream batch fanned out', { records: event.Records.length, ...tally, failed: response.batchItemFailures.length });
  return response;

  async function fanOutRecord(record: DynamoDBRecord): Promise<void> {
    // The event source mapping passes only these records; checked again by the same filters, so a
    // record that slips through (a filter edited on one side only) is skipped, never fanned out.
    if (isCreatedRecord(record)) {
      const created = decodeDraftImage(record.dynamodb?.NewImage);
      if (!created) return;
      const messages = await fanOutCreated(created, reviewBaseUrl, snapshot, batchQueue, batchStates, undefined, log);
      // Its own metric: WebhooksEnqueued samples count decisions handled (the DecisionsStalled alarm).
      count(METRICS.createdEventsEnqueued, messages.length);
      tally.created += 1;
      tally.messages += messages.length;
      logger.debug('draft.created fanned out', { draftId: created.id, eventId: messages[0]?.eventId, endpoints: messages.length });
      return;
    }
    if (!isDecisionRecord(record)) return;
    const draft = decodeDraftImage(record.dynamodb?.NewImage);
    if (!draft) return;
    const messages = await fanOutDecision(draft, snapshot, batchQueue, batchStates, undefined, publicBaseUrlFromEnv, log);
    count(METRICS.webhooksEnqueued, messages.length);
    tally.decisions += 1;
    tally.messages += messages.length;
    logger.debug('decision fanned out', { draftId: draft.id, eventType: messages[0]?.eventType, eventId: messages[0]?.eventId, endpoints: messages.length });
  }
})
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
