import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { jest } from '@jest/globals';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tableNameFromEnv } from '../../shared/config.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';

/**
 * The document client builds one handler per command type and reuses it: each call must still send
 * its own input and get its own answer, also with many calls of one type in flight at once, and a
 * middleware added or removed after the first call must see (or stop seeing) every later call.
 */
const table = () => tableNameFromEnv('deliveries');
const client = createDocumentClient(new DynamoDBClient({}));
const partition = `cached-${Math.random().toString(36).slice(2)}`;
const key = (i: number) => ({ endpointId: partition, attemptKey: `k${String(i).padStart(3, '0')}` });

afterAll(() => client.destroy());

test('20 puts, then 20 gets of different keys at once: each answer is its own item', async () => {
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => client.send(new PutCommand({ TableName: table(), Item: { ...key(i), value: i, nested: { list: [i, `v${i}`] } } }))),
  );
  const items = await Promise.all(Array.from({ length: 20 }, (_, i) => client.send(new GetCommand({ TableName: table(), Key: key(i), ConsistentRead: true }))));
  expect(items.map((r) => r.Item)).toEqual(Array.from({ length: 20 }, (_, i) => ({ ...key(i), value: i, nested: { list: [i, `v${i}`] } })));
});

test('different command types interleaved at once keep their own inputs and outputs', async () => {
  const [updated, got, missing, batch, query] = await Promise.all([
    client.send(
      new UpdateCommand({
        TableName: table(),
        Key: key(0),
        UpdateExpression: 'SET #v = :v',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':v': 100 },
        ReturnValues: 'ALL_NEW',
      }),
    ),
    client.send(new GetCommand({ TableName: table(), Key: key(1), ConsistentRead: true })),
    client.send(new GetCommand({ TableName: table(), Key: key(999), ConsistentRead: true })),
    client.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: [key(2), key(3)], ConsistentRead: true } } })),
    client.send(
      new QueryCommand({ TableName: table(), KeyConditionExpression: 'endpointId = :e', ExpressionAttributeValues: { ':e': partition }, ConsistentRead: true }),
    ),
  ]);
  expect(updated.Attributes).toMatchObject({ ...key(0), value: 100 });
  expect(got.Item).toMatchObject({ ...key(1), value: 1 });
  expect(missing.Item).toBeUndefined();
  expect(batch.Responses?.[table()]?.map((i) => i.value).sort()).toEqual([2, 3]);
  expect(query.Items).toHaveLength(20);
});

test('a failing conditional write still throws its own error, and the next call of that type succeeds', async () => {
  await expect(
    client.send(new PutCommand({ TableName: table(), Item: key(5), ConditionExpression: 'attribute_not_exists(attemptKey)' })),
  ).rejects.toMatchObject({
    name: 'ConditionalCheckFailedException',
  });
  await client.send(new PutCommand({ TableName: table(), Item: { ...key(50), value: 50 }, ConditionExpression: 'attribute_not_exists(attemptKey)' }));
  expect((await client.send(new GetCommand({ TableName: table(), Key: key(50), ConsistentRead: true }))).Item).toMatchObject({ value: 50 });
});

test('a middleware added after the first calls sees every later call, and none once removed', async () => {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'cachedClientTestCounter' },
  );
  await Promise.all([
    client.send(new GetCommand({ TableName: table(), Key: key(1) })),
    client.send(new GetCommand({ TableName: table(), Key: key(2) })),
    client.send(new DeleteCommand({ TableName: table(), Key: key(50) })),
  ]);
  expect(seen.sort()).toEqual(['DeleteItemCommand', 'GetItemCommand', 'GetItemCommand']);
  client.middlewareStack.remove('cachedClientTestCounter');
  await client.send(new GetCommand({ TableName: table(), Key: key(1) }));
  expect(seen).toHaveLength(3);
});

test('a middleware that answers a call itself (as the throttling tests inject errors) applies after first use', async () => {
  client.middlewareStack.add(
    () => async () => {
      throw Object.assign(new Error('injected'), { name: 'ThrottlingException' });
    },
    { step: 'initialize', name: 'cachedClientTestFailure' },
  );
  await expect(client.send(new GetCommand({ TableName: table(), Key: key(1) }))).rejects.toThrow('injected');
  client.middlewareStack.remove('cachedClientTestFailure');
  expect((await client.send(new GetCommand({ TableName: table(), Key: key(1) }))).Item).toMatchObject({ value: 1 });
});

test('the stack is resolved once per command type, not per call', async () => {
  await client.send(new GetCommand({ TableName: table(), Key: key(1) }));
  const resolve = jest.spyOn(GetItemCommand.prototype, 'resolveMiddleware');
  try {
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.send(new GetCommand({ TableName: table(), Key: key(i) }))));
    expect(resolve).not.toHaveBeenCalled();
  } finally {
    resolve.mockRestore();
  }
});

test("a command given middleware of its own goes the SDK's own way, and that middleware sees it", async () => {
  const seen: string[] = [];
  const command = new GetCommand({ TableName: table(), Key: key(1) });
  command.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push(String(context.commandName));
      return next(args);
    },
    // Unnamed: lib-dynamodb itself puts a command's own stack into the chain twice, so a name would be a duplicate.
    { step: 'initialize' },
  );
  expect((await client.send(command)).Item).toMatchObject({ value: 1 });
  expect(seen.length).toBeGreaterThan(0);
  expect(new Set(seen)).toEqual(new Set(['GetItemCommand']));
  // The next plain command of that type still takes the cached handler, without it.
  const before = seen.length;
  await client.send(new GetCommand({ TableName: table(), Key: key(2) }));
  expect(seen).toHaveLength(before);
});
