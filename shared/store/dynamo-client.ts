import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../domain/errors.js';
import { tracer } from '../observability.js';

/** Built once per process (cold start), reused by every invocation. Endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return withCachedHandlers(
    DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
  );
}

let shared: DynamoDBDocumentClient | undefined;
export const documentClient = (): DynamoDBDocumentClient => (shared ??= createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))));

/** What a lib-dynamodb command holds (protected members in its types): the low-level command it wraps, and its marshalling step. */
interface DocumentCommand {
  clientCommand: { resolveMiddleware(stack: unknown, config: unknown, options: unknown): CommandHandler };
  middlewareStack: { identify(): string[] };
  addMarshallingMiddleware(config: unknown): void;
}
type CommandHandler = (command: unknown) => Promise<{ output: unknown }>;

const isDocumentCommand = (command: object): command is DocumentCommand & object =>
  'clientCommand' in command && typeof (command as { addMarshallingMiddleware?: unknown }).addMarshallingMiddleware === 'function';

/** The middleware stack's methods that change it: each drops the handlers built from the old stack. */
const STACK_CHANGES = ['add', 'addRelativeTo', 'use', 'remove', 'removeByTag'] as const;

/**
 * The SDK resolves (sorts and composes) the whole middleware stack again for every command it sends:
 * a measurable share of the CPU of each DynamoDB call. Its own cure, `cacheMiddleware`, is refused by
 * the document client, whose commands send the first command's input again from a cached handler.
 * Here a handler is built once per command type, as lib-dynamodb's own resolveMiddleware builds it
 * (marshalling around the low-level command), and called with each command's own low-level command.
 * A middleware added or removed later (tests and benches count or fail calls so) drops the cache.
 */
function withCachedHandlers(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
  let handlers = new Map<unknown, CommandHandler>();
  const stack = client.middlewareStack as unknown as Record<(typeof STACK_CHANGES)[number], (...args: unknown[]) => unknown>;
  for (const change of STACK_CHANGES) {
    const original = stack[change].bind(stack);
    stack[change] = (...args: unknown[]) => {
      handlers = new Map();
      return original(...args);
    };
  }
  const send = client.send.bind(client) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const cachedSend = async (command: object, ...rest: unknown[]): Promise<unknown> => {
    // Per-call options or a callback, a command of another kind, or one given middleware of its own: the SDK's own path.
    if (rest.length > 0 || !isDocumentCommand(command) || command.middlewareStack.identify().length > 0) return send(command, ...rest);
    let handler = handlers.get(command.constructor);
    if (!handler) {
      command.addMarshallingMiddleware(client.config);
      handler = command.clientCommand.resolveMiddleware(client.middlewareStack.concat(command.middlewareStack as never), client.config, undefined);
      handlers.set(command.constructor, handler);
    }
    return (await handler(command.clientCommand)).output;
  };
  client.send = cachedSend as DynamoDBDocumentClient['send'];
  return client;
}

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);

const isThrottling = (error: unknown): boolean => error instanceof Error && THROTTLING.has(error.name);

/** After the SDK's own retries, throttling becomes a 503 with Retry-After instead of a 500. */
export async function withStoreErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isThrottling(error)) throw new ServiceUnavailableError(1);
    throw error;
  }
}
