/**
 * A typed client for the Processa API, published from this folder as the `@processa/client`
 * package (README.md; `npm run build:client`, `npm run pack:client`). Its only runtime dependency
 * is the global `fetch` (Node 20+, Deno, Bun, browsers). Webhook verification lives in
 * ./webhooks.ts, `@processa/client/webhooks` (it needs node:crypto, so it is not re-exported here).
 *
 *   const processa = new ProcessaClient({ baseUrl: 'http://localhost:3000/v1', apiKey: process.env.PROCESSA_API_KEY! });
 *   const draft = await processa.createDraft({ title: 'Send welcome email', content: { to, subject, body } });
 *   const decided = await processa.waitForDecision(draft.id, { timeoutMs: 60 * 60_000 });
 */
import { DecisionTimeoutError, ValidationError } from './errors.js';
import { defaultSleep, Transport } from './transport.js';
import type { ApproveDraftInput, CreateDraftInput, Draft, DraftPage, ListDraftsParams, RejectDraftInput } from './types.js';

export * from './errors.js';
export type * from './types.js';
export type { RetryMode } from './transport.js';

export interface ProcessaClientOptions {
  /**
   * Where the API is served, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com` or the
   * `http://localhost:3000/v1` that `npm run dev` prints; with or without `/v1` and a trailing slash.
   */
  baseUrl: string;
  apiKey: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
  /** Retries after the first attempt of a retryable failure (429, 502, 503, 504, network). Default 3. */
  maxRetries?: number;
  /** First retry delay; it doubles with each retry, with jitter. Default 500 ms. */
  retryBaseMs?: number;
  /** Cap of one retry delay. Default 10 s. */
  retryMaxMs?: number;
  /** A Retry-After longer than this is not waited for: the error is thrown instead. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout, including reading the response. Default 30 s. */
  timeoutMs?: number;
  /** For tests: how to wait between retries. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** For tests: the jitter source, in [0, 1). */
  random?: () => number;
}

export interface RequestOptions {
  /** Aborts the call, including any retry wait; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface CreateDraftOptions extends RequestOptions {
  /**
   * Makes the create safe to repeat: the API answers a repeat with the same key (within 24 h) with
   * the draft the first one created. Defaults to a random UUID per call, reused by that call's own
   * retries; pass your own (e.g. derived from the task the agent works on) to also deduplicate
   * across process restarts.
   */
  idempotencyKey?: string;
}

export interface WaitForDecisionOptions extends RequestOptions {
  /** Give up after this long with a DecisionTimeoutError. */
  timeoutMs: number;
  /** First pause between polls; it doubles after each poll up to maxPollIntervalMs. Default 1 s. */
  pollIntervalMs?: number;
  /** Default 10 s. */
  maxPollIntervalMs?: number;
}

