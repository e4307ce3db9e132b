/**
 * A decision by a key revoked (or taken out of the draft's group) a moment ago must not land, on
 * DynamoDB Local. The race is made deterministic: the decider is read (as the API, a review page or
 * Slack reads it when the request starts), then the key is revoked or ungrouped, then the decision
 * is written with the decider read before. The write is one transaction with a check of the key.
 */
import { approverKeys, authenticate, createApiKey, keyDirectory, revokeApiKey, updateApiKey } from '../../shared/domain/api-keys.js';
import { createDraft, decideDraft } from '../../shared/domain/drafts-service.js';
import { emailActor } from '../../shared/notifications/email-links-decision.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/stores.js';

const drafts = draftStoreFromEnv({ deciderKeys: true });
const keys = apiKeyStoreFromEnv();
const agent = { keyId: 'key_agent', name: 'bot', role: 'agent' as const };
const unique = () => `g${Math.random().toString(36).slice(2, 10)}`;

/** A live key and the decider its request authenticated as (keyHash included, as the API carries it). */
async function liveDecider(role: 'reviewer' | 'admin', groups: string[] = []) {
  const created = await createApiKey(keys, { name: `${role}-${unique()}`, role, groups }, null);
  return { id: created.id, decider: await authenticate(keys, created.key) };
}

const pending = async (input: { reviewers?: string[]; requiredApprovals?: number } = {}) =>
  (await createDraft(drafts, { title: 'Refund', content: { amount: 42 }, ...input }, agent, { directory: keyDirectory(keys) })).draft;

/** The draft is exactly as created: no decision, no approval, no history entry landed. */
async function expectUntouched(id: string) {
  const stored = await drafts.get(id);
  expect(stored).toMatchObject({ status: 'pending', approvals: [] });
  expect(stored!.reviewedAt).toBeUndefined();
  expect(stored!.history.map((h) => h.action)).toEqual(['created']);
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'won',
    (error: { code?: string }) => error.code ?? String(error),
  );

