import { CLOSED, type BreakerRecord, type BreakerStore } from '../../shared/webhooks/circuit-breaker.js';

/** The breaker store's conditions, in memory, for one endpoint; counts the writes it was asked for. */
export class MemoryBreakerStore implements BreakerStore {
  r: BreakerRecord = { ...CLOSED };
  failuresRecorded = 0;
  successesRecorded = 0;
  async get() {
    return { ...this.r };
  }
  async claimProbe(_: string, when: Date, lease: string) {
    if (!this.r.openUntil || Date.parse(this.r.openUntil) > when.getTime() || (this.r.probeUntil && Date.parse(this.r.probeUntil) > when.getTime()))
      return false;
    this.r.probeUntil = lease;
    return true;
  }
  async recordSuccess() {
    this.successesRecorded++;
    this.r = { ...CLOSED };
  }
  async recordFailure() {
    this.failuresRecorded++;
    this.r.consecutiveFailures++;
    return { ...this.r };
  }
  async open(_: string, when: Date, until: string, k: number) {
    if (this.r.consecutiveFailures < k || (this.r.openUntil && Date.parse(this.r.openUntil) > when.getTime())) return false;
    this.r = { ...this.r, openUntil: until, probeUntil: null };
    return true;
  }
}
