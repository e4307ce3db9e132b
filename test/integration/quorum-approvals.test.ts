import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createHandler } from '../../functions/create-draft/handler.js';
import { handler as decideHandler } from '../../functions/decide-draft/handler.js';
import { handler as keysHandler } from '../../functions/manage-keys/handler.js';
import { handler as readHandler } from '../../functions/read-drafts/handler.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { createApiKey } from '../../shared/domain/api-keys.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { newDraft } from '../../shared/domain/draft.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { toItem } from '../../shared/store/drafts-store.js';
import { apiKeyStoreFromEnv } from '../../shared/auth-store-factories.js';
import { draftStoreFromEnv } from '../../shared/stores.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { bearer, seedKeys } from '../support/keys.js';

/** Assignment and quorum against DynamoDB Local: the approval is one conditional update, so concurrent approvals each count once. */
const seeded = await seedKeys();
const keyStore = apiKeyStoreFromEnv();
const unique = () => `t${Math.random().toString(36).slice(2, 10)}`;

const create = (body: object) => invoke(createHandler, apiEvent({ routeKey: 'POST /v1/drafts', headers: bearer(seeded.agent.key), body }));
const decide = (id: string, action: 'approve' | 'reject', key: string, body?: object) =>
  invoke(decideHandler, apiEvent({ routeKey: `POST /v1/drafts/{id}/${action}`, pathParameters: { id }, headers: bearer(key), body }));
const get = (id: string) => invoke(readHandler, apiEvent({ routeKey: 'GET /v1/drafts/{id}', pathParameters: { id }, headers: bearer(seeded.agent.key) }));
const mine = (key: string) => invoke(readHandler, apiEvent({ routeKey: 'GET /v1/drafts', query: { assignedTo: 'me', limit: '100' }, headers: bearer(key) }));

const reviewers = (n: number, groups: string[]) =>
  Promise.all(Array.from({ length: n }, (_, i) => createApiKey(keyStore, { name: `r${i}`, role: 'reviewer', groups }, null)));

