import { DomainError } from '../domain/errors.js';

/**
 * Errors of the HTTP layer itself (the request as bytes and paths, before any route runs).
 * They are DomainErrors, so the one mapper (error-status.ts) shapes them like every other error.
 */

/** A body that is not valid UTF-8: refused, never stored with U+FFFD in place of the bad bytes. */
export class InvalidEncodingError extends DomainError {
  constructor() {
    super('invalid_encoding', 'The request body is not valid UTF-8', {
      fields: [{ field: 'body', message: 'must be valid UTF-8' }],
    });
  }
}

/** A path with a percent-escape that does not decode (e.g. %E0%A4%A). */
export class UndecodablePathError extends DomainError {
  constructor() {
    super('invalid_path', 'The request path has a percent-escape that is not valid UTF-8', {
      fields: [{ field: 'path', message: 'must be a valid percent-encoded UTF-8 path' }],
    });
  }
}

const shownPath = (path: string) => (path.length > 200 ? `${path.slice(0, 200)}…` : path);

/** No route has this path (API Gateway's $default route answers it). */
export class RouteNotFoundError extends DomainError {
  constructor(method: string, path: string) {
    super('not_found', `No route ${method} ${shownPath(path)}; see /v1/openapi.json for the API's routes`, { method, path: shownPath(path) });
  }
}

/** The path exists, with other methods. */
export class MethodNotAllowedError extends DomainError {
  constructor(
    method: string,
    path: string,
    readonly allowed: readonly string[],
  ) {
    super('method_not_allowed', `${method} is not allowed on ${shownPath(path)}; allowed: ${allowed.join(', ')}`, { method, allowedMethods: allowed });
  }
}
