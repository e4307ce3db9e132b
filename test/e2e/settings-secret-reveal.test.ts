import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { DynamoEndpointStore } from '../../shared/store/webhooks-store.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { csrfOf, pageAs as pageAsSession, signInThroughForm } from '../support/page-session.js';

/**
 * The settings page shows a signing secret once, on the page after an add or a rotation. What it
 * shows must be the endpoint's current secret: one rotated out stops signing after its grace, so a
 * receiver set up with it breaks a day later. Driven as a browser does (session cookie, CSRF token)
 * against `npm run dev`, with double clicks and two tabs in one session.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let dynamo: DynamoDBClient;
let stored: DynamoEndpointStore;

beforeAll(async () => {
  runtime = await startDevRuntime();
  admin = apiClient(runtime.url, runtime.adminKey);
  const info = runtime.info();
  dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: info.dynamodbEndpoint });
  stored = new DynamoEndpointStore(createDocumentClient(dynamo), info.tables.webhooks);
}, 90_000);

afterAll(async () => {
  dynamo?.destroy();
  await runtime?.stop();
});

const pageAs = (cookie: string, path: string, fields?: Record<string, string>) => pageAsSession(runtime.url, cookie, path, fields);

/** Signs in through the form as a browser does; returns the session cookie and the settings page's CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const signed = await signInThroughForm(runtime.url, runtime.adminKey, '/settings/webhooks');
  expect(signed.status).toBe(303);
  const cookie = signed.cookie!;
  return { cookie, csrf: csrfOf((await pageAs(cookie, '/settings/webhooks')).html) };
}

/** The secrets the page reveals, by the endpoint card they are shown in. */
function revealedSecrets(html: string): Record<string, string[]> {
  const shown: Record<string, string[]> = {};
  for (const card of html.split('<section class="card"').slice(1)) {
    const id = card.match(/^ id="([^"]+)"/)?.[1];
    const secrets = [...card.matchAll(/data-secret>([^<]*)</g)].map((m) => m[1]!.trim());
    if (id && secrets.length > 0) shown[id] = secrets;
  }
  return shown;
}

const currentSecret = async (id: string) => (await stored.get(id))!.secrets[0]!.value;

