/**
 * The thin adapter to Slack: POSTs to an interaction's response_url (replace the message, or an
 * ephemeral note) and views.open (the reject-reason modal). Nothing else talks to Slack.
 */
export interface SlackApi {
  /** Posts a message to a response_url; throws if Slack (or the address check) refuses. */
  respond(responseUrl: string, message: Record<string, unknown>): Promise<void>;
  /** views.open with the bot token; throws with Slack's error code if it is refused. */
  openView(triggerId: string, view: Record<string, unknown>): Promise<void>;
}

export const SLACK_API_URL = 'https://slack.com/api';
const RESPONSE_URL_HOST = 'hooks.slack.com';
/** Slack waits 3 s for the interaction's answer; each call to Slack gets less than that. */
const TIMEOUT_MS = 2500;

export class SlackCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlackCallError';
  }
}

/**
 * A response_url is only ever Slack's (https://hooks.slack.com/…): the payload carrying it is
 * signed, but the address is still checked so that nothing can make this function POST elsewhere
 * (SSRF). Locally a loopback receiver is allowed too, as for Slack channels' incoming webhooks.
 */
export function checkedResponseUrl(raw: string, allowLocalhost: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SlackCallError('response_url is not a URL');
  }
  const loopback = allowLocalhost && url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const slack = url.protocol === 'https:' && url.hostname === RESPONSE_URL_HOST && url.port === '' && !url.username && !url.password;
  if (!loopback && !slack) throw new SlackCallError(`response_url must be https://${RESPONSE_URL_HOST}/…`);
  return url;
}

export function createSlackApi(options: { apiUrl?: string; botToken?: string; allowLocalhost: boolean; fetch?: typeof fetch }): SlackApi {
  const send = options.fetch ?? fetch;
  const apiUrl = (options.apiUrl ?? SLACK_API_URL).replace(/\/+$/, '');
  return {
    async respond(responseUrl, message) {
      const url = checkedResponseUrl(responseUrl, options.allowLocalhost);
      const res = await send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(message),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new SlackCallError(`response_url answered ${res.status}`);
    },
    async openView(triggerId, view) {
      if (!options.botToken) throw new SlackCallError('no bot token is configured');
      const res = await send(`${apiUrl}/views.open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${options.botToken}` },
        body: JSON.stringify({ trigger_id: triggerId, view }),
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const answer = (await res.json().catch(() => undefined)) as { ok?: boolean; error?: string } | undefined;
      if (!res.ok || !answer?.ok) throw new SlackCallError(`views.open failed: ${answer?.error ?? `status ${res.status}`}`);
    },
  };
}
