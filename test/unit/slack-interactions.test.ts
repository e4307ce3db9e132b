/**
 * Decide from Slack, unit level: payload parsing (zod), the message's decision buttons, the
 * response_url address check, and the interaction use case against in-memory stores and a
 * recording Slack adapter (no bot token → Reject explains instead of opening a modal).
 */
import { createApiKey, KeyRevokedError, SlackUserLinkedError, updateApiKey } from '../../shared/domain/api-keys.js';
import { newDraft, type Draft } from '../../shared/domain/draft.js';
import { decideDraft } from '../../shared/domain/drafts-service.js';
import { UnauthorizedError, ValidationError } from '../../shared/domain/errors.js';
import { parseDecisionAction, approveActionId, rejectActionId } from '../../shared/integrations/slack/actions.js';
import { parseSlackSecret } from '../../shared/integrations/slack/config.js';
import { CONTENT_CHANGED, handleSlackInteraction, REJECT_NEEDS_BOT_TOKEN, type SlackInteractionDeps } from '../../shared/integrations/slack/interactions.js';
import { parseInteraction } from '../../shared/integrations/slack/payloads.js';
import { checkedResponseUrl, createSlackApi, type SlackApi } from '../../shared/integrations/slack/slack-api.js';
import { notificationOf, testNotification } from '../../shared/notifications/notification.js';
import { slackMessage } from '../../shared/notifications/slack-message.js';
import { MemoryApiKeyStore, MemoryDraftStore } from '../support/memory-stores.js';

const base = 'https://approvals.example.com';
const form = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;
const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return (error.details as { fields: Array<{ field: string }> }).fields.map((f) => f.field);
    throw error;
  }
  throw new Error('no ValidationError');
};

