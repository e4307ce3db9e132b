import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { deadDeliveriesFromEnv, deliveryQueueFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';
import { redriveEndpoint, sendTestEvent } from '../../shared/webhooks/endpoint-actions.js';
import { redriveInputSchema } from '../../shared/webhooks/redrive.js';
import { sendTestEventSchema } from '../../shared/webhooks/events.js';

// The two /v1/webhooks routes that put messages on the delivery queues, apart from manageWebhooks
// so that endpoint management bundles no SQS client and may not touch the queues.
const endpoints = endpointStoreFromEnv();
const queue = deliveryQueueFromEnv();
const deadDeliveries = deadDeliveriesFromEnv();

export const handler = apiHandler(
  'webhookQueueActions',
  { keys: apiKeyStoreFromEnv() },
  {
    'POST /v1/webhooks/{id}/test': async (event) => {
      // An empty body sends the default (a draft.rejected); a draft.approved sample only when named.
      const input = parseOrThrow(sendTestEventSchema, event.jsonBody);
      const { eventId, draftId, eventType } = await sendTestEvent(endpoints, queue, pathParameter(event, 'id'), input);
      return json(202, { eventId, draftId, eventType });
    },
    'POST /v1/webhooks/{id}/redrive': async (event) => {
      const input = parseOrThrow(redriveInputSchema, event.jsonBody);
      const { redriven, complete } = await redriveEndpoint(endpoints, deadDeliveries, queue, pathParameter(event, 'id'), input);
      return json(200, { redriven, complete });
    },
  },
);
