import { createDraftSchema, newDraft, type Actor } from '../../shared/domain/draft.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { createDraft, decideDraft, expireDueDrafts } from '../../shared/domain/drafts-service.js';
import { ConflictError, ValidationError } from '../../shared/domain/errors.js';
import { decisionEvent } from '../../shared/webhooks/events.js';
import { MemoryDraftStore } from '../support/memory-stores.js';

const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
const t0 = new Date('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('draft expiry', () => {
  it('accepts expiresAt between one minute and one year ahead, normalised to UTC', () => {
    const input = parseOrThrow(createDraftSchema, { title: 't', content: {}, expiresAt: '2026-03-01T14:00:00+02:00' });
    expect(newDraft(input, agent, t0).expiresAt).toBe('2026-03-01T12:00:00.000Z');
    expect(() => parseOrThrow(createDraftSchema, { title: 't', content: {}, expiresAt: 'tomorrow' })).toThrow(ValidationError);
    for (const bad of ['2026-03-01T10:00:30Z', '2027-03-02T10:00:00Z', '2026-02-28T10:00:00Z']) {
      expect(() => newDraft({ title: 't', content: {}, expiresAt: bad }, agent, t0)).toThrow(ValidationError);
    }
  });

  it('sweeps only pending drafts past their time, exactly once', async () => {
    const store = new MemoryDraftStore();
    const soon = await createDraft(store, { title: 'soon', content: {}, expiresAt: at(120).toISOString() }, agent, { now: t0 });
    const later = await createDraft(store, { title: 'later', content: {}, expiresAt: at(3600).toISOString() }, agent, { now: t0 });
    const decided = await createDraft(store, { title: 'decided', content: {}, expiresAt: at(120).toISOString() }, agent, { now: t0 });
    await decideDraft(store, decided.draft.id, { kind: 'approve' }, reviewer, at(60));
    expect(await expireDueDrafts(store, at(121))).toBe(1);
    expect(await expireDueDrafts(store, at(122))).toBe(0);
    expect(store.drafts.get(soon.draft.id)).toMatchObject({ status: 'expired' });
    expect(store.drafts.get(soon.draft.id)!.history.at(-1)).toEqual({ action: 'expired', at: at(121).toISOString(), actor: null });
    expect(store.drafts.get(later.draft.id)!.status).toBe('pending');
    expect(store.drafts.get(decided.draft.id)!.status).toBe('approved');
  });

  it('refuses decisions past expiry even before the sweep ran, with 409 draft_expired', async () => {
    const store = new MemoryDraftStore();
    const { draft } = await createDraft(store, { title: 't', content: {}, expiresAt: at(120).toISOString() }, agent, { now: t0 });
    const late = decideDraft(store, draft.id, { kind: 'approve' }, reviewer, at(121));
    await expect(late).rejects.toBeInstanceOf(ConflictError);
    await expect(late).rejects.toMatchObject({ code: 'draft_expired' });
  });

  it('produces a draft.expired event', async () => {
    const store = new MemoryDraftStore();
    const { draft } = await createDraft(store, { title: 'Refund', content: {}, metadata: { source: 'a' }, expiresAt: at(120).toISOString() }, agent, {
      now: t0,
    });
    await expireDueDrafts(store, at(200));
    const event = decisionEvent(store.drafts.get(draft.id)!);
    expect(event.type).toBe('draft.expired');
    expect(JSON.parse(event.body)).toEqual({
      event: 'draft.expired',
      draft: { id: draft.id, title: 'Refund', metadata: { source: 'a' }, expiresAt: at(120).toISOString() },
      timestamp: at(200).toISOString(),
    });
  });
});
