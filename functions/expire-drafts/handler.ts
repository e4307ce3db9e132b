import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logRequestId } from '../../shared/log-request-id.js';
import middy from '@middy/core';
import { publicBaseUrlFromEnv } from '../../shared/config.js';
import { expireDueDrafts } from '../../shared/domain/drafts-service.js';
import { sendDueReminders } from '../../shared/notifications/reminders.js';
import { count, logger, publishMetrics, METRICS, tracer } from '../../shared/observability.js';
import { channelQueueFromEnv, deliveryStateStoreFromEnv, draftStoreFromEnv, endpointStoreFromEnv, pendingDraftsFromEnv } from '../../shared/store-factories.js';

const drafts = draftStoreFromEnv();
const pending = pendingDraftsFromEnv();
const endpoints = endpointStoreFromEnv();
const states = deliveryStateStoreFromEnv();
// Reminders go to channels only.
const queue = channelQueueFromEnv();

async function expire() {
  const expired = await expireDueDrafts(drafts);
  if (expired > 0) {
    count(METRICS.draftsExpired, expired);
    logger.info('drafts expired', { expired });
  }
  return expired;
}

async function remind() {
  const { queued, parked } = await sendDueReminders({ endpoints: () => endpoints.listAll(), pending, drafts, states, queue, baseUrl: publicBaseUrlFromEnv });
  if (queued.length > 0) logger.info('reminders queued', { reminders: queued.length, drafts: new Set(queued.map((m) => m.draftId)).size });
  if (parked.length > 0) logger.error('reminders could not be queued; recorded dead for redrive', { reminders: parked.map((m) => [m.endpointId, m.eventId]) });
  return queued.length;
}

/**
 * Scheduled every minute. Pending drafts past their expiresAt become expired (the stream then sends
 * draft.expired), and channels that asked for reminders hear about drafts still pending past their
 * threshold. Each runs even when the other fails; a failure fails the run, and a rerun repeats nothing.
 */
export const handler = middy(async () => {
  const [expired, reminded] = await Promise.allSettled([expire(), remind()]);
  for (const [what, result] of [
    ['expiry', expired],
    ['reminders', reminded],
  ] as const) {
    if (result.status === 'rejected') logger.error(`${what} sweep failed`, { error: result.reason as Error });
  }
  if (expired.status === 'rejected') throw expired.reason;
  if (reminded.status === 'rejected') throw reminded.reason;
  return { expired: expired.value, reminded: reminded.value };
})
  .use(captureLambdaHandler(tracer))
  .use(logRequestId(logger))
  .use(publishMetrics());
