import { AlreadyDecidedError, DraftExpiredError, newDraft } from '../../shared/domain/draft.js';
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
} from '../../shared/domain/errors.js';
import { httpHeadersOf, httpStatusOf } from '../../shared/http/error-status.js';
import { InvalidEncodingError, MethodNotAllowedError, RouteNotFoundError, UndecodablePathError } from '../../shared/http/http-errors.js';
import { errorResponse } from '../../shared/http/middlewares.js';

const actor = { keyId: 'k1', name: 'bot', role: 'agent' as const };
const draft = newDraft({ title: 't', content: {} }, actor, new Date('2026-01-01T00:00:00Z'));

describe('the one error mapper', () => {
  it.each<[DomainError, number, Record<string, string> | undefined]>([
    [new ValidationError([{ field: 'title', message: 'required' }]), 400, undefined],
    [new MalformedJsonError('x'), 400, undefined],
    [new InvalidEncodingError(), 400, undefined],
    [new UndecodablePathError(), 400, undefined],
    [new UnauthorizedError(), 401, { 'www-authenticate': 'Bearer' }],
    [new ForbiddenError('agent', ['admin']), 403, undefined],
    [new NotFoundError('draft', 'd1'), 404, undefined],
    [new RouteNotFoundError('GET', '/nope'), 404, undefined],
    [new MethodNotAllowedError('PUT', '/v1/drafts', ['GET', 'POST']), 405, { allow: 'GET, POST' }],
    [new ConflictError('conflict', 'c'), 409, undefined],
    [new AlreadyDecidedError({ ...draft, status: 'approved' }), 409, undefined],
    [new DraftExpiredError({ ...draft, status: 'expired' }), 409, undefined],
    [new PayloadTooLargeError('body', 1, 2), 413, undefined],
    [new UnsupportedMediaTypeError('text/plain'), 415, undefined],
    [new IdempotencyKeyReusedError(), 422, undefined],
    [new ServiceUnavailableError(7), 503, { 'retry-after': '7' }],
  ])('%s → %i', (error, status, headers) => {
    expect(httpStatusOf(error)).toBe(status);
    expect(httpHeadersOf(error)).toEqual(headers);
    const response = errorResponse(error, 'req-1');
    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject(headers ?? {});
  });

  it('domain errors say what went wrong, not how HTTP shows it', () => {
    const error = new ServiceUnavailableError(3);
    expect(error).toMatchObject({ code: 'service_unavailable', retryAfterSeconds: 3 });
    expect(error).not.toHaveProperty('status');
    expect(error).not.toHaveProperty('headers');
  });
});
