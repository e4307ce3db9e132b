import type { DeliveryAttempt } from '../webhooks/delivery-log.js';
import type { EndpointHealth } from '../webhooks/endpoint-health.js';
import { secretsInGrace, type WebhookEndpoint } from '../webhooks/endpoints.js';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES } from '../webhooks/events.js';
import { DEFAULT_CHANNEL_EVENTS, isChannel, MAX_REMIND_AFTER_MINUTES, remindAfterOf } from '../notifications/channels.js';
import { CHANNEL_EVENT_TYPES } from '../notifications/notification.js';
import { html, type SafeHtml } from './html.js';
import type { Viewer } from './layout.js';

export interface SettingsState {
  notice?: string;
  error?: string;
  /** Secrets shown once, right after creation or rotation (one per endpoint: two tabs may have added two). */
  revealed?: { endpointId: string; secret: string; note: string }[];
  /** The add form's values, kept when they were refused. */
  form?: { url: string; description: string; events: string[] };
  /** An add-channel form's values, kept when they were refused. */
  channelForm?: ChannelForm;
}

/** What the add-channel forms post (one form per kind); recipients are separated by commas, spaces or lines. */
export interface ChannelForm {
  kind: 'slack' | 'email';
  url: string;
  recipients: string;
  description: string;
  events: string[];
  filterKey: string;
  filterValue: string;
  remindAfterMinutes: string;
}

const deliveryRows = (attempts: DeliveryAttempt[]) =>
  attempts.map(
    (a) => html`<tr class="${a.outcome}">
      <td><span class="badge ${a.outcome}">${a.outcome}</span></td>
      <td>${a.httpStatus ?? '—'}</td><td>${a.attempt}</td>
      <td>${a.eventType}${a.test ? ' (test)' : ''}<br><span class="muted">${a.draftId ?? 'no draft'}</span></td>
      <td><time datetime="${a.attemptedAt}">${a.attemptedAt.slice(0, 10)}<br>${a.attemptedAt.slice(11, 19)} UTC</time></td>
      <td class="nowrap">${a.durationMs} ms</td><td class="wrap">${a.error ?? ''}</td></tr>`,
  );

/**
 * A sample draft.approved is an approval as far as a receiver can tell: the documentation's handlers
 * execute its content. So it is a separate control, behind a warning and a confirmation box.
 */
function sampleApproval(action: (path: string, label: string, cls?: string, extra?: SafeHtml | '') => SafeHtml): SafeHtml {
  return html`<div class="notice error" data-sample-warning>
      <strong>Sample approval:</strong> sends a test <code>draft.approved</code>. Receivers built from the documentation
      <em>execute</em> its content (their <code>executeAction</code> / <code>execute_action</code>), for example send its email.
      Send it only to a receiver that checks <code>"test": true</code> or that may act on it.
      <div class="actions">${action(
        'test',
        'Send sample approval',
        'danger',
        html`<input type="hidden" name="event" value="draft.approved"><label class="confirm"><input type="checkbox" name="confirm" value="yes" required> Yes, my receiver will execute it</label>`,
      )}</div>
    </div>`;
}

const disabledText = (endpoint: WebhookEndpoint) =>
  endpoint.disabledReason === 'gone' ? 'disabled: its receiver answered 410 Gone (enable it to resume, then redrive)' : 'disabled';
const retryText = (endpoint: WebhookEndpoint) =>
  endpoint.retry === undefined || endpoint.retry === 'standard'
    ? 'standard (4 attempts)'
    : endpoint.retry === 'extended'
      ? 'extended (8 attempts over about 27 h)'
      : `${endpoint.retry.attempts} attempts, ${endpoint.retry.baseSeconds} s doubling up to ${endpoint.retry.maxDelaySeconds} s`;

/** Rotated-out secrets still signing, each with the end time its rotation promised. */
function previousSecrets(endpoint: WebhookEndpoint): SafeHtml | '' {
  const grace = secretsInGrace(endpoint, new Date());
  if (grace.length === 0) return '';
  const ends = grace.map(
    (s, i) => html`${i > 0 ? ', ' : ''}<time datetime="${s.expiresAt}">${s.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`,
  );
  return html`<p class="muted" data-previous-secrets>${grace.length === 1 ? 'The previous secret still signs until' : `${grace.length} previous secrets still sign, until`} ${ends}.</p>`;
}

