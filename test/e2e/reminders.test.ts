/**
 * Reminders on the dev runtime: a channel with remindAfterMinutes hears once more about a draft
 * still pending past its threshold. The sweep runs every second here (PROCESSA_SCHEDULE_SECONDS);
 * instead of waiting minutes, drafts are moved back in time straight in DynamoDB Local (a
 * pending → pending change, which the fan-out never sees).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { apiClient, startDevRuntime, type DevRuntime } from '../support/dev-runtime.js';
import { eventually, startReceiver } from '../support/receiver.js';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
let runtime: DevRuntime;
let admin: ReturnType<typeof apiClient>;
let agent: ReturnType<typeof apiClient>;
let slack: Receiver;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  runtime = await startDevRuntime({ env: { PROCESSA_SCHEDULE_SECONDS: '1', PROCESSA_RETRY_BASE_SECONDS: '1' } });
  admin = apiClient(runtime.url, runtime.adminKey);
  agent = apiClient(runtime.url, (await admin('POST', '/v1/keys', { role: 'agent', name: 'reminder-bot' })).body.key);
  slack = await startReceiver('ok');
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.info().dynamodbEndpoint, ...LOCAL_AWS }));
}, 90_000);

afterAll(async () => {
  db?.destroy();
  await slack?.stop();
  await runtime?.stop();
});

async function backdate(id: string, minutes: number) {
  const createdAt = new Date(Date.now() - minutes * 60_000).toISOString();
  await db.send(
    new UpdateCommand({
      TableName: runtime.info().tables.drafts,
      Key: { id },
      UpdateExpression: 'SET createdAt = :at, listKey = :key',
      ExpressionAttributeValues: { ':at': createdAt, ':key': `${createdAt}#${id}` },
      ConditionExpression: 'attribute_exists(id)',
    }),
  );
}

const messagesAbout = (id: string) => slack.requests.filter((r) => r.body.includes(id)).map((r) => JSON.parse(r.body) as { text: string; blocks: any[] });
const isReminder = (m: { blocks: any[] }) => String(m.blocks[0]?.text?.text).startsWith('Still waiting for review: ');

async function draft(title: string, metadata: Record<string, string>) {
  const res = await agent('POST', '/v1/drafts', { title, content: { to: 'user@example.com', subject: 'Hi', body: 'Hello' }, metadata });
  expect(res.status).toBe(201);
  return res.body as { id: string; reviewUrl: string };
}

it('refuses a bad remindAfterMinutes with 400 naming the field', async () => {
  for (const remindAfterMinutes of [0, 10081, 2.5, '5']) {
    const res = await admin('POST', '/v1/notifications', { kind: 'slack', url: slack.url, remindAfterMinutes });
    expect({ remindAfterMinutes, status: res.status }).toEqual({ remindAfterMinutes, status: 400 });
    expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('remindAfterMinutes');
  }
});

it("PATCH /v1/webhooks/{id} sets, clears and validates a channel's reminder; webhook-only fields are refused for a channel", async () => {
  const channel = await admin('POST', '/v1/notifications', { kind: 'slack', url: slack.url, filter: { run: 'patch' } });
  expect(channel.status).toBe(201);
  const path = `/v1/webhooks/${channel.body.id}`;
  expect(await admin('PATCH', path, { remindAfterMinutes: 30 })).toMatchObject({ status: 200, body: { remindAfterMinutes: 30 } });
  expect((await admin('GET', path)).body.remindAfterMinutes).toBe(30);
  const bad = await admin('PATCH', path, { remindAfterMinutes: 0 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details.fields.map((f: { field: string }) => f.field)).toContain('remindAfterMinutes');
  // A channel's address is its kind's: a webhook's url or retry cannot be patched onto it.
  expect((await admin('PATCH', path, { url: 'https://example.com/hook' })).status).toBe(400);
  const cleared = await admin('PATCH', path, { remindAfterMinutes: null });
  expect(cleared.status).toBe(200);
  expect(cleared.body.remindAfterMinutes).toBeUndefined();
  expect((await admin('GET', path)).body.remindAfterMinutes).toBeUndefined();
});

it('a draft still pending past the threshold is reminded once, in Slack and by email; a decided one and a disabled channel get none', async () => {
  const channel = await admin('POST', '/v1/notifications', { kind: 'slack', url: slack.url, filter: { run: 'reminders' }, remindAfterMinutes: 1 });
  expect(channel).toMatchObject({ status: 201, body: { remindAfterMinutes: 1 } });
  const email = await admin('POST', '/v1/notifications', {
    kind: 'email',
    recipients: ['reminded@example.com'],
    events: ['draft.approved'],
    filter: { run: 'reminders' },
    remindAfterMinutes: 1,
  });
  expect(email.status).toBe(201);

  const waiting = await draft('Still waiting', { run: 'reminders' });
  const decided = await draft('Decided in time', { run: 'reminders' });
  await eventually(() => messagesAbout(waiting.id).length === 1 && messagesAbout(decided.id).length === 1, 10_000, 'the draft.created messages');
  expect((await admin('POST', `/v1/drafts/${decided.id}/approve`, {})).status).toBe(200);
  await eventually(() => messagesAbout(decided.id).length === 2, 10_000, 'the approval follow-up');

  await backdate(waiting.id, 2);
  await backdate(decided.id, 2);
  const reminder = await eventually(() => messagesAbout(waiting.id).find(isReminder), 15_000, 'the reminder');
  expect(reminder.blocks.at(-1).elements[0]).toMatchObject({ text: { text: 'Review' }, url: waiting.reviewUrl });

  // The email channel chose draft.approved only, yet asked for reminders: it gets one, as an .eml.
  const outbox = join(runtime.dataDir, 'outbox');
  const reminderEmails = () =>
    existsSync(outbox)
      ? readdirSync(outbox)
          .filter((f) => f.endsWith('.eml'))
          .map((f) => readFileSync(join(outbox, f), 'utf8'))
          .filter((eml) => eml.includes('reminded@example.com') && /^Subject: .*Still waiting/m.test(eml))
      : [];
  await eventually(() => reminderEmails().length === 1, 15_000, 'the reminder email');

  // Proof that later sweeps ran: a second draft, backdated now, gets its own reminder; by then the first has still one.
  const second = await draft('Second', { run: 'reminders' });
  await eventually(() => messagesAbout(second.id).length === 1, 10_000, 'the second draft.created');
  await backdate(second.id, 2);
  await eventually(() => messagesAbout(second.id).some(isReminder), 15_000, 'the second reminder');
  expect(messagesAbout(waiting.id).filter(isReminder)).toHaveLength(1);
  expect(messagesAbout(decided.id).filter(isReminder)).toHaveLength(0);
  expect(reminderEmails()).toHaveLength(2);

  // Disabled, the channel is reminded of nothing: the email channel (still enabled) proves the sweep saw the draft.
  expect((await admin('PATCH', `/v1/webhooks/${channel.body.id}`, { enabled: false })).status).toBe(200);
  const third = await draft('After disabling', { run: 'reminders' });
  await backdate(third.id, 2);
  await eventually(() => reminderEmails().length === 3, 15_000, 'the third reminder email');
  expect(messagesAbout(third.id)).toEqual([]);

  // The reminders are in the channel's delivery log like every notification.
  const log = (await admin('GET', `/v1/webhooks/${channel.body.id}/deliveries`)).body.items as Array<Record<string, unknown>>;
  expect(log.filter((d) => d.draftId === waiting.id).map((d) => [d.eventType, d.outcome])).toEqual([
    ['draft.created', 'succeeded'],
    ['draft.created', 'succeeded'],
  ]);
});
