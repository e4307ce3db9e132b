import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { count, logBatchSummary, logger, METRICS, milliseconds } from '../observability.js';
import { gatherOnce } from './batch-gather.js';
import { readOncePerBatch, type BreakerPolicy, type BreakerStore } from './circuit-breaker.js';
import { deliverMessage, type DeliveryDeps, type DeliveryPolicy, type DeliveryStep, type NotificationSender, type Poster } from './deliver.js';
import type { DeliveryAttempt } from './delivery-log.js';
import {
  parseDeliveryMessage,
  queueTargetOf,
  type DeadLetterQueue,
  type DeliveryMessage,
  type DeliveryQueue,
  type DeliveryTarget,
  type RetryLater as RetryLaterChange,
  type RetryQueue,
} from './delivery-message.js';
import { readStatesOncePerBatch, type DeliveryStateStore } from './delivery-state.js';
import type { HealthOutcome, HealthRecord } from './endpoint-health.js';
import { disableEndpoint, type EndpointStore, type WebhookEndpoint } from './endpoints.js';
import type { WebhookEvent } from './events.js';
import {
  announcesToSubscribers,
  deliveryExhaustedEvent,
  emitOperationalEvent,
  endpointDisabledEvent,
  type EmitResult,
  type OperatorNotifier,
} from './operational-events.js';

/** What a delivery worker works with: its stores and queues (built once per process by the handler), and its last step. */
interface DeliveryWorkerDeps {
  endpoints: EndpointStore;
  deliveryLog: { record(entries: DeliveryAttempt[]): Promise<void> };
  states: DeliveryStateStore;
  health: { recordAll(endpointId: string, outcomes: HealthOutcome[]): Promise<HealthRecord | undefined> };
  /** Sends to each message's own queue (fresh copies, operational events to subscribers, forwards). */
  queue: DeliveryQueue;
  /** The backoff on the queue this worker consumes. */
  retries: RetryQueue;
  deadLetters: DeadLetterQueue;
  /** Where operator notices go (the alarm topic, or a queue to the worker that publishes them). */
  notifier: OperatorNotifier;
  /** Logs and counts what an operational event reached (shared/stores.ts). */
  reportOperationalEvent: (event: WebhookEvent, result: EmitResult) => void;
  policy: DeliveryPolicy;
  post: Poster;
  sendNotification?: NotificationSender;
  /** The endpoints this worker delivers to (targetOf); the others' messages are forwarded to their queue, and this is its queue. */
  target: DeliveryTarget;
  breaker: { store: BreakerStore; policy: BreakerPolicy; onError?: (error: unknown) => void };
  backstopReceives: number;
}

/** Thrown to report a message as failed after its visibility (backoff) was set. */
class RetryLater extends Error {}

