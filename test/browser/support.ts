import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { apiClient, repoRoot, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';

/**
 * Browser tests drive Debian's Chromium (/usr/bin/chromium, installed by apt in CI); nothing is
 * downloaded. One browser per test file, one fresh context (cookie jar) per test.
 */
export const CHROMIUM = process.env.PROCESSA_CHROMIUM ?? '/usr/bin/chromium';

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

export type Api = ReturnType<typeof apiClient>;

export interface Stack {
  runtime: DevRuntime;
  admin: Api;
  agent: Api;
  agentKey: string;
}

/** A dev runtime with the demo receiver, plus an agent key made through the admin API. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const runtime = await startDevRuntime({ args: ['--demo-receiver'], env });
  const admin = apiClient(runtime.url, runtime.adminKey);
  const created = await admin('POST', '/v1/keys', { role: 'agent', name: 'bot' });
  if (created.status !== 201) throw new Error(`could not create the agent key: ${JSON.stringify(created.body)}`);
  return { runtime, admin, agent: apiClient(runtime.url, created.body.key), agentKey: created.body.key };
}

export async function createKey(admin: Api, role: 'agent' | 'reviewer' | 'admin', name: string): Promise<string> {
  const res = await admin('POST', '/v1/keys', { role, name });
  if (res.status !== 201) throw new Error(`could not create a ${role} key: ${JSON.stringify(res.body)}`);
  return res.body.key as string;
}

export interface DraftInput {
  title: string;
  content: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export async function createDraft(agent: Api, input: DraftInput): Promise<{ id: string; title: string; createdAt: string }> {
  const res = await agent('POST', '/v1/drafts', input);
  if (res.status !== 201) throw new Error(`could not create draft "${input.title}": ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Clicks a form's submit button and waits for the document it leads to (following a 303 when
 * there is one). Returns that document's response, so tests can check 200/401/403/409/429.
 */
export async function submit(page: Page, button: Locator): Promise<Response> {
  const final = page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400));
  const loaded = page.waitForEvent('load');
  await button.click();
  const response = await final;
  await loaded;
  return response;
}

/** Opens /review and signs in with a key; returns the response the sign-in form led to. */
export async function signIn(page: Page, baseUrl: string, key: string, path = '/review'): Promise<Response> {
  await page.goto(`${baseUrl}${path}`);
  await page.locator('#key').fill(key);
  return submit(page, page.getByRole('button', { name: 'Sign in' }));
}

/** Everything that would show an injected script actually ran, or that the CSP had to block something. */
export function watchForScripts(page: Page) {
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every non-2xx document as "Failed to load resource"; the tests check statuses themselves.
    if ((message.type() === 'error' || message.type() === 'warning') && !message.text().startsWith('Failed to load resource:')) {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  // The pages load nothing but themselves (the stylesheet is inline); the browser's own favicon probe aside.
  page.on('request', (request) => {
    if (!request.isNavigationRequest() && new URL(request.url()).pathname !== '/favicon.ico')
      problems.push(`subresource: ${request.method()} ${request.url()}`);
  });
  return problems;
}

const screenshotDir = join(repoRoot, 'test-output', 'screenshots');
const committedDir = join(repoRoot, 'test', 'screenshots');

/**
 * Saves a full-page screenshot to test-output/screenshots/ (ignored by git). With `committedAs`
 * and UPDATE_SCREENSHOTS=1 it also refreshes test/screenshots/, which the README shows, so an
 * ordinary test run leaves the working tree clean.
 */
export async function screenshot(page: Page, name: string, committedAs?: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (committedAs && process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(committedDir, { recursive: true });
    copyFileSync(file, join(committedDir, committedAs));
  }
  return file;
}

export async function newContext(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
}

/** Verified events the demo receiver got, from its GET /events. */
export async function demoReceiverEvents(
  runtime: DevRuntime,
): Promise<Array<{ webhookId: string; payload: { event: string; test?: boolean; draft: Record<string, any> } }>> {
  const receiverUrl = runtime.info().demoReceiverUrl;
  if (!receiverUrl) throw new Error('the dev runtime was started without --demo-receiver');
  const res = await fetch(new URL('/events', receiverUrl));
  return (await res.json()) as any;
}

/**
 * Moves a pending draft's creation time into the past, straight in DynamoDB Local, so the list
 * can show an age other than "just now". Pending → pending changes never reach the webhook
 * fan-out (its stream filter passes decisions only).
 */
export async function backdateDraft(runtime: DevRuntime, id: string, minutes: number): Promise<string> {
  const info = runtime.info();
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: info.dynamodbEndpoint, ...LOCAL_AWS }));
  try {
    const createdAt = new Date(Date.now() - minutes * 60_000).toISOString();
    await client.send(
      new UpdateCommand({
        TableName: info.tables.drafts,
        Key: { id },
        UpdateExpression: 'SET createdAt = :at, listKey = :key, history[0].#at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': createdAt, ':key': `${createdAt}#${id}` },
        ConditionExpression: 'attribute_exists(id)',
      }),
    );
    return createdAt;
  } finally {
    client.destroy();
  }
}
