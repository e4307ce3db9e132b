import fc from 'fast-check';
import { applyApproval, approvalsOf, asLeftByApproval, decisionGrounds, mayDecide, planApproval, type Decider } from '../../shared/domain/approvals.js';
import type { Actor, Draft } from '../../shared/domain/draft.js';
import { createDraft, decideDraft, type ActiveDecider, type ApproverKeys, type ReviewerDirectory } from '../../shared/domain/drafts-service.js';
import { DomainError, ValidationError } from '../../shared/domain/errors.js';
import { approverKeys, authenticate, createApiKey, keyDirectory, revokeApiKey, updateApiKey, type ApiKeyRecord } from '../../shared/domain/api-keys.js';
import { MemoryApiKeyStore, MemoryDraftStore } from '../support/memory-stores.js';

const agent: Actor = { keyId: 'key_agent', name: 'bot', role: 'agent' };
const reviewer = (n: string, groups: string[] = []): Decider => ({ keyId: `key_${n}`, name: n, role: 'reviewer', groups });
const alice = reviewer('alice', ['finance']);
const bob = reviewer('bob', ['finance']);
const carol = reviewer('carol');
const dave = reviewer('dave', ['ops']);
const admin: Decider = { keyId: 'key_admin', name: 'root', role: 'admin', groups: [] };
const emailRecipient: Actor = { keyId: 'ep_channel1', name: 'someone@example.com', role: 'reviewer' };

const everyone = [alice, bob, carol, dave, admin];
const directory: ReviewerDirectory = {
  activeDeciders: async () => everyone.map((d): ActiveDecider => ({ id: d.keyId, role: d.role as 'reviewer' | 'admin', groups: d.groups ?? [] })),
};

async function assigned(store: MemoryDraftStore, reviewers: string[] | undefined, requiredApprovals?: number): Promise<Draft> {
  const input = { title: 'Refund $900', content: { amount: 900 }, ...(reviewers ? { reviewers } : {}), ...(requiredApprovals ? { requiredApprovals } : {}) };
  return (await createDraft(store, input, agent, { directory })).draft;
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
};

describe('who may decide', () => {
  it('anyone on an unassigned draft; assigned keys, group members and admins on an assigned one', () => {
    const open = { reviewers: [], requiredApprovals: 1, approvals: [] };
    const finance = { reviewers: ['group:finance', 'key_carol'], requiredApprovals: 1, approvals: [] };
    expect(everyone.every((d) => mayDecide(open, d))).toBe(true);
    expect([alice, bob, carol, admin].every((d) => mayDecide(finance, d))).toBe(true);
    expect(mayDecide(finance, dave)).toBe(false);
    expect(mayDecide(finance, { ...dave, groups: undefined })).toBe(false);
  });

  it('an email recipient only on drafts any reviewer may decide alone', () => {
    expect(mayDecide({ reviewers: [], requiredApprovals: 1, approvals: [] }, emailRecipient)).toBe(true);
    expect(mayDecide({ reviewers: ['key_alice'], requiredApprovals: 1, approvals: [] }, emailRecipient)).toBe(false);
    expect(mayDecide({ reviewers: [], requiredApprovals: 2, approvals: [] }, emailRecipient)).toBe(false);
  });
});

