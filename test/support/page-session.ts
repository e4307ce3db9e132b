/** Browser-like page requests for e2e tests: the sign-in form, and pages with a session cookie. */

const cookieNamed = (res: Response, name: string): string | undefined =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0];

/**
 * Signs in through the form as a browser does: the login CSRF cookie from GET /review, then
 * POST /review/login. `cookie` is the session cookie when the sign-in succeeded (303).
 */
export async function signInThroughForm(baseUrl: string, key: string, next = '/review'): Promise<{ status: number; cookie?: string }> {
  const page = await fetch(`${baseUrl}/review`, { redirect: 'manual' });
  await page.text();
  const csrfCookie = cookieNamed(page, 'processa_login_csrf')!;
  const res = await fetch(`${baseUrl}/review/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ _csrf: csrfCookie.split('=')[1]!, key, next }).toString(),
  });
  await res.text();
  return { status: res.status, cookie: cookieNamed(res, 'processa_session') };
}

/** A page with the session cookie: GET, or a form POST when `fields` are given (redirects not followed). */
export async function pageAs(baseUrl: string, cookie: string, path: string, fields?: Record<string, string>) {
  const res = await fetch(`${baseUrl}${path}`, {
    method: fields ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { cookie, ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: fields ? new URLSearchParams(fields).toString() : undefined,
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/** The CSRF token a page's forms carry. */
export const csrfOf = (html: string): string => html.match(/name="_csrf" value="([^"]+)"/)![1]!;
