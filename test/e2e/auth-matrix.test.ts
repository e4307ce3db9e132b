/**
 * The auth matrix, generated from the router (infra/app-definition.ts `routes`, which the local
 * gateway and the CDK stack both serve): every route is called on the dev runtime without a key,
 * with a wrong key, with a revoked key and with each role's key, and must answer as its declared
 * roles say. A new route therefore gets these checks without anyone writing them, and cannot be
 * added without roles (or with roles the product contract does not give).
 */
import { ROLES, routeKey, routes, type RouteDefinition, type Role } from '../../infra/app-definition.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { signInThroughForm } from '../support/page-session.js';

const allRoutes = routes as readonly RouteDefinition[];
const authOf = (route: RouteDefinition) => route.auth ?? 'bearer';
/** An email's Approve or Reject link: no key and no session; the signed token in its path is the credential (email-decisions.test.ts). */
const isEmailLinkRoute = (route: RouteDefinition) => route.path === '/email-decisions/{token}';
const bearerRoutes = allRoutes.filter((r) => authOf(r) === 'bearer');
const openRoutes = allRoutes.filter((r) => authOf(r) === 'none');
const sessionRoutes = allRoutes.filter((r) => authOf(r) === 'session');
const SIGN_IN_ROUTE = 'POST /review/login';
/** Open to callers without a key, but each request must carry Slack's signature (the app's signing secret) instead. */
const SLACK_SIGNED_ROUTE = 'POST /v1/integrations/slack/interactions';

/**
 * The product contract's role table (PRODUCT.md, "Roles and keys" and "HTTP API"), as rules over
 * paths: agents create and read drafts; reviewers read, list and decide; admins do everything,
 * and alone manage webhooks and keys. A route no rule covers fails the test below.
 */
function contractRoles(route: RouteDefinition): readonly Role[] | 'open' | undefined {
  const key = routeKey(route);
  if (key === 'GET /v1/openapi.json') return 'open';
  // Decide from Slack: Slack calls it; a decision needs a Slack user linked to a reviewer or admin key (slack-interactions.test.ts).
  if (key === SLACK_SIGNED_ROUTE) return 'open';
  if (key === SIGN_IN_ROUTE) return [];
  if (key === 'POST /v1/drafts') return ['agent', 'admin'];
  if (route.method === 'GET' && /^\/v1\/drafts(\/\{id\})?$/.test(route.path)) return ['agent', 'reviewer', 'admin'];
  if (/^\/v1\/drafts\/\{id\}\/(approve|reject)$/.test(route.path)) return ['reviewer', 'admin'];
  if (/^\/v1\/(webhooks|keys|notifications)(\/|$)/.test(route.path)) return ['admin'];
  if (/^\/review(\/|$)/.test(route.path)) return ['reviewer', 'admin'];
  if (isEmailLinkRoute(route)) return [];
  if (/^\/settings\/webhooks(\/|$)/.test(route.path)) return ['admin'];
  return undefined;
}

let runtime: DevRuntime;
const keys = {} as Record<Role | 'revoked', string>;
const ids = { draft: '', endpoint: 'ep_' + 'a'.repeat(20), key: 'key_' + 'b'.repeat(20) };

beforeAll(async () => {
  runtime = await startDevRuntime();
  const admin = apiClient(runtime.url, runtime.adminKey);
  keys.admin = runtime.adminKey;
  for (const role of ['agent', 'reviewer'] as const) {
    const created = await admin('POST', '/v1/keys', { role, name: `matrix-${role}` });
    expect(created.status).toBe(201);
    keys[role] = created.body.key;
  }
  const doomed = await admin('POST', '/v1/keys', { role: 'admin', name: 'matrix-revoked' });
  expect((await admin('DELETE', `/v1/keys/${doomed.body.id}`)).status).toBe(200);
  keys.revoked = doomed.body.key;
  const draft = await apiClient(runtime.url, keys.agent)('POST', '/v1/drafts', { title: 'auth matrix', content: { n: 1 } });
  expect(draft.status).toBe(201);
  ids.draft = draft.body.id;
}, 90_000);

afterAll(async () => {
  await runtime?.stop();
});

/** Plausible ids for path parameters: a real draft; well-formed but unknown endpoints and keys (nothing real is deleted). */
function pathFor(route: RouteDefinition): string {
  const id = route.path.startsWith('/v1/drafts') || route.path.startsWith('/review') ? ids.draft : route.path.includes('/webhooks') ? ids.endpoint : ids.key;
  return route.path.replace('{id}', encodeURIComponent(id));
}

/** A minimal, valid-looking body for routes that take one. */
const BODIES: Record<string, unknown> = {
  'POST /v1/drafts': { title: 'from the auth matrix', content: { ok: true } },
  'POST /v1/drafts/{id}/reject': { reason: 'auth matrix' },
  'POST /v1/keys': { name: 'matrix-made', role: 'agent' },
  'POST /v1/webhooks': { url: 'http://localhost:9/auth-matrix', description: 'auth matrix' },
  'POST /v1/notifications': { kind: 'email', recipients: ['auth-matrix@example.com'] },
  'PATCH /v1/webhooks/{id}': { description: 'auth matrix' },
};
const bodyFor = (route: RouteDefinition) => (route.method === 'POST' || route.method === 'PATCH' ? (BODIES[routeKey(route)] ?? {}) : undefined);

