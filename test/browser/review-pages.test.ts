/**
 * The hosted review pages in a real browser (Debian's Chromium through playwright-core) against
 * the dev runtime: sign-in, the queue, reading, editing, approving and rejecting, conflicts,
 * hostile draft text, CSRF and headers, phone width and no JavaScript at all.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually } from '../support/receiver.js';
import {
  backdateDraft,
  createDraft,
  createKey,
  demoReceiverEvents,
  launchBrowser,
  newContext,
  screenshot,
  signIn,
  startStack,
  submit,
  watchForScripts,
  type Stack,
} from './support.js';

let stack: Stack;
let browser: Browser;
let reviewerKey: string;
const contexts: BrowserContext[] = [];

const welcome = {
  title: 'Send welcome email',
  content: {
    to: 'sam.rivera@example.com',
    subject: 'Welcome to Acme, Sam!',
    body: 'Hi Sam,\n\nThanks for signing up for Acme. Your workspace is ready: invite your team, connect your calendar, and you are set.\n\nIf you have any questions, just reply to this email.\n\nThe Acme team',
  },
  metadata: { source: 'ai_agent_v1', campaign: 'onboarding', customer: 'cus_20931' },
};
const refund = {
  title: 'Refund order #4821',
  content: { orderId: '4821', amount: 49.9, currency: 'EUR', reason: 'Damaged on arrival', notifyCustomer: true },
  metadata: { source: 'ai_agent_v1', customer: 'cus_8842', confidence: 0.82 },
};
const ticketReply = {
  title: 'Reply to support ticket #1042',
  content: { ticket: 1042, channel: 'email', reply: 'Hi Dana, the export now includes archived projects. Sorry for the wait!' },
  metadata: { source: 'support_bot', priority: 'normal' },
};
const seeded: Record<'welcome' | 'refund' | 'ticket', { id: string }> = {} as never;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  reviewerKey = await createKey(stack.admin, 'reviewer', 'alice');
  // Oldest first, so the list shows them in the reverse order; two are moved into the past.
  seeded.ticket = await createDraft(stack.agent, ticketReply);
  seeded.refund = await createDraft(stack.agent, refund);
  seeded.welcome = await createDraft(stack.agent, welcome);
  await backdateDraft(stack.runtime, seeded.ticket.id, 42);
  await backdateDraft(stack.runtime, seeded.refund.id, 7);
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await stack?.runtime.stop();
});

async function open(options: Parameters<typeof newContext>[1] = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await newContext(browser, options);
  contexts.push(context);
  const page = await context.newPage();
  return { context, page, problems: watchForScripts(page) };
}

const url = (path: string) => `${stack.runtime.url}${path}`;
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
const draftStatus = async (id: string) => (await stack.admin('GET', `/v1/drafts/${id}`)).body.status as string;
const decideButtons = (page: Page) => page.getByRole('button', { name: /^(Approve|Reject)$/ });

describe('a reviewer in the browser', () => {
  it('signs in, reads the queue, fixes a refused edit, approves with edits, rejects with a reason, and signs out', async () => {
    const { page, problems } = await open();

    const first = await page.goto(url('/review'));
    expect(first!.status()).toBe(200);
    expect(await text(page, 'h1')).toBe('Sign in to review drafts');

    // Unknown keys and agent keys get exactly the same answer.
    const unknown = await signIn(page, stack.runtime.url, 'prk_this_key_does_not_exist_0123456789');
    expect(unknown.status()).toBe(401);
    const unknownMessage = await text(page, '[role=alert]');
    const unknownMain = await text(page, 'main');
    expect(unknownMessage).toContain('Sign-in failed');
    const asAgent = await signIn(page, stack.runtime.url, stack.agentKey);
    expect(asAgent.status()).toBe(401);
    expect(await text(page, '[role=alert]')).toBe(unknownMessage);
    expect(await text(page, 'main')).toBe(unknownMain);

    const signedIn = await signIn(page, stack.runtime.url, reviewerKey);
    expect(signedIn.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/review');
    expect(await text(page, 'header')).toContain('alice (reviewer)');
    expect(await page.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);

    // The queue: count, newest first, age and where each draft came from.
    expect(await text(page, 'h1')).toBe('3 pending drafts');
    expect(await text(page, '.tabs a[aria-current]')).toBe('Pending (3)');
    const rows = page.locator('ul.drafts li');
    expect(await rows.locator('a strong').allTextContents()).toEqual([welcome.title, refund.title, ticketReply.title]);
    const details = (await rows.locator('.muted').allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(details).toEqual(['just now · from ai_agent_v1 · by bot', '7 min ago · from ai_agent_v1 · by bot', '42 min ago · from support_bot · by bot']);
    await screenshot(page, 'review-list', 'review-list.png');

    // The email-like draft reads as an email, with its details and history.
    await Promise.all([page.waitForURL(`**/review/${seeded.welcome.id}`), page.getByRole('link', { name: welcome.title }).click()]);
    expect(await text(page, 'h1')).toBe(`${welcome.title} pending`);
    expect(await text(page, 'dt:text-is("To") + dd')).toBe(welcome.content.to);
    expect(await text(page, 'dt:text-is("Subject") + dd')).toBe(welcome.content.subject);
    expect(await page.locator('.email-body').textContent()).toBe(welcome.content.body);
    expect(await text(page, 'dt:text-is("source") + dd')).toBe('ai_agent_v1');
    expect(await text(page, 'dt:text-is("campaign") + dd')).toBe('onboarding');
    expect(await text(page, 'dt:text-is("Created") + dd')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by bot$/);
    expect(await text(page, 'dt:text-is("Id") + dd')).toBe(seeded.welcome.id);
    expect(await page.locator('section:has(h2:text-is("History")) li').allTextContents()).toEqual([
      expect.stringMatching(/^created by bot \(agent\) · \d{4}-/),
    ]);
    expect(JSON.parse(await page.locator('#content').inputValue())).toEqual(welcome.content);
    await screenshot(page, 'draft', 'draft.png');

    // Invalid JSON is refused inline, the reviewer's text kept, the draft still pending.
    const edited = { ...welcome.content, body: welcome.content.body.replace('Hi Sam,', 'Hi Sam (edited by Alice),') };
    const broken = JSON.stringify(edited, null, 2).replace(/}\s*$/, '');
    await page.locator('#content').fill(broken);
    const refused = await submit(page, page.getByRole('button', { name: 'Approve' }));
    expect(refused.status()).toBe(400);
    expect(await text(page, '[role=alert]')).toMatch(/^content is not valid JSON \(/);
    expect(await page.locator('#content').inputValue()).toBe(broken);
    expect(await text(page, 'h1')).toBe(`${welcome.title} pending`);
    expect(await draftStatus(seeded.welcome.id)).toBe('pending');

    // Fixed and approved: the page says who approved, shows the edit and the original.
    await page.locator('#content').fill(JSON.stringify(edited, null, 2));
    const approved = await submit(page, page.getByRole('button', { name: 'Approve' }));
    expect(approved.status()).toBe(200);
    expect(page.url()).toBe(url(`/review/${seeded.welcome.id}?done=approved`));
    expect(await text(page, '[role=status]')).toBe('Approved. The webhook is on its way.');
    expect(await text(page, '#decided')).toMatch(/^Approved by alice \(reviewer\) · \d{4}-\d\d-\d\d /);
    expect(await text(page, 'h1')).toBe(`${welcome.title} approved`);
    expect(await page.locator('.email-body').textContent()).toBe(edited.body);
    expect(await page.getByText('Original content from the agent').count()).toBe(1);
    expect(await page.locator('section:has(h2:text-is("History")) li').nth(1).textContent()).toMatch(/^approved by alice \(reviewer\) · .* · content edited$/);
    expect(await decideButtons(page).count()).toBe(0);
    expect(await page.locator('textarea').count()).toBe(0);

    // Back in the queue, one fewer; reject the refund with a reason.
    await page.getByRole('link', { name: '← All drafts' }).click();
    await page.waitForURL(url('/review'));
    expect(await text(page, 'h1')).toBe('2 pending drafts');
    await page.getByRole('link', { name: refund.title }).click();
    await page.waitForURL(`**/review/${seeded.refund.id}`);
    expect(await page.locator('section:has(h2:text-is("Content")) > pre').textContent()).toBe(JSON.stringify(refund.content, null, 2));
    const reason = 'Refunds above €40 need a photo of the damage first.';
    await page.locator('#reason').fill(reason);
    const rejected = await submit(page, page.getByRole('button', { name: 'Reject' }));
    expect(rejected.status()).toBe(200);
    expect(await text(page, '[role=status]')).toBe('Rejected. The webhook is on its way.');
    expect(await text(page, '#decided')).toMatch(new RegExp(`^Rejected by alice \\(reviewer\\) · .* · reason: “${reason.replace(/[.#]/g, '\\$&')}”$`));
    expect(await decideButtons(page).count()).toBe(0);

    // Both decisions reached the verifying demo receiver: the edit and the reason included.
    const events = await eventually(
      async () => {
        const all = await demoReceiverEvents(stack.runtime);
        const approval = all.find((e) => e.payload.event === 'draft.approved' && e.payload.draft.id === seeded.welcome.id);
        const rejection = all.find((e) => e.payload.event === 'draft.rejected' && e.payload.draft.id === seeded.refund.id);
        return approval && rejection && { approval, rejection };
      },
      15_000,
      'both webhooks at the demo receiver',
    );
    expect(events.approval.payload.draft.content).toEqual(edited);
    expect(events.approval.payload.draft.metadata).toEqual(welcome.metadata);
    expect(events.rejection.payload.draft.rejectionReason).toBe(reason);

    // Signing out ends the session: the pages ask for a key again.
    const signedOut = await submit(page, page.getByRole('button', { name: 'Sign out' }));
    expect(signedOut.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/review');
    expect(await text(page, 'h1')).toBe('Sign in to review drafts');
    await page.goto(url(`/review/${seeded.ticket.id}`));
    expect(await text(page, 'h1')).toBe('Sign in to review drafts');
    expect((await page.context().cookies()).find((c) => c.name === 'processa_session')).toBeUndefined();

    expect(problems).toEqual([]);
  }, 60_000);

  it('sees a draft decided elsewhere as decided, and a stale form gets a calm 409 instead of a second decision', async () => {
    const approvedElsewhere = await createDraft(stack.agent, {
      title: 'Cancel subscription for cus_771',
      content: { customer: 'cus_771', atPeriodEnd: true },
      metadata: { source: 'ai_agent_v1' },
    });
    const rejectedElsewhere = await createDraft(stack.agent, {
      title: 'Post launch note to #general',
      content: { channel: '#general', text: 'We shipped v2!' },
      metadata: { source: 'ai_agent_v1' },
    });
    const { context, page, problems } = await open();
    await signIn(page, stack.runtime.url, reviewerKey, `/review/${approvedElsewhere.id}`);
    expect(new URL(page.url()).pathname).toBe(`/review/${approvedElsewhere.id}`);
    expect(await decideButtons(page).count()).toBe(2);

    // An admin decides through the API while the reviewer's page is open.
    expect((await stack.admin('POST', `/v1/drafts/${approvedElsewhere.id}/approve`, {})).status).toBe(200);

    // Opened again, the draft shows who decided, and nothing to decide with.
    const fresh = await context.newPage();
    const freshProblems = watchForScripts(fresh);
    await fresh.goto(url(`/review/${approvedElsewhere.id}`));
    expect(await text(fresh, '#decided')).toMatch(/^Approved by bootstrap-admin \(admin\) · \d{4}-/);
    expect(await decideButtons(fresh).count()).toBe(0);
    expect(await fresh.locator('form[action$="/approve"], form[action$="/reject"]').count()).toBe(0);
    await fresh.close();

    // The stale page's Approve: a 409 draft page saying so, not an error page.
    const stale = await submit(page, page.getByRole('button', { name: 'Approve' }));
    expect(stale.status()).toBe(409);
    expect(await text(page, 'h1')).toBe('Cancel subscription for cus_771 approved');
    expect(await text(page, '[role=alert]')).toBe('This draft was already approved by bootstrap-admin; your decision was not applied.');
    expect(await text(page, '#decided')).toMatch(/^Approved by bootstrap-admin \(admin\)/);
    expect(await decideButtons(page).count()).toBe(0);
    const history = await page.locator('section:has(h2:text-is("History")) li').allTextContents();
    expect(history.filter((h) => h.startsWith('approved'))).toHaveLength(1);

    // Same for a stale Reject after someone else rejected.
    await page.goto(url(`/review/${rejectedElsewhere.id}`));
    expect((await stack.admin('POST', `/v1/drafts/${rejectedElsewhere.id}/reject`, { reason: 'Wrong channel' })).status).toBe(200);
    await page.locator('#reason').fill('Typo in the text');
    const staleReject = await submit(page, page.getByRole('button', { name: 'Reject' }));
    expect(staleReject.status()).toBe(409);
    expect(await text(page, '[role=alert]')).toBe('This draft was already rejected by bootstrap-admin; your decision was not applied.');
    expect(await text(page, '#decided')).toMatch(/· reason: “Wrong channel”$/);
    expect((await stack.admin('GET', `/v1/drafts/${rejectedElsewhere.id}`)).body.rejectionReason).toBe('Wrong channel');

    expect([...problems, ...freshProblems]).toEqual([]);
  }, 30_000);
});

