import { newDraft, type Actor, type Draft } from '../../shared/domain/draft.js';
import { decideDraft, expireDueDrafts } from '../../shared/domain/drafts-service.js';
import { draftStoreFromEnv } from '../../shared/stores.js';

const agent: Actor = { keyId: 'key_a', name: 'bot', role: 'agent' };
const reviewer: Actor = { keyId: 'key_r', name: 'alice', role: 'reviewer' };
const store = draftStoreFromEnv();

/** Drafts dated in the future, so this file's sweep never touches other tests' drafts. */
const base = new Date(Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 1e9));
const at = (seconds: number) => new Date(base.getTime() + seconds * 1000);
async function stored(title: string, expiresInSeconds?: number): Promise<Draft> {
  const draft = newDraft({ title, content: {}, ...(expiresInSeconds ? { expiresAt: at(expiresInSeconds).toISOString() } : {}) }, agent, base);
  await store.create(draft);
  return draft;
}

describe('expiry against DynamoDB Local', () => {
  it('the sparse index lists only pending drafts past their time; the sweep expires them once', async () => {
    const due = await stored('due', 120);
    const notYet = await stored('not yet', 3600);
    const never = await stored('no expiry');
    const decided = await stored('decided', 120);
    await decideDraft(store, decided.id, { kind: 'reject' }, reviewer, at(60));

    const listed = (await store.listExpired(at(121), 100)).map((d) => d.id);
    expect(listed).toContain(due.id);
    expect(listed).not.toContain(notYet.id);
    expect(listed).not.toContain(never.id);
    expect(listed).not.toContain(decided.id);

    expect(await expireDueDrafts(store, at(121))).toBeGreaterThanOrEqual(1);
    expect(await store.get(due.id)).toMatchObject({ status: 'expired' });
    expect((await store.listExpired(at(121), 100)).map((d) => d.id)).not.toContain(due.id);
    expect(await store.expire(due.id, at(122))).toBe(false);
    expect((await store.get(notYet.id))!.status).toBe('pending');
  });

  it('a decision after expiresAt fails its condition even before any sweep', async () => {
    const draft = await stored('late', 120);
    await expect(decideDraft(store, draft.id, { kind: 'approve' }, reviewer, at(121))).rejects.toMatchObject({ code: 'draft_expired' });
    expect((await store.get(draft.id))!.status).toBe('pending');
    await expect(decideDraft(store, draft.id, { kind: 'approve' }, reviewer, at(119))).resolves.toMatchObject({ status: 'approved' });
  });
});