describe('interaction payloads', () => {
  it('reads block_actions and view_submission, keeps only the fields used, acknowledges other types', () => {
    const click = parseInteraction(
      form({
        type: 'block_actions',
        user: { id: 'U1', team_id: 'T1' },
        response_url: 'https://hooks.slack.com/actions/x',
        actions: [{ action_id: 'a', extra: 1 }],
        team: {},
      }),
    );
    expect(click).toEqual({ type: 'block_actions', user: { id: 'U1' }, response_url: 'https://hooks.slack.com/actions/x', actions: [{ action_id: 'a' }] });
    expect(parseInteraction(form({ type: 'view_closed', user: { id: 'U1' } }))).toEqual({ type: 'other', slackType: 'view_closed' });
    const submitted = parseInteraction(
      form({
        type: 'view_submission',
        user: { id: 'U1' },
        view: { callback_id: 'c', private_metadata: '{}', state: { values: { reason: { reason: { value: 'x' } } } } },
      }),
    );
    expect(submitted).toMatchObject({ type: 'view_submission', view: { state: { values: { reason: { reason: { value: 'x' } } } } } });
  });

  it('refuses a body without payload, payload that is not JSON, or a payload of the wrong shape, naming the field', () => {
    expect(fieldsOf(() => parseInteraction('x=1'))).toEqual(['payload']);
    expect(fieldsOf(() => parseInteraction('payload=%7Bnot-json'))).toEqual(['payload']);
    expect(fieldsOf(() => parseInteraction(form({ type: 'block_actions', user: {}, actions: [] })))).toEqual(['user.id']);
    expect(fieldsOf(() => parseInteraction(form({ type: 'block_actions', user: { id: 'U1' }, actions: 'x' })))).toEqual(['actions']);
    expect(fieldsOf(() => parseInteraction(form([1, 2])))).toEqual(['body']);
  });

  it('takes the draft id from the action_id alone, and only a valid one', () => {
    expect(parseDecisionAction(approveActionId('cdraft1'))).toEqual({ kind: 'approve', draftId: 'cdraft1' });
    expect(parseDecisionAction(rejectActionId('cdraft1'))).toEqual({ kind: 'reject', draftId: 'cdraft1' });
    // Approve carries the approval round the message showed (messages sent before it existed carry none).
    expect(parseDecisionAction(approveActionId('cdraft1', 3))).toEqual({ kind: 'approve', draftId: 'cdraft1', round: 3 });
    expect(approveActionId('cdraft1', 0)).toBe('processa_approve:cdraft1:r0');
    for (const id of [
      'processa_approve:',
      'processa_approve:../x',
      'processa_delete:c1',
      'approve:c1',
      `processa_approve:${'a'.repeat(65)}`,
      'processa_approve:c1:rx',
      'processa_approve:c1:r',
      'processa_approve:c1:r1:r2',
    ])
      expect(parseDecisionAction(id)).toBeUndefined();
  });

  it('reads the Slack secret as a bare signing secret or as JSON with a bot token', () => {
    expect(parseSlackSecret(' abc \n')).toEqual({ signingSecret: 'abc' });
    expect(parseSlackSecret('{"signingSecret":"abc","botToken":"xoxb-1"}')).toEqual({ signingSecret: 'abc', botToken: 'xoxb-1' });
    expect(() => parseSlackSecret('{"botToken":"xoxb-1"}')).toThrow(/signingSecret/);
  });

  it('a malformed JSON secret fails with a fixed message that quotes none of the secret (it would reach the logs)', () => {
    const secret = '{"signingSecret": x8f3a9c2e7d1b4c6a, "botToken": "xoxb-123"}';
    let message = '';
    try {
      parseSlackSecret(secret);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('The Slack secret starts with "{" but is not valid JSON');
    for (const part of ['x8f3a9c2e7', 'xoxb-123']) expect(message).not.toContain(part);
  });
});

describe('the Slack message of a waiting draft', () => {
  const draft = newDraft({ title: 'Pay "invoice" <42>', content: { amount: 42 }, metadata: {} }, { keyId: 'key_a', name: 'bot', role: 'agent' }, new Date());

  it('carries Review, Approve (with Slack’s confirmation) and Reject; the action_ids name the draft', () => {
    const [review, approve, reject] = (slackMessage(notificationOf(draft, 'draft.created', base)).blocks.at(-1) as { elements: any[] }).elements;
    expect(review).toMatchObject({ text: { text: 'Review' }, url: `${base}/review/${draft.id}` });
    expect(approve).toMatchObject({ action_id: approveActionId(draft.id, 0), style: 'primary', confirm: { confirm: { text: 'Approve' } } });
    expect(approve.confirm.text.text.length).toBeLessThanOrEqual(300);
    expect(reject).toMatchObject({ action_id: rejectActionId(draft.id), style: 'danger' });
  });

  it('a test notification and a decided draft get no decision buttons', () => {
    const test = slackMessage(testNotification('test_1', new Date(), base));
    expect(JSON.stringify(test.blocks)).not.toContain('processa_approve');
    const approved = slackMessage(
      notificationOf({ ...draft, status: 'approved', reviewedBy: { keyId: 'key_r', name: 'rita', role: 'reviewer' } }, 'draft.approved', base),
    );
    expect(JSON.stringify(approved.blocks)).not.toContain('processa_');
  });
});

describe('response_url', () => {
  it('must be Slack’s (https://hooks.slack.com), or locally a loopback receiver', () => {
    expect(checkedResponseUrl('https://hooks.slack.com/actions/T1/1/abc', false).href).toBe('https://hooks.slack.com/actions/T1/1/abc');
    for (const url of [
      'http://hooks.slack.com/actions/x',
      'https://hooks.slack.com.evil.example/x',
      'https://evil.example/hooks.slack.com',
      'https://user@hooks.slack.com/x',
      'https://hooks.slack.com:8443/x',
      'http://169.254.169.254/latest/meta-data',
      'http://127.0.0.1:9000/response/1',
      'not a url',
    ])
      expect(() => checkedResponseUrl(url, false)).toThrow(/response_url/);
    expect(checkedResponseUrl('http://127.0.0.1:9000/response/1', true).port).toBe('9000');
    expect(() => checkedResponseUrl('http://10.0.0.1/x', true)).toThrow(/response_url/);
  });

  it('the adapter refuses to POST elsewhere, and views.open without a bot token', async () => {
    const calls: string[] = [];
    const api = createSlackApi({ allowLocalhost: false, fetch: (async (url: string | URL) => (calls.push(String(url)), new Response('ok'))) as typeof fetch });
    await expect(api.respond('https://evil.example/x', {})).rejects.toThrow(/response_url/);
    await expect(api.openView('t', {})).rejects.toThrow(/bot token/);
    await api.respond('https://hooks.slack.com/actions/1', { text: 'hi' });
    expect(calls).toEqual(['https://hooks.slack.com/actions/1']);
  });
});

describe('the interaction use case', () => {
  async function setup(options: { canOpenModals?: boolean } = {}) {
    const drafts = new MemoryDraftStore();
    const keys = new MemoryApiKeyStore();
    const responses: Array<{ url: string; message: Record<string, any> }> = [];
    const views: unknown[] = [];
    const slack: SlackApi = {
      respond: async (url, message) => void responses.push({ url, message }),
      openView: async (_trigger, view) => void views.push(view),
    };
    const reviewer = await createApiKey(keys, { name: 'rita', role: 'reviewer', slackUserId: 'U0RITA' }, null);
    const draft: Draft = newDraft({ title: 'Send it', content: { a: 1 }, metadata: {} }, { keyId: 'key_a', name: 'bot', role: 'agent' }, new Date());
    await drafts.create(draft);
    const deps: SlackInteractionDeps = { drafts, keys, slack, canOpenModals: options.canOpenModals ?? true, baseUrl: base, warn: () => undefined };
    const click = (action: string, user = 'U0RITA') =>
      handleSlackInteraction(
        { type: 'block_actions', user: { id: user }, trigger_id: 'trig', response_url: 'https://hooks.slack.com/actions/1', actions: [{ action_id: action }] },
        deps,
      );
    return { drafts, keys, responses, views, reviewer, draft, deps, click };
  }

  it('Approve decides as the linked key and replaces the message; a second click shows the outcome', async () => {
    const { click, draft, drafts, responses, reviewer } = await setup();
    expect(await click(approveActionId(draft.id))).toEqual({ decided: 'approved' });
    expect((await drafts.get(draft.id))!.reviewedBy).toEqual({ keyId: reviewer.id, name: 'rita', role: 'reviewer' });
    expect(responses[0]!.message).toMatchObject({ replace_original: true, text: expect.stringContaining('was approved by rita') });
    expect(await click(approveActionId(draft.id))).toEqual({});
    expect(responses[1]!.message).toMatchObject({ replace_original: true, text: expect.stringContaining('was approved by rita') });
  });

  it('Approve from a message sent before an edit counts nothing and says why (ephemeral, with the review link)', async () => {
    const { click, drafts, keys, responses, deps } = await setup();
    const paula = await createApiKey(keys, { name: 'paula', role: 'reviewer' }, null);
    const quorum = newDraft(
      { title: 'Two needed', content: { a: 1 }, metadata: {}, requiredApprovals: 2 },
      { keyId: 'key_a', name: 'bot', role: 'agent' },
      new Date(),
    );
    await drafts.create(quorum);
    // A reviewer edits and approves on the page: round 1; the Slack message still shows round 0's content.
    await decideDraft(drafts, quorum.id, { kind: 'approve', editedContent: { a: 2 } }, { keyId: paula.id, name: 'paula', role: 'reviewer', groups: [] });
    expect(await click(approveActionId(quorum.id, 0))).toEqual({});
    expect(responses).toEqual([
      { url: expect.any(String), message: { response_type: 'ephemeral', replace_original: false, text: CONTENT_CHANGED(`${base}/review/${quorum.id}`) } },
    ]);
    expect((await drafts.get(quorum.id))!.approvals!.map((a) => a.by.name)).toEqual(['paula']);
    // A message showing the new content (round 1) approves it and completes the quorum.
    expect(
      await handleSlackInteraction(
        {
          type: 'block_actions',
          user: { id: 'U0RITA' },
          trigger_id: 't',
          response_url: 'https://hooks.slack.com/actions/1',
          actions: [{ action_id: approveActionId(quorum.id, 1) }],
        },
        deps,
      ),
    ).toEqual({ decided: 'approved' });
    expect(await drafts.get(quorum.id)).toMatchObject({ status: 'approved', content: { a: 2 } });
  });

  it('without a bot token, Reject decides nothing and tells the user why (ephemeral, with the review link)', async () => {
    const { click, draft, drafts, responses, views } = await setup({ canOpenModals: false });
    expect(await click(rejectActionId(draft.id))).toEqual({});
    expect(views).toEqual([]);
    expect(responses).toEqual([
      { url: expect.any(String), message: { response_type: 'ephemeral', replace_original: false, text: REJECT_NEEDS_BOT_TOKEN(`${base}/review/${draft.id}`) } },
    ]);
    expect((await drafts.get(draft.id))!.status).toBe('pending');
  });

  it('an unlinked user, an agent key or a revoked key cannot decide; a missing draft is said so', async () => {
    const { click, draft, drafts, keys, responses, reviewer } = await setup();
    await createApiKey(keys, { name: 'agent', role: 'agent', slackUserId: 'U0AGENT' }, null);
    await click(approveActionId(draft.id), 'U0NOBODY');
    await click(approveActionId(draft.id), 'U0AGENT');
    const record = (await keys.findById(reviewer.id))!;
    await keys.revoke(record.keyHash, new Date().toISOString());
    await click(approveActionId(draft.id));
    expect(responses.map((r) => r.message.text)).toEqual([
      expect.stringMatching(/not allowed/),
      expect.stringMatching(/not allowed/),
      expect.stringMatching(/not allowed/),
    ]);
    expect((await drafts.get(draft.id))!.status).toBe('pending');
    responses.length = 0;
    await createApiKey(keys, { name: 'second', role: 'admin', slackUserId: 'U0SECOND' }, null);
    await click(approveActionId('cmissing'), 'U0SECOND');
    expect(responses[0]!.message).toMatchObject({ response_type: 'ephemeral', text: 'That draft no longer exists.' });
  });

  it('a key revoked between the click and the decision (the store refuses the write) gets the not-allowed note, and nothing is decided', async () => {
    const { click, draft, drafts, responses } = await setup();
    // What the drafts store does when the decider's key check fails in the decision's transaction.
    drafts.approve = async () => {
      throw new UnauthorizedError('This API key has been revoked');
    };
    expect(await click(approveActionId(draft.id))).toEqual({});
    expect(responses.map((r) => r.message)).toEqual([{ response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/not allowed/) }]);
    expect((await drafts.get(draft.id))!.status).toBe('pending');
  });

  it('linking: a user linked to a live key is refused; a link a revoked key left behind is freed and taken over', async () => {
    const { keys, reviewer } = await setup();
    const other = await createApiKey(keys, { name: 'other', role: 'reviewer' }, null);
    await expect(updateApiKey(keys, other.id, { slackUserId: 'U0RITA' })).rejects.toThrow(SlackUserLinkedError);
    // Revoked straight in the store, so its link was not released (as if the release had failed).
    await keys.revoke((await keys.findById(reviewer.id))!.keyHash, new Date().toISOString());
    expect(await updateApiKey(keys, other.id, { slackUserId: 'U0RITA' })).toMatchObject({ id: other.id, slackUserId: 'U0RITA' });
    expect((await keys.findBySlackUser('U0RITA'))!.id).toBe(other.id);
    await expect(updateApiKey(keys, reviewer.id, { slackUserId: 'U0NEW' })).rejects.toThrow(KeyRevokedError);
  });

  it('a reason modal carrying a forged private_metadata is refused', async () => {
    const { deps } = await setup();
    await expect(
      handleSlackInteraction(
        { type: 'view_submission', user: { id: 'U0RITA' }, view: { callback_id: 'processa_reject_reason', private_metadata: 'nope', state: { values: {} } } },
        deps,
      ),
    ).rejects.toThrow(ValidationError);
  });
});
