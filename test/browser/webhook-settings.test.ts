/**
 * /settings/webhooks in a real browser against the dev runtime: adding an endpoint and seeing its
 * secret once, "Test Webhook" and sample-approval test events, the delivery log with failed and dead rows, redrive, rotation,
 * deletion and refused input. Retries use a 1 s base so a dead delivery takes seconds.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { eventually, startReceiver } from '../support/receiver.js';
import { createDraft, createKey, launchBrowser, newContext, screenshot, signIn, startStack, submit, watchForScripts, type Stack } from './support.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];
const receivers: Receiver[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ PROCESSA_RETRY_BASE_SECONDS: '1', PROCESSA_WEBHOOK_TIMEOUT_MS: '1500' }), launchBrowser()]);
  // One admin session for the whole file, signed in through the form like a person would.
  context = await newContext(browser);
  page = await context.newPage();
  problems = watchForScripts(page);
  const signedIn = await signIn(page, stack.runtime.url, stack.runtime.adminKey, '/settings/webhooks');
  expect(signedIn.status()).toBe(200);
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await Promise.all(receivers.map((r) => r.stop()));
  await stack?.runtime.stop();
});

afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

async function receiver(mode: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(mode);
  receivers.push(r);
  return r;
}

const settingsUrl = () => `${stack.runtime.url}/settings/webhooks`;
const text = async (locator: Locator) => ((await locator.first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const card = (url: string) => page.locator('section.card', { has: page.locator('h2', { hasText: url }) });
const rows = (url: string, outcome: string) => card(url).locator(`tbody tr.${outcome}`);

/** Adds an endpoint through the form; returns its id and the secret shown once. */
async function addEndpoint(url: string, description: string): Promise<{ id: string; secret: string }> {
  await page.goto(settingsUrl());
  await page.locator('#url').fill(url);
  await page.locator('#description').fill(description);
  const added = await submit(page, page.getByRole('button', { name: 'Add endpoint' }));
  // Post/redirect/get: the secret is on the page the browser was redirected to, so a reload never adds twice.
  expect(added.status()).toBe(200);
  expect(page.url()).toContain('/settings/webhooks?notice=added');
  expect(await text(page.locator('[role=status]'))).toBe('Endpoint added.');
  const secret = (await card(url).locator('[data-secret]').textContent())!.trim();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
  expect(await page.locator('[data-secret]').count()).toBe(1);
  return { id: (await card(url).getAttribute('id'))!, secret };
}

/** Reloads the page until the endpoint's delivery log has a row with that outcome. */
async function reloadUntilRow(url: string, outcome: string, timeoutMs = 15_000): Promise<Locator> {
  return eventually(
    async () => {
      await page.goto(settingsUrl());
      return (await rows(url, outcome).count()) > 0 && rows(url, outcome);
    },
    timeoutMs,
    `a ${outcome} delivery for ${url}`,
  );
}

/** Clicks one of an endpoint's buttons (each is its own small form). */
/** The add-endpoint form (the Notifications section has its own event boxes with the same labels). */
const addForm = () => page.locator('form[action="/settings/webhooks"]');
const press = (url: string, label: string) => submit(page, card(url).getByRole('button', { name: label }));