describe('quorum approvals on DynamoDB', () => {
  it('10 assigned reviewers approving at once with requiredApprovals 3: one approved transition, the rest 409', async () => {
    const group = unique();
    const team = await reviewers(10, [group]);
    const created = await create({ title: 'refund', content: { amount: 900 }, reviewers: [`group:${group}`], requiredApprovals: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ reviewers: [`group:${group}`], requiredApprovals: 3, approvals: [] });
    const id = (created.body as { id: string }).id;

    const results = await Promise.all(team.map((k) => decide(id, 'approve', k.key)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(3);
    expect(ok.filter((r) => (r.body as { status: string }).status === 'approved')).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers.map((r) => r.status)).toEqual(Array(7).fill(409));
    expect(losers.every((r) => (r.body as { error: { code: string } }).error.code === 'already_decided')).toBe(true);

    const final = (await get(id)).body as {
      status: string;
      approvals: Array<{ by: { keyId: string } }>;
      history: Array<{ action: string }>;
      reviewedBy: unknown;
    };
    expect(final.status).toBe('approved');
    const approvedIds = ok.map((r) => (r.body as { approvals: Array<{ by: { keyId: string } }> }).approvals.at(-1)!.by.keyId).sort();
    expect(final.approvals.map((a) => a.by.keyId).sort()).toEqual(approvedIds);
    expect(new Set(approvedIds).size).toBe(3);
    expect(final.history.filter((h) => h.action === 'approved')).toHaveLength(1);
    expect(final.history.filter((h) => h.action === 'approval')).toHaveLength(2);
  });

  it('20 concurrent approvals by distinct reviewers with requiredApprovals 5 (no edits): each counts once', async () => {
    const group = unique();
    const team = await reviewers(20, [group]);
    const id = ((await create({ title: 'q5', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 5 })).body as { id: string }).id;
    const results = await Promise.all(team.map((k) => decide(id, 'approve', k.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const final = (await get(id)).body as { status: string; approvals: unknown[] };
    expect(final).toMatchObject({ status: 'approved' });
    expect(final.approvals).toHaveLength(5);
  });

  it('the same reviewer approving 20 times at once counts once; the others are 409 already_approved', async () => {
    const group = unique();
    const [solo] = await reviewers(2, [group]);
    const id = ((await create({ title: 'dup', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 2 })).body as { id: string }).id;
    const results = await Promise.all(Array.from({ length: 20 }, () => decide(id, 'approve', solo!.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => (r.body as { error: { code: string } }).error.code === 'already_approved')).toBe(true);
    expect(((await get(id)).body as { status: string; approvals: unknown[] }).approvals).toHaveLength(1);
  });

  it('unassigned reviewers get 403 not_assigned; assignedTo=me lists what waits for me', async () => {
    const group = unique();
    const [a, b] = await reviewers(2, [group]);
    const id = ((await create({ title: 'mine', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 2 })).body as { id: string }).id;
    const refused = await decide(id, 'approve', seeded.reviewer.key);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'not_assigned' } });
    expect((await decide(id, 'reject', seeded.reviewer.key, { reason: 'x' })).status).toBe(403);
    const listed = (r: Awaited<ReturnType<typeof mine>>) => (r.body as { items: Array<{ id: string }> }).items.map((d) => d.id);
    expect(listed(await mine(a!.key))).toContain(id);
    expect(listed(await mine(seeded.reviewer.key))).not.toContain(id);
    await decide(id, 'approve', a!.key);
    expect(listed(await mine(a!.key))).not.toContain(id);
    expect(listed(await mine(b!.key))).toContain(id);
  });

  it('an edit racing approvals: no approval of the old content survives it', async () => {
    const group = unique();
    const team = await reviewers(6, [group]);
    const id = ((await create({ title: 'edit', content: { amount: 900 }, reviewers: [`group:${group}`], requiredApprovals: 4 })).body as { id: string }).id;
    await Promise.all(team.map((k, i) => decide(id, 'approve', k.key, i === 2 ? { content: { amount: 800 } } : undefined)));
    const final = (await get(id)).body as {
      content: unknown;
      approvals: Array<{ by: { keyId: string } }>;
      history: Array<{ action: string; actor: { keyId: string } | null; contentEdited?: boolean }>;
    };
    expect(final.content).toEqual({ amount: 800 });
    // The approvals that count are exactly those recorded (in history order) from the edit on;
    // their `at` may predate the edit's, since a request keeps its start time across retries.
    const edit = final.history.findIndex((h) => h.contentEdited);
    const since = final.history.slice(edit).filter((h) => h.action === 'approval' || h.action === 'approved');
    expect(final.approvals.map((a) => a.by.keyId).sort()).toEqual(since.map((h) => h.actor!.keyId).sort());
  });

  it('a key taken out of the group, or revoked, decides nothing more', async () => {
    const group = unique();
    const [a, b] = await reviewers(2, [group]);
    const id = ((await create({ title: 'lifecycle', content: { a: 1 }, reviewers: [`group:${group}`] })).body as { id: string }).id;
    const patch = await invoke(
      keysHandler,
      apiEvent({ routeKey: 'PATCH /v1/keys/{id}', pathParameters: { id: a!.id }, headers: bearer(seeded.admin.key), body: { groups: [] } }),
    );
    expect(patch.status).toBe(200);
    expect((await decide(id, 'approve', a!.key)).body).toMatchObject({ error: { code: 'not_assigned' } });
    await invoke(keysHandler, apiEvent({ routeKey: 'DELETE /v1/keys/{id}', pathParameters: { id: b!.id }, headers: bearer(seeded.admin.key) }));
    expect((await decide(id, 'approve', b!.key)).status).toBe(401);
    expect(((await get(id)).body as { status: string }).status).toBe('pending');
  });

  it('an approval by a key revoked since stops counting; 10 approvals at once after it still make exactly one approved transition', async () => {
    const group = unique();
    const team = await reviewers(11, [group]);
    const id = ((await create({ title: 'revoked approver', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 3 })).body as { id: string })
      .id;
    expect((await decide(id, 'approve', team[0]!.key)).status).toBe(200);
    await invoke(keysHandler, apiEvent({ routeKey: 'DELETE /v1/keys/{id}', pathParameters: { id: team[0]!.id }, headers: bearer(seeded.admin.key) }));
    const results = await Promise.all(team.slice(1).map((k) => decide(id, 'approve', k.key)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const final = (await get(id)).body as { status: string; approvals: Array<{ by: { keyId: string } }>; history: Array<{ action: string }> };
    expect(final.status).toBe('approved');
    expect(final.approvals).toHaveLength(3);
    expect(final.approvals.map((a) => a.by.keyId)).not.toContain(team[0]!.id);
    expect(final.history.filter((h) => h.action === 'approved')).toHaveLength(1);
    expect(final.history.filter((h) => h.action === 'approvals_cleared')).toHaveLength(1);
  });

  const setGroups = (keyId: string, groups: string[]) =>
    invoke(keysHandler, apiEvent({ routeKey: 'PATCH /v1/keys/{id}', pathParameters: { id: keyId }, headers: bearer(seeded.admin.key), body: { groups } }));
  type Final = {
    status: string;
    approvals: Array<{ by: { keyId: string } }>;
    history: Array<{ action: string; reason?: string; cleared?: Array<{ by: { keyId: string } }> }>;
  };

  it('an approval by a key taken out of the group stops counting: the next approval drops it and the quorum needs another', async () => {
    const group = unique();
    const [mallory, bob, erin] = await reviewers(3, [group]);
    const id = ((await create({ title: 'moved approver', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 2 })).body as { id: string }).id;
    expect((await decide(id, 'approve', mallory!.key)).status).toBe(200);
    expect((await setGroups(mallory!.id, [])).status).toBe(200);
    const afterBob = await decide(id, 'approve', bob!.key);
    expect(afterBob.status).toBe(200);
    const pending = (await get(id)).body as Final;
    expect(pending.status).toBe('pending');
    expect(pending.approvals.map((a) => a.by.keyId)).toEqual([bob!.id]);
    expect(pending.history.filter((h) => h.action === 'approvals_cleared')).toMatchObject([
      { reason: 'the approving key is no longer assigned to the draft', cleared: [{ by: { keyId: mallory!.id } }] },
    ]);
    expect((await decide(id, 'approve', erin!.key)).body).toMatchObject({
      status: 'approved',
      approvals: [{ by: { keyId: bob!.id } }, { by: { keyId: erin!.id } }],
    });
  });

  it('20 approvals at once after an approver left the group mid-way: the quorum completes once, never with the removed approval', async () => {
    const group = unique();
    const team = await reviewers(23, [group]);
    const [mallory, ...others] = team;
    const id = ((await create({ title: 'moved mid-way', content: { a: 1 }, reviewers: [`group:${group}`], requiredApprovals: 5 })).body as { id: string }).id;
    const early = await Promise.all([mallory!, others[0]!, others[1]!].map((k) => decide(id, 'approve', k.key)));
    expect(early.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await setGroups(mallory!.id, [])).status).toBe(200);
    const results = await Promise.all(others.slice(2).map((k) => decide(id, 'approve', k.key)));
    expect(results).toHaveLength(20);
    // Two approvals were kept; three more complete the quorum of five.
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const final = (await get(id)).body as Final;
    expect(final.status).toBe('approved');
    expect(final.approvals).toHaveLength(5);
    expect(new Set(final.approvals.map((a) => a.by.keyId)).size).toBe(5);
    expect(final.approvals.map((a) => a.by.keyId)).not.toContain(mallory!.id);
    expect(final.history.filter((h) => h.action === 'approved')).toHaveLength(1);
    expect(final.history.filter((h) => h.action === 'approvals_cleared')).toMatchObject([{ cleared: [{ by: { keyId: mallory!.id } }] }]);
  });

  it('the key store reads approvers strongly consistently, by hash and (for keys the index may not show yet) by id', async () => {
    const [a, b] = await reviewers(2, ['x']);
    const [recA, recB] = await Promise.all([keyStore.findById(a!.id), keyStore.findById(b!.id)]);
    await keyStore.revoke(recA!.keyHash, new Date().toISOString());
    await keyStore.setGroups(recB!.keyHash, []);
    const byHash = await keyStore.findByHashes([recA!.keyHash, recB!.keyHash, 'f'.repeat(64)]);
    expect(byHash.map((r) => r.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(byHash.find((r) => r.id === a!.id)!.revokedAt).toBeDefined();
    expect(byHash.find((r) => r.id === b!.id)!.groups).toBeUndefined();
    const byId = await keyStore.findByIdsConsistently([a!.id, b!.id, 'key_doesnotexist']);
    expect(byId.map((r) => r.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(byId.find((r) => r.id === a!.id)!.revokedAt).toBeDefined();
  });

  it('bad assignments are 400 naming the field', async () => {
    const group = unique();
    await reviewers(1, [group]);
    const fieldOf = async (body: object) => {
      const res = await create({ title: 't', content: { a: 1 }, ...body });
      expect(res.status).toBe(400);
      return (res.body as { error: { details: { fields: Array<{ field: string }> } } }).error.details.fields[0]!.field;
    };
    expect(await fieldOf({ reviewers: ['key_doesnotexist'] })).toBe('reviewers.0');
    expect(await fieldOf({ reviewers: [`group:${unique()}`] })).toBe('reviewers.0');
    expect(await fieldOf({ reviewers: [`group:${group}`, `group:${group}`] })).toBe('reviewers');
    expect(await fieldOf({ reviewers: [`group:${group}`], requiredApprovals: 2 })).toBe('requiredApprovals');
    expect(await fieldOf({ requiredApprovals: 6 })).toBe('requiredApprovals');
    expect(await fieldOf({ requiredApprovals: 0 })).toBe('requiredApprovals');
  });

  it('a draft stored before assignment existed is approved by one reviewer, as before', async () => {
    const draft = newDraft({ title: 'legacy', content: { a: 1 } }, { keyId: seeded.agent.id, name: 'agent', role: 'agent' }, new Date());
    const { reviewers: _r, requiredApprovals: _q, approvals: _a, approvedBy: _b, approvalRound: _n, ...legacy } = toItem(draft);
    await documentClient().send(new PutCommand({ TableName: tableNameFromEnv('drafts'), Item: legacy }));
    const approved = await decideDraft(draftStoreFromEnv(), draft.id, { kind: 'approve' }, { keyId: seeded.reviewer.id, name: 'r', role: 'reviewer' });
    expect(approved).toMatchObject({ status: 'approved', approvals: [{ by: { keyId: seeded.reviewer.id } }] });
  });

  it('groups: PATCH /v1/keys/{id} replaces them (20 at once leave one set), GET shows them, a revoked key is 409', async () => {
    const [k] = await reviewers(1, []);
    const patch = (groups: string[]) =>
      invoke(keysHandler, apiEvent({ routeKey: 'PATCH /v1/keys/{id}', pathParameters: { id: k!.id }, headers: bearer(seeded.admin.key), body: { groups } }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => patch([`g${i}`, 'both'])));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const stored = await keyStore.findById(k!.id);
    expect(stored!.groups).toHaveLength(2);
    expect(stored!.groups).toContain('both');
    expect((await patch(['Bad Name'])).status).toBe(400);
    await invoke(keysHandler, apiEvent({ routeKey: 'DELETE /v1/keys/{id}', pathParameters: { id: k!.id }, headers: bearer(seeded.admin.key) }));
    expect((await patch(['ops'])).status).toBe(409);
  });
});