describe('quorum', () => {
  it('stays pending until the quorum, then approves once; the webhook-facing state names every approver', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol'], 2);
    const first = await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    expect(first).toMatchObject({ status: 'pending', approvals: [{ by: { keyId: 'key_alice' } }] });
    expect(first.approvals![0]!.by).toEqual({ keyId: 'key_alice', name: 'alice', role: 'reviewer' });
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve' }, alice))).toBe('already_approved');
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve' }, dave))).toBe('not_assigned');
    const done = await decideDraft(store, draft.id, { kind: 'approve' }, carol);
    expect(done).toMatchObject({ status: 'approved', reviewedBy: { keyId: 'key_carol' } });
    expect(done.approvals!.map((a) => a.by.keyId)).toEqual(['key_alice', 'key_carol']);
    expect(done.history.map((h) => h.action)).toEqual(['created', 'approval', 'approved']);
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve' }, bob))).toBe('already_decided');
  });

  it('a rejection by any assigned reviewer rejects at once, approvals or not', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol'], 3);
    await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'reject', reason: 'x' }, dave))).toBe('not_assigned');
    const rejected = await decideDraft(store, draft.id, { kind: 'reject', reason: 'too much' }, bob);
    expect(rejected).toMatchObject({ status: 'rejected', rejectionReason: 'too much', reviewedBy: { keyId: 'key_bob' } });
  });

  it('an edit clears the approvals of the old content (in the history) and restarts the quorum', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['key_alice', 'key_bob', 'key_carol'], 2);
    await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    const edited = await decideDraft(store, draft.id, { kind: 'approve', editedContent: { amount: 800 } }, bob);
    expect(edited).toMatchObject({ status: 'pending', content: { amount: 800 }, originalContent: { amount: 900 } });
    expect(edited.approvals!.map((a) => a.by.keyId)).toEqual(['key_bob']);
    expect(edited.history.find((h) => h.action === 'approvals_cleared')).toMatchObject({
      actor: { keyId: 'key_bob' },
      cleared: [{ by: { keyId: 'key_alice' } }],
    });
    // Alice saw only the old content: she approves again, and that completes the quorum on the new one.
    const done = await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    expect(done).toMatchObject({ status: 'approved', content: { amount: 800 }, originalContent: { amount: 900 } });
  });

  it('an approval whose write meets an edit is refused (content_changed), not counted for content its approver never read', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol'], 3);
    const approve = store.approve.bind(store);
    let editFirst = true;
    // Bob's edit lands between Alice's read and her write.
    store.approve = async (id, change) => {
      if (editFirst) {
        editFirst = false;
        await decideDraft(store, id, { kind: 'approve', editedContent: { amount: 1 } }, bob);
      }
      return approve(id, change);
    };
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve' }, alice))).toBe('content_changed');
    expect(store.drafts.get(draft.id)!.approvals!.map((a) => a.by.keyId)).toEqual(['key_bob']);
  });

  it('an approval that names the round its approver read is refused once the content was edited after that read (page, Slack button, API approvalRound)', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol'], 2);
    expect(draft.approvalRound ?? 0).toBe(0);
    // Carol read round 0; Bob then edits (round 1, his approval counts for the new content).
    await decideDraft(store, draft.id, { kind: 'approve', editedContent: { amount: 1 } }, bob);
    // Carol's approval of round 0 would complete the quorum on content she never saw: refused, nothing counted.
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve', seenRound: 0 }, carol))).toBe('content_changed');
    // An edit based on the old round is refused too (it would silently undo Bob's).
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve', seenRound: 0, editedContent: { amount: 2 } }, carol))).toBe('content_changed');
    expect(store.drafts.get(draft.id)).toMatchObject({ status: 'pending', content: { amount: 1 } });
    expect(store.drafts.get(draft.id)!.approvals!.map((a) => a.by.keyId)).toEqual(['key_bob']);
    // Having read round 1, her approval counts and completes the quorum.
    expect(await decideDraft(store, draft.id, { kind: 'approve', seenRound: 1 }, carol)).toMatchObject({ status: 'approved', content: { amount: 1 } });
  });

  it('an approval by a key revoked since stops counting: the next approval drops it (in the history) and the quorum needs another', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol'], 2);
    await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    const revokedKeys: ApproverKeys = { lapsedAmong: async (_draft, ids) => new Map(ids.filter((id) => id === 'key_alice').map((id) => [id, 'revoked'])) };
    const afterBob = await decideDraft(store, draft.id, { kind: 'approve' }, bob, new Date(), revokedKeys);
    expect(afterBob.status).toBe('pending');
    expect(afterBob.approvals!.map((a) => a.by.keyId)).toEqual(['key_bob']);
    expect(afterBob.history.find((h) => h.action === 'approvals_cleared')).toMatchObject({
      actor: null,
      reason: 'the approving key was revoked',
      cleared: [{ by: { keyId: 'key_alice' } }],
    });
    const done = await decideDraft(store, draft.id, { kind: 'approve' }, carol, new Date(), revokedKeys);
    expect(done).toMatchObject({ status: 'approved' });
    expect(done.approvals!.map((a) => a.by.keyId)).toEqual(['key_bob', 'key_carol']);
  });

  it('asks about each approver key once per decision, however many times a concurrent approval makes it retry', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['group:finance', 'key_carol', 'key_dave'], 3);
    await decideDraft(store, draft.id, { kind: 'approve' }, alice);
    // Carol's approval lands between bob's read and his write: his first write conflicts and he retries.
    const approve = store.approve.bind(store);
    let raced = false;
    store.approve = async (id, change) => {
      if (!raced) {
        raced = true;
        await decideDraft(store, id, { kind: 'approve' }, carol);
      }
      return approve(id, change);
    };
    const asked: string[][] = [];
    const keys: ApproverKeys = {
      lapsedAmong: async (_draft, ids) => {
        asked.push([...ids]);
        return new Map();
      },
    };
    const done = await decideDraft(store, draft.id, { kind: 'approve' }, bob, new Date(), keys);
    expect(done).toMatchObject({ status: 'approved' });
    expect(asked).toEqual([['key_alice'], ['key_carol']]);
  });

  it('admins may decide an assigned draft; an email link may not (review page required)', async () => {
    const store = new MemoryDraftStore();
    const draft = await assigned(store, ['key_alice'], 1);
    expect(await codeOf(decideDraft(store, draft.id, { kind: 'approve' }, emailRecipient))).toBe('review_page_required');
    const multi = await assigned(store, undefined, 2);
    expect(await codeOf(decideDraft(store, multi.id, { kind: 'reject', reason: 'no' }, emailRecipient))).toBe('review_page_required');
    expect(await decideDraft(store, draft.id, { kind: 'approve' }, admin)).toMatchObject({ status: 'approved' });
  });

  it('keeps the old behaviour without reviewers: one approval, by anyone, and the email link decides', async () => {
    const store = new MemoryDraftStore();
    const draft = (await createDraft(store, { title: 't', content: { a: 1 } }, agent)).draft;
    expect(draft).toMatchObject({ reviewers: [], requiredApprovals: 1, approvals: [] });
    expect(await decideDraft(store, draft.id, { kind: 'approve' }, emailRecipient)).toMatchObject({ status: 'approved' });
  });
});

