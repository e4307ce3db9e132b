import { FLASH_TTL_SECONDS } from '../../shared/domain/sessions.js';
import { endpointWithHealth } from '../../shared/webhooks/endpoint-health.js';
import { page, pageHandler, pageProblem, redirect, type SignedInPageRequest } from '../../shared/pages/page-handler.js';
import { settingsPage, type SettingsState } from '../../shared/pages/settings-views.js';
import {
  apiKeyStoreFromEnv,
  deadDeliveriesFromEnv,
  deliveryLogStoreFromEnv,
  deliveryQueueFromEnv,
  endpointStoreFromEnv,
  endpointHealthStoreFromEnv,
  sessionStoreFromEnv,
} from '../../shared/stores.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { redriveEndpoint, sendTestEvent } from '../../shared/webhooks/endpoint-actions.js';
import { createEndpoint, createEndpointSchema, deleteEndpoint, rotateSecret } from '../../shared/webhooks/endpoints.js';
import { sendTestEventSchema } from '../../shared/webhooks/events.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';

const health = endpointHealthStoreFromEnv();
const endpoints = endpointStoreFromEnv();
const deliveries = deliveryLogStoreFromEnv();
const queue = deliveryQueueFromEnv();
const deadDeliveries = deadDeliveriesFromEnv();
const sessions = sessionStoreFromEnv();
// Every page request re-checks the key behind the session, so a revoked admin is signed out at once.
const keys = apiKeyStoreFromEnv();
const policy = urlPolicyFromEnv();

/** Fixed notice texts by code: nothing from the query string is echoed into the page. */
const NOTICES: Record<string, (n: number) => string> = {
  'test-sent': () =>
    'Test event queued: a draft.rejected marked "test": true, which receivers only log. Its delivery appears below within a few seconds (reload).',
  'sample-sent': () =>
    'Sample draft.approved queued: receivers built from the documentation execute it. Its delivery appears below within a few seconds (reload).',
  redriven: (n) => `${n} dead ${n === 1 ? 'delivery' : 'deliveries'} sent out again.`,
  // Redrive is bounded per request; the rest wait for the next press.
  'redriven-more': (n) => `${n} dead deliveries sent out again; more are left: press Redrive again.`,
  deleted: () => 'Endpoint deleted.',
  added: () => 'Endpoint added.',
  rotated: () => 'Secret rotated.',
};

/** Shows a new secret once, on the page the browser is redirected to, so a reload never repeats the POST. */
async function revealAfterRedirect(request: SignedInPageRequest, endpointId: string, secret: string, note: string, notice: string) {
  await sessions.setFlash(request.session.id, { endpointId, secret, note }, Math.floor(Date.now() / 1000) + FLASH_TTL_SECONDS);
  return redirect(`/settings/webhooks?notice=${notice}#${endpointId}`);
}

async function render(request: SignedInPageRequest, status: number, state: SettingsState) {
  const all = await endpoints.listAll();
  const withLog = await Promise.all(
    all.map(async (endpoint) => ({ endpoint, attempts: (await deliveries.list(endpoint.id, 10)).items, health: await endpointWithHealth(health, endpoint) })),
  );
  return page(status, 'Webhooks', settingsPage(request.viewer, withLog, state), request.viewer);
}

const endpointId = (request: SignedInPageRequest) => pathParameter(request.event, 'id');

export const handler = pageHandler(
  'webhookSettingsPages',
  { sessions, keys },
  {
    'GET /settings/webhooks': async (request) => {
      const code = request.query.get('notice') ?? '';
      const count = Number.parseInt(request.query.get('n') ?? '0', 10) || 0;
      const flash = await sessions.takeFlash(request.session.id, new Date());
      return render(request, 200, { notice: NOTICES[code]?.(count), revealed: flash });
    },
    'POST /settings/webhooks': async (request) => {
      const form = { url: request.form.get('url') ?? '', description: request.form.get('description') ?? '', events: request.form.getAll('events') };
      try {
        const input = parseOrThrow(createEndpointSchema, { url: form.url, description: form.description || undefined, events: form.events });
        const created = await createEndpoint(endpoints, input, policy);
        return revealAfterRedirect(request, created.id, created.secret, 'Signing secret — copy it now; it is not shown again:', 'added');
      } catch (error) {
        const problem = pageProblem(error);
        if (!problem) throw error;
        return render(request, problem.status, { error: problem.message, form });
      }
    },
    'POST /settings/webhooks/{id}/test': async (request) => {
      try {
        // "Test Webhook" posts no event (the default draft.rejected); the sample-approval form names draft.approved.
        const input = parseOrThrow(sendTestEventSchema, { event: request.form.get('event') || undefined });
        // The sample is executed by the documentation's receivers: never without the ticked box, even if a client skips `required`.
        if (input.event === 'draft.approved' && request.form.get('confirm') !== 'yes') {
          return render(request, 400, { error: 'Tick “Yes, my receiver will execute it” to send a sample approval.' });
        }
        const sent = await sendTestEvent(endpoints, queue, endpointId(request), input);
        return redirect(`/settings/webhooks?notice=${sent.eventType === 'draft.approved' ? 'sample-sent' : 'test-sent'}#${sent.endpointId}`);
      } catch (error) {
        // A missing endpoint is the pipeline's own "Cannot do that" page, not the settings list.
        const problem = pageProblem(error);
        if (!problem || problem.status === 404) throw error;
        return render(request, problem.status, { error: problem.message });
      }
    },
    'POST /settings/webhooks/{id}/rotate-secret': async (request) => {
      const rotated = await rotateSecret(endpoints, endpointId(request));
      return revealAfterRedirect(
        request,
        rotated.id,
        rotated.secret,
        'New signing secret — copy it now. The previous one keeps signing for 24 hours:',
        'rotated',
      );
    },
    'POST /settings/webhooks/{id}/redrive': async (request) => {
      const { endpointId: id, redriven, complete } = await redriveEndpoint(endpoints, deadDeliveries, queue, endpointId(request));
      return redirect(`/settings/webhooks?notice=${complete ? 'redriven' : 'redriven-more'}&n=${redriven}#${id}`);
    },
    'POST /settings/webhooks/{id}/delete': async (request) => {
      if (request.form.get('confirm') !== 'yes') {
        return render(request, 400, { error: 'Tick “Yes, delete it” to delete an endpoint.' });
      }
      await deleteEndpoint(endpoints, endpointId(request));
      return redirect('/settings/webhooks?notice=deleted');
    },
  },
);
