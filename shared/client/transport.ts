import { ConnectionError, errorFromResponse, ProcessaError } from './errors.js';

/**
 * How a request may be retried.
 * - `safe`: reads, and creates that carry an Idempotency-Key. Repeating them cannot do anything
 *   twice, so they are retried on 429, 502, 503, 504 and on any network error.
 * - `conditional`: approve and reject. They carry no idempotency key, so they are retried only when
 *   the answer proves nothing was done: 429 (throttled before reaching the function), 503 (the
 *   store refused the write), or a network error raised before the request was sent (connection
 *   refused, DNS lookup failed). After a reset, a timeout, a 502 or a 504 the decision may
 *   already have been written, so the error goes to the caller instead. Retrying would be harmless
 *   for the data, since a decision is a conditional write on a pending draft, but a retried approve
 *   that had in fact succeeded answers 409 already_decided and would wrongly tell the caller that
 *   someone else decided first. The caller can getDraft() to learn what happened.
 */
export type RetryMode = 'safe' | 'conditional';

export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxRetryAfterMs: number;
  timeoutMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  retry: RetryMode;
  signal?: AbortSignal;
}

const RETRY_STATUSES: Record<RetryMode, ReadonlySet<number>> = {
  safe: new Set([429, 502, 503, 504]),
  conditional: new Set([429, 503]),
};

/** Error codes of failures that happen before any byte of the request is sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Whether a fetch failure certainly happened before the request reached the server (Node's undici exposes the cause; browsers do not, so there it is never certain). */
export function failedBeforeSending(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause as { code?: unknown; errors?: unknown } | undefined;
  if (!cause) return false;
  if (typeof cause.code === 'string' && NOT_SENT_CODES.has(cause.code)) return true;
  // Happy-eyeballs connects (several addresses) fail with an AggregateError of per-address errors.
  const errors = Array.isArray(cause.errors) ? (cause.errors as Array<{ code?: unknown }>) : [];
  return errors.length > 0 && errors.every((e) => typeof e?.code === 'string' && NOT_SENT_CODES.has(e.code));
}

export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The API's root without a trailing slash or `/v1`, whichever of these it is given:
 * `http://localhost:3000`, `http://localhost:3000/`, `http://localhost:3000/v1` (as `npm run dev`
 * prints it) or `http://localhost:3000/v1/`. A path before `/v1` (an API Gateway stage, a proxy
 * prefix) is kept. Throws TypeError for anything that is not an absolute http(s) URL without a
 * query or fragment.
 */
export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    throw new TypeError(`ProcessaClient: baseUrl must be an absolute URL such as http://localhost:3000, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`ProcessaClient: baseUrl must be http:// or https://, got ${JSON.stringify(baseUrl)}`);
  if (url.search || url.hash || baseUrl.includes('?') || baseUrl.includes('#')) {
    throw new TypeError(`ProcessaClient: baseUrl must not have a query or fragment, got ${JSON.stringify(baseUrl)}`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${url.origin}${path}`;
}

export class Transport {
  private readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
  }

  /** Exponential backoff with equal jitter: attempt n waits between half and all of base·2ⁿ, capped. */
  backoffMs(retry: number): number {
    const ceiling = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** retry);
    return Math.round(ceiling / 2 + (this.options.random() * ceiling) / 2);
  }

  async request<T>(spec: RequestSpec): Promise<T> {
    const url = this.url(spec.path, spec.query);
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.options.apiKey}`, ...spec.headers };
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    if (body !== undefined) headers['content-type'] = 'application/json';

    for (let retry = 0; ; retry++) {
      let response: Response;
      let text: string;
      try {
        ({ response, text } = await this.fetchOnce(url, { method: spec.method, headers, body }, spec.signal));
      } catch (error) {
        if (spec.signal?.aborted) throw spec.signal.reason ?? error;
        const failure = new ConnectionError({
          code: 'connection_error',
          message: `${spec.method} ${spec.path} failed: ${describeNetworkError(error, this.options.timeoutMs)}`,
          cause: error,
        });
        const retryable = spec.retry === 'safe' || failedBeforeSending(error);
        if (!retryable) {
          throw new ConnectionError({
            code: 'connection_error',
            message: `${failure.message}. The request may or may not have been applied; read the resource to find out`,
            cause: error,
          });
        }
        if (retry >= this.options.maxRetries) throw failure;
        await this.options.sleep(this.backoffMs(retry), spec.signal);
        continue;
      }

      if (response.ok) return parseJson<T>(text, response);

      const error = errorFromResponse(response.status, text, response.headers);
      if (!RETRY_STATUSES[spec.retry].has(response.status) || retry >= this.options.maxRetries) throw error;
      const askedMs = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
      // A server asking for a longer pause than we are willing to block for gets its error back.
      if (askedMs > this.options.maxRetryAfterMs) throw error;
      await this.options.sleep(Math.max(askedMs, this.backoffMs(retry)), spec.signal);
    }
  }

  private url(path: string, query: RequestSpec['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /** One fetch with the per-attempt timeout, also ended by the caller's signal. */
  private async fetchOnce(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(this.options.timeoutMs)), this.options.timeoutMs);
    const onAbort = () => controller.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.options.fetch(url, { ...init, signal: controller.signal });
      // The body is read under the same timeout: a response that stalls midway is a network failure.
      return { response, text: await response.text() };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof TimeoutError || (error as { name?: string })?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${base} (${cause.code})` : cause?.message ? `${base} (${cause.message})` : base;
}

function parseJson<T>(text: string, response: Response): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ProcessaError({
      code: 'invalid_response',
      message: `Expected a JSON response, got HTTP ${response.status} with ${JSON.stringify(text.slice(0, 100))}`,
      status: response.status,
      requestId: response.headers.get('x-request-id') ?? undefined,
    });
  }
}