/** Approvers judged through the key store itself (approverKeys), as the API, the review page and Slack do. */
describe('approvals by keys changed since', () => {
  /** A finance team of keys in a key store, each with the decider its key authenticates as now. */
  async function team(keys: MemoryApiKeyStore, names: string[]) {
    const made = await Promise.all(names.map((name) => createApiKey(keys, { name, role: 'reviewer', groups: ['finance'] }, null)));
    return {
      ids: Object.fromEntries(made.map((k) => [k.name, k.id])),
      as: (name: string) => authenticate(keys, made.find((k) => k.name === name)!.key),
    };
  }
  const approve = (drafts: MemoryDraftStore, id: string, decider: Decider, keys: MemoryApiKeyStore) =>
    decideDraft(drafts, id, { kind: 'approve' }, decider, new Date(), approverKeys(keys));
  const financeDraft = async (drafts: MemoryDraftStore, keys: MemoryApiKeyStore, required: number) => {
    const input = { title: 'Refund', content: { a: 1 }, reviewers: ['group:finance'], requiredApprovals: required };
    return (await createDraft(drafts, input, agent, { directory: keyDirectory(keys) })).draft;
  };

  it('an approval by a key taken out of the assigned group stops counting: the next approval drops it (in the history)', async () => {
    const keys = new MemoryApiKeyStore();
    const drafts = new MemoryDraftStore();
    const t = await team(keys, ['mallory', 'bob', 'erin']);
    const draft = await financeDraft(drafts, keys, 2);
    await approve(drafts, draft.id, await t.as('mallory'), keys);
    await updateApiKey(keys, t.ids.mallory!, { groups: [] });
    const afterBob = await approve(drafts, draft.id, await t.as('bob'), keys);
    expect(afterBob.status).toBe('pending');
    expect(afterBob.approvals!.map((a) => a.by.name)).toEqual(['bob']);
    expect(afterBob.history.find((h) => h.action === 'approvals_cleared')).toMatchObject({
      actor: null,
      reason: 'the approving key is no longer assigned to the draft',
      cleared: [{ by: { keyId: t.ids.mallory } }],
    });
    const done = await approve(drafts, draft.id, await t.as('erin'), keys);
    expect(done.status).toBe('approved');
    expect(done.approvals!.map((a) => a.by.name)).toEqual(['bob', 'erin']);
  });

  it('a key put back in the group counts while its approval was not dropped yet; once dropped, only a new approval counts', async () => {
    const keys = new MemoryApiKeyStore();
    const drafts = new MemoryDraftStore();
    const t = await team(keys, ['mallory', 'bob', 'erin']);
    // Out and back in before anyone else approved: assigned when the quorum completes, so it counts.
    const kept = await financeDraft(drafts, keys, 2);
    await approve(drafts, kept.id, await t.as('mallory'), keys);
    await updateApiKey(keys, t.ids.mallory!, { groups: [] });
    await updateApiKey(keys, t.ids.mallory!, { groups: ['finance'] });
    const keptDone = await approve(drafts, kept.id, await t.as('bob'), keys);
    expect(keptDone.status).toBe('approved');
    expect(keptDone.approvals!.map((a) => a.by.name)).toEqual(['mallory', 'bob']);
    // Dropped while out (Bob approved meanwhile): back in the group, she must approve again.
    const dropped = await financeDraft(drafts, keys, 3);
    await approve(drafts, dropped.id, await t.as('mallory'), keys);
    await updateApiKey(keys, t.ids.mallory!, { groups: [] });
    await approve(drafts, dropped.id, await t.as('bob'), keys);
    await updateApiKey(keys, t.ids.mallory!, { groups: ['finance'] });
    const afterErin = await approve(drafts, dropped.id, await t.as('erin'), keys);
    expect(afterErin.status).toBe('pending');
    expect(afterErin.approvals!.map((a) => a.by.name)).toEqual(['bob', 'erin']);
    const done = await approve(drafts, dropped.id, await t.as('mallory'), keys);
    expect(done.status).toBe('approved');
    expect(done.approvals!.map((a) => a.by.name)).toEqual(['bob', 'erin', 'mallory']);
  });

  it('judges approvers on the keys as they are, not on a by-id index that lags behind', async () => {
    /** The by-id index as DynamoDB's GSI may serve it: a snapshot taken earlier (keys created since are missing). */
    class LaggingKeyStore extends MemoryApiKeyStore {
      index = new Map<string, ApiKeyRecord>();
      catchUp() {
        this.index = new Map([...this.records.values()].map((r) => [r.id, structuredClone(r)]));
      }
      override async findById(id: string) {
        return this.index.get(id);
      }
    }
    const keys = new LaggingKeyStore();
    const drafts = new MemoryDraftStore();
    const t = await team(keys, ['mallory', 'bob', 'erin', 'fred']);
    keys.catchUp();
    // Revoked, and taken out of the group, after the index last caught up: both still look live there.
    const revoked = await financeDraft(drafts, keys, 2);
    const moved = await financeDraft(drafts, keys, 2);
    await approve(drafts, revoked.id, await t.as('mallory'), keys);
    await approve(drafts, moved.id, await t.as('bob'), keys);
    await revokeApiKey(keys, t.ids.mallory!);
    await updateApiKey(keys, t.ids.bob!, { groups: [] });
    expect(await approve(drafts, revoked.id, await t.as('erin'), keys)).toMatchObject({ status: 'pending', approvals: [{ by: { name: 'erin' } }] });
    expect(await approve(drafts, moved.id, await t.as('erin'), keys)).toMatchObject({ status: 'pending', approvals: [{ by: { name: 'erin' } }] });
    // Created after the index last caught up: absent there, yet live, so its approval counts.
    const fresh = (await team(keys, ['gina'])).as;
    const created = await financeDraft(drafts, keys, 2);
    await approve(drafts, created.id, await fresh('gina'), keys);
    const done = await approve(drafts, created.id, await t.as('fred'), keys);
    expect(done.status).toBe('approved');
    expect(done.approvals!.map((a) => a.by.name)).toEqual(['gina', 'fred']);
  });
});

