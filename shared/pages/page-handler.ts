import { randomBytes } from 'node:crypto';
import middy from '@middy/core';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logRequestId } from '../log-request-id.js';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Role } from '../domain/roles.js';
import { limits } from '../http/limits.js';
import { routes, routeKey, type RouteKeyOf, type RoutedFunction, type SignedInRouteKeyOf } from '../http/routes.js';
import type { ApiKeyStore } from '../domain/api-keys.js';
import { DomainError, PayloadTooLargeError } from '../domain/errors.js';
import { tokensMatch } from '../domain/constant-time.js';
import { resumeSession, type ResumedSession, type Session, type SessionStore } from '../domain/sessions.js';
import { formFields, requestBody } from '../http/body.js';
import { httpStatusOf } from '../http/error-status.js';
import { InvalidEncodingError } from '../http/http-errors.js';
import { logger, publishMetrics, tracer } from '../observability.js';
import { html, type SafeHtml } from './html.js';
import { CONTENT_SECURITY_POLICY, layout, type Viewer } from './layout.js';

export const SESSION_COOKIE = 'processa_session';
/** Double-submit token for the sign-in form, which has no session yet. */
const LOGIN_CSRF_COOKIE = 'processa_login_csrf';

export interface PageRequest {
  event: APIGatewayProxyEventV2;
  session?: Session;
  viewer?: Viewer;
  form: URLSearchParams;
  query: URLSearchParams;
  cookies: Record<string, string>;
  /** Secure cookies everywhere but on localhost, where browsers refuse them over plain http. */
  secureCookies: boolean;
}

export interface PageResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  cookies?: string[];
}

/** A request to a page whose route names roles: the pipeline only calls it with a session of one of them. */
export interface SignedInPageRequest extends PageRequest {
  session: ResumedSession;
  viewer: Viewer;
}

export type PageRoute = (request: PageRequest) => Promise<PageResponse>;
export type SignedInPageRoute = (request: SignedInPageRequest) => Promise<PageResponse>;

/**
 * One page per route key the definition gives function F (a missing or extra page does not
 * compile); pages of routes with roles get a SignedInPageRequest, the others (sign-in) a PageRequest.
 */
export type PageRoutes<F extends RoutedFunction> = {
  readonly [K in RouteKeyOf<F>]: K extends SignedInRouteKeyOf<F> ? SignedInPageRoute : PageRoute;
};

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export const page = (status: number, title: string, body: SafeHtml, viewer?: Viewer, extra: Partial<PageResponse> = {}): PageResponse => ({
  status,
  body: layout(title, body, viewer),
  ...extra,
});
export const redirect = (location: string, cookies?: string[]): PageResponse => ({ status: 303, headers: { location }, cookies });

