import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type { ApiKeyStore } from '../domain/api-keys.js';
import { logger, publishMetrics, tracer } from '../observability.js';
import type { ApiEvent, AuthorizedEvent } from './api-event.js';
import { authorizeRoute, errorResponses, jsonBody, requestIdHeader } from './middlewares.js';
import type { HttpResponse } from './responses.js';

export type RouteHandler = (event: AuthorizedEvent) => Promise<HttpResponse>;

/**
 * Builds a function's Lambda handler from its routes, keyed by API Gateway route key
 * ("POST /v1/drafts/{id}/approve"). Every route is authenticated, role-checked, size- and
 * type-checked before its code runs; errors are mapped in one place.
 */
export function apiHandler(deps: { keys?: ApiKeyStore }, routes: Record<string, RouteHandler>) {
  const dispatch = async (event: ApiEvent, _context: Context): Promise<HttpResponse> => {
    const route = routes[event.routeKey];
    if (!route) throw new Error(`This function has no route ${event.routeKey}`);
    return route(event as AuthorizedEvent);
  };
  return middy<ApiEvent, HttpResponse, Error, Context>(dispatch)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics())
    .use(requestIdHeader())
    .use(errorResponses())
    .use(authorizeRoute(deps.keys))
    .use(jsonBody());
}
