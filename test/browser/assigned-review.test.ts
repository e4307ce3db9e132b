/**
 * Assignment and quorum on the hosted pages in Chromium: the "Assigned to me" tab, "1 of 2
 * approvals" and who approved, who else must approve, no buttons for a reviewer the draft is
 * not assigned to, and every approver once it is approved.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, signIn, startStack, submit, watchForScripts, type Stack } from './support.js';
import { apiClient } from '../support/dev-runtime.js';

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const keys: Record<'ana' | 'ben' | 'outsider', { id: string; key: string }> = {} as never;
let draftId: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  for (const [name, groups] of [
    ['ana', ['finance']],
    ['ben', ['finance']],
    ['outsider', ['ops']],
  ] as const) {
    const res = await stack.admin('POST', '/v1/keys', { role: 'reviewer', name, groups });
    expect(res.status).toBe(201);
    keys[name] = res.body;
  }
  const created = await stack.agent('POST', '/v1/drafts', {
    title: 'Refund order #9001',
    content: { orderId: '9001', amount: 900, currency: 'EUR' },
    reviewers: ['group:finance'],
    requiredApprovals: 2,
  });
  expect(created.status).toBe(201);
  draftId = created.body.id;
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await stack?.runtime.stop();
});

async function as(name: keyof typeof keys): Promise<{ page: Page; problems: string[] }> {
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchForScripts(page);
  expect((await signIn(page, stack.runtime.url, keys[name].key)).status()).toBe(200);
  // Sign-in returns to paths only (no query), so the tab is opened from there, as a reviewer would.
  await page.getByRole('link', { name: 'Assigned to me' }).click();
  await page.waitForURL('**/review?status=assigned');
  return { page, problems };
}

const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const decideButtons = (page: Page) => page.getByRole('button', { name: /^(Approve|Reject)$/ });

describe('assigned review in the browser', () => {
  it('ana sees it under "Assigned to me", approves (1 of 2); ben sees who approved and completes it; the outsider never gets buttons', async () => {
    const ana = await as('ana');
    expect(await text(ana.page, 'h1')).toBe('Assigned to me');
    expect(await ana.page.getByRole('link', { name: 'Assigned to me' }).count()).toBe(1);
    const row = ana.page.locator('ul.drafts li', { hasText: 'Refund order #9001' });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain('0 of 2 approvals');

    await row.getByRole('link').click();
    await ana.page.waitForURL(`**/review/${draftId}`);
    expect(await text(ana.page, '#approvals')).toContain('Who may decide: group finance (and admins)');
    expect(await text(ana.page, '#still-needed')).toContain('Still needed: 2 more approvals from group finance');
    await submit(ana.page, ana.page.getByRole('button', { name: 'Approve' }));
    expect(await text(ana.page, '[role=status]')).toContain('Your approval is recorded');
    expect(await text(ana.page, '#approvals')).toContain('1 of 2 approvals (ana)');
    expect(await text(ana.page, '#still-needed')).toContain('1 more approval from group finance, other than ana');
    expect(await text(ana.page, 'h1')).toContain('pending');
    // Her own tab no longer lists it: it waits for someone else now.
    await ana.page.goto(`${stack.runtime.url}/review?status=assigned`);
    expect(await ana.page.locator('ul.drafts li', { hasText: 'Refund order #9001' }).count()).toBe(0);

    const outsider = await as('outsider');
    expect(await outsider.page.locator('ul.drafts li', { hasText: 'Refund order #9001' }).count()).toBe(0);
    await outsider.page.goto(`${stack.runtime.url}/review/${draftId}`);
    expect(await decideButtons(outsider.page).count()).toBe(0);
    expect(await text(outsider.page, '#not-assigned')).toContain('assigned to other reviewers');

    const ben = await as('ben');
    const benRow = ben.page.locator('ul.drafts li', { hasText: 'Refund order #9001' });
    expect(await benRow.textContent()).toContain('1 of 2 approvals (ana)');
    await ben.page.goto(`${stack.runtime.url}/review/${draftId}`);
    await submit(ben.page, ben.page.getByRole('button', { name: 'Approve' }));
    expect(await text(ben.page, 'h1')).toContain('approved');
    expect(await text(ben.page, '#approvers')).toBe('Approved by ana, ben.');
    expect(await decideButtons(ben.page).count()).toBe(0);
    expect((await stack.admin('GET', `/v1/drafts/${draftId}`)).body.status).toBe('approved');

    for (const p of [ana, outsider, ben]) expect(p.problems).toEqual([]);
  }, 90_000);

  it('a page opened before another reviewer edited does not approve the new content (refused, new content shown); keys assigned by id show by name', async () => {
    const created = await stack.agent('POST', '/v1/drafts', {
      title: 'Refund order #9002',
      content: { orderId: '9002', amount: 500 },
      reviewers: [keys.ana.id, keys.ben.id],
      requiredApprovals: 2,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const ana = await as('ana');
    await ana.page.goto(`${stack.runtime.url}/review/${id}`);
    // Keys assigned by id are shown by name.
    expect(await text(ana.page, '#approvals')).toContain('Who may decide: ana, ben (and admins)');
    // While ana reads round 0, ben edits and approves through the API.
    const asBen = apiClient(stack.runtime.url, keys.ben.key);
    expect((await asBen('POST', `/v1/drafts/${id}/approve`, { content: { orderId: '9002', amount: 5000 } })).body).toMatchObject({ status: 'pending' });
    const response = await submit(ana.page, ana.page.getByRole('button', { name: 'Approve' }));
    expect(response.status()).toBe(409);
    expect(await text(ana.page, '[role=alert]')).toContain('Someone edited this draft after you opened it');
    expect(await ana.page.locator('textarea#content').inputValue()).toContain('5000');
    const draft = (await stack.admin('GET', `/v1/drafts/${id}`)).body;
    expect(draft).toMatchObject({ status: 'pending', content: { orderId: '9002', amount: 5000 } });
    expect(draft.approvals.map((a: { by: { name: string } }) => a.by.name)).toEqual(['ben']);
    expect(ana.problems).toEqual([]);
  }, 90_000);
});
