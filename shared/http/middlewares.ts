import type middy from '@middy/core';
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { limits } from './limits.js';
import { routeFor } from './routes.js';
import { authenticate, type ApiKeyStore } from '../domain/api-keys.js';
import { DomainError, ForbiddenError, MalformedJsonError, UnsupportedMediaTypeError } from '../domain/errors.js';
import { logger } from '../observability.js';
import { header, type ApiEvent } from './api-event.js';
import { httpHeadersOf, httpStatusOf } from './error-status.js';
import { requestBody } from './body.js';
import { errorBody, json, type HttpResponse } from './responses.js';

type Middleware = middy.MiddlewareObj<ApiEvent, APIGatewayProxyResultV2, Error, Context>;

/**
 * The one place errors become responses. Only DomainErrors, which carry a public code, are
 * shown to clients (error-status.ts decides their status and headers); anything else is logged and answered with a generic 500. The
 * local gateway answers its own refusals (undecodable path, oversize request) through it too.
 */
export function errorResponse(error: unknown, requestId: string | undefined): HttpResponse {
  if (error instanceof DomainError) {
    const status = httpStatusOf(error);
    if (status >= 500) logger.warn('request failed', { code: error.code, status });
    return json(status, errorBody(error.code, error.message, error.details), httpHeadersOf(error));
  }
  logger.error('unhandled error', error as Error);
  return json(500, errorBody('internal_error', 'An internal error occurred; it has been logged', { requestId }));
}

export function errorResponses(): Middleware {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error, request.event.requestContext?.requestId);
    },
  };
}

/** Resolves the Bearer key to an actor and checks the route's roles from the app definition. */
export function authorizeRoute(keys: ApiKeyStore | undefined): Middleware {
  return {
    before: async (request) => {
      const event = request.event;
      const route = routeFor(event.routeKey);
      // Only routes the definition marks auth: 'none' (with no roles) are open.
      if (route.auth === 'none' && route.roles.length === 0) return;
      if (!keys) throw new Error(`Route ${event.routeKey} needs a key store to authenticate`);
      const authorization = header(event, 'authorization');
      const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
      const actor = await authenticate(keys, match?.[1]);
      const allowed = route.roles;
      if (!allowed.includes(actor.role)) throw new ForbiddenError(actor.role, allowed);
      event.actor = actor;
      logger.appendKeys({ keyId: actor.keyId, role: actor.role });
    },
  };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Enforces the size limit, UTF-8 and the JSON content type, then parses. A POST without any body means {}. */
export function jsonBody(maxBytes: number = limits.maxBodyBytes): Middleware {
  return {
    before: async (request) => {
      const event = request.event;
      if (!BODY_METHODS.has(event.requestContext.http.method)) return;
      const body = requestBody(event, maxBytes);
      const contentType = header(event, 'content-type');
      if (body.size === 0 && contentType === undefined) {
        event.jsonBody = {};
        return;
      }
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      if (mediaType !== 'application/json') throw new UnsupportedMediaTypeError(contentType);
      const raw = body.text();
      if (raw.trim().length === 0) {
        event.jsonBody = {};
        return;
      }
      try {
        event.jsonBody = JSON.parse(raw);
      } catch (error) {
        throw new MalformedJsonError((error as Error).message);
      }
    },
  };
}

/** Every response carries the request id, to quote in support requests and find in logs. */
export function requestIdHeader(): Middleware {
  const stamp: middy.MiddlewareFn<ApiEvent, APIGatewayProxyResultV2, Error, Context> = async (request) => {
    const response = request.response;
    if (response && typeof response === 'object' && 'statusCode' in response) {
      response.headers = { ...response.headers, 'x-request-id': request.event.requestContext.requestId };
    }
  };
  return { after: stamp, onError: stamp };
}