describe('hostile draft text', () => {
  const payloads = {
    script: '<script>alert(1)</script>',
    img: '"><img src=x onerror=alert(1)>',
    js: 'javascript:alert(1)',
    textarea: '</textarea><script>alert(2)</script>',
    attr: "' autofocus onfocus='alert(3)",
    svg: '<svg onload=alert(4)>',
    pre: '</pre><script>alert(5)</script>',
    style: '<style>*{display:none}</style>',
  };
  const emailLike = {
    title: `${payloads.script} ${payloads.img}`,
    content: {
      to: `${payloads.img}@example.com`,
      subject: payloads.script,
      body: `${payloads.textarea}\n<a href="${payloads.js}">${payloads.js}</a>\n${payloads.style}`,
      cc: payloads.svg,
      extra: { nested: [payloads.pre, payloads.attr] },
    },
    metadata: {
      source: payloads.js,
      [payloads.img]: payloads.script,
      [payloads.script]: payloads.textarea,
      link: `<a href="${payloads.js}">click</a>`,
      [payloads.attr]: payloads.attr,
    },
  };
  const nested = {
    title: `${payloads.textarea}${payloads.attr}`,
    content: {
      [payloads.script]: { [payloads.textarea]: [payloads.img, { href: payloads.js, [payloads.pre]: payloads.svg }], '`${alert(6)}`': payloads.style },
    },
    metadata: { source: `${payloads.pre}${payloads.img}` },
  };

  /** What the DOM would hold had any payload become markup. */
  const injected = (page: Page) =>
    page.evaluate(() => ({
      scripts: document.scripts.length,
      images: document.images.length,
      svgs: document.querySelectorAll('svg').length,
      styles: document.querySelectorAll('style').length,
      javascriptLinks: [...document.querySelectorAll('a')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      handlers: [...document.querySelectorAll('*')].flatMap((el) =>
        [...el.attributes].map((a) => a.name).filter((n) => n.startsWith('on') || n === 'autofocus'),
      ),
      hidden: getComputedStyle(document.body).display === 'none',
    }));
  const clean = { scripts: 0, images: 0, svgs: 0, styles: 1, javascriptLinks: 0, handlers: [], hidden: false };

  it('stays text on the list and the draft pages, before and after a decision, with or without the CSP', async () => {
    const a = await createDraft(stack.agent, emailLike);
    const b = await createDraft(stack.agent, nested);

    // Once under the CSP (a violation would show up as a console error), once with it bypassed,
    // so escaping alone is what keeps the payloads from running.
    for (const bypassCSP of [false, true]) {
      const { page, problems } = await open({ bypassCSP });
      await signIn(page, stack.runtime.url, reviewerKey);

      const titles = await page.locator('ul.drafts li a strong').allTextContents();
      expect(titles).toEqual(expect.arrayContaining([emailLike.title, nested.title]));
      const rowA = page.locator('ul.drafts li', { has: page.locator(`a[href="/review/${a.id}"]`) });
      expect(await rowA.locator('.muted').textContent()).toContain(`from ${payloads.js} · by bot`);
      expect(await page.getByText(emailLike.title, { exact: true }).isVisible()).toBe(true);
      expect(await injected(page)).toEqual(clean);

      await page.goto(url(`/review/${a.id}`));
      expect(await page.locator('h1').textContent()).toContain(emailLike.title);
      expect(await page.locator('dt:text-is("To") + dd').textContent()).toBe(emailLike.content.to);
      expect(await page.locator('dt:text-is("Subject") + dd').textContent()).toBe(payloads.script);
      expect(await page.locator('dt:text-is("cc") + dd').textContent()).toBe(payloads.svg);
      expect(await page.locator('dt:text-is("extra") + dd').textContent()).toBe(JSON.stringify(emailLike.content.extra));
      expect(await page.locator('.email-body').textContent()).toBe(emailLike.content.body);
      expect(await page.locator('.email-body').isVisible()).toBe(true);
      expect(await page.locator('details pre').first().textContent()).toBe(JSON.stringify(emailLike.content, null, 2));
      const metadataTerms = await page.locator('section:has(h2:text-is("Details")) dt').allTextContents();
      expect(metadataTerms).toEqual(['Created', 'source', payloads.img, payloads.script, 'link', payloads.attr, 'Id']);
      expect(await page.locator(`section:has(h2:text-is("Details")) dd`).nth(4).textContent()).toBe(emailLike.metadata.link);
      // The textarea holds the whole content: the </textarea> in it did not close it.
      expect(JSON.parse(await page.locator('#content').inputValue())).toEqual(emailLike.content);
      expect(await injected(page)).toEqual(clean);

      await page.goto(url(`/review/${b.id}`));
      expect(await page.locator('h1').textContent()).toContain(nested.title);
      expect(await page.locator('section:has(h2:text-is("Content")) > pre').textContent()).toBe(JSON.stringify(nested.content, null, 2));
      expect(JSON.parse(await page.locator('#content').inputValue())).toEqual(nested.content);
      expect(await page.locator('dt:text-is("source") + dd').textContent()).toBe(nested.metadata.source);
      expect(await injected(page)).toEqual(clean);

      if (bypassCSP) {
        // Decided, so the notice, the decision line and the history render the text too.
        await page.locator('#reason').fill(`${payloads.textarea} ${payloads.img}`);
        expect((await submit(page, page.getByRole('button', { name: 'Reject' }))).status()).toBe(200);
        expect(await page.locator('#decided').textContent()).toContain(`reason: “${payloads.textarea} ${payloads.img}”`);
        expect(await page.locator('section:has(h2:text-is("History")) li').nth(1).textContent()).toContain(`“${payloads.textarea} ${payloads.img}”`);
        expect(await injected(page)).toEqual(clean);

        await page.goto(url(`/review/${a.id}`));
        expect((await submit(page, page.getByRole('button', { name: 'Approve' }))).status()).toBe(200);
        expect(await page.locator('[role=status]').textContent()).toBe('Approved. The webhook is on its way.');
        expect(await page.locator('.email-body').textContent()).toBe(emailLike.content.body);
        expect(await injected(page)).toEqual(clean);

        await page.goto(url('/review?status=approved'));
        expect(await page.locator('ul.drafts li a strong').allTextContents()).toContain(emailLike.title);
        expect(await injected(page)).toEqual(clean);
      }
      expect(problems).toEqual([]);
    }
    // The stored content is what the agent sent; the page did not alter it on approval.
    expect((await stack.admin('GET', `/v1/drafts/${a.id}`)).body.content).toEqual(emailLike.content);
  }, 45_000);
});

describe('forms and headers', () => {
  it('refuse POSTs without the right CSRF token; pages send a strict CSP; cookies are HttpOnly and SameSite=Strict', async () => {
    const target = await createDraft(stack.agent, { title: 'Archive stale leads', content: { olderThanDays: 180 }, metadata: { source: 'ai_agent_v1' } });
    const { context, page } = await open();

    // Headers of the sign-in page and its login-CSRF cookie.
    const signInResponse = await page.goto(url('/review'));
    const headers = signInResponse!.headers();
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("form-action 'self'");
    expect(headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cache-control']).toBe('no-store');
    const loginCsrf = (await context.cookies()).find((c) => c.name === 'processa_login_csrf');
    expect(loginCsrf).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

    await page.locator('#key').fill(reviewerKey);
    await submit(page, page.getByRole('button', { name: 'Sign in' }));
    const session = (await context.cookies()).find((c) => c.name === 'processa_session');
    // Secure is off only because this is http://localhost; elsewhere the cookie is Secure.
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    expect(session!.value).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const listHeaders = (await page.reload())!.headers();
    expect(listHeaders['content-security-policy']).toContain("default-src 'none'");
    expect(listHeaders['x-frame-options']).toBe('DENY');

    const post = (path: string, form: Record<string, string>, cookie?: string) =>
      fetch(url(path), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        body: new URLSearchParams(form).toString(),
      });
    const sessionCookie = `processa_session=${session!.value}`;

    const missing = await post(`/review/${target.id}/approve`, { content: '' }, sessionCookie);
    expect(missing.status).toBe(403);
    expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await missing.text()).toContain('This form has expired or did not come from this site.');
    const wrong = await post(`/review/${target.id}/approve`, { _csrf: 'A'.repeat(43), content: '' }, sessionCookie);
    expect(wrong.status).toBe(403);
    const wrongReject = await post(`/review/${target.id}/reject`, { _csrf: session!.value, reason: 'forged' }, sessionCookie);
    expect(wrongReject.status).toBe(403);
    // A token from another session is no good either.
    const other = await open();
    await signIn(other.page, stack.runtime.url, reviewerKey);
    const otherToken = await other.page.locator('header input[name=_csrf]').getAttribute('value');
    expect((await post(`/review/${target.id}/approve`, { _csrf: otherToken!, content: '' }, sessionCookie)).status).toBe(403);
    const signOutForged = await post('/review/logout', {}, sessionCookie);
    expect(signOutForged.status).toBe(403);
    expect(await draftStatus(target.id)).toBe('pending');

    // Sign-in without the login CSRF cookie, or with a token that does not match it, is refused
    // before the key is even looked at.
    const noCookie = await post('/review/login', { _csrf: loginCsrf!.value, key: reviewerKey, next: '/review' });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.get('set-cookie') ?? '').not.toContain('processa_session=');
    const mismatched = await post('/review/login', { _csrf: 'B'.repeat(32), key: reviewerKey }, `processa_login_csrf=${loginCsrf!.value}`);
    expect(mismatched.status).toBe(403);

    // The control: the same request with the page's own token goes through.
    await page.goto(url(`/review/${target.id}`));
    const token = await page.locator('form[action$="/approve"] input[name=_csrf]').getAttribute('value');
    const genuine = await post(`/review/${target.id}/approve`, { _csrf: token!, content: '' }, sessionCookie);
    expect(genuine.status).toBe(303);
    expect(genuine.headers.get('location')).toBe(`/review/${target.id}?done=approved`);
    expect(await draftStatus(target.id)).toBe('approved');
  }, 30_000);
});

