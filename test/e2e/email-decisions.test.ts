/**
 * Deciding from an email, on the dev runtime: the email in the outbox carries each recipient's
 * Approve and Reject links; a link's GET only shows a confirmation page; the form's POST decides
 * once (the webhook leaves once), through the same conditional write as the API.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';
import { csrfOf, pageAs, signInThroughForm } from '../support/page-session.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
let webhook: Receiver;
let channelId: string;
const RUN = { run: 'email-decisions' };

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_RETRY_BASE_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  const agentKey = await admin('POST', '/v1/keys', { role: 'agent', name: 'mail-bot' });
  agent = apiClient(runtime.url, agentKey.body.key);
  webhook = await startReceiver('ok');
  expect((await admin('POST', '/v1/webhooks', { url: webhook.url })).status).toBe(201);
  const channel = await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com', 'second@example.com'], filter: RUN });
  expect(channel.status).toBe(201);
  channelId = channel.body.id;
}, 90_000);

afterAll(async () => {
  await webhook?.stop();
  await runtime?.stop();
});

const outbox = () => join(runtime.dataDir, 'outbox');
const decodedParts = (eml: string) =>
  [...eml.matchAll(/Content-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)].map((m) =>
    Buffer.from(m[1]!.replace(/\r\n/g, ''), 'base64').toString('utf8'),
  );
interface Mail {
  to: string;
  text: string;
  html: string;
  approve: string;
  reject: string;
}
function mailsAbout(draftId: string): Mail[] {
  if (!existsSync(outbox())) return [];
  return readdirSync(outbox())
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(outbox(), f), 'utf8'))
    .map((eml) => {
      const [text = '', html = ''] = decodedParts(eml);
      return {
        to: eml.match(/^To: (.*)$/m)?.[1]?.trim() ?? '',
        text,
        html,
        approve: text.match(/^Approve: (\S+)$/m)?.[1] ?? '',
        reject: text.match(/^Reject: (\S+)$/m)?.[1] ?? '',
      };
    })
    .filter((m) => m.text.includes(`/review/${draftId}`));
}

async function newDraft(title: string, metadata: Record<string, string> = RUN, extra: Record<string, unknown> = {}) {
  const created = await agent('POST', '/v1/drafts', {
    title,
    content: { to: 'customer@example.com', subject: 'Refund', body: 'We refunded €42.' },
    metadata,
    ...extra,
  });
  expect(created.status).toBe(201);
  const draft = created.body as { id: string; reviewUrl: string };
  const mails = await eventually(() => (mailsAbout(draft.id).length === 2 ? mailsAbout(draft.id) : undefined), 15_000, 'an email per recipient');
  const byRecipient = Object.fromEntries(mails.map((m) => [m.to, m])) as Record<string, Mail>;
  return { draft, mail: byRecipient['reviewer@example.com']!, second: byRecipient['second@example.com']! };
}

/** Opens a link as a browser does: the page, its form's CSRF token and the cookie that goes with it. */
async function open(url: string) {
  const res = await fetch(url, { redirect: 'manual' });
  const body = await res.text();
  const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('processa_login_csrf='));
  const csrf = body.match(/name="_csrf" value="([^"]+)"/)?.[1];
  return { status: res.status, headers: res.headers, body, cookie, csrf };
}

async function submit(url: string, form: { cookie?: string; csrf?: string }, fields: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(form.cookie ? { cookie: form.cookie } : {}) },
    body: new URLSearchParams({ ...(form.csrf ? { _csrf: form.csrf } : {}), ...fields }).toString(),
  });
  return { status: res.status, body: await res.text() };
}

const webhooksAbout = (draftId: string) => webhook.requests.map((r) => JSON.parse(r.body)).filter((b) => b.draft?.id === draftId);
const logAbout = async (endpointId: string, draftId: string): Promise<Array<{ draftId: string; eventType: string; outcome: string }>> =>
  (await admin('GET', `/v1/webhooks/${endpointId}/deliveries`)).body.items.filter((d: { draftId: string }) => d.draftId === draftId);
