import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

/**
 * Assignment and quorum through the whole local system: the API, the drafts stream's filter
 * (pending → approved) and the fan-out. However many assigned reviewers approve at once, exactly
 * one draft.approved leaves per draft, with the documented body and the content all approved.
 */
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  runtime = await startDevRuntime();
  admin = apiClient(runtime.url, runtime.adminKey);
  receiver = await startReceiver('ok');
  expect((await admin('POST', '/v1/webhooks', { url: receiver.url })).status).toBe(201);
}, 90_000);

afterAll(async () => {
  await receiver?.stop();
  await runtime?.stop();
});

const group = `team${Math.random().toString(36).slice(2, 8)}`;
const newKey = async (name: string, role: string, groups: string[] = []) => {
  const res = await admin('POST', '/v1/keys', { name, role, groups });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string; groups: string[] };
};
const bodies = () => receiver.requests.map((r) => JSON.parse(r.body) as { event: string; draft: Record<string, unknown> });

describe('quorum approvals end to end', () => {
  it('20 parallel approvals of each of 3 drafts needing 3: exactly one draft.approved per draft, as documented; an unassigned reviewer is refused', async () => {
    const team = await Promise.all(Array.from({ length: 20 }, (_, i) => newKey(`reviewer ${i}`, 'reviewer', [group])));
    expect(team[0]!.groups).toEqual([group]);
    const outsider = await newKey('outsider', 'reviewer');
    const agentKey = await newKey('agent', 'agent');
    const agent = apiClient(runtime.url, agentKey.key);

    const drafts = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const res = await agent('POST', '/v1/drafts', {
          title: `Refund ${n}`,
          content: { amount: n * 500 },
          metadata: { n },
          reviewers: [`group:${group}`],
          requiredApprovals: 3,
        });
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ reviewers: [`group:${group}`], requiredApprovals: 3, approvals: [] });
        return res.body as { id: string };
      }),
    );
    const outsiderTry = await apiClient(runtime.url, outsider.key)('POST', `/v1/drafts/${drafts[0]!.id}/approve`);
    expect(outsiderTry.status).toBe(403);
    expect(outsiderTry.body.error.code).toBe('not_assigned');

    const results = await Promise.all(
      drafts.flatMap((d) => team.map((k) => apiClient(runtime.url, k.key)('POST', `/v1/drafts/${d.id}/approve`).then((r) => ({ draft: d.id, ...r })))),
    );
    for (const d of drafts) {
      const mine = results.filter((r) => r.draft === d.id);
      expect(mine.filter((r) => r.status === 200)).toHaveLength(3);
      expect(mine.filter((r) => r.status === 409)).toHaveLength(17);
    }

    // A sentinel decided after them: once its webhook is in, every earlier decision's has been fanned out too.
    await eventually(() => drafts.every((d) => bodies().some((b) => b.event === 'draft.approved' && b.draft.id === d.id)), 30_000, 'the approvals');
    const sentinel = (await agent('POST', '/v1/drafts', { title: 'sentinel', content: { x: 1 } })).body as { id: string };
    await admin('POST', `/v1/drafts/${sentinel.id}/reject`, { reason: 'sentinel' });
    await eventually(() => bodies().some((b) => b.draft.id === sentinel.id), 30_000, 'the sentinel');

    for (const [i, d] of drafts.entries()) {
      const sent = bodies().filter((b) => b.draft.id === d.id);
      expect(sent).toHaveLength(1);
      // The documented body, field for field: nothing renamed, nothing dropped.
      expect(Object.keys(sent[0]!.draft).sort()).toEqual(['content', 'id', 'metadata', 'reviewedAt', 'title']);
      expect(sent[0]).toMatchObject({ event: 'draft.approved', draft: { content: { amount: (i + 1) * 500 }, metadata: { n: i + 1 } } });
      const stored = (await admin('GET', `/v1/drafts/${d.id}`)).body;
      expect(stored.approvals).toHaveLength(3);
      expect(stored.history.filter((h: { action: string }) => h.action === 'approved')).toHaveLength(1);
    }
  }, 120_000);

  it('an approval naming the approvalRound its reviewer read is refused (409 content_changed) once another reviewer edited; one webhook with the edited content', async () => {
    const [ana, ben] = await Promise.all([newKey('ana', 'reviewer'), newKey('ben', 'reviewer')]);
    const agent = apiClient(runtime.url, (await newKey('agent3', 'agent')).key);
    const created = await agent('POST', '/v1/drafts', { title: 'Wire $900', content: { amount: 900 }, reviewers: [ana.id, ben.id], requiredApprovals: 2 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const asAna = apiClient(runtime.url, ana.key);
    const read = await asAna('GET', `/v1/drafts/${id}`);
    expect(read.body.approvalRound).toBe(0);
    // Ben edits and approves after Ana read the draft.
    expect((await apiClient(runtime.url, ben.key)('POST', `/v1/drafts/${id}/approve`, { content: { amount: 90 } })).body).toMatchObject({
      status: 'pending',
      approvalRound: 1,
    });
    const stale = await asAna('POST', `/v1/drafts/${id}/approve`, { approvalRound: read.body.approvalRound });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('content_changed');
    expect(stale.body.error.details.draft.content).toEqual({ amount: 90 });
    expect((await asAna('POST', `/v1/drafts/${id}/approve`, { approvalRound: -1 })).status).toBe(400);
    const fresh = await asAna('POST', `/v1/drafts/${id}/approve`, { approvalRound: 1 });
    expect(fresh.body).toMatchObject({ status: 'approved', content: { amount: 90 } });
    await eventually(() => bodies().some((b) => b.draft.id === id), 20_000, 'the approval webhook');
    expect(bodies().filter((b) => b.draft.id === id)).toEqual([
      expect.objectContaining({ event: 'draft.approved', draft: expect.objectContaining({ content: { amount: 90 } }) }),
    ]);
  });

  it('GET /v1/keys shows groups; PATCH replaces them; assignedTo=me follows them', async () => {
    const key = await newKey('moves', 'reviewer');
    const agentKey = await newKey('agent2', 'agent');
    const other = await newKey('other', 'reviewer', [`${group}x`]);
    const draft = (await apiClient(runtime.url, agentKey.key)('POST', '/v1/drafts', { title: 'ops', content: { a: 1 }, reviewers: [`group:${group}x`] }))
      .body as { id: string };
    expect(other.id).toBeDefined();
    const mine = async () => ((await apiClient(runtime.url, key.key)('GET', '/v1/drafts?assignedTo=me')).body.items as Array<{ id: string }>).map((d) => d.id);
    expect(await mine()).not.toContain(draft.id);
    const patched = await admin('PATCH', `/v1/keys/${key.id}`, { groups: [`${group}x`] });
    expect(patched.status).toBe(200);
    expect(patched.body.groups).toEqual([`${group}x`]);
    const listed = (await admin('GET', '/v1/keys?limit=100')).body.items as Array<{ id: string; groups: string[] }>;
    expect(listed.find((k) => k.id === key.id)?.groups).toEqual([`${group}x`]);
    expect(await mine()).toContain(draft.id);
    expect((await apiClient(runtime.url, key.key)('POST', `/v1/drafts/${draft.id}/approve`)).status).toBe(200);
  });
});