/** One line an operator can act on: state, success rate, last success and last failure, retries waiting. */
function healthLine(health: EndpointHealth): SafeHtml {
  const rate =
    health.successRate24h === null
      ? 'no attempts in 24 h'
      : `${Math.round(health.successRate24h * 1000) / 10} % of ${health.attempts24h} attempts succeeded in 24 h`;
  const when = (iso: string) => html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;
  return html`<p class="health ${health.state}" data-health="${health.state}"><strong>${health.state}</strong> · ${rate}${health.lastSuccessAt ? html` · last success ${when(health.lastSuccessAt)}` : ''}${
    health.lastFailure ? html` · last failure ${when(health.lastFailure.at)}: <span class="wrap">${health.lastFailure.error ?? ''}</span>` : ''
  }${health.failingSince ? html` · failing since ${when(health.failingSince)}` : ''} · ${health.waitingForRetry} waiting for a retry</p>`;
}

function endpointCard(viewer: Viewer, endpoint: WebhookEndpoint, attempts: DeliveryAttempt[], health: EndpointHealth, state: SettingsState): SafeHtml {
  const revealed = state.revealed?.find((r) => r.endpointId === endpoint.id);
  const action = (path: string, label: string, cls = 'secondary', extra: SafeHtml | '' = '') =>
    html`<form method="post" action="/settings/webhooks/${endpoint.id}/${path}"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">${extra}<button class="${cls}" type="submit">${label}</button></form>`;
  const dead = attempts.filter((a) => a.outcome === 'dead').length;
  const failing = attempts.filter((a) => a.outcome === 'failed').length;
  return html`<section class="card" id="${endpoint.id}">
    <h2>${endpoint.url}</h2>
    <p class="muted">${endpoint.description || 'No description'} · ${endpoint.events.join(', ')} · ${endpoint.enabled ? 'enabled' : disabledText(endpoint)} · retries: ${retryText(endpoint)} · ${endpoint.id}</p>
    ${healthLine(health)}
    ${previousSecrets(endpoint)}
    ${revealed ? html`<p class="notice" role="status">${revealed.note}<br><span class="secret" data-secret>${revealed.secret}</span></p>` : ''}
    ${dead > 0 ? html`<p class="notice error">${dead} dead ${dead === 1 ? 'delivery' : 'deliveries'} in the recent log. Fix the receiver, then redrive.</p>` : failing > 0 ? html`<p class="notice">${failing} failed ${failing === 1 ? 'attempt' : 'attempts'} recently; retries are scheduled.</p>` : ''}
    <div class="actions">${action('test', 'Test Webhook', '')}${action('rotate-secret', 'Rotate secret')}${action('redrive', 'Redrive dead deliveries')}${action('delete', 'Delete endpoint', 'danger', html`<label class="confirm"><input type="checkbox" name="confirm" value="yes" required> Yes, delete it</label>`)}</div>
    <p class="muted">“Test Webhook” sends a <code>draft.rejected</code> marked <code>"test": true</code> (draft id <code>test_…</code>): receivers built from the documentation log it and execute nothing.</p>
    ${sampleApproval(action)}
    <h2>Recent deliveries</h2>
    ${deliveryTable(attempts)}
  </section>`;
}

const deliveryTable = (attempts: DeliveryAttempt[]) =>
  attempts.length === 0
    ? html`<p class="muted">No deliveries yet.</p>`
    : html`<div class="table-wrap"><table class="deliveries"><thead><tr><th class="w-outcome">Outcome</th><th class="w-http">HTTP</th><th class="w-attempt">Attempt</th><th class="w-event">Event</th><th class="w-time">Time</th><th class="w-took">Took</th><th>Error</th></tr></thead>
        <tbody>${deliveryRows(attempts)}</tbody></table></div>`;

const channelName = (endpoint: WebhookEndpoint) =>
  endpoint.channel === 'email' ? `Email · ${(endpoint.recipients ?? []).join(', ')}` : `Slack · ${endpoint.url}`;
const filterText = (endpoint: WebhookEndpoint) =>
  endpoint.filter && Object.keys(endpoint.filter).length > 0
    ? `only ${Object.entries(endpoint.filter)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join(' and ')}`
    : 'every draft';
