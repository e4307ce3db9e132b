/**
 * Sign-in throttling in the browser. Its own file and dev runtime: after this test the client
 * (127.0.0.1, shared by every test) is locked out of that runtime's sign-in for 15 minutes.
 */
import type { Browser } from 'playwright-core';
import { createKey, launchBrowser, newContext, signIn, startStack, watchForScripts, type Stack } from './support.js';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.runtime.stop();
});

it('refuses the sixth sign-in in a row after five failures, even with the right key', async () => {
  const reviewerKey = await createKey(stack.admin, 'reviewer', 'alice');
  const context = await newContext(browser);
  const page = await context.newPage();
  const problems = watchForScripts(page);
  const alert = async () => ((await page.locator('[role=alert]').textContent()) ?? '').trim();

  for (let attempt = 1; attempt <= 5; attempt++) {
    const failed = await signIn(page, stack.runtime.url, `prk_wrong_${attempt}_${'x'.repeat(30)}`);
    expect(failed.status()).toBe(401);
    expect(await alert()).toBe('Sign-in failed. Use a valid reviewer or admin API key.');
  }

  const sixth = await signIn(page, stack.runtime.url, 'prk_wrong_6_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
  expect(sixth.status()).toBe(429);
  // What is left of the 15-minute window that the first failure opened.
  expect(Number(sixth.headers()['retry-after'])).toBeGreaterThan(840);
  expect(Number(sixth.headers()['retry-after'])).toBeLessThanOrEqual(900);
  expect(await alert()).toBe('Too many failed sign-ins. Try again in 15 minutes.');
  // The form is still there, so the person knows where to come back to.
  expect(await page.locator('#key').count()).toBe(1);

  // The right key does not get through the lockout either, and no session is started.
  const right = await signIn(page, stack.runtime.url, reviewerKey);
  expect(right.status()).toBe(429);
  expect(await alert()).toMatch(/^Too many failed sign-ins/);
  expect((await context.cookies()).find((c) => c.name === 'processa_session')).toBeUndefined();

  // The key itself is fine: the API, which is not throttled by page sign-ins, accepts it.
  const viaApi = await fetch(`${stack.runtime.url}/v1/drafts`, { headers: { authorization: `Bearer ${reviewerKey}` } });
  expect(viaApi.status).toBe(200);
  expect(problems).toEqual([]);
  await context.close();
});