const draftNow = async (id: string) => (await admin('GET', `/v1/drafts/${id}`)).body;

describe('decide from email', () => {
  it('each recipient’s email has its own Approve and Reject links; GET confirms and decides nothing; POST approves, the webhook leaves once; the link again shows who decided', async () => {
    const { draft, mail, second } = await newDraft('Refund <order> "42"');
    expect(mail.approve).toMatch(new RegExp(`^${runtime.url}/email-decisions/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect(new Set([mail.approve, mail.reject, second.approve, second.reject]).size).toBe(4);
    expect(mail.html).toContain(`href="${mail.approve}"`);
    expect(mail.html).toContain(`href="${mail.reject}"`);

    // A mail scanner's prefetch, and the reviewer's own look: nothing is decided.
    await open(mail.approve);
    const page = await open(mail.approve);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Approve this draft?');
    expect(page.body).toContain('Refund &lt;order&gt; &quot;42&quot;');
    expect(page.body).toContain('reviewer@example.com');
    expect(page.body).toContain(`href="/review/${draft.id}"`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.cookie && page.csrf).toBeTruthy();
    expect((await draftNow(draft.id)).status).toBe('pending');

    // The form without its CSRF token (a cross-site POST) decides nothing.
    expect((await submit(mail.approve, { cookie: page.cookie })).status).toBe(403);
    expect((await submit(mail.approve, { csrf: page.csrf })).status).toBe(403);
    expect((await draftNow(draft.id)).status).toBe('pending');

    const approved = await submit(mail.approve, page);
    expect(approved.status).toBe(200);
    expect(approved.body).toContain('Approved');
    const decided = await draftNow(draft.id);
    expect(decided).toMatchObject({ status: 'approved', reviewedBy: { keyId: channelId, name: 'reviewer@example.com', role: 'reviewer' } });
    await eventually(() => webhooksAbout(draft.id).length >= 1, 15_000, 'the webhook');
    expect(webhooksAbout(draft.id)[0]).toMatchObject({ event: 'draft.approved', draft: { id: draft.id, content: { to: 'customer@example.com' } } });

    // The same link again, and the other recipient's link: the decision already made.
    const again = await open(mail.approve);
    expect(again.status).toBe(200);
    expect(again.body).toMatch(/Already decided: approved by reviewer@example\.com/);
    expect(again.body).not.toContain('name="_csrf"');
    const repost = await submit(mail.approve, page);
    expect(repost.status).toBe(409);
    expect(repost.body).toMatch(/Already decided: approved by reviewer@example\.com/);
    expect((await open(second.reject)).body).toMatch(/Already decided: approved by reviewer@example\.com/);
    // A racing API decision gets its 409.
    expect((await admin('POST', `/v1/drafts/${draft.id}/reject`, { reason: 'late' })).status).toBe(409);
    // One decision: its one event in the endpoint's log, and one POST received.
    const endpoint = (await admin('GET', '/v1/webhooks')).body.items.find((e: { url: string }) => e.url === webhook.url);
    // The log entry is written after the receiver answered: wait for it rather than race it.
    const log = await eventually(
      async () => ((await logAbout(endpoint.id, draft.id)).length > 0 ? logAbout(endpoint.id, draft.id) : undefined),
      15_000,
      'the log',
    );
    expect(log.map((d: { eventType: string; outcome: string }) => [d.eventType, d.outcome])).toEqual([['draft.approved', 'succeeded']]);
    expect(webhooksAbout(draft.id)).toHaveLength(1);
  });

  it('reject asks for the reason, refuses an empty one with the form again, and carries it', async () => {
    const { draft, mail } = await newDraft('Reject me');
    const page = await open(mail.reject);
    expect(page.body).toContain('Reject this draft?');
    expect(page.body).toMatch(/<textarea id="reason" name="reason" required maxlength="1000">/);

    const empty = await submit(mail.reject, page, { reason: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain('reason is required');
    expect(empty.body).toContain('name="_csrf"');
    const tooLong = await submit(mail.reject, page, { reason: 'x'.repeat(1001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toContain('at most 1000 characters');
    expect((await draftNow(draft.id)).status).toBe('pending');

    const rejected = await submit(mail.reject, page, { reason: 'Wrong <amount>' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toContain('Reason: Wrong &lt;amount&gt;');
    expect(await draftNow(draft.id)).toMatchObject({ status: 'rejected', rejectionReason: 'Wrong <amount>', reviewedBy: { name: 'reviewer@example.com' } });
    const sent = await eventually(() => webhooksAbout(draft.id)[0], 15_000, 'the webhook');
    expect(sent).toMatchObject({ event: 'draft.rejected', draft: { rejectionReason: 'Wrong <amount>' } });
  });

  it('a draft that needs two approvals: GET offers no button, and a POST (with a valid form from another link) decides nothing', async () => {
    for (const name of ['ana', 'ben']) expect((await admin('POST', '/v1/keys', { role: 'reviewer', name })).status).toBe(201);
    const { draft, mail } = await newDraft('Two approvals', RUN, { requiredApprovals: 2 });
    const page = await open(mail.approve);
    expect(page.status).toBe(403);
    expect(page.body).not.toContain('name="_csrf"');
    // A CSRF cookie and token from an ordinary link's form pass the double-submit check, so the refusal below is the decision rule's.
    const other = await open((await newDraft('Ordinary')).mail.reject);
    for (const url of [mail.approve, mail.reject]) {
      const posted = await submit(url, other, { reason: 'no' });
      expect(posted.status).toBe(403);
      expect(posted.body).toContain('Cannot decide here');
      expect(posted.body).toContain('review page');
      expect(posted.body).not.toContain('name="_csrf"');
    }
    expect((await draftNow(draft.id)).status).toBe('pending');
  });

  it('20 parallel POSTs of the confirm form: one decision, one webhook; the others see it already made', async () => {
    const { draft, mail } = await newDraft('Twenty clicks');
    const page = await open(mail.approve);
    const results = await Promise.all(Array.from({ length: 20 }, () => submit(mail.approve, page)));
    expect(results.map((r) => r.status).sort()).toEqual([200, ...Array<number>(19).fill(409)]);
    const decided = await draftNow(draft.id);
    expect(decided.history.filter((h: { action: string }) => h.action === 'approved')).toHaveLength(1);
    await eventually(() => webhooksAbout(draft.id).length >= 1, 15_000, 'the webhook');
    const endpoint = (await admin('GET', '/v1/webhooks')).body.items.find((e: { url: string }) => e.url === webhook.url);
    const log = await eventually(
      async () => ((await logAbout(endpoint.id, draft.id)).length > 0 ? logAbout(endpoint.id, draft.id) : undefined),
      15_000,
      'the log',
    );
    expect(log).toHaveLength(1);
    expect(webhooksAbout(draft.id)).toHaveLength(1);
  });

  it('an API decision first: the link shows it; tampered and garbage links get a clear page, never a stack trace', async () => {
    const { draft, mail } = await newDraft('Decided elsewhere');
    expect((await admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    expect((await open(mail.reject)).body).toMatch(/Already decided: approved by bootstrap-admin/);

    const token = mail.approve.split('/').at(-1)!;
    const [body, signature] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const forged = `${runtime.url}/email-decisions/${Buffer.from(JSON.stringify({ ...claims, r: 'attacker@example.com' })).toString('base64url')}.${signature}`;
    const tampered = await open(forged);
    expect(tampered.status).toBe(403);
    expect(tampered.body).toContain('This link cannot be used');
    expect(tampered.body).toContain('changed since it was sent');
    const garbage = await open(`${runtime.url}/email-decisions/${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(garbage.status).toBe(400);
    expect(garbage.body).not.toContain('<script>alert');
    for (const page of [tampered, garbage]) expect(page.body).not.toMatch(/at \S+\.ts:\d+|Error:/);
  });

  it('disabling or deleting the channel ends its links', async () => {
    const { draft, mail } = await newDraft('Channel goes away');
    const page = await open(mail.approve);
    expect((await admin('PATCH', `/v1/webhooks/${channelId}`, { enabled: false })).status).toBe(200);
    const disabled = await open(mail.approve);
    expect(disabled.status).toBe(410);
    expect(disabled.body).toContain('disabled or deleted');
    expect((await submit(mail.approve, page)).status).toBe(410);
    expect((await draftNow(draft.id)).status).toBe('pending');

    // Enabled again: a link sent before the disable stays dead (it may have leaked); new notifications bring new links.
    expect((await admin('PATCH', `/v1/webhooks/${channelId}`, { enabled: true })).status).toBe(200);
    expect((await open(mail.approve)).status).toBe(410);
    expect((await submit(mail.approve, page)).status).toBe(410);
    expect((await draftNow(draft.id)).status).toBe('pending');
    const fresh = await newDraft('Channel is back');
    expect((await open(fresh.mail.approve)).status).toBe(200);

    expect((await admin('DELETE', `/v1/webhooks/${channelId}`)).status).toBe(200);
    expect((await open(mail.approve)).status).toBe(410);
    expect((await submit(mail.approve, page)).status).toBe(410);
    expect((await draftNow(draft.id)).status).toBe('pending');
  });

  it('taking an address off the channel ends that address’s links, for good; the other addresses’ links still work', async () => {
    const run = { run: 'recipients-change' };
    const created = await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com', 'second@example.com'], filter: run });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const { draft, mail, second } = await newDraft('Address goes away', run);

    const changed = await admin('PATCH', `/v1/webhooks/${id}`, { recipients: ['Second@Example.com', 'third@example.com', 'second@example.com'] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ recipients: ['second@example.com', 'third@example.com'], url: 'mailto:second@example.com,third@example.com' });
    const gone = await open(mail.approve);
    expect(gone.status).toBe(403);
    expect(gone.body).toContain('no longer receives');
    expect((await open(second.approve)).status).toBe(200);

    // Put back: the address's old link stays dead (it was sent before the address was taken off).
    expect((await admin('PATCH', `/v1/webhooks/${id}`, { recipients: ['reviewer@example.com', 'second@example.com'] })).status).toBe(200);
    expect((await open(mail.approve)).status).toBe(403);
    expect((await draftNow(draft.id)).status).toBe('pending');
    const kept = await open(second.approve);
    expect((await submit(second.approve, kept)).status).toBe(200);
    expect(await draftNow(draft.id)).toMatchObject({ status: 'approved', reviewedBy: { name: 'second@example.com' } });
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(200);
  });

  it('recipients are validated as on create, and only an email channel has them', async () => {
    const email = await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com'], filter: { run: 'recipients-bad' } });
    const slack = await admin('POST', '/v1/notifications', { kind: 'slack', url: webhook.url, filter: { run: 'recipients-bad' } });
    expect([email.status, slack.status]).toEqual([201, 201]);
    for (const recipients of [
      [],
      ['not an address'],
      Array.from({ length: 21 }, (_, i) => `r${i}@example.com`),
      'reviewer@example.com',
      [`${'a'.repeat(250)}@example.com`],
    ]) {
      const refused = await admin('PATCH', `/v1/webhooks/${email.body.id}`, { recipients });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain('recipients');
    }
    for (const other of [slack.body.id, (await admin('GET', '/v1/webhooks')).body.items.find((e: { channel?: string }) => !e.channel).id]) {
      const refused = await admin('PATCH', `/v1/webhooks/${other}`, { recipients: ['reviewer@example.com'] });
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toContain('recipients');
    }
    expect((await admin('GET', `/v1/webhooks/${email.body.id}`)).body.recipients).toEqual(['reviewer@example.com']);
    for (const id of [email.body.id, slack.body.id]) expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(200);
  });

  it('the settings page edits an email channel’s addresses: one taken off there loses its links; a bad list is refused naming the field', async () => {
    const run = { run: 'recipients-page' };
    const id = (await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com', 'second@example.com'], filter: run })).body
      .id as string;
    const { mail, second } = await newDraft('Edited on the page', run);
    const signed = await signInThroughForm(runtime.url, runtime.adminKey, '/settings/webhooks');
    const cookie = signed.cookie!;
    const settings = await pageAs(runtime.url, cookie, '/settings/webhooks');
    expect(settings.html).toContain(`action="/settings/webhooks/${id}/recipients"`);
    expect(settings.html).toContain('value="reviewer@example.com, second@example.com"');
    const csrf = csrfOf(settings.html);

    const bad = await pageAs(runtime.url, cookie, `/settings/webhooks/${id}/recipients`, { _csrf: csrf, recipients: 'second@example.com, not-an-address' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Invalid request: recipients.1: must be email addresses');
    const saved = await pageAs(runtime.url, cookie, `/settings/webhooks/${id}/recipients`, {
      _csrf: csrf,
      recipients: 'second@example.com;\nthird@example.com',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`/settings/webhooks?notice=recipients-saved#${id}`);
    expect((await admin('GET', `/v1/webhooks/${id}`)).body.recipients).toEqual(['second@example.com', 'third@example.com']);
    expect((await open(mail.approve)).status).toBe(403);
    expect((await open(second.approve)).status).toBe(200);
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(200);
  });

  it('20 parallel PATCHes of recipients and enabled: each applies, none undoes another; the links sent before the disable stay dead', async () => {
    const run = { run: 'recipients-race' };
    const created = await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com', 'second@example.com'], filter: run });
    const id = created.body.id as string;
    const { mail, second } = await newDraft('Race', run);
    const sets = Array.from({ length: 10 }, (_, i) => ['reviewer@example.com', 'second@example.com', `extra${i}@example.com`]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => admin('PATCH', `/v1/webhooks/${id}`, i % 2 === 0 ? { recipients: sets[i / 2] } : { enabled: false })),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    const after = (await admin('GET', `/v1/webhooks/${id}`)).body;
    // A recipients change written over a stale read would have enabled the channel again.
    expect(after).toMatchObject({ enabled: false, disabledReason: 'manual' });
    expect(sets.map((s) => JSON.stringify(s))).toContain(JSON.stringify(after.recipients));
    expect(after.url).toBe(`mailto:${after.recipients.join(',')}`);
    expect((await admin('PATCH', `/v1/webhooks/${id}`, { enabled: true })).status).toBe(200);
    for (const url of [mail.approve, second.reject]) expect((await open(url)).status).toBe(410);
    expect((await admin('DELETE', `/v1/webhooks/${id}`)).status).toBe(200);
  });

  it('the key is kept in .processa (owner-only) and, like the links, never reaches the structured logs', async () => {
    // The shared channel was deleted above: a channel of its own.
    const logCheck = { run: 'log-check' };
    expect(
      (await admin('POST', '/v1/notifications', { kind: 'email', recipients: ['reviewer@example.com', 'second@example.com'], filter: logCheck })).status,
    ).toBe(201);
    const { mail } = await newDraft('Log check', logCheck);
    await open(mail.approve);
    // Made on first use (the first email with links).
    const keyFile = join(runtime.dataDir, 'email-link-key');
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const logs = runtime
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .join('\n');
    expect(logs).toContain('"message":"draft decided from an email link"'); // the logs were really captured
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(mail.approve.split('/').at(-1)!.split('.')[1]);
  });
});