async function callApi(route: RouteDefinition, authorization?: string) {
  return apiClient(runtime.url)(route.method, pathFor(route), bodyFor(route), authorization === undefined ? {} : { authorization });
}

async function callPage(route: RouteDefinition, headers: Record<string, string> = {}) {
  const res = await fetch(`${runtime.url}${pathFor(route)}`, {
    method: route.method,
    redirect: 'manual',
    headers: { ...(route.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    body: route.method === 'POST' ? new URLSearchParams({ _csrf: 'forged', key: keys.admin, reason: 'x', url: 'http://localhost:9/x' }).toString() : undefined,
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

const SIGN_IN_FORM = /<form\b[^>]*\bmethod="post"[^>]*\baction="\/review\/login"/;

describe('the route definition', () => {
  it('every route names its roles: none only for open routes and the sign-in form', () => {
    const offenders = allRoutes
      .filter((r) => {
        const roles = (r as { roles?: unknown }).roles;
        if (!Array.isArray(roles)) return true;
        if (!['bearer', 'session', 'none'].includes(authOf(r))) return true;
        if (roles.some((role) => !(ROLES as readonly string[]).includes(role)) || new Set(roles).size !== roles.length) return true;
        if (roles.length === 0) return !(authOf(r) === 'none' || routeKey(r) === SIGN_IN_ROUTE || isEmailLinkRoute(r));
        return authOf(r) === 'none'; // an open route with roles would silently check nothing
      })
      .map(routeKey);
    expect(offenders).toEqual([]);
  });

  it('gives every route exactly the roles of the product contract', () => {
    const mismatches = allRoutes
      .map((r) => {
        const contract = contractRoles(r);
        const actual = authOf(r) === 'none' ? 'open' : [...r.roles].sort();
        const expected = contract === 'open' || contract === undefined ? contract : [...contract].sort();
        return { route: routeKey(r), expected: expected ?? 'not in the contract', actual };
      })
      .filter((m) => JSON.stringify(m.expected) !== JSON.stringify(m.actual));
    expect(mismatches).toEqual([]);
  });

  it('the matrix below covers every route once', () => {
    expect(bearerRoutes.length + openRoutes.length + sessionRoutes.length).toBe(allRoutes.length);
    expect(new Set(allRoutes.map(routeKey)).size).toBe(allRoutes.length);
    expect(bearerRoutes.length).toBeGreaterThan(10);
  });
});

describe('bearer routes: no key, wrong key, revoked key → 401; each role → 403 unless the route names it', () => {
  it.each(bearerRoutes.map((r) => [routeKey(r), r] as const))('%s', async (_key, route) => {
    const outcomes: Record<string, number> = {};
    for (const [label, authorization] of [
      ['no key', undefined],
      ['wrong key', `Bearer prk_${'x'.repeat(43)}`],
      ['revoked key', `Bearer ${keys.revoked}`],
    ] as const) {
      const res = await callApi(route, authorization);
      outcomes[label] = res.status;
      expect({ label, status: res.status, code: res.body?.error?.code }).toEqual({ label, status: 401, code: 'unauthorized' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    for (const role of ROLES) {
      const res = await callApi(route, `Bearer ${keys[role]}`);
      outcomes[role] = res.status;
      if (route.roles.includes(role)) {
        const verdict = res.status === 401 || res.status === 403 || res.status >= 500 ? res.status : 'allowed';
        expect({ role, status: verdict }).toEqual({ role, status: 'allowed' });
      } else {
        expect({ role, status: res.status, code: res.body?.error?.code }).toEqual({ role, status: 403, code: 'forbidden' });
      }
    }
  });
});

describe('open routes', () => {
  const unsigned = openRoutes.filter((r) => routeKey(r) !== SLACK_SIGNED_ROUTE);
  it.each(unsigned.map((r) => [routeKey(r), r] as const))('%s answers 200 without a key (and ignores a wrong one)', async (_key, route) => {
    expect((await callApi(route)).status).toBe(200);
    expect((await callApi(route, 'Bearer nonsense')).status).toBe(200);
  });

  it(`${SLACK_SIGNED_ROUTE} takes no key: with no Slack signing secret configured it accepts nothing, keyed or not (503)`, async () => {
    const route = openRoutes.find((r) => routeKey(r) === SLACK_SIGNED_ROUTE)!;
    for (const authorization of [undefined, `Bearer ${keys.admin}`]) {
      const res = await callApi(route, authorization);
      expect({ authorization, status: res.status, code: res.body?.error?.code }).toEqual({ authorization, status: 503, code: 'slack_not_configured' });
    }
  });
});

describe('session routes (pages): no session → the sign-in form or a redirect; an API key is not a session', () => {
  it.each(sessionRoutes.map((r) => [routeKey(r), r] as const))('%s', async (_key, route) => {
    for (const headers of [{}, { authorization: `Bearer ${keys.admin}` }, { authorization: `Bearer ${keys.reviewer}` }] as Array<Record<string, string>>) {
      const res = await callPage(route, headers);
      const asked = headers.authorization ? 'with a Bearer key' : 'without anything';
      if (isEmailLinkRoute(route)) {
        // "{token}" is no link: a refusal page (GET), or the form refused for its CSRF token (POST); never a sign-in form or a decision.
        expect({ asked, status: res.status }).toEqual({ asked, status: route.method === 'GET' ? 400 : 403 });
        expect(res.body).not.toMatch(SIGN_IN_FORM);
        continue;
      }
      if (route.method === 'GET') {
        expect({ asked, status: res.status }).toEqual({ asked, status: 200 });
        expect(res.body).toMatch(SIGN_IN_FORM);
        expect(res.body).not.toMatch(/Sign out|logout/i);
      } else if (route.roles.length > 0) {
        // Not signed in: back to the list, which shows the sign-in form.
        expect({ asked, status: res.status, location: res.location }).toEqual({ asked, status: 303, location: '/review' });
      } else {
        // The sign-in form itself: a POST without the form's CSRF cookie is refused, not signed in.
        expect({ asked, status: res.status }).toEqual({ asked, status: 403 });
        expect(res.body).not.toContain('processa_session');
      }
    }
  });
});

const signIn = (key: string) => signInThroughForm(runtime.url, key);

describe('session routes with a signed-in session: each role → 403 unless the route names it', () => {
  const sessions = {} as Record<'reviewer' | 'admin', string>;
  beforeAll(async () => {
    for (const role of ['reviewer', 'admin'] as const) {
      const signed = await signIn(keys[role]);
      expect({ role, status: signed.status, cookie: Boolean(signed.cookie) }).toEqual({ role, status: 303, cookie: true });
      sessions[role] = signed.cookie!;
    }
  });

  it('agent and revoked keys cannot sign in to the pages at all', async () => {
    for (const key of [keys.agent, keys.revoked, 'prk_unknown']) {
      const signed = await signIn(key);
      expect({ status: signed.status, cookie: signed.cookie }).toEqual({ status: 401, cookie: undefined });
    }
  });

  it.each(sessionRoutes.filter((r) => r.roles.length > 0).map((r) => [routeKey(r), r] as const))('%s', async (_key, route) => {
    for (const role of ['reviewer', 'admin'] as const) {
      const res = await callPage(route, { cookie: sessions[role] });
      const allowed = route.roles.includes(role);
      if (!allowed) {
        expect({ role, status: res.status, page: /<h1>Not allowed<\/h1>/.test(res.body) }).toEqual({ role, status: 403, page: true });
      } else if (route.method === 'GET') {
        expect({ role, status: res.status }).toEqual({ role, status: 200 });
        expect(res.body).not.toMatch(SIGN_IN_FORM);
      } else {
        // Past the role check; the forged CSRF token then stops the form (so nothing is changed).
        expect({ role, status: res.status, page: /<h1>Form expired<\/h1>/.test(res.body) }).toEqual({ role, status: 403, page: true });
      }
    }
  });
});

describe('path ids the store cannot hold', () => {
  const odd = ['x'.repeat(2100), 'é'.repeat(1100), ' ', 'a.b', '..%2F..', '%F0%9F%8E%89', '%00'];
  it.each(bearerRoutes.filter((r) => r.path.includes('{id}')).map((r) => [routeKey(r), r] as const))(
    '%s: 4xx with the error shape, never 5xx',
    async (_key, route) => {
      for (const id of odd) {
        const path = route.path.replace('{id}', id.startsWith('%') || id.includes('%') ? id : encodeURIComponent(id));
        const res = await apiClient(runtime.url, keys.admin)(route.method, path, bodyFor(route));
        const verdict = res.status >= 400 && res.status < 500 ? '4xx' : res.status;
        expect({ id: id.slice(0, 20), status: verdict }).toEqual({ id: id.slice(0, 20), status: '4xx' });
        expect(Object.keys(res.body ?? {})).toEqual(['error']);
      }
    },
  );
});

describe('the $default route (requests no route of the definition matches)', () => {
  it('is open: every credential, or none, gets the same 404 or 405, never a 401 that tells keys apart', async () => {
    for (const authorization of [undefined, 'Bearer prk_wrong', `Bearer ${keys.revoked}`, ...ROLES.map((role) => `Bearer ${keys[role]}`)]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const unknown = await apiClient(runtime.url)('GET', '/v1/drafts/x/y', undefined, headers);
      expect({ authorization, status: unknown.status, code: unknown.body?.error?.code }).toEqual({ authorization, status: 404, code: 'not_found' });
      const wrongMethod = await apiClient(runtime.url)('PUT', '/v1/keys', {}, headers);
      expect({ authorization, status: wrongMethod.status, code: wrongMethod.body?.error?.code }).toEqual({
        authorization,
        status: 405,
        code: 'method_not_allowed',
      });
    }
  });
});
