import { ROLES, type Role } from '../domain/roles.js';

/**
 * The API's and the pages' routes: method, path, the roles allowed and how callers prove them,
 * and the name of the function that serves each. This is the public contract (OpenAPI documents
 * it, authorizeRoute enforces it, the page pipeline signs in by it), so it lives with the HTTP
 * layer as pure data; infra/app-definition.ts imports it, checks every `function` names one of
 * its functions, and wires each route to that function's Lambda. Relocated rather than injected
 * so that handlers, OpenAPI and the route-map types all read the one table without importing
 * infra/ (shared/ never does).
 */
export interface RouteShape<F extends string = string> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: /v1/drafts/{id}. */
  path: string;
  /** The function (infra/app-definition.ts `functions`) that serves it. */
  function: F;
  /** Roles allowed to call the route; every route must name them ([] only for the sign-in form). */
  roles: readonly Role[];
  /** How callers prove their role: a Bearer API key (the default), a page session cookie, or not at all (roles must be []). */
  auth?: 'bearer' | 'session' | 'none';
}

const anyRole = ROLES;
const deciders = ['reviewer', 'admin'] as const;
const adminOnly = ['admin'] as const;

export const routes = [
  { method: 'POST', path: '/v1/drafts', function: 'createDraft', roles: ['agent', 'admin'] },
  { method: 'GET', path: '/v1/drafts', function: 'readDrafts', roles: anyRole },
  { method: 'GET', path: '/v1/drafts/{id}', function: 'readDrafts', roles: anyRole },
  { method: 'POST', path: '/v1/drafts/{id}/approve', function: 'decideDraft', roles: deciders },
  { method: 'POST', path: '/v1/drafts/{id}/reject', function: 'decideDraft', roles: deciders },
  { method: 'POST', path: '/v1/keys', function: 'manageKeys', roles: adminOnly },
  { method: 'GET', path: '/v1/keys', function: 'manageKeys', roles: adminOnly },
  { method: 'PATCH', path: '/v1/keys/{id}', function: 'manageKeys', roles: adminOnly },
  { method: 'DELETE', path: '/v1/keys/{id}', function: 'manageKeys', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/notifications', function: 'manageWebhooks', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'PATCH', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'DELETE', path: '/v1/webhooks/{id}', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/test', function: 'webhookQueueActions', roles: adminOnly },
  { method: 'GET', path: '/v1/webhooks/{id}/deliveries', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', function: 'manageWebhooks', roles: adminOnly },
  { method: 'POST', path: '/v1/webhooks/{id}/redrive', function: 'webhookQueueActions', roles: adminOnly },
  { method: 'GET', path: '/v1/openapi.json', function: 'describeApi', roles: [], auth: 'none' },
  // Slack's interactivity requests: no key, each is verified by the Slack app's signing secret instead.
  { method: 'POST', path: '/v1/integrations/slack/interactions', function: 'slackInteractions', roles: [], auth: 'none' },
  // Hosted pages: GET /review shows the sign-in form to visitors without a session.
  { method: 'GET', path: '/review', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/login', function: 'reviewPages', roles: [], auth: 'session' },
  { method: 'POST', path: '/review/logout', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'GET', path: '/review/{id}', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/{id}/approve', function: 'reviewPages', roles: deciders, auth: 'session' },
  { method: 'POST', path: '/review/{id}/reject', function: 'reviewPages', roles: deciders, auth: 'session' },
  // A notification email's Approve or Reject link: no session; the signed token in the path names the draft, the
  // recipient and the decision. GET only shows a confirmation page (mail scanners prefetch links); POST decides.
  { method: 'GET', path: '/email-decisions/{token}', function: 'emailDecisions', roles: [], auth: 'session' },
  { method: 'POST', path: '/email-decisions/{token}', function: 'emailDecisions', roles: [], auth: 'session' },
  { method: 'GET', path: '/settings/webhooks', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/test', function: 'webhookSettingsQueueActions', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/rotate-secret', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/redrive', function: 'webhookSettingsQueueActions', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/delete', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  // Notification channels (Slack, email) on the same page: add one, enable/disable, set its reminder; test, redrive and delete are the endpoint routes above.
  { method: 'POST', path: '/settings/webhooks/notifications', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/enabled', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  { method: 'POST', path: '/settings/webhooks/{id}/reminder', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
  // An email channel's addresses (an address taken off loses its decision links).
  { method: 'POST', path: '/settings/webhooks/{id}/recipients', function: 'webhookSettingsPages', roles: adminOnly, auth: 'session' },
] as const satisfies readonly RouteShape[];

type DefinedRoute = (typeof routes)[number];
/** The name of a function that serves at least one route. */
export type RoutedFunction = DefinedRoute['function'];
/** A route of the table above. */
export type RouteDefinition = RouteShape<RoutedFunction>;

export const routeKey = (route: Pick<RouteShape, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** "POST /v1/drafts" etc.: the API Gateway route keys of one function's routes, as a type. */
export type RouteKeyOf<F extends RoutedFunction> =
  Extract<DefinedRoute, { function: F }> extends infer R
    ? R extends { method: infer M extends string; path: infer P extends string }
      ? `${M} ${P}`
      : never
    : never;

/** Route keys of one function whose routes need a signed-in caller (some role), as a type. */
export type SignedInRouteKeyOf<F extends RoutedFunction> =
  Extract<DefinedRoute, { function: F; roles: readonly [Role, ...Role[]] }> extends infer R
    ? R extends { method: infer M extends string; path: infer P extends string }
      ? `${M} ${P}`
      : never
    : never;

export function routeFor(key: string): RouteDefinition {
  const route = (routes as readonly RouteDefinition[]).find((r) => routeKey(r) === key);
  if (!route) throw new Error(`No route is defined for ${key}`);
  return route;
}

/**
 * API Gateway's catch-all route: every request no route above matches (unknown path, or a known
 * path with another method) goes to this function, which answers in the documented error shape
 * instead of API Gateway's own {"message":"Not Found"}. The local gateway falls back to it too.
 * Not an API operation, so it is kept out of `routes` (and of the OpenAPI document).
 */
export const defaultRoute = { key: '$default', function: 'describeApi' } as const;