describe('a decider whose key changed between authentication and the write', () => {
  it.each(['approve', 'reject'] as const)('a key revoked after authenticating cannot %s: 401, nothing written', async (kind) => {
    const { id, decider } = await liveDecider('reviewer');
    const draft = await pending();
    await revokeApiKey(keys, id);
    const decision = kind === 'approve' ? { kind } : { kind, reason: 'no' };
    const error = await decideDraft(drafts, draft.id, decision, decider, undefined, approverKeys(keys)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unauthorized', message: 'The API key is unknown or revoked' });
    await expectUntouched(draft.id);
  });

  it('a revoked admin key decides nothing more either, on a draft assigned to others', async () => {
    const [{ id, decider }, member] = await Promise.all([liveDecider('admin'), liveDecider('reviewer', [unique()])]);
    const draft = await pending({ reviewers: [member.id] });
    await revokeApiKey(keys, id);
    await expect(codeOf(decideDraft(drafts, draft.id, { kind: 'approve' }, decider))).resolves.toBe('unauthorized');
    await expect(codeOf(decideDraft(drafts, draft.id, { kind: 'reject', reason: 'x' }, decider))).resolves.toBe('unauthorized');
    await expectUntouched(draft.id);
  });

  it.each(['approve', 'reject'] as const)(
    'a key taken out of the draft group after authenticating cannot %s: 403 not_assigned, nothing written',
    async (kind) => {
      const group = unique();
      const { id, decider } = await liveDecider('reviewer', [group, unique()]);
      const draft = await pending({ reviewers: [`group:${group}`] });
      // Still a key, still in another group: only the draft's group is gone.
      await updateApiKey(keys, id, { groups: decider.groups!.filter((g) => g !== group) });
      const decision = kind === 'approve' ? { kind } : { kind, reason: 'no' };
      await expect(codeOf(decideDraft(drafts, draft.id, decision, decider, undefined, approverKeys(keys)))).resolves.toBe('not_assigned');
      await expectUntouched(draft.id);
    },
  );

  it('a key still in one of the draft groups, or named, or an admin, decides though another group was taken away', async () => {
    const [a, b] = [unique(), unique()];
    const inBoth = await liveDecider('reviewer', [a, b]);
    const named = await liveDecider('reviewer', [a]);
    const admin = await liveDecider('admin', [a]);
    const draft = await pending({ reviewers: [`group:${a}`, `group:${b}`, named.id], requiredApprovals: 3 });
    await Promise.all([
      updateApiKey(keys, inBoth.id, { groups: [b] }),
      updateApiKey(keys, named.id, { groups: [] }),
      updateApiKey(keys, admin.id, { groups: [] }),
    ]);
    await decideDraft(drafts, draft.id, { kind: 'approve' }, inBoth.decider);
    await decideDraft(drafts, draft.id, { kind: 'approve' }, named.decider);
    const decided = await decideDraft(drafts, draft.id, { kind: 'approve' }, admin.decider);
    expect(decided).toMatchObject({ status: 'approved' });
    expect(decided.approvals!.map((x) => x.by.keyId)).toEqual([inBoth.id, named.id, admin.id]);
    // The key's hash rides on the decider only: never stored with the decision.
    expect(JSON.stringify(await drafts.get(draft.id))).not.toContain(inBoth.decider.keyHash!);
  });

  it('20 live keys approving at once (quorum 5) complete the quorum exactly once', async () => {
    const group = unique();
    const team = await Promise.all(Array.from({ length: 20 }, () => liveDecider('reviewer', [group])));
    const draft = await pending({ reviewers: [`group:${group}`], requiredApprovals: 5 });
    const results = await Promise.all(team.map((k) => codeOf(decideDraft(drafts, draft.id, { kind: 'approve' }, k.decider, undefined, approverKeys(keys)))));
    expect(results.filter((r) => r === 'won')).toHaveLength(5);
    expect(results.filter((r) => r !== 'won').every((r) => r === 'already_decided')).toBe(true);
    const stored = await drafts.get(draft.id);
    expect(stored).toMatchObject({ status: 'approved' });
    expect(new Set(stored!.approvals!.map((x) => x.by.keyId)).size).toBe(5);
    expect(stored!.history.filter((h) => h.action === 'approved')).toHaveLength(1);
    expect(stored!.history.filter((h) => h.action === 'approval')).toHaveLength(4);
  });

  it('20 approvals and rejections at once by live keys: one winner', async () => {
    const team = await Promise.all(Array.from({ length: 20 }, () => liveDecider('reviewer')));
    const draft = await pending();
    const results = await Promise.all(
      team.map((k, i) => codeOf(decideDraft(drafts, draft.id, i % 2 === 0 ? { kind: 'approve' } : { kind: 'reject', reason: 'no' }, k.decider))),
    );
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r !== 'won').every((r) => r === 'already_decided')).toBe(true);
    const stored = await drafts.get(draft.id);
    expect(['approved', 'rejected']).toContain(stored!.status);
    expect(stored!.history.filter((h) => h.action === 'approved' || h.action === 'rejected')).toHaveLength(1);
  });

  it('decisions racing the revocation: once it has returned, none by the key lands', async () => {
    const { id, decider } = await liveDecider('reviewer');
    const batch = await Promise.all(Array.from({ length: 20 }, () => pending()));
    const [racingDrafts, laterDrafts] = [batch.slice(0, 10), batch.slice(10)];
    const racing = racingDrafts.map((d, i) => codeOf(decideDraft(drafts, d.id, i % 2 ? { kind: 'approve' } : { kind: 'reject', reason: 'no' }, decider)));
    await revokeApiKey(keys, id);
    // Racing ones either landed before the revocation or were refused; nothing in between.
    for (const [i, result] of (await Promise.all(racing)).entries()) {
      if (result !== 'won') {
        expect(result).toBe('unauthorized');
        await expectUntouched(racingDrafts[i]!.id);
      }
    }
    const late = await Promise.all(
      laterDrafts.map((d, i) => codeOf(decideDraft(drafts, d.id, i % 2 ? { kind: 'approve' } : { kind: 'reject', reason: 'no' }, decider))),
    );
    expect(late).toEqual(Array(10).fill('unauthorized'));
    for (const d of laterDrafts) await expectUntouched(d.id);
  });

  /**
   * A key deciding in a loop (20 at a time): each decision is a transaction that checks the key's
   * item, so the revocation's (or ungrouping's) write meets them in flight. It must still succeed,
   * and once it has returned no decision by the key lands.
   */
  async function whileDecidingInALoop(decider: Awaited<ReturnType<typeof liveDecider>>['decider'], reviewers: string[], change: () => Promise<unknown>) {
    const queue = await Promise.all(Array.from({ length: 60 }, () => pending({ reviewers })));
    let changed = false;
    const afterChange: string[] = [];
    const landedAfter: string[] = [];
    const worker = async () => {
      for (let draft = queue.pop(); draft; draft = queue.pop()) {
        const startedAfter = changed;
        const result = await codeOf(decideDraft(drafts, draft.id, { kind: 'approve' }, decider, undefined, approverKeys(keys)));
        if (startedAfter) (result === 'won' ? landedAfter : afterChange).push(draft.id);
      }
    };
    const workers = Array.from({ length: 20 }, worker);
    // Let the loop get going: the change meets decisions already in flight.
    while (queue.length > 45) await new Promise((resolve) => setImmediate(resolve));
    const outcome = await codeOf(change());
    changed = true;
    await Promise.all(workers);
    expect(outcome).toBe('won');
    expect(landedAfter).toEqual([]);
    for (const id of afterChange) await expectUntouched(id);
  }

  it('revoking a key while 20 of its decisions are in flight succeeds, and nothing by it lands afterwards', async () => {
    const { id, decider } = await liveDecider('reviewer');
    await whileDecidingInALoop(decider, [], () => revokeApiKey(keys, id));
    await expect(keys.findByHash(decider.keyHash!)).resolves.toMatchObject({ revokedAt: expect.any(String) });
  });

  it('taking a key out of the group while 20 of its decisions are in flight succeeds, and nothing by it lands afterwards', async () => {
    const group = unique();
    const { id, decider } = await liveDecider('reviewer', [group]);
    await whileDecidingInALoop(decider, [`group:${group}`], () => updateApiKey(keys, id, { groups: [] }));
    expect((await keys.findByHash(decider.keyHash!))!.groups ?? []).toEqual([]);
  });

  it('an email-link decision (no key) is written as before', async () => {
    const draft = await pending();
    const decided = await decideDraft(drafts, draft.id, { kind: 'approve' }, emailActor({ channelId: 'ep_revoketest', recipient: 'r@example.com' }));
    expect(decided).toMatchObject({ status: 'approved', reviewedBy: { keyId: 'ep_revoketest' } });
  });
});
