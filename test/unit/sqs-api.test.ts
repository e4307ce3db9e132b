import { SqsError, SqsJsonClient, sqsRequest } from '../../shared/store/sqs-api.js';
import { startAwsStub } from '../support/aws-stub.js';

/** The functions' SQS client (JSON protocol over signed fetch), against a loopback stand-in for SQS. */
describe('SqsJsonClient', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of ['AWS_ENDPOINT_URL_SQS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) delete process.env[key];
    Object.assign(process.env, saved);
  });
  const clientFor = (url: string) => {
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' });
    return new SqsJsonClient();
  };

  it('POSTs the operation as AmazonSQS JSON, signed for sqs, and returns the parsed answer', async () => {
    const stub = await startAwsStub(() => ({ status: 200, body: '{"Successful":[{"Id":"0"}],"Failed":[]}' }));
    try {
      const input = { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', Entries: [{ Id: '0', MessageBody: '{"a":1}' }] };
      expect(await clientFor(stub.url).send(sqsRequest('SendMessageBatch', input))).toEqual({ Successful: [{ Id: '0' }], Failed: [] });
      const [request] = stub.requests;
      expect(request!.headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessageBatch' });
      expect(request!.headers.authorization).toMatch(/Credential=AKIDTEST\/\d{8}\/eu-west-1\/sqs\/aws4_request/);
      expect(JSON.parse(request!.body)).toEqual(input);
    } finally {
      await stub.close();
    }
  });

  it('throws SQS errors by name; throttling (a 400 by name) and 5xx are retried, other refusals are not', async () => {
    const missing = await startAwsStub(() => ({
      status: 400,
      body: '{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}',
    }));
    try {
      const error = await clientFor(missing.url)
        .send(sqsRequest('ReceiveMessage', { QueueUrl: 'q' }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SqsError);
      expect(error).toMatchObject({ name: 'QueueDoesNotExist', message: 'The specified queue does not exist.', status: 400 });
      expect(missing.requests).toHaveLength(1);
    } finally {
      await missing.close();
    }
    const busy = await startAwsStub((_, n) =>
      n === 1
        ? { status: 400, body: '{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}' }
        : n === 2
          ? { status: 500, body: '{}' }
          : { status: 200, body: '{}' },
    );
    try {
      expect(await clientFor(busy.url).send(sqsRequest('DeleteMessageBatch', { QueueUrl: 'q', Entries: [] }))).toEqual({});
      expect(busy.requests).toHaveLength(3);
    } finally {
      await busy.close();
    }
  });

  it("runs middleware in the SDK's shape (commandName, args.input), which tests and the cost bench use to observe or fail calls", async () => {
    const stub = await startAwsStub(() => ({ status: 200, body: '{}' }));
    try {
      const client = clientFor(stub.url);
      const seen: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          seen.push(`${context.commandName}:${String(args.input.QueueUrl)}`);
          return next(args);
        },
        { step: 'initialize', name: 'observe' },
      );
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ChangeMessageVisibilityBatchCommand') throw new Error('refused');
          return next(args);
        },
        { step: 'initialize', name: 'refuse' },
      );
      await client.send(sqsRequest('SendMessageBatch', { QueueUrl: 'q1', Entries: [] }));
      await expect(client.send(sqsRequest('ChangeMessageVisibilityBatch', { QueueUrl: 'q2', Entries: [] }))).rejects.toThrow('refused');
      expect(client.middlewareStack.remove('refuse')).toBe(true);
      await client.send(sqsRequest('ChangeMessageVisibilityBatch', { QueueUrl: 'q3', Entries: [] }));
      expect(seen).toEqual(['SendMessageBatchCommand:q1', 'ChangeMessageVisibilityBatchCommand:q2', 'ChangeMessageVisibilityBatchCommand:q3']);
      expect(stub.requests).toHaveLength(2);
    } finally {
      await stub.close();
    }
  });
});
