/**
 * decideReadDraft against DynamoDB Local: the review page and email links decide on the draft they
 * already read, without reading it again. The read only chooses what to write; the conditional
 * write decides, so a read gone stale loses to the decision made since, even 20 at once.
 */
import { jest } from '@jest/globals';
import { AlreadyDecidedError } from '../../shared/domain/draft.js';
import { createDraft, decideDraft, decideReadDraft } from '../../shared/domain/drafts-service.js';
import { draftStoreFromEnv } from '../../shared/stores.js';

const drafts = draftStoreFromEnv();
const agent = { keyId: 'key_agent', name: 'bot', role: 'agent' as const };
const admin = { keyId: 'key_admin', name: 'admin', role: 'admin' as const };
const reviewer = (i: number) => ({ keyId: `key_reviewer_${i}`, name: `r${i}`, role: 'reviewer' as const });

/** Two live reviewer keys, so a quorum of 2 is reachable. */
const directory = { activeDeciders: async () => [1, 2].map((i) => ({ id: reviewer(i).keyId, role: 'reviewer' as const, groups: [] })) };

const pending = async (input: { requiredApprovals?: number } = {}) =>
  (await createDraft(drafts, { title: 'Refund', content: { amount: 42 }, ...input }, agent, { directory })).draft;

/** Each settled decision as 'won' or the error's class name. */
const outcomes = (decisions: Array<Promise<unknown>>) =>
  Promise.all(
    decisions.map((d) =>
      d.then(
        () => 'won',
        (error: unknown) => (error as Error).constructor.name,
      ),
    ),
  );

describe('a decision on a draft read before someone else decided it', () => {
  it('a rejection loses with the winner in the error, and changes nothing', async () => {
    const read = await pending();
    await decideDraft(drafts, read.id, { kind: 'approve' }, admin);
    const error = await decideReadDraft(drafts, read, { kind: 'reject', reason: 'late' }, reviewer(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyDecidedError);
    expect((error as AlreadyDecidedError).current).toMatchObject({ id: read.id, status: 'approved' });
    const stored = await drafts.get(read.id);
    expect(stored!.history.filter((h) => h.action === 'rejected')).toHaveLength(0);
  });

  it('an approval loses the same way', async () => {
    const read = await pending();
    await decideDraft(drafts, read.id, { kind: 'reject', reason: 'no' }, admin);
    const error = await decideReadDraft(drafts, read, { kind: 'approve' }, reviewer(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyDecidedError);
    expect((await drafts.get(read.id))!.status).toBe('rejected');
  });

  it('a stale read of a pending draft still counts an approval toward the quorum, on the stored approvals', async () => {
    const read = await pending({ requiredApprovals: 2 });
    const [first, second] = [reviewer(1), reviewer(2)];
    await decideDraft(drafts, read.id, { kind: 'approve' }, first);
    // `read` shows no approvals; the conflict hands back the stored draft and the second approval completes it.
    const decided = await decideReadDraft(drafts, read, { kind: 'approve' }, second);
    expect(decided.status).toBe('approved');
    expect(decided.approvals!.map((x) => x.by.keyId).sort()).toEqual([first.keyId, second.keyId].sort());
  });
});

describe('20 decisions at once, all on the same read', () => {
  it('exactly one wins; the other 19 are 409 with the winner; one decision in the history', async () => {
    const read = await pending();
    const reads = jest.spyOn(drafts, 'get');
    const results = await outcomes(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? decideReadDraft(drafts, read, { kind: 'approve' }, reviewer(i))
          : decideReadDraft(drafts, read, { kind: 'reject', reason: `no ${i}` }, reviewer(i)),
      ),
    );
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'AlreadyDecidedError')).toHaveLength(19);
    // The losers learn the winner from their failed conditional write, not from a read.
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    const stored = await drafts.get(read.id);
    expect(stored!.history.filter((h) => h.action === 'approved' || h.action === 'rejected')).toHaveLength(1);
  });

  it('racing 20 fresh-read API decisions: one of all 40 wins', async () => {
    const read = await pending();
    const results = await outcomes([
      ...Array.from({ length: 20 }, (_, i) => decideReadDraft(drafts, read, { kind: 'reject', reason: 'stale' }, reviewer(i))),
      ...Array.from({ length: 20 }, () => decideDraft(drafts, read.id, { kind: 'approve' }, admin)),
    ]);
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.filter((r) => r === 'AlreadyDecidedError')).toHaveLength(39);
  });
});
