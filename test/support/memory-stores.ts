import { SlackUserLinkedError, type ApiKeyRecord, type ApiKeyStore, type SlackLinkResult } from '../../shared/domain/api-keys.js';
import type { Draft, RejectionChange } from '../../shared/domain/draft.js';
import type { ApproveResult, CreateResult, DraftPage, DraftStore, IdempotencyClaim, RejectResult } from '../../shared/domain/drafts-service.js';
import { applyApproval, approvalApplies, type ApprovalChange } from '../../shared/domain/approvals.js';

/** In-memory ports for unit tests of the use cases; the DynamoDB adapters are covered by integration tests. */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  /** Slack user → key hash, as the DynamoDB store's link items. */
  readonly slackLinks = new Map<string, string>();
  async put(record: ApiKeyRecord) {
    // As the DynamoDB store: a key is never overwritten (that would revive a revoked one).
    if (this.records.has(record.keyHash)) throw new Error('ConditionalCheckFailed: key exists');
    if (record.slackUserId && this.slackLinks.has(record.slackUserId)) throw new SlackUserLinkedError(record.slackUserId);
    this.records.set(record.keyHash, { ...record });
    if (record.slackUserId) this.slackLinks.set(record.slackUserId, record.keyHash);
  }
  async findBySlackUser(slackUserId: string) {
    const keyHash = this.slackLinks.get(slackUserId);
    return keyHash ? this.records.get(keyHash) : undefined;
  }
  async setSlackUser(record: ApiKeyRecord, slackUserId: string | undefined): Promise<SlackLinkResult> {
    const current = this.records.get(record.keyHash);
    if (!current || current.revokedAt || current.slackUserId !== record.slackUserId) return { kind: 'changed' };
    if (slackUserId && slackUserId !== current.slackUserId && this.slackLinks.has(slackUserId)) return { kind: 'taken' };
    if (current.slackUserId) this.slackLinks.delete(current.slackUserId);
    if (slackUserId) this.slackLinks.set(slackUserId, record.keyHash);
    if (slackUserId) current.slackUserId = slackUserId;
    else delete current.slackUserId;
    return { kind: 'updated', record: { ...current } };
  }
  async setGroups(keyHash: string, groups: string[]) {
    const current = this.records.get(keyHash);
    if (!current || current.revokedAt) return undefined;
    if (groups.length > 0) current.groups = [...groups];
    else delete current.groups;
    return { ...current };
  }
  async releaseSlackUser(slackUserId: string, keyHash: string) {
    if (this.slackLinks.get(slackUserId) === keyHash) this.slackLinks.delete(slackUserId);
  }
  async findByHash(keyHash: string) {
    return this.records.get(keyHash);
  }
  async findById(id: string) {
    return [...this.records.values()].find((r) => r.id === id);
  }
  async findByHashes(keyHashes: readonly string[]) {
    return keyHashes.flatMap((h) => (this.records.has(h) ? [{ ...this.records.get(h)! }] : []));
  }
  async findByIdsConsistently(ids: readonly string[]) {
    return [...this.records.values()].filter((r) => ids.includes(r.id)).map((r) => ({ ...r }));
  }
  async list() {
    return { items: [...this.records.values()] };
  }
  async revoke(keyHash: string, at: string) {
    const record = this.records.get(keyHash)!;
    record.revokedAt ??= at;
    return record;
  }
}

export class MemoryDraftStore implements DraftStore {
  readonly drafts = new Map<string, Draft>();
  readonly claims = new Map<string, { draftId: string; requestHash: string }>();
  async create(draft: Draft, claim?: IdempotencyClaim): Promise<CreateResult> {
    const existing = claim && this.claims.get(claim.id);
    if (existing) return { kind: 'replayed', draft: this.drafts.get(existing.draftId)!, requestHash: existing.requestHash };
    if (claim) this.claims.set(claim.id, { draftId: draft.id, requestHash: claim.requestHash });
    this.drafts.set(draft.id, structuredClone(draft));
    return { kind: 'created', draft };
  }
  async get(id: string) {
    return this.drafts.get(id);
  }
  async list(): Promise<DraftPage> {
    return { items: [...this.drafts.values()] };
  }
  async listExpired(now: Date) {
    return [...this.drafts.values()].filter((d) => d.status === 'pending' && d.expiresAt !== undefined && Date.parse(d.expiresAt) <= now.getTime());
  }
  async expire(id: string, at: Date) {
    const draft = this.drafts.get(id);
    if (!draft || draft.status !== 'pending' || !draft.expiresAt || Date.parse(draft.expiresAt) > at.getTime()) return false;
    draft.status = 'expired';
    draft.history.push({ action: 'expired', at: at.toISOString(), actor: null });
    return true;
  }
  async count(status: Draft['status']) {
    return [...this.drafts.values()].filter((d) => d.status === status).length;
  }
  async reject(id: string, change: RejectionChange): Promise<RejectResult> {
    const draft = this.drafts.get(id);
    if (!draft) return { kind: 'missing' };
    if (draft.status !== 'pending' || (draft.expiresAt && draft.expiresAt <= change.reviewedAt)) return { kind: 'not-pending', current: draft };
    Object.assign(draft, {
      status: 'rejected',
      reviewedAt: change.reviewedAt,
      reviewedBy: change.reviewedBy,
      ...(change.rejectionReason !== undefined ? { rejectionReason: change.rejectionReason } : {}),
    });
    draft.history.push(change.historyEntry);
    return { kind: 'rejected', draft };
  }
  async approve(id: string, change: ApprovalChange): Promise<ApproveResult> {
    const draft = this.drafts.get(id);
    if (!draft) return { kind: 'missing' };
    if (!approvalApplies(draft, change)) return { kind: 'conflict', current: structuredClone(draft) };
    const next = applyApproval(draft, change);
    this.drafts.set(id, next);
    return { kind: 'applied', draft: structuredClone(next) };
  }
}
