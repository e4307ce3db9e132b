import {
  ConflictError,
  DomainError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  MalformedJsonError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors.js';
import { InvalidEncodingError, MethodNotAllowedError, RouteNotFoundError, UndecodablePathError } from './http-errors.js';

/**
 * The one place that decides how a named error is shown over HTTP: its status and any headers.
 * The API's error responses and the pages both ask here. Subclasses inherit their parent's row
 * (DraftExpiredError and AlreadyDecidedError are ConflictErrors: 409).
 */
type ErrorClass = abstract new (...args: never[]) => DomainError;

const STATUS_BY_CLASS: ReadonlyArray<readonly [ErrorClass, number]> = [
  [ValidationError, 400],
  [MalformedJsonError, 400],
  [InvalidEncodingError, 400],
  [UndecodablePathError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [RouteNotFoundError, 404],
  [MethodNotAllowedError, 405],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [IdempotencyKeyReusedError, 422],
  [ServiceUnavailableError, 503],
];

/** The HTTP status of a named error; a DomainError without a row is a programming fault (500). */
export function httpStatusOf(error: DomainError): number {
  return STATUS_BY_CLASS.find(([type]) => error instanceof type)?.[1] ?? 500;
}

/** Headers the status calls for: how to authenticate (401), which methods exist (405), when to retry (503). */
export function httpHeadersOf(error: DomainError): Record<string, string> | undefined {
  if (error instanceof UnauthorizedError) return { 'www-authenticate': 'Bearer' };
  if (error instanceof MethodNotAllowedError) return { allow: error.allowed.join(', ') };
  if (error instanceof ServiceUnavailableError) return { 'retry-after': String(error.retryAfterSeconds) };
  return undefined;
}