export function cookie(name: string, value: string, secure: boolean, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function parseCookies(event: APIGatewayProxyEventV2): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const pair of event.cookies ?? []) {
    const at = pair.indexOf('=');
    if (at > 0) jar[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return jar;
}

const isLocalhost = (event: APIGatewayProxyEventV2) => /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(event.headers?.host ?? event.requestContext.domainName);

/** The sign-in form; also what any protected page shows to a visitor without a session. */
export function signInPage(status: number, csrf: string, next: string, message?: string, extra: Partial<PageResponse> = {}): PageResponse {
  return page(
    status,
    'Sign in',
    html`<h1>Sign in to review drafts</h1>
      ${message ? html`<p class="notice error" role="alert">${message}</p>` : ''}
      <form class="card" method="post" action="/review/login">
        <input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
        <label for="key">API key (reviewer or admin)</label>
        <input id="key" name="key" type="password" autocomplete="off" required>
        <div class="actions"><button type="submit">Sign in</button></div>
      </form>`,
    undefined,
    extra,
  );
}

/** A fresh login CSRF token unless the visitor already has one. */
export function loginCsrf(request: Pick<PageRequest, 'cookies' | 'secureCookies'>): { token: string; cookies: string[] } {
  const existing = request.cookies[LOGIN_CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{20,100}$/.test(existing)) return { token: existing, cookies: [] };
  const token = randomBytes(24).toString('base64url');
  return { token, cookies: [cookie(LOGIN_CSRF_COOKIE, token, request.secureCookies, 3600)] };
}

/**
 * How a refused request reads on a page: the status the one error mapper gives it (as the API
 * would answer), its message, and the bad fields spelled out when it names them. Undefined for
 * faults (not a DomainError, or a 5xx), which pages never explain: they are logged and shown as
 * "Something went wrong".
 */
export interface PageProblem {
  status: number;
  message: string;
  /** "field message; field message" when the error names fields, else the message. */
  fieldsText: string;
}
export function pageProblem(error: unknown): PageProblem | undefined {
  if (!(error instanceof DomainError)) return undefined;
  const status = httpStatusOf(error);
  if (status >= 500) return undefined;
  const fields = (error.details as { fields?: Array<{ field: string; message: string }> } | undefined)?.fields;
  return { status, message: error.message, fieldsText: fields?.length ? fields.map((f) => `${f.field} ${f.message}`).join('; ') : error.message };
}

const errorPage = (status: number, title: string, message: string, viewer?: Viewer) =>
  page(status, title, html`<h1>${title}</h1><p class="notice error">${message}</p><p><a href="/review">Back to drafts</a></p>`, viewer);

/**
 * What resumes a session: the session and key stores. A function whose pages all take no session
 * (the email links, whose signed token is the credential) passes none, and so bundles neither store.
 */
export type PageAuth<F extends RoutedFunction> = [SignedInRouteKeyOf<F>] extends [never]
  ? { sessions: SessionStore; keys: ApiKeyStore } | undefined
  : { sessions: SessionStore; keys: ApiKeyStore };

/**
 * The hosted pages' pipeline: cookies → session → the route's roles (from the app definition)
 * → form parsing with size and type limits → CSRF on every POST → the page. Errors become
 * calm HTML pages; internals are logged, never shown. Every response carries the strict CSP.
 */
export function pageHandler<F extends RoutedFunction>(fn: F, deps: PageAuth<F>, pages: NoInfer<PageRoutes<F>>) {
  const rolesByRoute = new Map<string, readonly Role[]>(routes.filter((r) => r.function === fn).map((r) => [routeKey(r), r.roles]));
  if (!deps && [...rolesByRoute.values()].some((roles) => roles.length > 0)) throw new Error(`${fn} has signed-in pages: it needs the session and key stores`);
  // The route-key types above match the definition's; at runtime the key is a plain string.
  const pageFor = (key: string) => (pages as Readonly<Partial<Record<string, PageRoute | SignedInPageRoute>>>)[key];

  const run = async (event: APIGatewayProxyEventV2, _context: Context): Promise<PageResponse> => {
    const route = pageFor(event.routeKey);
    const roles = rolesByRoute.get(event.routeKey);
    if (!route || !roles) throw new Error(`No page for ${event.routeKey}`);
    const cookies = parseCookies(event);
    const secureCookies = !isLocalhost(event);
    const session = deps ? await resumeSession(deps.sessions, deps.keys, cookies[SESSION_COOKIE]) : undefined;
    const viewer = session ? { name: session.actor.name, role: session.actor.role, csrfToken: session.csrfToken } : undefined;
    const method = event.requestContext.http.method;
    const base = { event, session, viewer, cookies, secureCookies, query: new URLSearchParams(event.rawQueryString ?? '') };

    if (roles.length > 0) {
      if (!session) {
        if (method !== 'GET') return redirect('/review');
        const csrf = loginCsrf(base);
        return signInPage(200, csrf.token, event.rawPath, undefined, { cookies: csrf.cookies });
      }
      if (!roles.includes(session.actor.role)) return errorPage(403, 'Not allowed', `This page is for ${roles.join(' and ')} keys.`, viewer);
    }

    let form = new URLSearchParams();
    if (method === 'POST') {
      // Size on the bytes, then the type, then strict UTF-8: a form is never read with U+FFFD in it.
      try {
        const body = requestBody(event, limits.maxBodyBytes);
        const type = (event.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (body.size > 0 && type !== 'application/x-www-form-urlencoded')
          return errorPage(415, 'Unsupported form', 'Forms must be sent as application/x-www-form-urlencoded.', viewer);
        form = formFields(body.text());
      } catch (error) {
        if (error instanceof PayloadTooLargeError) return errorPage(413, 'Too large', 'That form was too large to accept.', viewer);
        if (error instanceof InvalidEncodingError)
          return errorPage(400, 'Unreadable form', 'The form’s body was not valid UTF-8, so nothing was done. Reload the page and try again.', viewer);
        throw error;
      }
      const expected = session && roles.length > 0 ? session.csrfToken : cookies[LOGIN_CSRF_COOKIE];
      if (!expected || !tokensMatch(expected, form.get('_csrf'))) {
        logger.warn('form refused: CSRF token missing or wrong', { routeKey: event.routeKey });
        return errorPage(403, 'Form expired', 'This form has expired or did not come from this site. Reload the page and try again.', viewer);
      }
    }
    // A route without roles is typed a PageRoute (PageRoutes above), so it takes a request that may lack a session.
    if (roles.length === 0) return (route as PageRoute)({ ...base, form });
    // Routes with roles returned above without a session of one of them, and a session always has its viewer.
    if (!session || !viewer) throw new Error(`Page ${event.routeKey} reached without a session`);
    return route({ ...base, session, viewer, form });
  };

  const toResult = (response: PageResponse): APIGatewayProxyStructuredResultV2 => ({
    statusCode: response.status,
    headers: { ...PAGE_HEADERS, ...response.headers },
    ...(response.cookies?.length ? { cookies: response.cookies } : {}),
    body: response.body ?? '',
  });

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>(async (event: APIGatewayProxyEventV2, context: Context) => {
    try {
      return toResult(await run(event, context));
    } catch (error) {
      const problem = pageProblem(error);
      if (problem) return toResult(errorPage(problem.status, 'Cannot do that', problem.message));
      logger.error('page failed', error as Error);
      return toResult(
        errorPage(
          error instanceof DomainError ? httpStatusOf(error) : 500,
          'Something went wrong',
          'The page could not be shown. The error has been logged; try again shortly.',
        ),
      );
    }
  })
    .use(captureLambdaHandler(tracer))
    .use(logRequestId(logger))
    .use(publishMetrics());
}
