/**
 * The "Notifications" section of /settings/webhooks in a real browser against the dev runtime:
 * adding a Slack channel (a loopback receiver stands in for hooks.slack.com, which the dev runtime
 * allows) and an email channel (the dev runtime's .eml outbox stands in for SES), test
 * notifications and their delivery log, disable/enable, the reminder setting, deletion, refused
 * input kept in the form, and escaping.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { eventually, startReceiver } from '../support/receiver.js';
import { createDraft, launchBrowser, newContext, screenshot, signIn, startStack, submit, watchForScripts, type Stack } from './support.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
let slack: Receiver;
let failingSlack: Receiver;

beforeAll(async () => {
  [stack, browser, slack, failingSlack] = await Promise.all([
    startStack({ PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500' }),
    launchBrowser(),
    startReceiver('ok'),
    startReceiver('fail'),
  ]);
  context = await newContext(browser);
  page = await context.newPage();
  problems = watchForScripts(page);
  expect((await signIn(page, stack.runtime.url, stack.runtime.adminKey, '/settings/webhooks')).status()).toBe(200);
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([slack?.stop(), failingSlack?.stop()]);
  await stack?.runtime.stop();
});

afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

const settingsUrl = () => `${stack.runtime.url}/settings/webhooks`;
const text = async (locator: Locator) => ((await locator.first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const channelCard = (name: string) => page.locator('section.card.channel', { has: page.locator('h2', { hasText: name }) });
const press = (card: Locator, label: string) => submit(page, card.getByRole('button', { name: label }));
const outbox = () => join(stack.runtime.dataDir, 'outbox');
const emails = () =>
  existsSync(outbox())
    ? readdirSync(outbox())
        .filter((f) => f.endsWith('.eml'))
        .map((f) => readFileSync(join(outbox(), f), 'utf8'))
    : [];

/** Reloads until the channel's delivery log has `count` rows with that outcome. */
async function reloadUntilRows(name: string, outcome: string, count = 1, timeoutMs = 15_000): Promise<Locator> {
  return eventually(
    async () => {
      await page.goto(settingsUrl());
      const rows = channelCard(name).locator(`tbody tr.${outcome}`);
      return (await rows.count()) >= count && rows;
    },
    timeoutMs,
    `${count} ${outcome} deliveries for ${name}`,
  );
}

async function addSlack(url: string, fields: { description?: string; filter?: [string, string]; remind?: string } = {}) {
  await page.goto(settingsUrl());
  const form = page.locator('form[data-add-channel=slack]');
  await form.getByLabel('Slack incoming-webhook URL').fill(url);
  if (fields.description) await form.getByLabel('Description').fill(fields.description);
  if (fields.filter) {
    await form.getByLabel('Metadata key').fill(fields.filter[0]);
    await form.getByLabel('Value').fill(fields.filter[1]);
  }
  if (fields.remind) await form.getByLabel('Remind after (minutes, optional)').fill(fields.remind);
  return submit(page, form.getByRole('button', { name: 'Add Slack channel' }));
}