export class ProcessaClient {
  private readonly transport: Transport;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: ProcessaClientOptions) {
    if (!options.baseUrl) throw new TypeError('ProcessaClient: baseUrl is required');
    if (!options.apiKey) throw new TypeError('ProcessaClient: apiKey is required');
    // Looked up at each call, so that a fetch patched or mocked after construction is used.
    const fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
    this.sleep = options.sleep ?? defaultSleep;
    this.transport = new Transport({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      fetch: fetchImpl as typeof fetch,
      maxRetries: Math.max(0, options.maxRetries ?? 3),
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 10_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 30_000,
      sleep: this.sleep,
      random: options.random ?? Math.random,
    });
  }

  /** POST /v1/drafts (agent, admin). Always idempotent: see CreateDraftOptions.idempotencyKey. */
  createDraft(input: CreateDraftInput, options: CreateDraftOptions = {}): Promise<Draft> {
    const body = { ...input, ...(input.expiresAt instanceof Date ? { expiresAt: input.expiresAt.toISOString() } : {}) };
    return this.transport.request<Draft>({
      method: 'POST',
      path: '/v1/drafts',
      body,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUuid() },
      retry: 'safe',
      signal: options.signal,
    });
  }

  /** GET /v1/drafts/{id}. Throws NotFoundError for an unknown id. */
  async getDraft(id: string, options: RequestOptions = {}): Promise<Draft> {
    return this.transport.request<Draft>({ method: 'GET', path: draftPath(id), retry: 'safe', signal: options.signal });
  }

  /** GET /v1/drafts: one page, newest first. */
  listDraftsPage(params: ListDraftsParams & { cursor?: string | null } = {}, options: RequestOptions = {}): Promise<DraftPage> {
    return this.transport.request<DraftPage>({
      method: 'GET',
      path: '/v1/drafts',
      query: { status: params.status, limit: params.limit, cursor: params.cursor ?? undefined },
      retry: 'safe',
      signal: options.signal,
    });
  }

  /**
   * Every draft matching `params`, newest first, fetching pages of `limit` (the API's page size)
   * as the iteration goes. `break` out of the loop to stop early.
   *
   *   for await (const draft of processa.listDrafts({ status: 'pending' })) console.log(draft.title);
   */
  async *listDrafts(params: ListDraftsParams = {}, options: RequestOptions = {}): AsyncIterableIterator<Draft> {
    let cursor: string | null = null;
    do {
      const page: DraftPage = await this.listDraftsPage({ ...params, cursor }, options);
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor);
  }

  /** POST /v1/drafts/{id}/approve (reviewer, admin). Throws ConflictError (`.draft` is the state that won) if already decided. */
  async approveDraft(id: string, input: ApproveDraftInput = {}, options: RequestOptions = {}): Promise<Draft> {
    // 'conditional': not retried when it may have been applied; see RetryMode in transport.ts.
    return this.transport.request<Draft>({ method: 'POST', path: `${draftPath(id)}/approve`, body: input, retry: 'conditional', signal: options.signal });
  }

  /** POST /v1/drafts/{id}/reject (reviewer, admin). Throws ConflictError if already decided. */
  async rejectDraft(id: string, input: RejectDraftInput = {}, options: RequestOptions = {}): Promise<Draft> {
    return this.transport.request<Draft>({ method: 'POST', path: `${draftPath(id)}/reject`, body: input, retry: 'conditional', signal: options.signal });
  }

  /**
   * Polls the draft until it is no longer pending and resolves with it: check `status`
   * (`approved`, with the approved and possibly edited `content`; `rejected`, with
   * `rejectionReason`; or `expired`). Polls back off from pollIntervalMs to maxPollIntervalMs.
   * Throws DecisionTimeoutError (with the last state seen) once timeoutMs has passed.
   * In production prefer webhooks for acting on decisions; this suits agents that block on one.
   */
  async waitForDecision(id: string, options: WaitForDecisionOptions): Promise<Draft> {
    const { timeoutMs, signal } = options;
    if (!(timeoutMs >= 0)) throw new TypeError('waitForDecision: timeoutMs must be a number ≥ 0');
    const maxInterval = options.maxPollIntervalMs ?? 10_000;
    let interval = Math.min(options.pollIntervalMs ?? 1_000, maxInterval);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const draft = await this.getDraft(id, { signal });
      if (draft.status !== 'pending') return draft;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new DecisionTimeoutError(draft, timeoutMs);
      // The last wait is cut short so that the final poll happens at the deadline.
      await this.sleep(Math.min(interval, remaining), signal);
      interval = Math.min(interval * 2, maxInterval);
    }
  }
}

function draftPath(id: string): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ValidationError({
      code: 'validation_failed',
      message: 'Invalid request: id: must be a non-empty string',
      details: { fields: [{ field: 'id', message: 'must be a non-empty string' }] },
    });
  }
  return `/v1/drafts/${encodeURIComponent(id)}`;
}

/** crypto.randomUUID where available (Node, secure browser contexts), else a v4 UUID from getRandomValues. */
function randomUuid(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
