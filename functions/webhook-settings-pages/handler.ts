import * as z from 'zod/mini';
import '../../shared/domain/zod-config.js';
import { FLASH_TTL_SECONDS, type Flash } from '../../shared/domain/sessions.js';
import { renderSettings } from '../../shared/webhooks/endpoint-pages.js';
import { pageHandler, pageProblem, redirect, type SignedInPageRequest } from '../../shared/pages/page-handler.js';
import type { ChannelForm, SettingsState } from '../../shared/pages/settings-views.js';
import { createChannel, createChannelSchema, updateChannel, updateChannelSchema } from '../../shared/notifications/channel-settings.js';
import { isChannel } from '../../shared/notifications/channels.js';
import { apiKeyStoreFromEnv, sessionStoreFromEnv } from '../../shared/auth-store-factories.js';
// store-factories, not stores.js: the test and redrive forms (the queues, operational events) are webhookSettingsQueueActions'.
import { deliveryLogStoreFromEnv, endpointStoreFromEnv, endpointHealthStoreFromEnv } from '../../shared/store-factories.js';
import { urlPolicyFromEnv } from '../../shared/webhooks/address-guard.js';
import { createEndpoint, createEndpointSchema, deleteEndpoint, getEndpoint, rotateSecret, updateEndpoint } from '../../shared/webhooks/endpoints.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { pathParameter } from '../../shared/http/api-event.js';

const health = endpointHealthStoreFromEnv();
const endpoints = endpointStoreFromEnv();
const deliveries = deliveryLogStoreFromEnv();
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
  'channel-added': () => 'Notification channel added.',
  'channel-deleted': () => 'Notification channel deleted.',
  'channel-test-sent': () =>
    'Test notification queued: a sample waiting draft marked as a test, rendered as the channel renders real ones. Its delivery appears below within a few seconds (reload).',
  enabled: () => 'Enabled: it receives new events again (redrive to send what it missed).',
  disabled: () => 'Disabled: it receives nothing until enabled again; its queued retries are parked as dead.',
  'reminder-saved': () => 'Reminder setting saved.',
  'recipients-saved': () => 'Recipients saved. An address taken off no longer gets notifications, and its links no longer work.',
  added: () => 'Endpoint added.',
  rotated: () => 'Secret rotated.',
};

/** Shows a new secret once, on the page the browser is redirected to, so a reload never repeats the POST. */
async function revealAfterRedirect(request: SignedInPageRequest, endpointId: string, note: string, notice: string) {
  await sessions.setFlash(request.session.id, { endpointId, note }, Math.floor(Date.now() / 1000) + FLASH_TTL_SECONDS);
  // The redirect names the endpoint, so this tab's page takes its own flash and no other tab's.
  return redirect(`/settings/webhooks?notice=${notice}&endpoint=${endpointId}#${endpointId}`);
}

/** The `endpoint` a reveal redirect names; anything else (absent, malformed) takes no flash. */
const revealedEndpointSchema = z.string().check(z.regex(/^ep_[a-z0-9]{1,40}$/));

/**
 * The flashed endpoint with its signing secret as it is now, read when the page is shown: the
 * secret a racing rotation generated may already be rotated out, and a receiver set up with it
 * would break when its grace ends. A deleted endpoint shows nothing.
 */
async function currentSecrets(flashes: Flash[]) {
  const shown = await Promise.all(
    flashes.map(async (flash) => {
      const secret = (await endpoints.get(flash.endpointId))?.secrets[0]?.value;
      return secret === undefined ? [] : [{ ...flash, secret }];
    }),
  );
  return shown.flat();
}

const render = (request: SignedInPageRequest, status: number, state: SettingsState) =>
  renderSettings({ endpoints, deliveries, health }, request, status, state);

const endpointId = (request: SignedInPageRequest) => pathParameter(request.event, 'id');

/** The add-channel form as posted; only the fields of its kind are read. */
function channelForm(request: SignedInPageRequest): ChannelForm {
  const field = (name: string) => request.form.get(name) ?? '';
  return {
    kind: field('kind') === 'email' ? 'email' : 'slack',
    url: field('url'),
    recipients: field('recipients'),
    description: field('description'),
    events: request.form.getAll('events'),
    filterKey: field('filterKey').trim(),
    filterValue: field('filterValue'),
    remindAfterMinutes: field('remindAfterMinutes').trim(),
  };
}

/** Recipients as typed: separated by commas, semicolons, spaces or lines. */
const recipientList = (text: string): string[] => text.split(/[\s,;]+/).filter((r) => r !== '');

/** A number field: empty means "not set"; anything else goes to the schema as a number (NaN is refused there by name). */
const minutesField = (value: string): number | undefined => (value === '' ? undefined : Number(value));

