/**
 * Functions bundled exactly as the stack bundles them (infra/stacks/bundling.ts: the same esbuild options and
 * aliases ProcessaFunction hands to CDK), then run in a fresh node process against DynamoDB Local and the
 * SQS emulator. Whatever the aliases leave out (the event-stream codec, the credential chain) must not be
 * needed by a real call: a broken alias, or zod/mini without its locale, fails here and not in AWS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build, type Metafile } from 'esbuild';
import { functions, queues, type FunctionName, type QueueName } from '../../infra/app-definition.js';
import { LOCAL_AWS } from '../../infra/local/dynamodb-local.js';
import { startLocalSqs, type LocalSqs } from '../../infra/local/local-sqs.js';
import { provisionQueues, type QueueUrls } from '../../infra/local/provision.js';
import { functionEsbuildOptions } from '../../infra/stacks/bundling.js';
import { DEFAULT_TRACING } from '../../infra/stacks/tracing.js';
import { handler as createDraftInProcess } from '../../functions/create-draft/handler.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { bearer, seedKeys } from '../support/keys.js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { deliveryMessage } from '../../shared/webhooks/delivery-message.js';
import { testEvent } from '../../shared/webhooks/events.js';
import { testNotification } from '../../shared/notifications/notification.js';
import { drainQueue, sqsRecord } from '../support/sqs-records.js';
import { operatorNoticeMessage, parseOperatorNoticeMessage } from '../../shared/notifications/operator-notice-message.js';
import { operatorNotice, endpointDisabledEvent } from '../../shared/webhooks/operational-events.js';
import { OUTBOX_FILE } from '../../shared/store/operator-notices.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLED: FunctionName[] = [
  'createDraft',
  'readDrafts',
  'manageWebhooks',
  'webhookQueueActions',
  'webhookSettingsPages',
  'deliverWebhooks',
  'deliverNotifications',
  'sweepDeadLetters',
];

/** Imports a bundle, invokes its handler with each event in turn (a Lambda-like context), writes the results as JSON. */
const RUNNER = `
import { readFileSync, writeFileSync } from 'node:fs';
const [bundle, eventsFile, resultsFile] = process.argv.slice(2);
const { handler } = await import(bundle);
const context = () => ({
  callbackWaitsForEmptyEventLoop: false, functionName: 'bundle-test', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bundle-test', memoryLimitInMB: '512',
  awsRequestId: crypto.randomUUID(), logGroupName: 'bundle-test', logStreamName: 'bundle-test',
  getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {},
});
const results = [];
for (const event of JSON.parse(readFileSync(eventsFile, 'utf8'))) results.push(await handler(event, context()));
writeFileSync(resultsFile, JSON.stringify(results));
`;

let dir: string;
let sqs: LocalSqs;
let sqsClient: SQSClient;
let queueUrls: QueueUrls;
let keys: Awaited<ReturnType<typeof seedKeys>>;
const metafiles = new Map<FunctionName, Metafile>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'processa-function-bundles-'));
  writeFileSync(join(dir, 'runner.mjs'), RUNNER);
  // Bundles resolve nothing from node_modules (no externals); the link only mirrors coldstart.ts's layout.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  sqs = await startLocalSqs();
  sqsClient = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  queueUrls = await provisionQueues(sqsClient, `bundles${Math.random().toString(36).slice(2, 8)}`);
  keys = await seedKeys();
  for (const name of BUNDLED) {
    const result = await build({
      ...functionEsbuildOptions(DEFAULT_TRACING),
      entryPoints: [join(repoRoot, 'functions', functions[name].folder, 'handler.ts')],
      outfile: join(dir, name, 'index.mjs'),
      absWorkingDir: repoRoot,
      metafile: true,
      logLevel: 'silent',
    });
    metafiles.set(name, result.metafile);
  }
}, 120_000);