describe('other ways in', () => {
  it('fits a phone: no horizontal scrolling on the list or a draft with long unbroken text', async () => {
    const long = await createDraft(stack.agent, {
      // Ids and addresses do not break at spaces; a page must still fit the phone.
      title:
        'Reset password for jordan.alexander.whitfield-montgomery@enterprise-customer-example.com (charge ch_3PqZ8x2eZvKi9yFh1x0Yq7Tm4Vb6Nc8Rd2We5Gf7Hk9Jl)',
      content: {
        to: 'jordan.alexander.whitfield-montgomery@enterprise-customer-example.com',
        subject: 'Reset your password',
        body: `Hi Jordan,\n\nUse this link within 30 minutes:\nhttps://app.example.com/account/password/reset?token=${'x9Kq2'.repeat(30)}\n\nThanks!`,
        trackingId: 'trk_'.padEnd(120, '0'),
      },
      metadata: { source: 'ai_agent_v1', requestId: `req_${'7f3a'.repeat(25)}` },
    });
    const { page, problems } = await open({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await signIn(page, stack.runtime.url, reviewerKey);
    const width = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(await width()).toEqual({ scroll: 390, client: 390 });
    await page.goto(url(`/review/${long.id}`));
    expect((await width()).scroll).toBeLessThanOrEqual(390);
    await screenshot(page, 'draft-phone');
    // A real email draft too.
    await page.goto(url(`/review/${seeded.welcome.id}`));
    expect((await width()).scroll).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
  });

  it('works without JavaScript: sign in, approve, reject, sign out are plain forms', async () => {
    const first = await createDraft(stack.agent, {
      title: 'Send invoice reminder',
      content: { to: 'ap@example.org', subject: 'Invoice 2291 is due', body: 'Hello, a friendly reminder.' },
      metadata: { source: 'ai_agent_v1' },
    });
    const second = await createDraft(stack.agent, {
      title: 'Close duplicate ticket #1043',
      content: { ticket: 1043, duplicateOf: 1042 },
      metadata: { source: 'support_bot' },
    });
    const { page } = await open({ javaScriptEnabled: false });
    expect((await signIn(page, stack.runtime.url, reviewerKey)).status()).toBe(200);
    expect(await page.getByRole('link', { name: first.title }).count()).toBe(1);

    await page.getByRole('link', { name: first.title }).click();
    await page.waitForURL(`**/review/${first.id}`);
    const approved = await submit(page, page.getByRole('button', { name: 'Approve' }));
    expect(approved.status()).toBe(200);
    expect(await text(page, '[role=status]')).toBe('Approved. The webhook is on its way.');
    expect(await text(page, '#decided')).toMatch(/^Approved by alice \(reviewer\)/);

    await page.goto(url(`/review/${second.id}`));
    await page.locator('#reason').fill('Not a duplicate');
    expect((await submit(page, page.getByRole('button', { name: 'Reject' }))).status()).toBe(200);
    expect(await text(page, '#decided')).toMatch(/reason: “Not a duplicate”$/);

    expect(await draftStatus(first.id)).toBe('approved');
    expect(await draftStatus(second.id)).toBe('rejected');
    await submit(page, page.getByRole('button', { name: 'Sign out' }));
    expect(await text(page, 'h1')).toBe('Sign in to review drafts');
  });
});