async function newEndpoint(path: string): Promise<string> {
  const res = await admin('POST', '/v1/webhooks', { url: `http://localhost:9/${path}` });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('the secret the settings page shows once', () => {
  it('after 20 Rotate POSTs at once in one session, the page shows the endpoint current secret, once', async () => {
    const { cookie, csrf } = await signIn();
    // A few endpoints in turn: which of the racing rotations records its reveal last varies from run to run.
    for (const round of [1, 2, 3, 4, 5]) {
      const id = await newEndpoint(`rotated-at-once-${round}`);
      const rotations = await Promise.all(Array.from({ length: 20 }, () => pageAs(cookie, `/settings/webhooks/${id}/rotate-secret`, { _csrf: csrf })));
      // Rotations that lost every write round are refused (409); the rest redirect to the reveal.
      expect(rotations.filter((r) => r.status === 303).length).toBeGreaterThan(0);
      for (const r of rotations) expect([303, 409]).toContain(r.status);

      // Any of the redirects: each names the endpoint, whose flash the first GET takes.
      const redirects = rotations.filter((r) => r.status === 303).map((r) => r.location!);
      const page = await pageAs(cookie, redirects[0]!);
      expect(page.status).toBe(200);
      expect(revealedSecrets(page.html)).toEqual({ [id]: [await currentSecret(id)] });
      // Once: the other racing rotations' redirect pages find the flash already taken.
      expect(revealedSecrets((await pageAs(cookie, redirects.at(-1)!)).html)).toEqual({});
      expect(revealedSecrets((await pageAs(cookie, '/settings/webhooks')).html)).toEqual({});
    }
  }, 90_000);

  it('two tabs of one session adding endpoints: a page loaded after the other tab posted shows only its own secret', async () => {
    const { cookie, csrf } = await signIn();
    const add = (tab: string) => pageAs(cookie, '/settings/webhooks', { _csrf: csrf, url: `http://localhost:9/two-tabs-${tab}`, events: 'draft.approved' });
    // Tab A posts, tab B posts, then A's redirect page loads, then B's.
    const a = await add('a');
    const b = await add('b');
    expect([a.status, b.status]).toEqual([303, 303]);
    const [idA, idB] = [a.location!.split('#')[1]!, b.location!.split('#')[1]!];
    expect(revealedSecrets((await pageAs(cookie, a.location!)).html)).toEqual({ [idA]: [await currentSecret(idA)] });
    // A plain page view (a third tab reloading) takes nobody's secret: B's is still to come.
    expect(revealedSecrets((await pageAs(cookie, '/settings/webhooks')).html)).toEqual({});
    expect(revealedSecrets((await pageAs(cookie, b.location!)).html)).toEqual({ [idB]: [await currentSecret(idB)] });
    // Shown once: reloading either redirect page shows nothing.
    expect(revealedSecrets((await pageAs(cookie, a.location!)).html)).toEqual({});
    expect(revealedSecrets((await pageAs(cookie, b.location!)).html)).toEqual({});
  }, 60_000);

  it('endpoints added at once from 20 tabs of one session: each tab page shows its own secret, and only its own', async () => {
    const { cookie, csrf } = await signIn();
    const adds = await Promise.all(
      Array.from({ length: 20 }, (_, tab) =>
        pageAs(cookie, '/settings/webhooks', {
          _csrf: csrf,
          url: `http://localhost:9/tab-20-${tab}`,
          description: `tab ${tab}`,
          events: 'draft.approved',
        }),
      ),
    );
    for (const add of adds) expect(add.status).toBe(303);
    const pages = await Promise.all(adds.map((add) => pageAs(cookie, add.location!)));
    for (const [i, page] of pages.entries()) {
      const id = adds[i]!.location!.split('#')[1]!;
      expect(revealedSecrets(page.html)).toEqual({ [id]: [await currentSecret(id)] });
    }
    expect(revealedSecrets((await pageAs(cookie, '/settings/webhooks')).html)).toEqual({});
  }, 90_000);

  it('a malformed endpoint parameter takes nothing and shows the page as usual', async () => {
    const { cookie, csrf } = await signIn();
    // A session that never had a flash, asked for a well-formed id.
    const none = await pageAs(cookie, '/settings/webhooks?notice=added&endpoint=ep_nosuchendpoint');
    expect(none.status).toBe(200);
    expect(revealedSecrets(none.html)).toEqual({});
    const add = await pageAs(cookie, '/settings/webhooks', { _csrf: csrf, url: 'http://localhost:9/malformed', events: 'draft.approved' });
    const id = add.location!.split('#')[1]!;
    for (const bad of ['flashes', 'ep_UPPER', `${id}x`.padEnd(60, 'x'), '']) {
      const page = await pageAs(cookie, `/settings/webhooks?notice=added&endpoint=${encodeURIComponent(bad)}`);
      expect(page.status).toBe(200);
      expect(revealedSecrets(page.html)).toEqual({});
    }
    expect(revealedSecrets((await pageAs(cookie, add.location!)).html)).toEqual({ [id]: [await currentSecret(id)] });
  }, 60_000);

  it('a rotation from elsewhere after this one shows the newer secret; a deleted endpoint shows none', async () => {
    const { cookie, csrf } = await signIn();
    const rotatedTwice = await newEndpoint('rotated-twice');
    const deleted = await newEndpoint('deleted');
    const first = await pageAs(cookie, `/settings/webhooks/${rotatedTwice}/rotate-secret`, { _csrf: csrf });
    const second = await pageAs(cookie, `/settings/webhooks/${deleted}/rotate-secret`, { _csrf: csrf });
    expect([first.status, second.status]).toEqual([303, 303]);
    // Before this tab's page loads, another admin rotates again (API) and the other endpoint is deleted.
    expect((await admin('POST', `/v1/webhooks/${rotatedTwice}/rotate-secret`, {})).status).toBe(200);
    expect((await admin('DELETE', `/v1/webhooks/${deleted}`)).status).toBe(200);

    expect(revealedSecrets((await pageAs(cookie, first.location!)).html)).toEqual({ [rotatedTwice]: [await currentSecret(rotatedTwice)] });
    expect(revealedSecrets((await pageAs(cookie, second.location!)).html)).toEqual({});
  }, 60_000);
});
