import { page, type SignedInPageRequest } from '../pages/page-handler.js';
import { settingsPage, type SettingsState } from '../pages/settings-views.js';
import type { DeliveryLogStore } from './delivery-log.js';
import { endpointWithHealth, type EndpointHealthStore } from './endpoint-health.js';
import type { EndpointStore } from './endpoints.js';

/** What the settings page shows: every endpoint and channel, its last attempts and its health. */
interface SettingsPageStores {
  endpoints: EndpointStore;
  deliveries: DeliveryLogStore;
  health: EndpointHealthStore;
}

/**
 * The webhook settings page, with a notice or an error. Shared by the two functions that serve its
 * forms (webhookSettingsPages, and webhookSettingsQueueActions for test and redrive), so a refused
 * form shows the same page whichever function took it.
 */
export async function renderSettings(stores: SettingsPageStores, request: SignedInPageRequest, status: number, state: SettingsState) {
  const all = await stores.endpoints.listAll();
  const withLog = await Promise.all(
    all.map(async (endpoint) => ({
      endpoint,
      attempts: (await stores.deliveries.list(endpoint.id, 10)).items,
      health: await endpointWithHealth(stores.health, endpoint),
    })),
  );
  return page(status, 'Webhooks', settingsPage(request.viewer, withLog, state), request.viewer);
}
