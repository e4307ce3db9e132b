import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { expireDueDrafts } from '../../shared/domain/drafts-service.js';
import { count, logger, publishMetrics, METRICS, tracer } from '../../shared/observability.js';
import { draftStoreFromEnv } from '../../shared/stores.js';

const drafts = draftStoreFromEnv();

/** Scheduled every minute: pending drafts past their expiresAt become expired; the stream then sends draft.expired. */
export const handler = middy(async () => {
  const expired = await expireDueDrafts(drafts);
  if (expired > 0) {
    count(METRICS.draftsExpired, expired);
    logger.info('drafts expired', { expired });
  }
  return { expired };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics());