function channelInput(request: SignedInPageRequest, form: ChannelForm) {
  return {
    // Anything but the two kinds is refused by the schema, naming the field.
    kind: request.form.get('kind') ?? '',
    ...(form.kind === 'email' ? { recipients: recipientList(form.recipients) } : { url: form.url }),
    description: form.description || undefined,
    events: form.events,
    ...(form.filterKey !== '' || form.filterValue !== '' ? { filter: { [form.filterKey]: form.filterValue } } : {}),
    remindAfterMinutes: minutesField(form.remindAfterMinutes),
  };
}

export const handler = pageHandler(
  'webhookSettingsPages',
  { sessions, keys },
  {
    'GET /settings/webhooks': async (request) => {
      const code = request.query.get('notice') ?? '';
      const count = Number.parseInt(request.query.get('n') ?? '0', 10) || 0;
      const endpoint = revealedEndpointSchema.safeParse(request.query.get('endpoint'));
      const flash = endpoint.success ? await sessions.takeFlash(request.session.id, endpoint.data, new Date()) : undefined;
      return render(request, 200, { notice: NOTICES[code]?.(count), revealed: await currentSecrets(flash ? [flash] : []) });
    },
    'POST /settings/webhooks': async (request) => {
      const form = { url: request.form.get('url') ?? '', description: request.form.get('description') ?? '', events: request.form.getAll('events') };
      try {
        const input = parseOrThrow(createEndpointSchema, { url: form.url, description: form.description || undefined, events: form.events });
        const created = await createEndpoint(endpoints, input, policy);
        return revealAfterRedirect(request, created.id, 'Signing secret — copy it now; it is not shown again:', 'added');
      } catch (error) {
        const problem = pageProblem(error);
        if (!problem) throw error;
        return render(request, problem.status, { error: problem.message, form });
      }
    },
    'POST /settings/webhooks/notifications': async (request) => {
      const form = channelForm(request);
      try {
        const created = await createChannel(endpoints, parseOrThrow(createChannelSchema, channelInput(request, form)), policy);
        return redirect(`/settings/webhooks?notice=channel-added#${created.id}`);
      } catch (error) {
        const problem = pageProblem(error);
        if (!problem) throw error;
        return render(request, problem.status, { error: problem.message, channelForm: form });
      }
    },
    'POST /settings/webhooks/{id}/enabled': async (request) => {
      const enabled = request.form.get('enabled');
      if (enabled !== 'true' && enabled !== 'false') return render(request, 400, { error: 'Invalid request: enabled: must be true or false' });
      // updateEndpoint is conditional on the version it read (no lost update), for channels and webhooks alike.
      const updated = await updateEndpoint(endpoints, endpointId(request), { enabled: enabled === 'true' }, policy);
      return redirect(`/settings/webhooks?notice=${updated.enabled ? 'enabled' : 'disabled'}#${updated.id}`);
    },
    'POST /settings/webhooks/{id}/reminder': async (request) => {
      try {
        const raw = (request.form.get('remindAfterMinutes') ?? '').trim();
        const patch = parseOrThrow(updateChannelSchema, { remindAfterMinutes: raw === '' ? null : Number(raw) });
        const updated = await updateChannel(endpoints, endpointId(request), patch);
        return redirect(`/settings/webhooks?notice=reminder-saved#${updated.id}`);
      } catch (error) {
        const problem = pageProblem(error);
        if (!problem || problem.status === 404) throw error;
        return render(request, problem.status, { error: problem.message });
      }
    },
    'POST /settings/webhooks/{id}/recipients': async (request) => {
      try {
        const patch = parseOrThrow(updateChannelSchema, { recipients: recipientList(request.form.get('recipients') ?? '') });
        // updateChannel is conditional on the version it read, and refuses a Slack channel naming the field.
        const updated = await updateChannel(endpoints, endpointId(request), patch);
        return redirect(`/settings/webhooks?notice=recipients-saved#${updated.id}`);
      } catch (error) {
        const problem = pageProblem(error);
        if (!problem || problem.status === 404) throw error;
        return render(request, problem.status, { error: problem.message });
      }
    },
    'POST /settings/webhooks/{id}/rotate-secret': async (request) => {
      const rotated = await rotateSecret(endpoints, endpointId(request));
      return revealAfterRedirect(request, rotated.id, 'New signing secret — copy it now. The previous one keeps signing for 24 hours:', 'rotated');
    },
    'POST /settings/webhooks/{id}/delete': async (request) => {
      if (request.form.get('confirm') !== 'yes') {
        return render(request, 400, { error: 'Tick “Yes, delete it” to delete an endpoint.' });
      }
      const channel = isChannel(await getEndpoint(endpoints, endpointId(request)));
      await deleteEndpoint(endpoints, endpointId(request));
      return redirect(`/settings/webhooks?notice=${channel ? 'channel-deleted' : 'deleted'}`);
    },
  },
);