describe('assignment on create', () => {
  const fieldsOf = async (reviewers: string[] | undefined, requiredApprovals?: number) => {
    try {
      await assigned(new MemoryDraftStore(), reviewers, requiredApprovals);
      return [];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return (error.details as { fields: { field: string }[] }).fields.map((f) => f.field);
    }
  };

  it('names unknown keys, unknown groups and an unreachable quorum', async () => {
    expect(await fieldsOf(['key_alice', 'key_nobody'])).toEqual(['reviewers.1']);
    expect(await fieldsOf(['group:legal'])).toEqual(['reviewers.0']);
    expect(await fieldsOf(['key_agent'])).toEqual(['reviewers.0']);
    expect(await fieldsOf(['group:finance'], 3)).toEqual(['requiredApprovals']);
    expect(await fieldsOf(['group:finance', 'key_alice'], 3)).toEqual(['requiredApprovals']);
    expect(await fieldsOf(['group:finance', 'key_carol'], 3)).toEqual([]);
    expect(await fieldsOf(undefined, 5)).toEqual([]);
  });
});

/** A reviewer of the property test: assigned by key, by group, not at all, or an admin. */
const cast = [alice, bob, carol, dave, admin];
const opArb = fc.record({
  who: fc.integer({ min: 0, max: cast.length - 1 }),
  kind: fc.constantFrom('approve', 'approve', 'approve', 'edit', 'reject'),
  /** Ops with the same batch number run concurrently (their reads and writes interleave). */
  batch: fc.integer({ min: 0, max: 3 }),
});

