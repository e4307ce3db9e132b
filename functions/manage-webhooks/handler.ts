import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';
import { apiHandler } from '../../shared/http/api-handler.js';
import { pageQuerySchema } from '../../shared/http/query.js';
import { json } from '../../shared/http/responses.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
// store-factories, not stores.js: test sends and redrive (the queues, operational events) are webhookQueueActions'.
import { deliveryLogStoreFromEnv, endpointHealthStoreFromEnv, endpointStoreFromEnv } from '../../shared/store-factories.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { createChannel, createChannelSchema, updateChannel, updateChannelSchema } from '../../shared/notifications/channel-settings.js';
import { isChannel } from '../../shared/notifications/channels.js';
import { endpointWithHealth } from '../../shared/webhooks/endpoint-health.js';
import {
  createEndpoint,
  createEndpointSchema,
  deleteEndpoint,
  getEndpoint,
  publicEndpoint,
  rotateSecret,
  updateEndpoint,
  updateEndpointSchema,
} from '../../shared/webhooks/endpoints.js';

const endpoints = endpointStoreFromEnv();
const deliveries = deliveryLogStoreFromEnv();
const policy = urlPolicyFromEnv();
const health = endpointHealthStoreFromEnv();

export const handler = apiHandler(
  'manageWebhooks',
  { keys: apiKeyStoreFromEnv() },
  {
    'POST /v1/webhooks': async (event) => json(201, await createEndpoint(endpoints, parseOrThrow(createEndpointSchema, event.jsonBody), policy)),
    'POST /v1/notifications': async (event) => json(201, await createChannel(endpoints, parseOrThrow(createChannelSchema, event.jsonBody), policy)),
    'GET /v1/webhooks': async () => json(200, { items: (await endpoints.listAll()).map((e) => publicEndpoint(e)) }),
    'GET /v1/webhooks/{id}': async (event) => {
      const endpoint = await getEndpoint(endpoints, pathParameter(event, 'id'));
      return json(200, { ...publicEndpoint(endpoint), health: await endpointWithHealth(health, endpoint) });
    },
    'PATCH /v1/webhooks/{id}': async (event) => {
      const id = pathParameter(event, 'id');
      // A channel has its own settings (filter, remindAfterMinutes; channel events only); updateChannel is conditional on the version it read.
      if (isChannel(await getEndpoint(endpoints, id))) return json(200, await updateChannel(endpoints, id, parseOrThrow(updateChannelSchema, event.jsonBody)));
      return json(200, await updateEndpoint(endpoints, id, parseOrThrow(updateEndpointSchema, event.jsonBody), policy));
    },
    'DELETE /v1/webhooks/{id}': async (event) => {
      await deleteEndpoint(endpoints, pathParameter(event, 'id'));
      return json(200, { id: pathParameter(event, 'id'), deleted: true });
    },
    'GET /v1/webhooks/{id}/deliveries': async (event) => {
      const endpoint = await getEndpoint(endpoints, pathParameter(event, 'id'));
      const query = parseOrThrow(pageQuerySchema, event.queryStringParameters ?? {});
      const page = await deliveries.list(endpoint.id, query.limit ?? 50, query.cursor);
      return json(200, { items: page.items, nextCursor: page.nextCursor ?? null });
    },
    'POST /v1/webhooks/{id}/rotate-secret': async (event) => json(200, await rotateSecret(endpoints, pathParameter(event, 'id'))),
  },
);
