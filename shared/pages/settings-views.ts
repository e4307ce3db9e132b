import type { DeliveryAttempt } from '../webhooks/delivery-log.js';
import type { EndpointHealth } from '../webhooks/endpoint-health.js';
import { secretsInGrace, type WebhookEndpoint } from '../webhooks/endpoints.js';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES } from '../webhooks/events.js';
import { html, type SafeHtml } from './html.js';
import type { Viewer } from './layout.js';

export interface SettingsState {
  notice?: string;
  error?: string;
  /** A secret shown once, right after creation or rotation. */
  revealed?: { endpointId: string; secret: string; note: string };
  /** The add form's values, kept when they were refused. */
  form?: { url: string; description: string; events: string[] };
}

const deliveryRows = (attempts: DeliveryAttempt[]) =>
  attempts.map(
    (a) => html`<tr class="${a.outcome}">
      <td><span class="badge ${a.outcome}">${a.outcome}</span></td>
      <td>${a.httpStatus ?? '—'}</td><td>${a.attempt}</td>
      <td>${a.eventType}${a.test ? ' (test)' : ''}<br><span class="muted">${a.draftId ?? 'no draft'}</span></td>
      <td class="nowrap"><time datetime="${a.attemptedAt}">${a.attemptedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time></td>
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
  const action = (path: string, label: string, cls = 'secondary', extra: SafeHtml | '' = '') =>
    html`<form method="post" action="/settings/webhooks/${endpoint.id}/${path}"><input type="hidden" name="_csrf" value="${viewer.csrfToken}">${extra}<button class="${cls}" type="submit">${label}</button></form>`;
  const dead = attempts.filter((a) => a.outcome === 'dead').length;
  const failing = attempts.filter((a) => a.outcome === 'failed').length;
  return html`<section class="card" id="${endpoint.id}">
    <h2>${endpoint.url}</h2>
    <p class="muted">${endpoint.description || 'No description'} · ${endpoint.events.join(', ')} · ${endpoint.enabled ? 'enabled' : disabledText(endpoint)} · retries: ${retryText(endpoint)} · ${endpoint.id}</p>
    ${healthLine(health)}
    ${previousSecrets(endpoint)}
    ${
      state.revealed?.endpointId === endpoint.id
        ? html`<p class="notice" role="status">${state.revealed.note}<br><span class="secret" data-secret>${state.revealed.secret}</span></p>`
        : ''
    }
    ${dead > 0 ? html`<p class="notice error">${dead} dead ${dead === 1 ? 'delivery' : 'deliveries'} in the recent log. Fix the receiver, then redrive.</p>` : failing > 0 ? html`<p class="notice">${failing} failed ${failing === 1 ? 'attempt' : 'attempts'} recently; retries are scheduled.</p>` : ''}
    <div class="actions">${action('test', 'Test Webhook', '')}${action('rotate-secret', 'Rotate secret')}${action('redrive', 'Redrive dead deliveries')}${action('delete', 'Delete endpoint', 'danger', html`<label class="confirm"><input type="checkbox" name="confirm" value="yes" required> Yes, delete it</label>`)}</div>
    <p class="muted">“Test Webhook” sends a <code>draft.rejected</code> marked <code>"test": true</code> (draft id <code>test_…</code>): receivers built from the documentation log it and execute nothing.</p>
    ${sampleApproval(action)}
    <h2>Recent deliveries</h2>
    ${
      attempts.length === 0
        ? html`<p class="muted">No deliveries yet.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th>Outcome</th><th>HTTP</th><th>Attempt</th><th>Event</th><th>Time</th><th>Took</th><th>Error</th></tr></thead>
        <tbody>${deliveryRows(attempts)}</tbody></table></div>`
    }
  </section>`;
}

export function settingsPage(
  viewer: Viewer,
  endpoints: Array<{ endpoint: WebhookEndpoint; attempts: DeliveryAttempt[]; health: EndpointHealth }>,
  state: SettingsState = {},
): SafeHtml {
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
    ${endpoints.length === 0 ? html`<p class="muted">No endpoints yet.</p>` : endpoints.map((e) => endpointCard(viewer, e.endpoint, e.attempts, e.health, state))}`;
}
