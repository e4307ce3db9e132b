/**
 * Named domain errors: each says what went wrong (a public `code`, a message, details such as
 * retryAfterSeconds), never how HTTP shows it. The one mapper in shared/http/error-status.ts
 * decides status codes and headers, for the API and the pages alike. Anything that is not a
 * DomainError is an internal fault and reaches clients only as a generic 500.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
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
    super(code, `Invalid request: ${summary}${more}`, { fields: problems });
  }
}

export class MalformedJsonError extends DomainError {
  constructor(reason: string) {
    super('malformed_json', `The request body is not valid JSON: ${reason}`, { fields: [{ field: 'body', message: reason }] });
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(field: string, limitBytes: number, actualBytes: number) {
    super('payload_too_large', `${field} is ${actualBytes} bytes; the limit is ${limitBytes} bytes`, {
      fields: [{ field, message: `must be at most ${limitBytes} bytes` }],
      limitBytes,
      actualBytes,
    });
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(received: string | undefined) {
    super('unsupported_media_type', `Content-Type must be application/json (received ${received ? `"${received}"` : 'none'})`, {
      fields: [{ field: 'content-type', message: 'must be application/json' }],
    });
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid API key is required: send "Authorization: Bearer <key>"') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(role: string, allowed: readonly string[]) {
    super('forbidden', `The ${role} role may not do this; allowed roles: ${allowed.join(', ')}`, { role, allowedRoles: allowed });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    const shown = id.length > 100 ? `${id.slice(0, 100)}…` : id;
    super('not_found', `No ${what} with id "${shown}"`, { id: shown });
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, details);
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body', {
      fields: [{ field: 'idempotency-key', message: 'already used with a different request body' }],
    });
  }
}

/** The store (or queue) is overloaded and gave up after its own retries; the message says what to retry when. */
export class ServiceUnavailableError extends DomainError {
  constructor(
    readonly retryAfterSeconds = 1,
    message = 'The service is busy; retry after a short wait',
  ) {
    super('service_unavailable', message);
  }
}