/**
 * A delivery queue's worker (webhooks and channels each have one, with their own last step).
 * Messages are independent: each succeeds, or is reported as a batch item failure with its
 * visibility timeout set to the backoff delay, so one failing endpoint never holds up or repeats
 * deliveries to the others. Each delivery counts its own attempts (its state item); after the last
 * one the worker moves the message to the DLQ and acknowledges it. Log writes and visibility
 * changes are batched per invocation.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { endpoints, deliveryLog, states, queue, deadLetters, notifier, post, policy, reportOperationalEvent } = deps;
  /**
   * One health update for all of a batch's attempts to an endpoint. Health is bookkeeping: a failure
   * to record it is logged, never a reason to POST the webhook again.
   */
  const recordHealth = (endpointId: string, outcomes: HealthOutcome[]): Promise<HealthRecord | undefined> =>
    deps.health.recordAll(endpointId, outcomes).catch((error: unknown) => {
      logger.error('endpoint health not recorded', { endpointId, attempts: outcomes.length, error: error as Error });
      return undefined;
    });

  return async (event, context) => {
    // One processor per invocation: its prepare() clears the failures it collects.
    const processor = new BatchProcessor(EventType.SQS);
    // Per invocation only: a rotated secret signs the next batch, a URL change or a disable applies to it.
    const endpointCache = new Map<string, Promise<WebhookEndpoint | undefined>>();
    const endpointFor = (id: string) => {
      let found = endpointCache.get(id);
      if (!found) endpointCache.set(id, (found = endpoints.get(id)));
      return found;
    };
    // Parsed up front, so the batch's reads all start at once instead of one after another per message.
    const messages = new Map<string, DeliveryMessage | undefined>(event.Records.map((record) => [record.messageId, parseDeliveryMessage(record.body)]));
    const parsed = [...messages.values()].filter((message): message is DeliveryMessage => message !== undefined);
    const perEndpoint = new Map<string, number>();
    for (const message of parsed) perEndpoint.set(message.endpointId, (perEndpoint.get(message.endpointId) ?? 0) + 1);
    // The batch's reads in one round trip's time: its endpoints, and in one BatchGetItem all its
    // delivery states and its endpoints' breakers (one read each per batch: its deliveries run
    // concurrently and would each read the same record). Errors surface where each is awaited.
    const batchRead = readStatesOncePerBatch(states, parsed, [...perEndpoint.keys()]);
    const batchStates = batchRead.states;
    const batchBreaker = { ...deps.breaker, store: readOncePerBatch(deps.breaker.store, batchRead.breakers) };
    for (const id of perEndpoint.keys()) void endpointFor(id).catch(() => undefined);
    // Health: one atomic update per endpoint per batch, once each of its deliveries attempted (or will not).
    // This relies on the records being processed concurrently (processPartialResponse's default,
    // processInParallel): processed one by one, a delivery would wait for the next one's attempt.
    const healthUpdates = new Map(
      [...perEndpoint].map(([id, expected]) => [id, gatherOnce(expected, (outcomes: HealthOutcome[]) => recordHealth(id, outcomes))]),
    );
    // Operational events (endpoint.disabled, delivery.exhausted) go out after the batch's deliveries,
    // and never fail them: what could not be sent is logged and counted.
    const announcements: Array<Promise<void>> = [];
    // Every endpoint, read once per invocation and only if an event is announced (as fan-out.ts's
    // endpointSnapshot, which is not imported: its module would bring the channels' rendering along).
    let everyEndpoint: Promise<WebhookEndpoint[]> | undefined;
    const snapshot = () => (everyEndpoint ??= endpoints.listAll());
    const announce = (event: WebhookEvent, options: { exclude?: string; subscribers?: boolean }) =>
      announcements.push(
        emitOperationalEvent(event, { endpoints: snapshot, queue, states, notifier }, options).then((result) => reportOperationalEvent(event, result)),
      );
    const disable = async (id: string, reason: 'gone' | 'failing') => {
      const disabled = await disableEndpoint(endpoints, id, reason);
      // The rest of this batch sees it disabled, so its other deliveries are held rather than posted.
      endpointCache.delete(id);
      // Only the call that disabled it announces it (others found it disabled already); never to itself.
      if (!disabled) return;
      count(METRICS.endpointsDisabled);
      logger.warn('endpoint disabled', { endpointId: id, reason });
      announce(endpointDisabledEvent(disabled), { exclude: id });
    };
    // The summary's counts of the batch's attempts (the attempts themselves go to the log).
    const tally = { delivered: 0, failed: 0 };
    // The delivery log: one write for the batch, started as soon as every message's attempt is final
    // (before their states are written, so it overlaps those writes instead of following the last).
    // Deliveries already happened; a lost log line must not make them repeat.
    const log = gatherOnce(parsed.length, (entries: DeliveryAttempt[]) =>
      deliveryLog.record(entries).catch((error: unknown) => logger.error('delivery log write failed', { error: error as Error, attempts: entries.length })),
    );
    const retries: RetryLaterChange[] = [];
    let deferred = 0;
    let errors = 0;

    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const message = messages.get(record.messageId);
      if (!message) {
        // Not ours or corrupt: it can never be delivered, so keep it out of the retry loop.
        logger.error('unreadable delivery message dropped', { messageId: record.messageId });
        return;
      }
      const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
      const healthShare = healthUpdates.get(message.endpointId)!.participant();
      const logShare = log.participant();
      let step: DeliveryStep;
      try {
        const stepDeps: DeliveryDeps = {
          post,
          policy,
          states: batchStates,
          endpointFor,
          disableEndpoint: disable,
          target: deps.target,
          recordHealth: (_endpointId, outcome) => healthShare.give(outcome),
          recordAttempt: (attempt) => {
            tally[attempt.outcome === 'succeeded' ? 'delivered' : 'failed']++;
            void logShare.give(attempt);
          },
          breaker: batchBreaker,
          backstopReceives: deps.backstopReceives,
          ...(deps.sendNotification ? { sendNotification: deps.sendNotification } : {}),
        };
        step = await deliverMessage(message, receiveCount, stepDeps);
      } finally {
        // Attempted or not, the endpoint's health update and the log write no longer wait for this message.
        healthShare.done();
        logShare.done();
      }
      const keys = { eventId: message.eventId, draftId: message.draftId, endpointId: message.endpointId, redrives: message.redrives, receiveCount };
      switch (step.kind) {
        case 'dropped':
          logger.warn('endpoint no longer exists; delivery dropped', keys);
          return;
        case 'misrouted':
          if (queueTargetOf(step.forward) === deps.target) {
            // Back onto this worker's own queue would be a loop with no receive count to end it: dropped instead.
            count(METRICS.deliveriesDead);
            logger.error('delivery forwarded to its own queue; dropped', { ...keys, target: deps.target });
            return;
          }
          // Its own worker takes it from here; if the send fails the copy comes back and is forwarded again.
          await queue.send([step.forward]);
          logger.debug('delivery for the other kind of target; forwarded to its queue', { ...keys, target: step.forward.target ?? 'endpoint' });
          return;
        case 'skipped':
          logger.debug('delivery already settled; copy acknowledged', { ...keys, reason: step.reason });
          return;
        case 'superseded':
          logger.warn('another copy recorded this attempt first; copy acknowledged', { ...keys, attempt: step.attempt.attempt });
          return;
        case 'deferred': {
          // The endpoint's breaker is open: no POST, no attempt; back when a probe may go.
          deferred++;
          if (step.requeue) {
            // Received so often that SQS would dead-letter it for that alone: a fresh copy replaces it.
            await queue.send([message]);
            logger.debug('circuit open; delivery re-queued', { ...keys });
            return;
          }
          retries.push({ receiptHandle: record.receiptHandle, delaySeconds: step.delaySeconds });
          logger.debug('circuit open; delivery deferred', { ...keys, deferSeconds: step.delaySeconds });
          throw new RetryLater('circuit open');
        }
        case 'held':
          logger.warn('endpoint disabled; delivery held for a redrive', keys);
          return;
        case 'not-due':
          // A duplicate copy ahead of its retry: hidden until the attempt is due, when it may go (once).
          retries.push({ receiptHandle: record.receiptHandle, delaySeconds: step.delaySeconds });
          logger.debug('copy received before its retry is due; hidden until then', { ...keys, dueInSeconds: step.delaySeconds });
          throw new RetryLater('not due');
        case 'delivered':
          count(METRICS.deliveriesSucceeded);
          milliseconds(METRICS.deliveryDuration, step.attempt.durationMs);
          milliseconds(METRICS.deliveryLag, Date.now() - Number(record.attributes.SentTimestamp));
          logger.debug('webhook delivered', {
            ...keys,
            attempt: step.attempt.attempt,
            httpStatus: step.attempt.httpStatus,
            durationMs: step.attempt.durationMs,
          });
          return;
        case 'retry':
          count(METRICS.deliveriesFailed);
          retries.push({ receiptHandle: record.receiptHandle, delaySeconds: step.delaySeconds });
          logger.warn('webhook attempt failed; will retry', {
            ...keys,
            attempt: step.attempt.attempt,
            error: step.attempt.error,
            retryInSeconds: step.delaySeconds,
          });
          throw new RetryLater(step.attempt.error ?? 'failed');
        case 'dead':
          if (step.attempt) {
            count(METRICS.deliveriesFailed);
            count(METRICS.deliveriesDead);
            logger.error('webhook delivery dead', { ...keys, attempt: step.attempt.attempt, error: step.attempt.error, reason: step.reason });
          }
          // A dead delivery of an operational event is told to the operator only: no cascade.
          if (step.exhausted) announce(deliveryExhaustedEvent(step.exhausted), { subscribers: announcesToSubscribers(step.exhausted.message) });
          // Into the DLQ (the alarm's signal), then acknowledged so the ESM deletes it from this queue.
          // If the send fails the message stays failed and comes back; its state still says dead, so
          // the next receive only repeats this send.
          await deadLetters.send([{ message, reason: step.reason }]);
          return;
      }
    };

    const response = await processPartialResponse(
      event,
      (record: SQSRecord) =>
        handleRecord(record).catch((error: unknown) => {
          // A backoff is reported through its own line above; anything else (a state that could not be read
          // or written, a forward or dead-letter send that failed) returns after the visibility timeout and
          // may POST again, so it is logged here with the message's keys and its cause.
          if (!(error instanceof RetryLater)) {
            errors++;
            const message = messages.get(record.messageId);
            logger.error('delivery message not settled; it returns after the visibility timeout', {
              messageId: record.messageId,
              ...(message ? { eventId: message.eventId, draftId: message.draftId, endpointId: message.endpointId } : {}),
              receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
              error: error as Error,
            });
          }
          throw error;
        }),
      processor,
      { context, throwOnFullBatchFailure: false },
    );

    await Promise.all([
      deps.retries.retryLater(retries).then((unchanged) => {
        // Reported failed all the same: they come back after the queue's visibility timeout instead of the backoff.
        if (unchanged.length > 0) logger.warn('backoff not set; messages return after the visibility timeout', { messages: unchanged.length });
      }),
      log.result,
      ...announcements,
    ]);
    // The batch's one summary at INFO (on its metrics line); a message has its own line only at DEBUG, or when it failed (WARN, ERROR).
    logBatchSummary('delivery batch done', {
      messages: event.Records.length,
      delivered: tally.delivered,
      // Failed attempts and messages that threw: either puts the summary on its own line with the request id.
      failed: tally.failed + errors,
      errors,
      deferred,
      returning: response.batchItemFailures.length,
    });
    return response;
  };
}
