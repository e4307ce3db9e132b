/**
 * An email's Approve and Reject links in a real browser (Debian's Chromium) against the dev
 * runtime: the confirmation page renders under the strict CSP with nothing blocked, the button
 * decides, the link again shows the decision; Reject's reason is required by the form itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../support/receiver.js';
import { createDraft, demoReceiverEvents, launchBrowser, newContext, screenshot, startStack, submit, watchForScripts, type Stack } from './support.js';

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  const channel = await stack.admin('POST', '/v1/notifications', { kind: 'email', recipients: ['rita@example.com'] });
  expect(channel.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await stack?.runtime.stop();
});

async function open(options: Parameters<typeof newContext>[1] = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await newContext(browser, options);
  contexts.push(context);
  const page = await context.newPage();
  return { page, problems: watchForScripts(page) };
}

/** The Approve and Reject links of the email about one draft, from the text part of its .eml. */
async function linksFor(draftId: string): Promise<{ approve: string; reject: string }> {
  const outbox = join(stack.runtime.dataDir, 'outbox');
  const text = await eventually(
    () =>
      existsSync(outbox) &&
      readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => readFileSync(join(outbox, f), 'utf8'))
        .map((eml) => eml.match(/Content-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/)?.[1] ?? '')
        .map((b64) => Buffer.from(b64.replace(/\r\n/g, ''), 'base64').toString('utf8'))
        .find((t) => t.includes(`/review/${draftId}`) && t.includes('Approve: ')),
    15_000,
    'the email with its links',
  );
  return { approve: text.match(/^Approve: (\S+)$/m)![1]!, reject: text.match(/^Reject: (\S+)$/m)![1]! };
}

it('Approve: the confirmation page shows the draft under the CSP with nothing blocked; the button approves; the link again shows who decided', async () => {
  const draft = await createDraft(stack.agent, {
    title: 'Send <img src=x onerror=alert(1)> welcome',
    content: { to: 'sam@example.com', subject: 'Welcome!', body: 'Hello <script>alert(2)</script>' },
    metadata: { source: 'ai_agent_v1' },
  });
  const { approve } = await linksFor(draft.id);
  const { page, problems } = await open();
  const shown = await page.goto(approve);
  expect(shown?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Approve this draft?' }).isVisible()).resolves.toBe(true);
  await expect(page.getByRole('heading', { name: 'Send <img src=x onerror=alert(1)> welcome' }).isVisible()).resolves.toBe(true);
  await expect(page.getByText('Hello <script>alert(2)</script>').isVisible()).resolves.toBe(true);
  await expect(page.getByRole('link', { name: 'the full review page' }).getAttribute('href')).resolves.toBe(`/review/${draft.id}`);
  await screenshot(page, 'email-decision-confirm');
  expect((await stack.admin('GET', `/v1/drafts/${draft.id}`)).body.status).toBe('pending');

  const decided = await submit(page, page.getByRole('button', { name: 'Approve' }));
  expect(decided.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Approved' }).isVisible()).resolves.toBe(true);
  await expect(page.getByText('Recorded as approved by rita@example.com').isVisible()).resolves.toBe(true);
  await eventually(async () => (await demoReceiverEvents(stack.runtime)).some((e) => e.payload.draft.id === draft.id), 15_000, 'the webhook');

  await page.goto(approve);
  await expect(page.getByText(/Already decided: approved by rita@example\.com/).isVisible()).resolves.toBe(true);
  await expect(page.getByRole('button').count()).resolves.toBe(0);
  expect(problems).toEqual([]);
});

it('Reject at phone width: the form will not send without a reason; with one it rejects and shows it', async () => {
  const draft = await createDraft(stack.agent, { title: 'Refund order #4821', content: { orderId: '4821', amount: 49.9 } });
  const { reject } = await linksFor(draft.id);
  const { page, problems } = await open({ viewport: { width: 375, height: 740 } });
  await page.goto(reject);
  await expect(page.getByRole('heading', { name: 'Reject this draft?' }).isVisible()).resolves.toBe(true);
  // The browser's own check (required): clicking sends nothing.
  await page.getByRole('button', { name: 'Reject' }).click();
  await expect(page.locator('#reason').evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing)).resolves.toBe(true);
  expect((await stack.admin('GET', `/v1/drafts/${draft.id}`)).body.status).toBe('pending');

  await page.locator('#reason').fill('Amount does not match the order');
  const decided = await submit(page, page.getByRole('button', { name: 'Reject' }));
  expect(decided.status()).toBe(200);
  await expect(page.getByText('Reason: Amount does not match the order').isVisible()).resolves.toBe(true);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
  await screenshot(page, 'email-decision-rejected-phone');
  expect(await stack.admin('GET', `/v1/drafts/${draft.id}`)).toMatchObject({
    body: { status: 'rejected', rejectionReason: 'Amount does not match the order' },
  });
  expect(problems).toEqual([]);
});
