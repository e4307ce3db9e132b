import { pageHandler, pageProblem, redirect, type SignedInPageRequest } from '../../shared/pages/page-handler.js';
import type { SettingsState } from '../../shared/pages/settings-views.js';
import { apiKeyStoreFromEnv, sessionStoreFromEnv } from '../../shared/auth-store-factories.js';
import { deadDeliveriesFromEnv, deliveryLogStoreFromEnv, deliveryQueueFromEnv, endpointHealthStoreFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';
import { redriveEndpoint, sendTestEvent } from '../../shared/webhooks/endpoint-actions.js';
import { renderSettings } from '../../shared/webhooks/endpoint-pages.js';
import { sendTestEventSchema } from '../../shared/webhooks/events.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';

// The settings page's two forms that put messages on the delivery queues (Test, Redrive), apart from
// webhookSettingsPages so that the page and its other forms bundle no SQS client and may not touch the queues.
const endpoints = endpointStoreFromEnv();
const deliveries = deliveryLogStoreFromEnv();
const health = endpointHealthStoreFromEnv();
const queue = deliveryQueueFromEnv();
const deadDeliveries = deadDeliveriesFromEnv();
const sessions = sessionStoreFromEnv();
// Every page request re-checks the key behind the session, so a revoked admin is signed out at once.
const keys = apiKeyStoreFromEnv();

/** A refused form shows the settings page with the error, as webhookSettingsPages does for its own forms. */
const render = (request: SignedInPageRequest, status: number, state: SettingsState) =>
  renderSettings({ endpoints, deliveries, health }, request, status, state);

const endpointId = (request: SignedInPageRequest) => pathParameter(request.event, 'id');

export const handler = pageHandler(
  'webhookSettingsQueueActions',
  { sessions, keys },
  {
    'POST /settings/webhooks/{id}/test': async (request) => {
      try {
        // "Test Webhook" posts no event (the default draft.rejected); the sample-approval form names draft.approved.
        const input = parseOrThrow(sendTestEventSchema, { event: request.form.get('event') || undefined });
        // The sample is executed by the documentation's receivers: never without the ticked box, even if a client skips `required`.
        if (input.event === 'draft.approved' && request.form.get('confirm') !== 'yes') {
          return render(request, 400, { error: 'Tick “Yes, my receiver will execute it” to send a sample approval.' });
        }
        const sent = await sendTestEvent(endpoints, queue, endpointId(request), input);
        const notice = sent.eventType === 'draft.approved' ? 'sample-sent' : sent.eventType === 'draft.created' ? 'channel-test-sent' : 'test-sent';
        return redirect(`/settings/webhooks?notice=${notice}#${sent.endpointId}`);
      } catch (error) {
        // A missing endpoint is the pipeline's own "Cannot do that" page, not the settings list.
        const problem = pageProblem(error);
        if (!problem || problem.status === 404) throw error;
        return render(request, problem.status, { error: problem.message });
      }
    },
    'POST /settings/webhooks/{id}/redrive': async (request) => {
      const { endpointId: id, redriven, complete } = await redriveEndpoint(endpoints, deadDeliveries, queue, endpointId(request));
      return redirect(`/settings/webhooks?notice=${complete ? 'redriven' : 'redriven-more'}&n=${redriven}#${id}`);
    },
  },
);