afterAll(async () => {
  sqsClient?.destroy();
  await sqs?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * One fresh node process (as a cold Lambda sandbox) importing the bundle and invoking it with `events`, in order.
 * Asynchronous: the SQS emulator runs in this process and must keep answering meanwhile.
 */
async function runBundle(name: FunctionName, events: APIGatewayProxyEventV2[]): Promise<Array<{ status: number; body: any }>> {
  const eventsFile = join(dir, `${name}-events.json`);
  const resultsFile = join(dir, `${name}-results.json`);
  writeFileSync(eventsFile, JSON.stringify(events));
  await promisify(execFile)(process.execPath, ['--enable-source-maps', join(dir, 'runner.mjs'), join(dir, name, 'index.mjs'), eventsFile, resultsFile], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
      ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, queueUrls[q]])),
    },
    timeout: 60_000,
  });
  return (JSON.parse(readFileSync(resultsFile, 'utf8')) as Answer[]).map((a) => ({ status: a.statusCode, body: a.body ? JSON.parse(a.body) : undefined }));
}

describe('function bundles as deployed', () => {
  it('leave the event-stream codec and the endpoint-discovery cache out: the stubs stand in for them', () => {
    for (const name of BUNDLED) {
      const inputs = Object.keys(metafiles.get(name)!.inputs);
      expect(inputs).toEqual(expect.arrayContaining(['shared/no-event-streams/index.ts', 'shared/no-endpoint-cache/index.ts']));
      expect(inputs.filter((i) => /@smithy\/core\/dist-es\/submodules\/event-streams|@aws-sdk\/endpoint-cache|mnemonist/.test(i))).toEqual([]);
    }
  });

  it('createDraft and readDrafts: a draft is written, read back and listed through DynamoDB', async () => {
    const title = `bundle-${Math.random().toString(36).slice(2)}`;
    const [created] = await runBundle('createDraft', [
      apiEvent({
        routeKey: 'POST /v1/drafts',
        headers: bearer(keys.agent.key),
        body: { title, content: { to: 'user@example.com' }, metadata: { source: 'bundle' } },
      }),
    ]);
    expect(created).toMatchObject({ status: 201, body: { title, status: 'pending', metadata: { source: 'bundle' } } });
    const [read, listed] = await runBundle('readDrafts', [
      apiEvent({ routeKey: 'GET /v1/drafts/{id}', pathParameters: { id: created!.body.id }, headers: bearer(keys.agent.key) }),
      apiEvent({ routeKey: 'GET /v1/drafts', query: { status: 'pending', limit: '100' }, headers: bearer(keys.reviewer.key) }),
    ]);
    expect(read).toEqual({ status: 200, body: created!.body });
    expect(listed!.status).toBe(200);
    expect(listed!.body.items.map((d: { id: string }) => d.id)).toContain(created!.body.id);
  });

  it('answer bad input with the very 400 the handler gives in-process (zod/mini with the English messages)', async () => {
    const bad = apiEvent({
      routeKey: 'POST /v1/drafts',
      headers: bearer(keys.agent.key),
      body: { content: [], metadata: { a: { b: 1 } }, extra: 1, requiredApprovals: 1.5 },
    });
    const [bundled] = await runBundle('createDraft', [bad]);
    const inProcess = await invoke(createDraftInProcess, bad);
    expect(bundled!.status).toBe(400);
    expect(bundled!.body.error.details).toEqual(inProcess.body.error.details);
    // Messages zod writes itself (not ours), which zod/mini only has with the locale loaded.
    expect(JSON.stringify(bundled!.body.error.details)).toContain('expected string, received undefined');
  });

  it('manageWebhooks stores an endpoint; webhookQueueActions puts its test event onto the SQS delivery queue and redrives (nothing dead)', async () => {
    const [created] = await runBundle('manageWebhooks', [
      apiEvent({ routeKey: 'POST /v1/webhooks', headers: bearer(keys.admin.key), body: { url: 'http://127.0.0.1:9/bundle-hook' } }),
    ]);
    expect(created!.status).toBe(201);
    const [queued, redriven] = await runBundle('webhookQueueActions', [
      apiEvent({ routeKey: 'POST /v1/webhooks/{id}/test', pathParameters: { id: created!.body.id }, headers: bearer(keys.admin.key) }),
      apiEvent({ routeKey: 'POST /v1/webhooks/{id}/redrive', pathParameters: { id: created!.body.id }, headers: bearer(keys.admin.key) }),
    ]);
    expect(queued).toMatchObject({ status: 202, body: { eventType: 'draft.rejected' } });
    expect(redriven).toEqual({ status: 200, body: { redriven: 0, complete: true } });
    const { Messages = [] } = await sqsClient.send(new ReceiveMessageCommand({ QueueUrl: queueUrls.deliveries, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(Messages.map((m) => JSON.parse(m.Body!) as { eventId: string; endpointId: string })).toContainEqual(
      expect.objectContaining({ eventId: queued!.body.eventId, endpointId: created!.body.id }),
    );
  });

  it('endpoint management (API and settings page) bundles no SQS or SNS client: those routes are the queue-actions functions', () => {
    // What the bundle carries: inputs with bytes in the output (the metafile also lists modules imported but shaken out).
    const carried = (name: FunctionName) =>
      Object.values(metafiles.get(name)!.outputs).flatMap((output) =>
        Object.entries(output.inputs)
          .filter(([, input]) => input.bytesInOutput > 0)
          .map(([path]) => path),
      );
    for (const name of ['manageWebhooks', 'webhookSettingsPages'] as const) {
      expect({ name, clients: carried(name).filter((i) => /@aws-sdk\/client-(sqs|sns)\//.test(i)) }).toEqual({ name, clients: [] });
    }
    expect(carried('webhookQueueActions').some((i) => i.includes('@aws-sdk/client-sqs/'))).toBe(true);
  });
});

/** A queue consumer's bundle in a fresh node process, invoked with SQS events; its raw batch responses. */
async function runQueueBundle(name: FunctionName, events: SQSEvent[], env: Record<string, string>): Promise<Array<{ batchItemFailures: unknown[] }>> {
  const eventsFile = join(dir, `${name}-sqs-events.json`);
  const resultsFile = join(dir, `${name}-sqs-results.json`);
  writeFileSync(eventsFile, JSON.stringify(events));
  await promisify(execFile)(process.execPath, ['--enable-source-maps', join(dir, 'runner.mjs'), join(dir, name, 'index.mjs'), eventsFile, resultsFile], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      PROCESSA_ALLOW_LOCALHOST_WEBHOOKS: 'true',
      ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, queueUrls[q]])),
      ...env,
    },
    timeout: 60_000,
  });
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as Array<{ batchItemFailures: unknown[] }>;
}

const sqsEvent = (bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body) => sqsRecord(body, { queueArn: 'arn:aws:sqs:us-east-1:000000000000:bundle-test' })),
});