const reminderText = (minutes: number | undefined) => (minutes === undefined ? 'no reminder' : `reminder after ${minutes} min`);

function channelCard(viewer: Viewer, endpoint: WebhookEndpoint, attempts: DeliveryAttempt[], health: EndpointHealth): SafeHtml {
  const action = (path: string, label: string, cls = 'secondary', extra: SafeHtml | '' = '') =>
    html`<form method="post" action="/settings/webhooks/${endpoint.id}/${path}"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">${extra}<button class="${cls}" type="submit">${label}</button></form>`;
  const dead = attempts.filter((a) => a.outcome === 'dead').length;
  const remind = remindAfterOf(endpoint);
  return html`<section class="card channel" id="${endpoint.id}" data-channel="${endpoint.channel ?? ''}">
    <h2>${channelName(endpoint)}</h2>
    <p class="muted" data-channel-summary>${endpoint.description || 'No description'} · ${endpoint.events.join(', ')} · ${filterText(endpoint)} · ${reminderText(remind)} · ${endpoint.enabled ? 'enabled' : disabledText(endpoint)} · ${endpoint.id}</p>
    ${healthLine(health)}
    ${dead > 0 ? html`<p class="notice error">${dead} dead ${dead === 1 ? 'delivery' : 'deliveries'} in the recent log. Fix the channel, then redrive.</p>` : ''}
    <div class="actions">${endpoint.enabled ? action('test', 'Send test notification', '') : ''}${action('enabled', endpoint.enabled ? 'Disable' : 'Enable', 'secondary', html`<input type="hidden" name="enabled" value="${endpoint.enabled ? 'false' : 'true'}">`)}${endpoint.enabled ? action('redrive', 'Redrive dead deliveries') : ''}${action('delete', 'Delete channel', 'danger', html`<label class="confirm"><input type="checkbox" name="confirm" value="yes" required> Yes, delete it</label>`)}</div>
    <form class="inline" method="post" action="/settings/webhooks/${endpoint.id}/reminder"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">
      <label for="remind-${endpoint.id}">Remind after (minutes, empty for none)</label>
      <span class="actions"><input id="remind-${endpoint.id}" name="remindAfterMinutes" type="number" min="1" max="${MAX_REMIND_AFTER_MINUTES}" step="1" value="${remind ?? ''}"><button class="secondary" type="submit">Save reminder</button></span>
    </form>
    ${endpoint.channel === 'email' ? recipientsForm(viewer, endpoint) : ''}
    <h2>Recent deliveries</h2>
    ${deliveryTable(attempts)}
  </section>`;
}

/** An email channel's addresses, editable: one taken off loses its decision links at once. */
const recipientsForm = (viewer: Viewer, endpoint: WebhookEndpoint): SafeHtml =>
  html`<form class="inline" method="post" action="/settings/webhooks/${endpoint.id}/recipients"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">
      <label for="recipients-${endpoint.id}">Recipients (comma-separated; an address taken off loses its links)</label>
      <span class="actions"><input id="recipients-${endpoint.id}" name="recipients" type="text" required value="${(endpoint.recipients ?? []).join(', ')}"><button class="secondary" type="submit">Save recipients</button></span>
    </form>`;

const EMPTY_CHANNEL_FORM = {
  url: '',
  recipients: '',
  description: '',
  events: [...DEFAULT_CHANNEL_EVENTS],
  filterKey: '',
  filterValue: '',
  remindAfterMinutes: '',
};

