/**
 * Named domain errors. Each carries the HTTP status and the public `code` it maps to; the
 * single error middleware (shared/http/error-responses.ts) turns them into responses. Anything
 * that is not a DomainError is an internal fault and reaches clients only as a generic 500.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(problems: FieldProblem[], code = 'validation_failed') {
    const first = problems[0];
    const summary = first ? `${first.field}: ${first.message}` : 'the request is invalid';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(400, code, `Invalid request: ${summary}${more}`, { fields: problems });
  }
}

export class MalformedJsonError extends DomainError {
  constructor(reason: string) {
    super(400, 'malformed_json', `The request body is not valid JSON: ${reason}`, { fields: [{ field: 'body', message: reason }] });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(field: string, limitBytes: number, actualBytes: number) {
    super(413, 'payload_too_large', `${field} is ${actualBytes} bytes; the limit is ${limitBytes} bytes`, {
      fields: [{ field, message: `must be at most ${limitBytes} bytes` }],
      limitBytes,
      actualBytes,
    });
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(received: string | undefined) {
    super(415, 'unsupported_media_type', `Content-Type must be application/json (received ${received ? `"${received}"` : 'none'})`, {
      fields: [{ field: 'content-type', message: 'must be application/json' }],
    });
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid API key is required: send "Authorization: Bearer <key>"') {
    super(401, 'unauthorized', message, undefined, { 'www-authenticate': 'Bearer' });
  }
}

export class ForbiddenError extends DomainError {
  constructor(role: string, allowed: readonly string[]) {
    super(403, 'forbidden', `The ${role} role may not do this; allowed roles: ${allowed.join(', ')}`, { role, allowedRoles: allowed });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    const shown = id.length > 100 ? `${id.slice(0, 100)}…` : id;
    super(404, 'not_found', `No ${what} with id "${shown}"`, { id: shown });
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, details?: unknown) {
    super(409, code, message, details);
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(422, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request body', {
      fields: [{ field: 'idempotency-key', message: 'already used with a different request body' }],
    });
  }
}

/** The store is overloaded and gave up after its own retries. */
export class ServiceUnavailableError extends DomainError {
  constructor(retryAfterSeconds = 1) {
    super(503, 'service_unavailable', 'The service is busy; retry after a short wait', undefined, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}
