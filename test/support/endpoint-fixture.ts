import type { DeliveryPolicy } from '../../shared/webhooks/deliver.js';
import type { WebhookEndpoint } from '../../shared/webhooks/endpoints.js';
import { generateSecret } from '../../shared/webhooks/signing.js';

/** An enabled endpoint with one fresh secret, as the delivery tests need it. */
export const sampleEndpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 'ep_1',
  url: 'https://receiver.example/hook',
  events: ['draft.approved', 'draft.rejected'],
  description: '',
  enabled: true,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  secrets: [{ value: generateSecret(), createdAt: '2026-01-01T00:00:00Z' }],
  version: 1,
  ...overrides,
});

/** The stack's default delivery policy with a 10 s base, as the delivery tests use it. */
export const samplePolicy = (overrides: Partial<DeliveryPolicy> = {}): DeliveryPolicy => ({
  maxAttempts: 4,
  retryBaseSeconds: 10,
  maxBackoffSeconds: 43_200,
  timeoutMs: 10_000,
  autoDisableDays: 5,
  ...overrides,
});
