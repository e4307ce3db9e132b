import middy from '@middy/core';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { logRequestId } from '../log-request-id.js';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ApiKeyStore } from '../domain/api-keys.js';
import { logger, publishMetrics, tracer } from '../observability.js';
import type { ApiEvent, AuthorizedEvent } from './api-event.js';
import { MethodNotAllowedError, RouteNotFoundError, UndecodablePathError } from './http-errors.js';
import { authorizeRoute, errorResponses, jsonBody, requestIdHeader } from './middlewares.js';
import type { HttpResponse } from './responses.js';
import type { RouteKeyOf, RoutedFunction } from './routes.js';
import { matchRoute } from './routing.js';

export type RouteHandler = (event: AuthorizedEvent) => Promise<HttpResponse>;

/** One handler per route key the definition gives function F: a missing or extra route does not compile. */
export type ApiRoutes<F extends RoutedFunction> = { readonly [K in RouteKeyOf<F>]: RouteHandler };

/**
 * Builds function F's Lambda handler from its routes, keyed by API Gateway route key
 * ("POST /v1/drafts/{id}/approve"). Every route is authenticated, role-checked, size- and
 * type-checked before its code runs; errors are mapped in one place.
 */
export function apiHandler<F extends RoutedFunction>(_fn: F, deps: { keys?: ApiKeyStore }, routes: NoInfer<ApiRoutes<F>>) {
  return apiPipeline(deps, routes);
}

/** The pipeline over any route map, unchecked against the definition: tests build partial ones with it. */
export function apiPipeline(deps: { keys?: ApiKeyStore }, routes: Readonly<Partial<Record<string, RouteHandler>>>) {
  const dispatch = async (event: ApiEvent, _context: Context): Promise<HttpResponse> => {
    const route = routes[event.routeKey];
    if (!route) throw new Error(`This function has no route ${event.routeKey}`);
    return route(event as AuthorizedEvent);
  };
  return middy<ApiEvent, HttpResponse, Error, Context>(dispatch)
    .use(captureLambdaHandler(tracer))
    .use(logRequestId(logger))
    .use(publishMetrics())
    .use(requestIdHeader())
    .use(errorResponses())
    .use(authorizeRoute(deps.keys))
    .use(jsonBody());
}

/** The request path without the stage prefix that API Gateway puts in rawPath for named stages. */
function routedPath(event: APIGatewayProxyEventV2): string {
  const stage = event.requestContext.stage;
  const prefix = stage && stage !== '$default' ? `/${stage}` : '';
  return prefix && event.rawPath.startsWith(`${prefix}/`) ? event.rawPath.slice(prefix.length) : event.rawPath;
}

/**
 * The handler of API Gateway's $default route, which gets every request no route matches: it
 * answers in the documented error shape, 405 with Allow when the path exists with other methods,
 * else 404. No key is needed to learn that a route does not exist (the OpenAPI document is public).
 */
export function unmatchedRouteHandler() {
  const answer = async (event: ApiEvent, _context: Context): Promise<HttpResponse> => {
    const method = event.requestContext.http.method;
    const path = routedPath(event);
    try {
      decodeURIComponent(path);
    } catch {
      throw new UndecodablePathError();
    }
    const match = matchRoute(method, path);
    if (match.kind === 'wrongMethod') throw new MethodNotAllowedError(method, path, match.allowed);
    throw new RouteNotFoundError(method, path);
  };
  return middy<ApiEvent, HttpResponse, Error, Context>(answer)
    .use(captureLambdaHandler(tracer))
    .use(logRequestId(logger))
    .use(publishMetrics())
    .use(requestIdHeader())
    .use(errorResponses());
}
