import type { Actor } from '../../shared/domain/draft.js';
import { createDraft, decideDraft, getDraft } from '../../shared/domain/drafts-service.js';
import { ConflictError, IdempotencyKeyReusedError, NotFoundError, ValidationError } from '../../shared/domain/errors.js';
import { MemoryDraftStore } from '../support/memory-stores.js';

const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const otherAgent: Actor = { keyId: 'key_b', name: 'bot2', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
const input = { title: 'Refund order 1234', content: { amount: 42 } };

describe('the draft lifecycle', () => {
  it('goes pending → approved with edited content, keeping the original and the history', async () => {
    const store = new MemoryDraftStore();
    const { draft } = await createDraft(store, input, agent);
    const approved = await decideDraft(store, draft.id, { kind: 'approve', editedContent: { amount: 40 } }, reviewer);
    expect(approved).toMatchObject({ status: 'approved', content: { amount: 40 }, originalContent: { amount: 42 }, reviewedBy: reviewer });
    expect(approved.history.map((h) => h.action)).toEqual(['created', 'approved']);
  });

  it('decides exactly once: the second decision is a 409 showing the first', async () => {
    const store = new MemoryDraftStore();
    const { draft } = await createDraft(store, input, agent);
    await decideDraft(store, draft.id, { kind: 'reject', reason: 'no' }, reviewer);
    const second = decideDraft(store, draft.id, { kind: 'approve' }, reviewer);
    await expect(second).rejects.toBeInstanceOf(ConflictError);
    await expect(second).rejects.toMatchObject({ code: 'already_decided', details: { draft: { status: 'rejected', rejectionReason: 'no' } } });
  });

  it('404s unknown drafts and 400s malformed ids', async () => {
    const store = new MemoryDraftStore();
    await expect(getDraft(store, 'cnothere')).rejects.toBeInstanceOf(NotFoundError);
    await expect(decideDraft(store, 'cnothere', { kind: 'approve' }, reviewer)).rejects.toBeInstanceOf(NotFoundError);
    await expect(getDraft(store, '../etc/passwd')).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('idempotent creation', () => {
  it('replays the same draft for the same key and body', async () => {
    const store = new MemoryDraftStore();
    const first = await createDraft(store, input, agent, { idempotencyKey: 'req-1' });
    const again = await createDraft(store, input, agent, { idempotencyKey: 'req-1' });
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ draft: first.draft, replayed: true });
    expect(store.drafts.size).toBe(1);
  });

  it('refuses the same key with a different body', async () => {
    const store = new MemoryDraftStore();
    await createDraft(store, input, agent, { idempotencyKey: 'req-1' });
    await expect(createDraft(store, { ...input, title: 'other' }, agent, { idempotencyKey: 'req-1' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('scopes keys to the calling API key', async () => {
    const store = new MemoryDraftStore();
    const a = await createDraft(store, input, agent, { idempotencyKey: 'same' });
    const b = await createDraft(store, input, otherAgent, { idempotencyKey: 'same' });
    expect(a.draft.id).not.toBe(b.draft.id);
  });

  it.each(['', 'has space', 'x'.repeat(256), 'ünïcode'])('rejects the malformed key %p', async (key) => {
    await expect(createDraft(new MemoryDraftStore(), input, agent, { idempotencyKey: key })).rejects.toMatchObject({
      code: 'validation_failed',
      details: { fields: [{ field: 'idempotency-key' }] },
    });
  });
});
