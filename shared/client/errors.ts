import type { DraftState, FieldProblem } from './types.js';

export interface ProcessaErrorInit {
  /** The API's error code (`validation_failed`, `already_decided`, …) or a client-side one. */
  code: string;
  message: string;
  /** HTTP status; undefined when no response was received. */
  status?: number;
  details?: unknown;
  /** The response's x-request-id: quote it in support requests. */
  requestId?: string;
  /** Seconds the server asked to wait (Retry-After), on 429 and 503. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** Every error this client throws. */
export class ProcessaError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly details: unknown;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ProcessaErrorInit) {
    super(init.message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.details = init.details;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** 400: bad input (`validation_failed`, `malformed_json`); `fields` names each bad field. */
export class ValidationError extends ProcessaError {
  get fields(): FieldProblem[] {
    return fieldsOf(this.details);
  }
}
/** 401: missing, unknown or revoked API key. */
export class AuthenticationError extends ProcessaError {}
/** 403: the key's role may not do this (e.g. an agent deciding a draft). */
export class PermissionError extends ProcessaError {}
/** 404: no such draft (or route). */
export class NotFoundError extends ProcessaError {}
/** 409: the draft is already decided (`already_decided`) or expired (`draft_expired`); `draft` is the state that won. */
export class ConflictError extends ProcessaError {
  get draft(): DraftState | undefined {
    const draft = (this.details as { draft?: unknown } | undefined)?.draft;
    return typeof draft === 'object' && draft !== null ? (draft as DraftState) : undefined;
  }
}
/** 413: a body or field over its size limit. */
export class PayloadTooLargeError extends ValidationError {}
/** 415: the body was not sent as application/json. */
export class UnsupportedMediaTypeError extends ValidationError {}
/** 422: an Idempotency-Key reused with a different request body. */
export class IdempotencyKeyReusedError extends ProcessaError {}
/** 429: throttled; retried automatically, thrown once retries are exhausted. */
export class RateLimitError extends ProcessaError {}
/** 500 and other 5xx not listed below. */
export class InternalServerError extends ProcessaError {}
/** 502 / 504: the gateway got no (timely) answer from the function. */
export class GatewayError extends ProcessaError {}
/** 503: the service is busy; retried automatically, thrown once retries are exhausted. */
export class ServiceUnavailableError extends ProcessaError {}
/** No response: DNS, connection refused or reset, or the per-request timeout. `cause` holds the underlying error. */
export class ConnectionError extends ProcessaError {}
/** waitForDecision gave up; `draft` is the last (still pending) state seen. */
export class DecisionTimeoutError extends ProcessaError {
  constructor(
    readonly draft: DraftState,
    readonly timeoutMs: number,
  ) {
    super({ code: 'decision_timeout', message: `Draft ${draft.id} was still ${draft.status} after ${timeoutMs} ms` });
  }
}

function fieldsOf(details: unknown): FieldProblem[] {
  const fields = (details as { fields?: unknown } | undefined)?.fields;
  return Array.isArray(fields) ? (fields as FieldProblem[]) : [];
}

type ErrorClass = new (init: ProcessaErrorInit) => ProcessaError;
const BY_STATUS: Record<number, ErrorClass> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: IdempotencyKeyReusedError,
  429: RateLimitError,
  500: InternalServerError,
  502: GatewayError,
  503: ServiceUnavailableError,
  504: GatewayError,
};

/**
 * Builds the typed error for a non-2xx response from its body text. API errors are
 * `{"error": {"code", "message", "details"?}}`; API Gateway's own answers (throttling, a
 * payload over 10 MB) are `{"message"}`; anything else (a proxy's HTML page) keeps a short excerpt.
 */
export function errorFromResponse(status: number, bodyText: string, headers: Headers): ProcessaError {
  let code = `http_${status}`;
  let message = `HTTP ${status}`;
  let details: unknown;
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; message?: unknown; details?: unknown }; message?: unknown };
    if (parsed?.error && typeof parsed.error === 'object') {
      if (typeof parsed.error.code === 'string') code = parsed.error.code;
      if (typeof parsed.error.message === 'string') message = parsed.error.message;
      details = parsed.error.details;
    } else if (typeof parsed?.message === 'string') {
      message = parsed.message;
    }
  } catch {
    if (bodyText.trim()) message = `HTTP ${status}: ${bodyText.trim().slice(0, 200)}`;
  }
  const Class = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : ProcessaError);
  return new Class({
    code,
    message,
    status,
    details,
    requestId: headers.get('x-request-id') ?? undefined,
    retryAfterSeconds: retryAfterSeconds(headers.get('retry-after')),
  });
}

/** Retry-After as seconds: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}
