/**
 * Deciding through an email link against DynamoDB Local: 20 concurrent uses of one link (and an
 * API decision racing them) make exactly one decision; the link's use record is written once.
 */
import { createDraft, decideDraft } from '../../shared/domain/drafts-service.js';
import { AlreadyDecidedError } from '../../shared/domain/draft.js';
import { createChannel } from '../../shared/notifications/channel-settings.js';
import { signEmailLink } from '../../shared/notifications/email-links.js';
import { decideByEmailLink, emailActor, openEmailLink, type EmailLinkDeps } from '../../shared/notifications/email-links-decision.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { DynamoEmailLinkUseStore } from '../../shared/store/email-link-uses-store.js';
import { draftStoreFromEnv, endpointStoreFromEnv } from '../../shared/stores.js';

const key = 'integration-email-link-key-0123456789abcdef';
const agent = { keyId: 'key_agent', name: 'bot', role: 'agent' as const };
const admin = { keyId: 'key_admin', name: 'admin', role: 'admin' as const };
let deps: EmailLinkDeps & { uses: DynamoEmailLinkUseStore };
let channelId: string;

beforeAll(async () => {
  deps = {
    key: async () => key,
    drafts: draftStoreFromEnv(),
    channels: endpointStoreFromEnv(),
    uses: new DynamoEmailLinkUseStore(documentClient(), tableNameFromEnv('sessions')),
  };
  const channel = await createChannel(endpointStoreFromEnv(), { kind: 'email', recipients: ['reviewer@example.com'] }, { allowLocalhostHttp: false });
  channelId = channel.id;
});

async function pendingDraftAndLink(decision: 'approve' | 'reject' = 'approve') {
  const { draft } = await createDraft(deps.drafts, { title: 'Refund', content: { amount: 42 } }, agent);
  const token = signEmailLink(key, { draftId: draft.id, recipient: 'reviewer@example.com', decision, channelId, expiresAt: new Date(Date.now() + 3_600_000) });
  return { draft, token };
}

it('20 concurrent uses of one link: one decision, one use record; the others see the decision', async () => {
  const { draft, token } = await pendingDraftAndLink();
  const outcomes = await Promise.all(Array.from({ length: 20 }, () => decideByEmailLink(deps, token, { reason: null })));
  expect(outcomes.filter((o) => o.kind === 'decided')).toHaveLength(1);
  expect(outcomes.filter((o) => o.kind === 'closed')).toHaveLength(19);
  const stored = await deps.drafts.get(draft.id);
  expect(stored).toMatchObject({ status: 'approved', reviewedBy: { keyId: channelId, name: 'reviewer@example.com', role: 'reviewer' } });
  expect(stored!.history.filter((h) => h.action === 'approved')).toHaveLength(1);
  const decided = outcomes.find((o) => o.kind === 'decided')!;
  expect(await deps.uses.get(decided.kind === 'decided' ? decided.claims.tokenId : '')).toMatchObject({ draftId: draft.id, decision: 'approve' });
  expect(await openEmailLink(deps, token)).toMatchObject({ kind: 'closed', draft: { status: 'approved' } });
});

it('20 link uses racing 20 API decisions: exactly one of all 40 wins', async () => {
  const { draft, token } = await pendingDraftAndLink('reject');
  const results = await Promise.all([
    ...Array.from({ length: 20 }, () => decideByEmailLink(deps, token, { reason: 'Wrong amount' }).then((o) => o.kind)),
    ...Array.from({ length: 20 }, () =>
      decideDraft(deps.drafts, draft.id, { kind: 'approve' }, admin).then(
        () => 'api-decided',
        (error: unknown) => (error instanceof AlreadyDecidedError ? 'api-409' : Promise.reject(error)),
      ),
    ),
  ]);
  expect(results.filter((r) => r === 'decided' || r === 'api-decided')).toHaveLength(1);
  const stored = await deps.drafts.get(draft.id);
  expect(stored!.history.filter((h) => h.action === 'approved' || h.action === 'rejected')).toHaveLength(1);
});

it('a use record is written once however many try (the conditional put)', async () => {
  const use = {
    tokenId: 'abcdefghijklmnopqrstuv',
    draftId: 'cdraft',
    recipient: 'reviewer@example.com',
    decision: 'approve' as const,
    usedAt: new Date().toISOString(),
    expiresAtEpoch: Math.floor(Date.now() / 1000) + 60,
  };
  const written = await Promise.all(Array.from({ length: 20 }, () => deps.uses.record(use)));
  expect(written.filter(Boolean)).toHaveLength(1);
  expect(await deps.uses.get(use.tokenId)).toEqual(use);
});

it('a decision whose use record was never written (a crash in between) is not made again', async () => {
  const { draft, token } = await pendingDraftAndLink();
  // The decision alone, as if the function stopped before recording the link's use.
  await decideDraft(deps.drafts, draft.id, { kind: 'approve' }, emailActor({ channelId, recipient: 'reviewer@example.com' }));
  expect(await decideByEmailLink(deps, token, { reason: null })).toMatchObject({ kind: 'closed', draft: { status: 'approved' } });
  expect((await deps.drafts.get(draft.id))!.history.filter((h) => h.action === 'approved')).toHaveLength(1);
});