describe('notification channels in the browser', () => {
  const ids: { slack?: string; email?: string } = {};

  it('adds a Slack channel and an email channel, listed apart from webhooks', async () => {
    const added = await addSlack(slack.url, { description: 'Support reviewers', filter: ['source', 'ai_agent_v1'], remind: '30' });
    expect(added.status()).toBe(200);
    expect(page.url()).toContain('/settings/webhooks?notice=channel-added#ep_');
    expect(await text(page.locator('[role=status]'))).toBe('Notification channel added.');
    ids.slack = new URL(page.url()).hash.slice(1);
    const slackCard = channelCard(`Slack · ${slack.url}`);
    expect(await slackCard.getAttribute('id')).toBe(ids.slack);
    expect(await text(slackCard.locator('[data-channel-summary]'))).toBe(
      `Support reviewers · draft.created, draft.approved, draft.rejected · only source = "ai_agent_v1" · reminder after 30 min · enabled · ${ids.slack}`,
    );
    expect(await text(slackCard.locator('[data-health]'))).toMatch(/^healthy · no attempts in 24 h/);

    const form = page.locator('form[data-add-channel=email]');
    await form.getByLabel('Recipients (comma-separated)').fill('Reviewer@Example.com, second@example.com');
    await form.getByLabel('draft.expired').check();
    await form.getByLabel('draft.rejected').uncheck();
    expect((await submit(page, form.getByRole('button', { name: 'Add email channel' }))).status()).toBe(200);
    ids.email = new URL(page.url()).hash.slice(1);
    const emailCard = channelCard('Email · reviewer@example.com, second@example.com');
    expect(await text(emailCard.locator('[data-channel-summary]'))).toBe(
      `No description · draft.created, draft.approved, draft.expired · every draft · no reminder · enabled · ${ids.email}`,
    );
    // Stored as the API shows it; channels are not listed among the webhook endpoints' cards.
    expect((await stack.admin('GET', `/v1/webhooks/${ids.slack}`)).body).toMatchObject({
      channel: 'slack',
      url: slack.url,
      filter: { source: 'ai_agent_v1' },
      remindAfterMinutes: 30,
    });
    expect((await stack.admin('GET', `/v1/webhooks/${ids.email}`)).body).toMatchObject({
      channel: 'email',
      recipients: ['reviewer@example.com', 'second@example.com'],
    });
    expect(await page.locator('section.card:not(.channel)', { has: page.locator('h2', { hasText: slack.url }) }).count()).toBe(0);
  });

  it('sends a test notification to each and shows it in their delivery logs: Block Kit in Slack, an .eml in the outbox', async () => {
    const emailsBefore = emails().length;
    const slackName = `Slack · ${slack.url}`;
    const emailName = 'Email · reviewer@example.com, second@example.com';
    const sent = await press(channelCard(slackName), 'Send test notification');
    expect(sent.status()).toBe(200);
    expect(new URL(page.url()).hash).toBe(`#${ids.slack}`);
    expect(await text(page.locator('[role=status]'))).toMatch(/^Test notification queued: a sample waiting draft marked as a test/);
    await press(channelCard(emailName), 'Send test notification');

    const slackRows = await reloadUntilRows(slackName, 'succeeded');
    const cells = (await slackRows.first().locator('td').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(cells.slice(0, 3)).toEqual(['succeeded', '200', '1']);
    expect(cells[3]).toMatch(/^draft\.created \(test\) ?test_/);
    await reloadUntilRows(emailName, 'succeeded');

    // What Slack got is Block Kit, marked as a test, with no webhook signature.
    expect(slack.requests).toHaveLength(1);
    const message = JSON.parse(slack.requests[0]!.body);
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: expect.stringMatching(/^Test notification: /) } });
    expect(slack.requests[0]!.headers['webhook-signature']).toBeUndefined();
    // One .eml per recipient.
    const mails = await eventually(() => (emails().length >= emailsBefore + 2 ? emails().slice(emailsBefore) : undefined), 10_000, 'two emails');
    expect(mails.map((m) => m.match(/^To: (.*)$/m)?.[1]?.trim()).sort()).toEqual(['reviewer@example.com', 'second@example.com']);
    expect(mails[0]).toMatch(/^Subject: \[Test\] /m);

    // A real draft reaches the filtered Slack channel and shows in its log with the draft's id.
    const draft = await createDraft(stack.agent, {
      title: 'Refund <order> #42',
      content: { to: 'customer@example.com', subject: 'Your refund', body: 'We refunded €42.' },
      metadata: { source: 'ai_agent_v1' },
    });
    const rows = await reloadUntilRows(slackName, 'succeeded', 2);
    expect(await text(rows.first().locator('td').nth(3))).toMatch(new RegExp(`^draft\\.created ?${draft.id}$`));
    expect(JSON.parse(slack.requests.at(-1)!.body).blocks[0].text.text).toBe('Waiting for review: Refund <order> #42');
    expect(await text(channelCard(slackName).locator('[data-health]'))).toMatch(/^healthy · 100 % of 2 attempts succeeded in 24 h/);
    await screenshot(page, 'settings-notifications');
  }, 45_000);

  it('disables and enables a channel; a disabled one is sent nothing', async () => {
    const card = channelCard(`Slack · ${slack.url}`);
    await page.goto(settingsUrl());
    expect((await press(card, 'Disable')).status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toMatch(/^Disabled: it receives nothing/);
    expect(await text(card.locator('[data-channel-summary]'))).toContain('· disabled ·');
    expect(await card.getByRole('button', { name: 'Send test notification' }).count()).toBe(0);
    expect((await stack.admin('GET', `/v1/webhooks/${ids.slack}`)).body).toMatchObject({ enabled: false, disabledReason: 'manual' });

    const before = slack.requests.length;
    const quiet = await createDraft(stack.agent, { title: 'While disabled', content: { a: 1 }, metadata: { source: 'ai_agent_v1' } });
    // The email channel (enabled, unfiltered) hears of it: by then the Slack channel would have too.
    await eventually(
      async () => (await stack.admin('GET', `/v1/webhooks/${ids.email}/deliveries`)).body.items.some((d: any) => d.draftId === quiet.id),
      10_000,
      'the email channel',
    );
    expect(slack.requests.length).toBe(before);

    expect((await press(card, 'Enable')).status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toMatch(/^Enabled: /);
    expect((await stack.admin('GET', `/v1/webhooks/${ids.slack}`)).body).toMatchObject({ enabled: true, disabledReason: null, remindAfterMinutes: 30 });
  });

  it('sets and clears the reminder', async () => {
    const card = channelCard('Email · reviewer@example.com, second@example.com');
    await page.goto(settingsUrl());
    await card.getByLabel('Remind after (minutes, empty for none)').fill('15');
    expect((await press(card, 'Save reminder')).status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toBe('Reminder setting saved.');
    expect(await text(card.locator('[data-channel-summary]'))).toContain('· reminder after 15 min ·');
    expect((await stack.admin('GET', `/v1/webhooks/${ids.email}`)).body.remindAfterMinutes).toBe(15);

    // Out of range: refused by name, nothing changed (the browser's own min/max bypassed).
    await card.getByLabel('Remind after (minutes, empty for none)').evaluate((input) => input.removeAttribute('max'));
    await card.getByLabel('Remind after (minutes, empty for none)').fill('20000');
    expect((await press(card, 'Save reminder')).status()).toBe(400);
    expect(await text(page.locator('[role=alert]'))).toBe('Invalid request: remindAfterMinutes: must be at most 10080 minutes (7 days)');
    expect((await stack.admin('GET', `/v1/webhooks/${ids.email}`)).body.remindAfterMinutes).toBe(15);

    await page.goto(settingsUrl());
    await card.getByLabel('Remind after (minutes, empty for none)').fill('');
    expect((await press(card, 'Save reminder')).status()).toBe(200);
    expect(await text(card.locator('[data-channel-summary]'))).toContain('· no reminder ·');
    expect((await stack.admin('GET', `/v1/webhooks/${ids.email}`)).body).not.toHaveProperty('remindAfterMinutes');
  });

  it('refuses bad input inline, keeping what was typed; escapes what it shows; refuses a form without its CSRF token', async () => {
    await page.goto(settingsUrl());
    const form = page.locator('form[data-add-channel=email]');
    await form.getByLabel('Recipients (comma-separated)').fill('ok@example.com, not an address');
    await form.getByLabel('Description').fill('<img src=x onerror=alert(1)> & "quoted"');
    const refused = await submit(page, form.getByRole('button', { name: 'Add email channel' }));
    expect(refused.status()).toBe(400);
    expect(await text(page.locator('[role=alert]'))).toMatch(/^Invalid request: recipients\.\d: must be email addresses/);
    expect(await page.locator('form[data-add-channel=email]').getByLabel('Recipients (comma-separated)').inputValue()).toBe('ok@example.com, not an address');
    expect(await page.locator('form[data-add-channel=email]').getByLabel('Description').inputValue()).toBe('<img src=x onerror=alert(1)> & "quoted"');

    // A URL that is not Slack's (nor loopback) is refused by the same check as the API's (an IP literal: no DNS needed).
    expect((await addSlack('https://93.184.216.34/services/x')).status()).toBe(400);
    expect(await text(page.locator('[role=alert]'))).toContain('url: must be a Slack incoming webhook URL');
    expect(await page.locator('form[data-add-channel=slack]').getByLabel('Slack incoming-webhook URL').inputValue()).toBe('https://93.184.216.34/services/x');

    // A hostile description is shown as text.
    const hostile = await addSlack(failingSlack.url, { description: '<img src=x onerror=alert(1)> & "quoted"' });
    expect(hostile.status()).toBe(200);
    const card = channelCard(`Slack · ${failingSlack.url}`);
    expect(await text(card.locator('[data-channel-summary]'))).toMatch(/^<img src=x onerror=alert\(1\)> & "quoted" · /);
    expect(await card.locator('img').count()).toBe(0);

    const before = (await stack.admin('GET', '/v1/webhooks')).body.items.length;
    const forged = await page.request.post(`${settingsUrl()}/notifications`, { form: { kind: 'email', recipients: 'x@example.com' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect((await stack.admin('GET', '/v1/webhooks')).body.items).toHaveLength(before);
  });

  it('shows a failing channel’s errors in full at 1100 px (the Error column is not clipped) and deletes a channel only when confirmed', async () => {
    const name = `Slack · ${failingSlack.url}`;
    await page.goto(settingsUrl());
    await press(channelCard(name), 'Send test notification');
    const failed = await reloadUntilRows(name, 'failed');
    const errorCell = failed.first().locator('td').last();
    expect(await text(errorCell)).toContain('HTTP 500');
    // The table fits its card: nothing is scrolled out of sight, and the error cell lies inside the card.
    const fits = await channelCard(name)
      .locator('.table-wrap')
      .evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth);
    expect(fits).toBe(true);
    const cardBox = (await channelCard(name).boundingBox())!;
    const cellBox = (await errorCell.boundingBox())!;
    expect(cellBox.x + cellBox.width).toBeLessThanOrEqual(cardBox.x + cardBox.width);
    await screenshot(page, 'settings-notifications-failing');

    const id = await channelCard(name).getAttribute('id');
    await page.evaluate(() => document.querySelectorAll('input[name=confirm]').forEach((box) => box.removeAttribute('required')));
    expect((await press(channelCard(name), 'Delete channel')).status()).toBe(400);
    expect((await stack.admin('GET', `/v1/webhooks/${id}`)).status).toBe(200);
    await channelCard(name).getByLabel('Yes, delete it').check();
    expect((await press(channelCard(name), 'Delete channel')).status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toBe('Notification channel deleted.');
    expect(await channelCard(name).count()).toBe(0);
    expect((await stack.admin('GET', `/v1/webhooks/${id}`)).status).toBe(404);
  }, 30_000);
});
