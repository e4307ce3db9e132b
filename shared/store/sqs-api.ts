import { awsOrigin, sendAwsRequest, type AwsResponse } from './aws-signed-request.js';

/**
 * The SQS operations Processa's functions call, through a port: in the functions a small client
 * speaking SQS's JSON protocol over signed fetch (no @aws-sdk/client-sqs, ~25 KB, in their bundles);
 * in the CLIs and the local runtime's tooling the SDK client (sqs-sdk-api.ts), with the user's
 * credential chain.
 */
export type SqsOperation = 'SendMessageBatch' | 'ChangeMessageVisibilityBatch' | 'DeleteMessageBatch' | 'ReceiveMessage';

export interface SqsRequest {
  operation: SqsOperation;
  input: Record<string, unknown>;
}

export interface SqsBatchEntryFailure {
  Id: string;
  SenderFault?: boolean;
  Code?: string;
  Message?: string;
}
export interface SqsBatchResult {
  Successful?: Array<{ Id: string }>;
  Failed?: SqsBatchEntryFailure[];
}
export interface SqsReceivedMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
  MD5OfBody?: string;
}
export interface SqsReceiveResult {
  Messages?: SqsReceivedMessage[];
}

export interface SqsApi {
  send(request: SqsRequest): Promise<unknown>;
}

export const sqsRequest = (operation: SqsOperation, input: Record<string, unknown>): SqsRequest => ({ operation, input });

/** An SQS error, named as the SDK names it (QueueDoesNotExist, RequestThrottled, …). */
export class SqsError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = name;
  }
}

type Middleware = (
  next: (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>,
  context: { commandName: string },
) => (args: { input: Record<string, unknown> }) => Promise<{ output: unknown }>;

/** SQS's throttling answers are 400s by name; the SDK retries them, as it does 5xx. */
const THROTTLING = new Set(['RequestThrottled', 'ThrottlingException', 'KmsThrottled', 'OverLimit']);
const errorName = (answer: AwsResponse): { name: string; message: string } => {
  try {
    const parsed = JSON.parse(answer.body) as { __type?: string; message?: string; Message?: string };
    return { name: (parsed.__type ?? answer.errorType ?? `HTTP ${answer.status}`).split('#').pop()!, message: parsed.message ?? parsed.Message ?? answer.body };
  } catch {
    return { name: answer.errorType ?? `HTTP ${answer.status}`, message: answer.body.slice(0, 200) };
  }
};

/**
 * SQS over its JSON protocol (POST /, X-Amz-Target: AmazonSQS.<operation>), signed with the
 * function's credentials from the environment; AWS_ENDPOINT_URL_SQS points it at the emulator locally.
 * Its middlewareStack takes the SDK's middleware shape (commandName, args.input) so tests and the
 * cost bench can observe or fail calls as they did on the SDK client. With tracing sampled, its calls
 * are not X-Ray subsegments of their own (the SDK client's were): they show in the function's segment.
 */
export class SqsJsonClient implements SqsApi {
  private readonly endpoint = awsOrigin('SQS', (region) => `sqs.${region}.amazonaws.com`);
  private readonly middlewares: Array<{ name: string; middleware: Middleware }> = [];

  readonly middlewareStack = {
    add: (middleware: Middleware, options: { name: string; step?: string }) => void this.middlewares.push({ name: options.name, middleware }),
    remove: (name: string) => {
      const at = this.middlewares.findIndex((m) => m.name === name);
      if (at >= 0) this.middlewares.splice(at, 1);
      return at >= 0;
    },
  };

  async send(request: SqsRequest): Promise<unknown> {
    let handler = async (args: { input: Record<string, unknown> }) => ({ output: await this.post(request.operation, args.input) });
    for (const { middleware } of [...this.middlewares].reverse()) handler = middleware(handler, { commandName: `${request.operation}Command` });
    return (await handler({ input: request.input })).output;
  }

  private async post(operation: SqsOperation, input: Record<string, unknown>): Promise<unknown> {
    const answer = await sendAwsRequest(
      {
        service: 'sqs',
        ...this.endpoint,
        path: '/',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
        body: JSON.stringify(input),
      },
      { retryable: (a) => a.status === 429 || a.status >= 500 || (a.status === 400 && THROTTLING.has(errorName(a).name)) },
    );
    if (answer.status >= 200 && answer.status < 300) return answer.body ? (JSON.parse(answer.body) as unknown) : {};
    const { name, message } = errorName(answer);
    throw new SqsError(name, message, answer.status);
  }

  /** As the SDK client's: nothing to release (fetch keeps its own connections). */
  destroy(): void {}
}
