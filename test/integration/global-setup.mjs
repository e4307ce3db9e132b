// Jest loads global setup outside its transform pipeline; tsx loads the TypeScript fixture.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { startDynamoDbFixture } = await tsImport('./dynamodb-fixture.ts', import.meta.url);
  globalThis.__dynamoDbLocal = await startDynamoDbFixture();
}
