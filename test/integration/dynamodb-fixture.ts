import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tables, type TableName } from '../../infra/app-definition.js';
import { LOCAL_AWS, startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import { provisionTables } from '../../infra/local/provision.js';

/**
 * Starts the real DynamoDB Local once per run and creates the tables from the shared
 * definition. Workers inherit the environment set here, so handlers find their tables the
 * way they do in Lambda. Fails loudly when Java is missing instead of skipping.
 */
export async function startDynamoDbFixture(): Promise<DynamoDbLocal> {
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
  const names = await provisionTables(client, 'processa-test');
  client.destroy();
  Object.assign(process.env, {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    PUBLIC_BASE_URL: 'http://localhost:3000',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...Object.fromEntries((Object.keys(tables) as TableName[]).map((t) => [tables[t].envVar, names[t]])),
  });
  return dynamo;
}