describe('the delivery workers as deployed', () => {
  let receiver: Server;
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  let base: string;
  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  const carried = (name: FunctionName) =>
    Object.values(metafiles.get(name)!.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );

  it('deliverWebhooks bundles no SES, SNS or notification rendering; deliverNotifications does', () => {
    const notificationCode = (i: string) =>
      /@aws-sdk\/client-(sesv2|sns)\//.test(i) || /shared\/notifications\/(send|slack-message|email-message)\.ts$/.test(i);
    expect(carried('deliverWebhooks').filter(notificationCode)).toEqual([]);
    expect(carried('deliverNotifications').filter(notificationCode).length).toBeGreaterThan(0);
  });

  it("deliverWebhooks POSTs a webhook's delivery and forwards a channel's message to the notifications queue; deliverNotifications sends it to Slack and publishes an operator notice", async () => {
    const [endpoint, channel] = await runBundle('manageWebhooks', [
      apiEvent({ routeKey: 'POST /v1/webhooks', headers: bearer(keys.admin.key), body: { url: `${base}/hook` } }),
      apiEvent({ routeKey: 'POST /v1/notifications', headers: bearer(keys.admin.key), body: { kind: 'slack', url: `${base}/slack` } }),
    ]);
    expect([endpoint!.status, channel!.status]).toEqual([201, 201]);
    const webhook = deliveryMessage(testEvent(), endpoint!.body.id);
    // As queued before the split: a channel's message without its target, on the deliveries queue.
    const event = testEvent();
    const forChannel = {
      ...deliveryMessage(event, channel!.body.id),
      eventType: 'draft.created',
      body: JSON.stringify(testNotification(event.draftId!, new Date(), undefined)),
    };
    const [webhookBatch] = await runQueueBundle('deliverWebhooks', [sqsEvent([webhook, forChannel])], {});
    expect(webhookBatch).toEqual({ batchItemFailures: [] });
    expect(received.filter((r) => r.path === '/hook')).toEqual([
      expect.objectContaining({ headers: expect.objectContaining({ 'webhook-id': webhook.eventId }) }),
    ]);
    expect(received.filter((r) => r.path === '/slack')).toEqual([]);
    const { Messages = [] } = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrls.notifications, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const forwarded = Messages.map((m) => JSON.parse(m.Body!) as Record<string, unknown>);
    expect(forwarded).toEqual([{ ...forChannel, target: 'channel' }]);

    const outbox = mkdtempSync(join(tmpdir(), 'processa-bundle-outbox-'));
    const notice = operatorNotice(
      endpointDisabledEvent({ id: endpoint!.body.id, url: `${base}/hook`, disabledReason: 'gone', disabledAt: new Date().toISOString() }),
    );
    const [notificationBatch] = await runQueueBundle('deliverNotifications', [sqsEvent([forwarded[0], operatorNoticeMessage(notice)])], {
      PROCESSA_OPERATOR_OUTBOX: outbox,
    });
    expect(notificationBatch).toEqual({ batchItemFailures: [] });
    // The batch returned once its attempts were made: the Slack POST is in.
    expect(received.filter((r) => r.path === '/slack')).toHaveLength(1);
    expect(JSON.parse(received.find((r) => r.path === '/slack')!.body)).toHaveProperty('blocks');
    const lines = readFileSync(join(outbox, OUTBOX_FILE), 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as { eventId: string; subject: string })).toEqual([
      expect.objectContaining({ eventId: notice.event.id, subject: notice.subject }),
    ]);
    rmSync(outbox, { recursive: true, force: true });
  });
});