describe('webhook settings in the browser', () => {
  const state: { ok?: Receiver; endpoint?: { id: string; secret: string } } = {};

  it('is for admins only', async () => {
    const reviewerKey = await createKey(stack.admin, 'reviewer', 'rita');
    const other = await newContext(browser);
    try {
      const reviewerPage = await other.newPage();
      const res = await signIn(reviewerPage, stack.runtime.url, reviewerKey, '/settings/webhooks');
      expect(res.status()).toBe(403);
      expect(await text(reviewerPage.locator('main'))).toContain('This page is for admin keys.');
    } finally {
      await other.close();
    }
    // The admin's header links here.
    await page.goto(`${stack.runtime.url}/review`);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.waitForURL(settingsUrl());
    expect(await text(page.locator('h1'))).toBe('Webhooks');
    // The demo receiver registered by --demo-receiver is listed, its secret not.
    expect(await card(stack.runtime.info().demoReceiverUrl!).count()).toBe(1);
    expect(await page.locator('[data-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain('whsec_');
  });

  it('adds an endpoint, shows its secret once, and logs a "Test Webhook" event (a test draft.rejected) as succeeded with HTTP 200', async () => {
    const ok = (state.ok = await receiver('ok'));
    const endpoint = (state.endpoint = await addEndpoint(ok.url, 'Order service'));
    expect(endpoint.id).toMatch(/^ep_/);
    expect(await text(card(ok.url).locator('p.muted'))).toBe(
      `Order service · draft.approved, draft.rejected · enabled · retries: standard (4 attempts) · ${endpoint.id}`,
    );

    // Reloaded, the secret is gone for good and no second endpoint appears (the POST is not repeated).
    await page.reload();
    expect(await page.locator('[data-secret]').count()).toBe(0);
    expect(await card(ok.url).count()).toBe(1);
    expect(await page.content()).not.toContain(endpoint.secret);
    expect(await text(card(ok.url))).toContain('No deliveries yet.');

    const sent = await press(ok.url, 'Test Webhook');
    expect(sent.status()).toBe(200);
    expect(new URL(page.url()).hash).toBe(`#${endpoint.id}`);
    expect(await text(page.locator('[role=status]'))).toBe(
      'Test event queued: a draft.rejected marked "test": true, which receivers only log. Its delivery appears below within a few seconds (reload).',
    );

    const succeeded = await reloadUntilRow(ok.url, 'succeeded');
    const cells = (await succeeded.first().locator('td').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(cells.slice(0, 3)).toEqual(['succeeded', '200', '1']);
    expect(cells[3]).toMatch(/^draft\.rejected \(test\) ?test_/);
    // What the receiver got verifies with the secret the page showed.
    expect(ok.requests).toHaveLength(1);
    const payload = new Webhook(endpoint.secret).verify(ok.requests[0]!.body, ok.requests[0]!.headers as Record<string, string>) as Record<string, any>;
    expect(payload).toMatchObject({
      event: 'draft.rejected',
      test: true,
      draft: { id: expect.stringMatching(/^test_/), rejectionReason: expect.stringMatching(/test/i) },
    });

    // For the README: a decision delivered to the demo receiver too.
    const draft = await createDraft(stack.agent, {
      title: 'Send welcome email',
      content: { to: 'sam.rivera@example.com', subject: 'Welcome to Acme, Sam!', body: 'Hi Sam, thanks for signing up.' },
      metadata: { source: 'ai_agent_v1' },
    });
    expect((await stack.admin('POST', `/v1/drafts/${draft.id}/approve`, {})).status).toBe(200);
    await reloadUntilRow(stack.runtime.info().demoReceiverUrl!, 'succeeded');
    await reloadUntilRow(ok.url, 'succeeded');
    await eventually(
      async () => {
        await page.goto(settingsUrl());
        return (await rows(ok.url, 'succeeded').count()) === 2;
      },
      15_000,
      'the decision at the order service',
    );
    await screenshot(page, 'settings-webhooks', 'settings-webhooks.png');
  }, 45_000);

  it('highlights failed attempts and the dead delivery, and redrives it once the receiver is fixed', async () => {
    const failing = await receiver('fail');
    const endpoint = await addEndpoint(failing.url, 'Flaky CRM');
    await press(failing.url, 'Test Webhook');

    const failed = await reloadUntilRow(failing.url, 'failed');
    expect((await failed.first().locator('td').allTextContents())[1]!.trim()).toBe('500');
    expect(
      await failed
        .first()
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).backgroundColor),
    ).toBe('rgb(255, 248, 230)');

    const dead = await reloadUntilRow(failing.url, 'dead', 20_000);
    const deadCells = (await dead.first().locator('td').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(deadCells.slice(0, 3)).toEqual(['dead', '500', '4']);
    expect(deadCells[6]).toContain('HTTP 500');
    expect(
      await dead
        .first()
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).backgroundColor),
    ).toBe('rgb(253, 236, 234)');
    expect(await rows(failing.url, 'failed').count()).toBe(3);
    expect(await text(card(failing.url).locator('p.notice.error'))).toBe('1 dead delivery in the recent log. Fix the receiver, then redrive.');
    // At 1100 px the log fits its card: the Error column is neither clipped nor scrolled out of sight.
    expect(
      await card(failing.url)
        .locator('.table-wrap')
        .evaluate((wrap) => wrap.scrollWidth <= wrap.clientWidth),
    ).toBe(true);
    const [cardBox, errorBox] = [await card(failing.url).boundingBox(), await dead.first().locator('td').last().boundingBox()];
    expect(errorBox!.x + errorBox!.width).toBeLessThanOrEqual(cardBox!.x + cardBox!.width);
    await screenshot(page, 'settings-webhooks-dead');

    failing.setMode('ok');
    const redriven = await press(failing.url, 'Redrive dead deliveries');
    expect(redriven.status()).toBe(200);
    expect(new URL(page.url()).hash).toBe(`#${endpoint.id}`);
    expect(await text(page.locator('[role=status]'))).toBe('1 dead delivery sent out again.');
    await reloadUntilRow(failing.url, 'succeeded');
    expect(failing.requests).toHaveLength(5);
    expect(new Set(failing.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);

    // Nothing left to redrive.
    await press(failing.url, 'Redrive dead deliveries');
    expect(await text(page.locator('[role=status]'))).toBe('0 dead deliveries sent out again.');
  }, 45_000);

  it('sends a sample draft.approved only from its own control, behind a warning and a ticked box', async () => {
    const sampled = await receiver('ok');
    const endpoint = await addEndpoint(sampled.url, 'Sample approvals');
    expect(await text(card(sampled.url).locator('[data-sample-warning]'))).toMatch(/Receivers built from the documentation execute its content/);
    // Without the box ticked (the browser's `required` bypassed) nothing is sent.
    await page.evaluate(() => document.querySelectorAll('input[name=confirm]').forEach((box) => box.removeAttribute('required')));
    const unconfirmed = await press(sampled.url, 'Send sample approval');
    expect(unconfirmed.status()).toBe(400);
    expect(await text(page.locator('[role=alert]'))).toBe('Tick “Yes, my receiver will execute it” to send a sample approval.');
    await card(sampled.url).getByLabel('Yes, my receiver will execute it').check();
    const sent = await press(sampled.url, 'Send sample approval');
    expect(sent.status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toBe(
      'Sample draft.approved queued: receivers built from the documentation execute it. Its delivery appears below within a few seconds (reload).',
    );
    await eventually(() => sampled.requests.length === 1, 15_000, 'the sample approval');
    const payload = new Webhook(endpoint.secret).verify(sampled.requests[0]!.body, sampled.requests[0]!.headers as Record<string, string>) as Record<
      string,
      any
    >;
    expect(payload).toMatchObject({ event: 'draft.approved', test: true, draft: { id: expect.stringMatching(/^test_/), content: expect.any(Object) } });
  }, 30_000);

  it('rotates a secret (shown once, new) and deletes an endpoint', async () => {
    const { ok, endpoint } = state;
    expect(ok && endpoint).toBeTruthy();
    await page.goto(settingsUrl());
    const rotated = await press(ok!.url, 'Rotate secret');
    expect(rotated.status()).toBe(200);
    const fresh = (await card(ok!.url).locator('[data-secret]').textContent())!.trim();
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(endpoint!.secret);
    expect(await text(card(ok!.url).locator('[role=status]'))).toContain('The previous one keeps signing for 24 hours');
    await page.goto(settingsUrl());
    expect(await page.locator('[data-secret]').count()).toBe(0);
    // The old secret's promised end is shown, and matches the API's view.
    const shown = await card(ok!.url).locator('[data-previous-secrets] time').getAttribute('datetime');
    const apiView = (await stack.admin('GET', `/v1/webhooks/${endpoint!.id}`)).body;
    expect(apiView.previousSecrets).toHaveLength(1);
    expect(shown).toBe(apiView.previousSecrets[0].expiresAt);
    expect(Date.parse(shown!) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);

    // The next delivery is signed with the new secret.
    const before = ok!.requests.length;
    await press(ok!.url, 'Test Webhook');
    await eventually(() => ok!.requests.length > before, 15_000, 'a test event after rotation');
    const last = ok!.requests.at(-1)!;
    expect(() => new Webhook(fresh).verify(last.body, last.headers as Record<string, string>)).not.toThrow();

    // Deleting needs the confirmation box ticked; without it nothing is deleted.
    await page.evaluate(() => document.querySelectorAll('input[name=confirm]').forEach((box) => box.removeAttribute('required')));
    const unconfirmed = await press(ok!.url, 'Delete endpoint');
    expect(unconfirmed.status()).toBe(400);
    expect((await stack.admin('GET', `/v1/webhooks/${endpoint!.id}`)).status).toBe(200);
    await card(ok!.url).getByLabel('Yes, delete it').check();
    const deleted = await press(ok!.url, 'Delete endpoint');
    expect(deleted.status()).toBe(200);
    expect(await text(page.locator('[role=status]'))).toBe('Endpoint deleted.');
    expect(await card(ok!.url).count()).toBe(0);
    expect((await stack.admin('GET', `/v1/webhooks/${endpoint!.id}`)).status).toBe(404);
  }, 30_000);

  it('refuses a plain-http public URL inline, keeping what was typed', async () => {
    await page.goto(settingsUrl());
    const before = (await stack.admin('GET', '/v1/webhooks')).body.items.length;
    await page.locator('#url').fill('http://example.com/hooks/processa');
    await page.locator('#description').fill('Public & "quoted" <receiver>');
    await addForm().getByLabel('draft.rejected').uncheck();
    const refused = await submit(page, page.getByRole('button', { name: 'Add endpoint' }));
    expect(refused.status()).toBe(400);
    expect(await text(page.locator('[role=alert]'))).toBe('Invalid request: url: must use https://');
    expect(await page.locator('#url').inputValue()).toBe('http://example.com/hooks/processa');
    expect(await page.locator('#description').inputValue()).toBe('Public & "quoted" <receiver>');
    expect(await addForm().getByLabel('draft.approved').isChecked()).toBe(true);
    expect(await addForm().getByLabel('draft.rejected').isChecked()).toBe(false);
    expect((await stack.admin('GET', '/v1/webhooks')).body.items).toHaveLength(before);
  });
});
