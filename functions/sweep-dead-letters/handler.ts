import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logRequestId } from '../../shared/log-request-id.js';
import { count, logger, publishMetrics, METRICS, tracer } from '../../shared/observability.js';
import { deadDeliveriesFromEnv } from '../../shared/stores.js';
import { sweepDeadLetters } from '../../shared/webhooks/redrive.js';

// The same dead deliveries a redrive sweeps with: what is found dead is announced, dead-lettered notices are re-sent.
const dead = deadDeliveriesFromEnv();

/**
 * Scheduled (infra/app-definition.ts): one bounded pass of the DLQ sweep, so a delivery SQS
 * dead-lettered on its own is recorded dead and announced, and a dead-lettered operator notice is
 * sent again, without waiting for someone to redrive. Safe beside a redrive's sweep and another
 * run: every change it makes is conditional. A failure fails the run, so the platform retries it.
 */
export const handler = middy(async () => {
  const swept = await sweepDeadLetters(dead);
  if (swept.markedDead > 0) count(METRICS.deliveriesDead, swept.markedDead);
  if (swept.deleted > 0 || swept.markedDead > 0 || swept.noticesRequeued > 0) logger.info('dead letters swept', swept);
  return swept;
})
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