describe('property: any interleaving of approvals, rejections and edits', () => {
  it('approved ⇔ a quorum of distinct eligible approvers of the final content; exactly one terminal transition', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 14 }), fc.integer({ min: 1, max: 3 }), async (ops, required) => {
        const store = new MemoryDraftStore();
        const draft = await assigned(store, ['group:finance', 'key_carol'], required);
        const eligible = new Set(['key_alice', 'key_bob', 'key_carol', 'key_admin']);
        const outcomes: Array<{ who: Decider; code: string }> = [];
        for (let b = 0; b <= 3; b++) {
          const batch = ops.filter((o) => o.batch === b);
          outcomes.push(
            ...(await Promise.all(
              batch.map((o, i) => {
                const decision =
                  o.kind === 'reject'
                    ? ({ kind: 'reject', reason: 'no' } as const)
                    : ({ kind: 'approve', ...(o.kind === 'edit' ? { editedContent: { amount: b * 100 + i } } : {}) } as const);
                return codeOf(decideDraft(store, draft.id, decision, cast[o.who]!)).then((code) => ({ who: cast[o.who]!, code }));
              }),
            )),
          );
        }
        const final = store.drafts.get(draft.id)!;
        const approvals = approvalsOf(final);
        const approvers = new Set(approvals.map((a) => a.by.keyId));
        // Every counted approval is by an eligible key, once.
        expect(approvers.size).toBe(approvals.length);
        expect([...approvers].every((k) => eligible.has(k))).toBe(true);
        // Every approval counted was made after the content's last edit (nobody's covers content they did not see).
        const lastEdit = final.history.findLastIndex((h) => h.contentEdited === true);
        const countedEntries = final.history.filter((h, i) => (h.action === 'approval' || h.action === 'approved') && i >= Math.max(lastEdit, 0));
        expect(countedEntries.map((h) => h.actor!.keyId).sort()).toEqual([...approvers].sort());
        const terminal = final.history.filter((h) => h.action === 'approved' || h.action === 'rejected' || h.action === 'expired');
        expect(final.status === 'approved').toBe(approvers.size >= required);
        if (final.status === 'pending') expect(terminal).toHaveLength(0);
        else expect(terminal).toHaveLength(1);
        if (final.status === 'rejected') expect(eligible.has(final.reviewedBy!.keyId)).toBe(true);
        // The unassigned reviewer never got through.
        expect(outcomes.filter((o) => o.who === dave).every((o) => o.code === 'not_assigned' || o.code === 'already_decided')).toBe(true);
        expect(outcomes.every((o) => ['ok', 'not_assigned', 'already_approved', 'already_decided', 'content_changed'].includes(o.code))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('what a decision checks of its key when written', () => {
  it('decisionGrounds: only a decider deciding through group membership needs its groups still at the write; role and id never change', () => {
    const draft = { reviewers: ['group:finance', 'group:ops', 'key_carol'] };
    expect(decisionGrounds({ reviewers: [] }, dave)).toEqual({ kind: 'any-reviewer' });
    expect(decisionGrounds(draft, { ...admin, groups: ['finance'] })).toEqual({ kind: 'admin' });
    expect(decisionGrounds(draft, { ...carol, groups: ['finance'] })).toEqual({ kind: 'named' });
    expect(decisionGrounds(draft, { ...alice, groups: ['finance', 'hr', 'ops'] })).toEqual({ kind: 'groups', groups: ['finance', 'ops'] });
  });

  it('asLeftByApproval: the draft read after an approval, cut back to what that approval left', async () => {
    const store = new MemoryDraftStore();
    const created = await assigned(store, ['group:finance', 'key_carol'], 3);
    const first = planApproval(created, alice, undefined, new Date());
    const afterFirst = applyApproval(created, first);
    const second = planApproval(afterFirst, bob, undefined, new Date());
    const afterSecond = applyApproval(afterFirst, second);
    const last = planApproval(afterSecond, carol, undefined, new Date());
    const approved = applyApproval(afterSecond, last);
    expect(approved.status).toBe('approved');
    expect(asLeftByApproval(afterFirst, first)).toEqual(afterFirst);
    expect(asLeftByApproval(afterSecond, first)).toEqual(afterFirst);
    expect(asLeftByApproval(approved, first)).toEqual(afterFirst);
    expect(asLeftByApproval(approved, second)).toEqual(afterSecond);
    // The completing approval ends the draft: nothing can follow it.
    expect(asLeftByApproval(approved, last)).toBe(approved);
  });
});
