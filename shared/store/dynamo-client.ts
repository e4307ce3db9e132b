import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../domain/errors.js';
import { tracer } from '../observability.js';

/** Built once per process (cold start), reused by every invocation. Endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

let shared: DynamoDBDocumentClient | undefined;
export const documentClient = (): DynamoDBDocumentClient => (shared ??= createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))));

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