describe('the scheduled DLQ sweep as deployed', () => {
  it('sweepDeadLetters re-sends a dead-lettered operator notice to the notifications queue and deletes it from the DLQ', async () => {
    const notice = operatorNotice(
      endpointDisabledEvent({ id: 'ep_bundle', url: 'https://receiver.example/hook', disabledReason: 'failing', disabledAt: new Date().toISOString() }),
    );
    await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrls.deliveriesDlq, MessageBody: JSON.stringify(operatorNoticeMessage(notice)) }));
    const eventsFile = join(dir, 'sweepDeadLetters-events.json');
    const resultsFile = join(dir, 'sweepDeadLetters-results.json');
    writeFileSync(eventsFile, JSON.stringify([{ source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString() }]));
    await promisify(execFile)(
      process.execPath,
      ['--enable-source-maps', join(dir, 'runner.mjs'), join(dir, 'sweepDeadLetters', 'index.mjs'), eventsFile, resultsFile],
      {
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_ENDPOINT_URL_SQS: sqs.endpoint,
          ...Object.fromEntries((Object.keys(queues) as QueueName[]).map((q) => [queues[q].envVar, queueUrls[q]])),
        },
        timeout: 60_000,
      },
    );
    expect(JSON.parse(readFileSync(resultsFile, 'utf8'))).toEqual([{ deleted: 1, markedDead: 0, noticesRequeued: 1 }]);
    expect((await drainQueue(sqsClient, queueUrls.notifications)).map((b) => parseOperatorNoticeMessage(b))).toEqual([notice]);
    expect(await drainQueue(sqsClient, queueUrls.deliveriesDlq)).toEqual([]);
  });
});