/** One add form per kind; the refused one keeps what was typed. */
function addChannelForm(viewer: Viewer, kind: 'slack' | 'email', state: SettingsState): SafeHtml {
  const form = state.channelForm?.kind === kind ? state.channelForm : { kind, ...EMPTY_CHANNEL_FORM };
  const id = (name: string) => `${kind}-${name}`;
  return html`<form class="card" method="post" action="/settings/webhooks/notifications" data-add-channel="${kind}">
      <input type="hidden" name="_csrf" value="${viewer.csrfToken}"><input type="hidden" name="kind" value="${kind}">
      <h2>${kind === 'slack' ? 'Add a Slack channel' : 'Add an email channel'}</h2>
      ${
        kind === 'slack'
          ? html`<label for="${id('url')}">Slack incoming-webhook URL</label><input id="${id('url')}" name="url" type="url" required value="${form.url}" placeholder="https://hooks.slack.com/services/…">`
          : html`<label for="${id('recipients')}">Recipients (comma-separated)</label><input id="${id('recipients')}" name="recipients" type="text" required value="${form.recipients}" placeholder="reviewer@example.com, lead@example.com">`
      }
      <label for="${id('description')}">Description</label><input id="${id('description')}" name="description" type="text" maxlength="500" value="${form.description}">
      <fieldset><legend class="muted">Events</legend>
        ${CHANNEL_EVENT_TYPES.map((e) => html`<label><input type="checkbox" name="events" value="${e}" ${form.events.includes(e) ? 'checked' : ''}> ${e}</label>`)}
      </fieldset>
      <fieldset><legend class="muted">Only drafts whose metadata has (optional; the value is matched as text)</legend>
        <label for="${id('filter-key')}">Metadata key</label><input id="${id('filter-key')}" name="filterKey" type="text" maxlength="100" value="${form.filterKey}" placeholder="source">
        <label for="${id('filter-value')}">Value</label><input id="${id('filter-value')}" name="filterValue" type="text" maxlength="1000" value="${form.filterValue}" placeholder="ai_agent_v1">
      </fieldset>
      <label for="${id('remind')}">Remind after (minutes, optional)</label><input id="${id('remind')}" name="remindAfterMinutes" type="number" min="1" max="${MAX_REMIND_AFTER_MINUTES}" step="1" value="${form.remindAfterMinutes}">
      <div class="actions"><button type="submit">${kind === 'slack' ? 'Add Slack channel' : 'Add email channel'}</button></div>
    </form>`;
}

function notificationsSection(
  viewer: Viewer,
  channels: Array<{ endpoint: WebhookEndpoint; attempts: DeliveryAttempt[]; health: EndpointHealth }>,
  state: SettingsState,
): SafeHtml {
  return html`<h1 id="notifications">Notifications</h1>
    <p class="muted">Tell reviewers in Slack or by email when a draft waits and what became of it. Channels are retried, logged and redriven like webhooks.</p>
    ${addChannelForm(viewer, 'slack', state)}
    ${addChannelForm(viewer, 'email', state)}
    ${channels.length === 0 ? html`<p class="muted">No notification channels yet.</p>` : channels.map((c) => channelCard(viewer, c.endpoint, c.attempts, c.health))}`;
}

export function settingsPage(
  viewer: Viewer,
  all: Array<{ endpoint: WebhookEndpoint; attempts: DeliveryAttempt[]; health: EndpointHealth }>,
  state: SettingsState = {},
): SafeHtml {
  const endpoints = all.filter((e) => !isChannel(e.endpoint));
  const channels = all.filter((e) => isChannel(e.endpoint));
  const form = state.form ?? { url: '', description: '', events: [...DEFAULT_EVENT_TYPES] };
  return html`<h1>Webhooks</h1>
    ${state.notice ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
    ${state.error ? html`<p class="notice error" role="alert">${state.error}</p>` : ''}
    <form class="card" method="post" action="/settings/webhooks">
      <input type="hidden" name="_csrf" value="${viewer.csrfToken}">
      <h2>Add an endpoint</h2>
      <label for="url">URL (https://)</label><input id="url" name="url" type="url" required value="${form.url}" placeholder="https://example.com/webhooks/processa">
      <label for="description">Description</label><input id="description" name="description" type="text" maxlength="500" value="${form.description}">
      <fieldset><legend class="muted">Events</legend>
        ${EVENT_TYPES.map((e) => html`<label><input type="checkbox" name="events" value="${e}" ${form.events.includes(e) ? 'checked' : ''}> ${e}</label>`)}
      </fieldset>
      <div class="actions"><button type="submit">Add endpoint</button></div>
    </form>
    ${endpoints.length === 0 ? html`<p class="muted">No endpoints yet.</p>` : endpoints.map((e) => endpointCard(viewer, e.endpoint, e.attempts, e.health, state))}
    ${notificationsSection(viewer, channels, state)}`;
}
