import type { DeliveryAttempt, DeliveryLogStore } from '../../shared/webhooks/delivery-log.js';
import type { DeadLetter, DeadLetterQueue, DeliveryMessage, DeliveryQueue, RetryLater, RetryQueue } from '../../shared/webhooks/delivery-message.js';
import type { DeliveryState, DeliveryStateStore, RedriveLease, StateVersion } from '../../shared/webhooks/delivery-state.js';

/** In-memory delivery ports for unit tests; the DynamoDB and SQS adapters are covered by integration tests. */
export class MemoryDeliveryStateStore implements DeliveryStateStore {
  readonly items = new Map<string, DeliveryState>();
  private key = (endpointId: string, eventId: string) => `${endpointId}|${eventId}`;
  async get(endpointId: string, eventId: string) {
    const found = this.items.get(this.key(endpointId, eventId));
    return found && structuredClone(found);
  }
  /** Redrive claims by state key: as in DynamoDB, any write of the state replaces (and so clears) its claim. */
  readonly claims = new Map<string, string>();
  async save(state: DeliveryState, expected: StateVersion) {
    const current = this.items.get(this.key(state.endpointId, state.eventId));
    const matches = expected ? current?.generation === expected.generation && current.attempts === expected.attempts : current === undefined;
    if (!matches) return false;
    this.items.set(this.key(state.endpointId, state.eventId), structuredClone(state));
    this.claims.delete(this.key(state.endpointId, state.eventId));
    return true;
  }
  async claimRedrive(state: DeliveryState, lease: RedriveLease) {
    const key = this.key(state.endpointId, state.eventId);
    const current = this.items.get(key);
    const claim = this.claims.get(key);
    if (current?.status !== 'dead' || current.generation !== state.generation || current.attempts !== state.attempts) return false;
    if (claim !== undefined && claim > lease.at) return false;
    this.claims.set(key, lease.until);
    return true;
  }
  async listDead(endpointId: string, options: { since?: string; limit: number; cursor?: string }) {
    const all = [...this.items.values()]
      .filter((s) => s.endpointId === endpointId && s.status === 'dead' && (options.since === undefined || s.diedAt! >= options.since))
      .sort((a, b) => a.diedAt!.localeCompare(b.diedAt!));
    const start = Number(options.cursor ?? 0);
    const items = all.slice(start, start + options.limit).map((s) => structuredClone(s));
    return { items, cursor: start + options.limit < all.length ? String(start + options.limit) : undefined };
  }
  async listWaiting(options: { limit: number; cursor?: string }) {
    const all = [...this.items.values()].filter((s) => s.status === 'waiting');
    const start = Number(options.cursor ?? 0);
    return { items: all.slice(start, start + options.limit), cursor: start + options.limit < all.length ? String(start + options.limit) : undefined };
  }
}

export class MemoryDeliveryLog implements DeliveryLogStore {
  readonly attempts: DeliveryAttempt[] = [];
  /** As the table keys them (time, event, attempt): writing one again replaces it. */
  async record(attempts: DeliveryAttempt[]) {
    const keyOf = (a: DeliveryAttempt) => `${a.endpointId} ${a.attemptedAt}#${a.eventId}#${a.attempt}`;
    for (const attempt of attempts) {
      const at = this.attempts.findIndex((a) => keyOf(a) === keyOf(attempt));
      if (at >= 0) this.attempts[at] = attempt;
      else this.attempts.push(attempt);
    }
  }
  async list(endpointId: string) {
    return { items: this.attempts.filter((a) => a.endpointId === endpointId).reverse() };
  }
}

export class MemoryQueue implements DeliveryQueue, RetryQueue {
  readonly sent: DeliveryMessage[] = [];
  readonly delayed: RetryLater[] = [];
  async send(messages: DeliveryMessage[]) {
    this.sent.push(...structuredClone(messages));
  }
  async retryLater(messages: RetryLater[]) {
    this.delayed.push(...messages);
    return [];
  }
}

export class MemoryDlq implements DeadLetterQueue {
  readonly messages = new Map<string, { message: DeliveryMessage; reason?: string }>();
  readonly hidden = new Set<string>();
  private next = 0;
  async send(letters: Array<{ message: DeliveryMessage; reason: string }>) {
    for (const l of letters) this.messages.set(`h${this.next++}`, structuredClone(l));
  }
  async receive(): Promise<DeadLetter[]> {
    const visible = [...this.messages].filter(([h]) => !this.hidden.has(h)).slice(0, 10);
    for (const [h] of visible) this.hidden.add(h);
    return visible.map(([receiptHandle, { message }]) => ({ receiptHandle, message }));
  }
  async delete(handles: string[]) {
    for (const h of handles) {
      this.messages.delete(h);
      this.hidden.delete(h);
    }
  }
  async release(handles: string[]) {
    for (const h of handles) this.hidden.delete(h);
  }
}
