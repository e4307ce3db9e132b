import type { EventType } from './events.js';

/**
 * Whether an endpoint gets events of `type`: it is enabled and subscribed to them. Apart from
 * endpoints.ts so that fan-out, which only matches endpoints to events, does not bundle what creating
 * and changing them needs (the URL guard, the secret generator with standardwebhooks).
 */
export const subscribes = (endpoint: { enabled: boolean; events: readonly EventType[] }, type: EventType): boolean =>
  endpoint.enabled && endpoint.events.includes(type);
