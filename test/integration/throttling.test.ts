import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handler as createHandler } from '../../functions/create-draft/handler.js';
import { handler as decideHandler } from '../../functions/decide-draft/handler.js';
import { tableNameFromEnv } from '../../shared/config.js';
import { documentClient } from '../../shared/store/dynamo-client.js';
import { apiEvent, invoke } from '../support/api-events.js';
import { bearer, seedKeys } from '../support/keys.js';

const keys = await seedKeys();
const client = documentClient();
const throttled = () => new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} });

/**
 * Throttling injected at the client: writes to the drafts table fail. `step` decides whether the
 * SDK's own retries see the failure (finalizeRequest, inside the retry loop) or not (initialize,
 * i.e. what is left after every retry was used up).
 */
function throttleDraftWrites(options: { times: number; step: 'initialize' | 'finalizeRequest'; error?: () => Error }) {
  let remaining = options.times;
  const name = `inject-throttling-${Math.random()}`;
  const middleware = ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown }) => {
    const command = context.commandName ?? '';
    const input = args.input as { TableName?: string; TransactItems?: unknown[] };
    const touchesDrafts = input.TableName === tableNameFromEnv('drafts') || input.TransactItems !== undefined;
    if (/Put|Update|TransactWrite/.test(command) && touchesDrafts && remaining > 0) {
      remaining--;
      throw (options.error ?? throttled)();
    }
    return next(args);
  }) as never;
  if (options.step === 'finalizeRequest') client.middlewareStack.add(middleware, { step: 'finalizeRequest', priority: 'low', name });
  else client.middlewareStack.add(middleware, { step: 'initialize', name });
  return {
    remove: () => client.middlewareStack.remove(name),
    get used() {
      return options.times - remaining;
    },
  };
}

const create = (title: string, headers: Record<string, string> = {}) =>
  invoke(createHandler, apiEvent({ routeKey: 'POST /v1/drafts', headers: { ...bearer(keys.agent.key), ...headers }, body: { title, content: { a: 1 } } }));

async function storedTitles(title: string) {
  const { Items = [] } = await client.send(
    new ScanCommand({
      TableName: tableNameFromEnv('drafts'),
      FilterExpression: 'title = :t',
      ExpressionAttributeValues: { ':t': title },
      ConsistentRead: true,
    }),
  );
  return Items.length;
}

describe('when DynamoDB throttles', () => {
  it('a short burst is absorbed by the SDK retries: the draft is created once', async () => {
    const injection = throttleDraftWrites({ times: 2, step: 'finalizeRequest' });
    try {
      const res = await create('absorbed burst');
      expect(res.status).toBe(201);
      expect(injection.used).toBe(2);
      expect(await storedTitles('absorbed burst')).toBe(1);
    } finally {
      injection.remove();
    }
  });

  it('when retries run out, the API answers 503 with Retry-After and writes nothing', async () => {
    const injection = throttleDraftWrites({ times: 1000, step: 'initialize' });
    try {
      const res = await create('given up');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body.error.code).toBe('service_unavailable');
      expect(JSON.stringify(res.body)).not.toMatch(/Provisioned|throughput/i);
    } finally {
      injection.remove();
    }
    expect(await storedTitles('given up')).toBe(0);
  });

  it('an idempotent create whose transaction keeps being throttled answers 503; its retry later creates exactly one draft', async () => {
    const cancelled = () =>
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ThrottlingError' }, { Code: 'None' }],
      });
    const injection = throttleDraftWrites({ times: 1000, step: 'initialize', error: cancelled });
    const headers = { 'idempotency-key': `throttle-${Math.random()}` };
    try {
      const res = await create('idempotent under throttling', headers);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      injection.remove();
    }
    expect(await storedTitles('idempotent under throttling')).toBe(0);
    const retried = await create('idempotent under throttling', headers);
    const again = await create('idempotent under throttling', headers);
    expect([retried.status, again.status]).toEqual([201, 201]);
    expect(again.body.id).toBe(retried.body.id);
    expect(await storedTitles('idempotent under throttling')).toBe(1);
  }, 20_000);

  it('a decision that cannot be written answers 503 and leaves the draft pending', async () => {
    const { body: draft } = await create('decide under throttling');
    const injection = throttleDraftWrites({ times: 1000, step: 'initialize' });
    try {
      const res = await invoke(
        decideHandler,
        apiEvent({ routeKey: 'POST /v1/drafts/{id}/approve', pathParameters: { id: draft.id }, headers: bearer(keys.reviewer.key), body: {} }),
      );
      expect(res.status).toBe(503);
    } finally {
      injection.remove();
    }
    const { Items = [] } = await client.send(
      new ScanCommand({
        TableName: tableNameFromEnv('drafts'),
        FilterExpression: 'id = :id',
        ExpressionAttributeValues: { ':id': draft.id },
        ConsistentRead: true,
      }),
    );
    expect(Items[0]!.status).toBe('pending');
  });
});
