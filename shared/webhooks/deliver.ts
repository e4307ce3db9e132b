import { retryDelaySeconds } from './backoff.js';
import { truncateError, type DeliveryAttempt } from './delivery-log.js';
import type { DeliveryMessage } from './delivery-message.js';
import { activeSecrets, type WebhookEndpoint } from './endpoints.js';
import { signedHeaders } from './signing.js';

export interface DeliveryPolicy {
  maxAttempts: number;
  retryBaseSeconds: number;
  maxBackoffSeconds: number;
  timeoutMs: number;
}

/** The outcome of one HTTP POST; posters never throw. */
export interface PostResult {
  status?: number;
  error?: string;
  durationMs: number;
}
export type Poster = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResult>;

export type DeliveryAction =
  | { kind: 'delivered'; attempt: DeliveryAttempt }
  | { kind: 'retry'; attempt: DeliveryAttempt; delaySeconds: number }
  /** Last attempt failed: the queue's redrive policy moves the message to the DLQ. */
  | { kind: 'dead'; attempt: DeliveryAttempt }
  /** The endpoint was deleted: nothing to deliver to, nothing to retry. */
  | { kind: 'dropped' };

export const isSuccess = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;

function failureText(result: PostResult): string {
  if (result.error) return truncateError(result.error);
  if (result.status !== undefined && result.status >= 300 && result.status < 400) return `HTTP ${result.status}: redirects are not followed`;
  return `HTTP ${result.status}`;
}

/** One attempt of one message: sign with the endpoint's active secrets, POST, decide what happens next. */
export async function attemptDelivery(
  message: DeliveryMessage,
  attemptNumber: number,
  endpoint: WebhookEndpoint | undefined,
  deps: { post: Poster; policy: DeliveryPolicy; now?: () => Date; random?: () => number },
): Promise<DeliveryAction> {
  if (!endpoint) return { kind: 'dropped' };
  const now = deps.now ?? (() => new Date());
  const attemptedAt = now();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Processa-Webhooks/1.0',
    ...signedHeaders(message.eventId, message.body, activeSecrets(endpoint, attemptedAt), attemptedAt),
  };
  const result = await deps.post(endpoint.url, message.body, headers, deps.policy.timeoutMs);
  const base: DeliveryAttempt = {
    endpointId: endpoint.id,
    eventId: message.eventId,
    eventType: message.eventType,
    draftId: message.draftId,
    attempt: attemptNumber,
    outcome: 'succeeded',
    httpStatus: result.status ?? null,
    durationMs: Math.round(result.durationMs),
    error: null,
    attemptedAt: attemptedAt.toISOString(),
    nextAttemptAt: null,
    test: message.test,
  };
  if (isSuccess(result.status)) return { kind: 'delivered', attempt: base };
  const error = failureText(result);
  if (attemptNumber >= deps.policy.maxAttempts) return { kind: 'dead', attempt: { ...base, outcome: 'dead', error } };
  const delaySeconds = retryDelaySeconds(attemptNumber, deps.policy.retryBaseSeconds, deps.policy.maxBackoffSeconds, deps.random);
  return {
    kind: 'retry',
    delaySeconds,
    attempt: { ...base, outcome: 'failed', error, nextAttemptAt: new Date(attemptedAt.getTime() + delaySeconds * 1000).toISOString() },
  };
}
