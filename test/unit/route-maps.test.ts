import { apiHandler } from '../../shared/http/api-handler.js';
import { json } from '../../shared/http/responses.js';
import type { RouteKeyOf, SignedInRouteKeyOf } from '../../shared/http/routes.js';
import type { PageRoutes } from '../../shared/pages/page-handler.js';

/**
 * The route maps are checked by the compiler (`npx tsc -p .` type-checks this file): each
 * function's map has exactly its routes from the definition, and signed-in pages get a session.
 * The @ts-expect-error lines fail the type check if a wrong map ever compiles.
 */
const ok = async () => json(200, {});

describe('route maps keyed by the definition', () => {
  it('names exactly the routes of each function', () => {
    const readDrafts: RouteKeyOf<'readDrafts'>[] = ['GET /v1/drafts', 'GET /v1/drafts/{id}'];
    // @ts-expect-error: createDraft's route is not readDrafts'
    const wrong: RouteKeyOf<'readDrafts'> = 'POST /v1/drafts';
    const signedIn: SignedInRouteKeyOf<'reviewPages'>[] = ['GET /review', 'POST /review/logout', 'GET /review/{id}'];
    // @ts-expect-error: the sign-in form has no roles, so it is not a signed-in page
    const signIn: SignedInRouteKeyOf<'reviewPages'> = 'POST /review/login';
    expect([readDrafts, wrong, signedIn, signIn]).toHaveLength(4);
  });

  it('refuses a missing or an extra route at compile time', () => {
    // @ts-expect-error: 'GET /v1/drafts/{id}' is missing
    const missing = apiHandler('readDrafts', {}, { 'GET /v1/drafts': ok });
    // @ts-expect-error: 'GET /v1/drafts' is not describeApi's
    const extra = apiHandler('describeApi', {}, { 'GET /v1/openapi.json': ok, 'GET /v1/drafts': ok });
    expect([typeof missing, typeof extra]).toEqual(['function', 'function']);
  });

  it('gives signed-in pages a session and a viewer, the sign-in form neither for sure', () => {
    type Review = PageRoutes<'reviewPages'>;
    type SignedInSession = Parameters<Review['GET /review']>[0]['session'];
    type SignInSession = Parameters<Review['POST /review/login']>[0]['session'];
    const required: undefined extends SignedInSession ? false : true = true;
    const optional: undefined extends SignInSession ? true : false = true;
    expect([required, optional]).toEqual([true, true]);
  });
});
