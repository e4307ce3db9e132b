/**
 * Template assertions for the Processa stack, checked against the shared app definition so a
 * table, route or grant added there is covered here without editing this file. The stack is
 * synthesized (with real esbuild bundling) once; the dev-stage variant skips bundling.
 * Alarms, the dashboard and cdk-nag are covered in operations.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import {
  decisionStreamFilter,
  defaultRoute,
  deliveryRetry,
  functions,
  queueConsumer,
  queueConsumers,
  queues,
  readsSecretsManager,
  routeKey,
  routes,
  settings,
  streamConsumer,
  tables,
  type FunctionName,
  type SettingDefinition,
  type SettingName,
  type QueueAccess,
  type QueueName,
  type TableAccess,
  type TableDefinition,
  type TableName,
} from '../../infra/app-definition.js';
import { functionEnvironment } from '../../infra/function-environment.js';
import { configFromContext } from '../../infra/stacks/context.js';
import { assertEventSourceLimits, definedEventSourceLimits } from '../../infra/stacks/event-sources.js';
import { outputNames } from '../../infra/stacks/outputs.js';
import { ProcessaStack } from '../../infra/stacks/processa-stack.js';

// The template is plain JSON; `any` keeps the walking code short.
type Json = any;

const functionNames = Object.keys(functions) as FunctionName[];
const tableNames = Object.keys(tables) as TableName[];
const queueNames = Object.keys(queues) as QueueName[];

const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const STREAM_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
const SEND_ACTIONS = ['sqs:SendMessage'];
const CONSUME_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'];
/** What CDK sets with the Parameters and Secrets extension (processa-function.ts: its defaults, log level WARN, cache off). */
const SECRETS_EXTENSION_VARIABLES = {
  PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'false',
  PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '1000',
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
  PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'warn',
  PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS: '3',
  SECRETS_MANAGER_TIMEOUT_MILLIS: '0',
  SECRETS_MANAGER_TTL: '300',
  SSM_PARAMETER_STORE_TIMEOUT_MILLIS: '0',
  SSM_PARAMETER_STORE_TTL: '300',
};
/** What grantSendMessages adds besides SendMessage; harmless metadata reads. */
const SEND_METADATA = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];

let outdir: string;
let assemblyDir: string;
let stack: ProcessaStack;
let template: Template;
let resources: Record<string, Json>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'processa-cdk-'));
  const app = new App({ outdir });
  const config = configFromContext(app.node);
  stack = new ProcessaStack(app, config.stackName, config.props);
  assemblyDir = app.synth().directory;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Json>;
}, 240_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const tableId = (name: TableName): string => logicalId(stack.stateful.tables[name]);
const queueId = (name: QueueName): string => logicalId(stack.stateful.queues[name]);
const functionId = (name: FunctionName): string => logicalId(stack.stateless.functions[name]);
const roleId = (name: FunctionName): string => {
  const role = stack.stateless.functions[name].role;
  if (!role) throw new Error(`${name} has no role`);
  return logicalId(role);
};

/** Every `logicalId.Attribute` a fragment points at (`logicalId.Ref` for a Ref). */
function referencedAttributes(fragment: Json, found = new Set<string>()): Set<string> {
  if (Array.isArray(fragment)) fragment.forEach((item) => referencedAttributes(item, found));
  else if (fragment && typeof fragment === 'object') {
    for (const [key, value] of Object.entries(fragment)) {
      if (key === 'Ref' && typeof value === 'string') found.add(`${value}.Ref`);
      else if (key === 'Fn::GetAtt' && Array.isArray(value)) found.add(`${String(value[0])}.${String(value[1])}`);
      else referencedAttributes(value, found);
    }
  }
  return found;
}

/** Every logical id a fragment points at through Ref or Fn::GetAtt. */
const referencedIds = (fragment: Json): Set<string> => new Set([...referencedAttributes(fragment)].map((ref) => ref.slice(0, ref.lastIndexOf('.'))));

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Actions a function's role allows on "*" in `inStack`, sorted. */
function unscopedActions(inStack: ProcessaStack, name: FunctionName): string[] {
  const json = Template.fromStack(inStack).toJSON().Resources as Record<string, Json>;
  const role = inStack.getLogicalId(inStack.stateless.functions[name].role!.node.defaultChild as CfnElement);
  const isRole = (ref: Json) => JSON.stringify(ref) === JSON.stringify({ Ref: role });
  return Object.values(json)
    .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some(isRole))
    .flatMap((r: Json) => r.Properties.PolicyDocument.Statement as Statement[])
    .filter((st) => JSON.stringify(st.Resource) === '"*"' || (Array.isArray(st.Resource) && st.Resource.includes('*')))
    .flatMap(actionsOf)
    .sort();
}

/** Statements of every inline policy attached to the function's role. */
function roleStatements(name: FunctionName): Statement[] {
  const role = roleId(name);
  return Object.values(resources)
    .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && referencedIds(r.Properties.Roles).has(role))
    .flatMap((r: Json) => r.Properties.PolicyDocument.Statement as Statement[]);
}

/** Actions with `prefix` the function's role allows on one attribute (e.g. `Table.Arn`) of a resource. */
function actionsOn(name: FunctionName, attribute: string, prefix: string): Set<string> {
  const actions = new Set<string>();
  for (const statement of roleStatements(name)) {
    if (statement.Effect !== 'Allow' || !referencedAttributes(statement.Resource).has(attribute)) continue;
    actionsOf(statement)
      .filter((a) => a.startsWith(prefix))
      .forEach((a) => actions.add(a));
  }
  return actions;
}

/** The alarm topic's ARN as the template writes it (a Ref to the topic). */
const alarmTopicRef = () => ({ Ref: logicalId(stack.operations.topic) });
/** The generated email-link key secret's ARN as the template writes it. */
const emailLinkKeyRef = () => ({ Ref: logicalId(stack.emailLinkKey) });

/** DynamoDB actions the function's role allows on one table's items (or its indexes), not its stream. */
const dynamoActionsOn = (name: FunctionName, table: TableName): Set<string> => actionsOn(name, `${tableId(table)}.Arn`, 'dynamodb:');
/** DynamoDB actions the function's role allows on one table's stream. */
const streamActionsOn = (name: FunctionName, table: TableName): Set<string> => actionsOn(name, `${tableId(table)}.StreamArn`, 'dynamodb:');
/** SQS actions the function's role allows on one queue. */
const sqsActionsOn = (name: FunctionName, queue: QueueName): Set<string> => actionsOn(name, `${queueId(queue)}.Arn`, 'sqs:');

const mappingsOf = (): Json[] => Object.values(resources).filter((r: Json) => r.Type === 'AWS::Lambda::EventSourceMapping');

describe('functions', () => {
  it('creates exactly one function per definition entry', () => {
    template.resourceCountIs('AWS::Lambda::Function', functionNames.length);
  });

  it.each(functionNames)('%s: Node.js 24 (the newest runtime) on arm64, no X-Ray tracing by default, settings from the definition', (name) => {
    const definition = functions[name];
    const fn = resources[functionId(name)];
    expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: definition.memoryMb,
      Timeout: definition.timeoutSeconds,
      Description: definition.description,
      Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'processa', NODE_OPTIONS: '--enable-source-maps' } },
    });
  });

  it.each(functionNames)('%s: logs to its own log group kept for one month', (name) => {
    const fn = resources[functionId(name)];
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  it.each(functionNames)('%s: JSON log format, platform lines (START, END, REPORT) dropped at WARN, its own at INFO', (name) => {
    expect(resources[functionId(name)].Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' });
  });

  it('every function in the template was bundled: its Code.S3Key asset folder holds index.mjs and its source map', () => {
    const fns = Object.values(resources).filter((r: Json) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(functionNames.length);
    for (const fn of fns) {
      const s3Key = fn.Properties.Code.S3Key as string;
      expect(s3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const dir = join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`);
      expect({ dir, index: existsSync(join(dir, 'index.mjs')), map: existsSync(join(dir, 'index.mjs.map')) }).toEqual({ dir, index: true, map: true });
    }
  });

  it.each(functionNames)('%s: its own role, no AWS managed policy, logs only to its own log group', (name) => {
    const role = resources[roleId(name)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    const logGroupId = resources[functionId(name)].Properties.LoggingConfig.LogGroup.Ref as string;
    const logStatements = roleStatements(name).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
    expect(logStatements.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    for (const statement of logStatements) expect([...referencedIds(statement.Resource)]).toEqual([logGroupId]);
  });

  it.each(functionNames)('%s: with tracing off (the default), nothing is granted on "*" but ListStreams to the stream consumer', (name) => {
    // The evidence behind the AwsSolutions-IAM5[Resource::*] acknowledgment in nag-suppressions.ts.
    expect(unscopedActions(stack, name)).toEqual(name === streamConsumer.function ? ['dynamodb:ListStreams'] : []);
  });

  it('every bundle takes credentials from the environment only: no SSO, STS, ini, process or metadata provider', () => {
    for (const fn of Object.values(resources).filter((r: Json) => r.Type === 'AWS::Lambda::Function')) {
      const dir = join(assemblyDir, `asset.${(fn.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
      const sources = (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
      const providers = new Set(
        sources.map((source) => /(credential-provider-[\w-]+|token-providers|nested-clients|client-sso|client-sts)\//.exec(source)?.[1]).filter(Boolean),
      );
      // A function without an AWS client (describeApi) bundles no provider at all.
      expect({ dir, providers: [...providers].filter((p) => p !== 'credential-provider-env') }).toEqual({ dir, providers: [] });
      if (providers.size > 0) expect(sources.some((source) => source.includes('shared/credentials-from-env/'))).toBe(true);
    }
  });

  it('with tracing off (the default), no bundle holds the tracer or the X-Ray SDK: the no-op in shared/tracing-off stands in', () => {
    const fns = Object.values(resources).filter((r: Json) => r.Type === 'AWS::Lambda::Function');
    for (const fn of fns) {
      const dir = join(assemblyDir, `asset.${(fn.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`);
      const sources = (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
      expect({ dir, xray: sources.filter((source) => /aws-xray-sdk|@aws-lambda-powertools\/tracer/.test(source)) }).toEqual({ dir, xray: [] });
      expect(sources.some((source) => source.includes('shared/tracing-off/'))).toBe(true);
    }
  });

  it.each(functionNames)('%s: the bundled asset exports `handler` from the file the Handler names', (name) => {
    const fn = resources[functionId(name)];
    const s3Key = fn.Properties.Code.S3Key as string;
    const hash = s3Key.replace(/\.zip$/, '');
    const dir = join(assemblyDir, `asset.${hash}`);
    const [fileBase, exported] = (fn.Properties.Handler as string).split('.');
    const file = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, `${fileBase}${ext}`)).find((f) => existsSync(f));
    if (!file) throw new Error(`No ${fileBase}.(m|c)js in ${dir}`);
    const source = readFileSync(file, 'utf8');
    // esbuild writes ESM exports as one `export{local as name,...}` list; importing the bundle
    // would run module-level code that needs table names in the environment.
    const exportedNames = [...source.matchAll(/export\s*\{([^}]*)\}/g)]
      .flatMap((m) => (m[1] ?? '').split(','))
      .map((spec) =>
        spec
          .trim()
          .split(/\s+as\s+/)
          .pop()
          ?.trim(),
      );
    expect(exportedNames).toContain(exported);
    expect(existsSync(`${file}.map`)).toBe(true);
  });
});

describe('tables', () => {
  it('creates exactly one table per definition entry, keyed as defined, on demand, with PITR and AWS-managed encryption', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tableNames.length);
    for (const name of tableNames) {
      expect(resources[tableId(name)].Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      const definition: TableDefinition = tables[name];
      expect(resources[tableId(name)].Properties.KeySchema).toEqual([
        { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
        ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      // AWS-managed, not a customer key: no KMSMasterKeyId.
      expect(resources[tableId(name)].Properties.SSESpecification.KMSMasterKeyId).toBeUndefined();
    }
  });

  it('drafts: stream with old and new images, the sharded keys-only listing and sparse expiry indexes (test/infra/draft-indexes.test.ts)', () => {
    expect(resources[tableId('drafts')].Properties).toMatchObject({
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: [
        { IndexName: 'by-status-shard', Projection: { ProjectionType: 'KEYS_ONLY' } },
        { IndexName: 'by-created-shard', Projection: { ProjectionType: 'KEYS_ONLY' } },
        { IndexName: 'expiry-shard', Projection: { ProjectionType: 'KEYS_ONLY' } },
      ],
    });
  });

  it('apiKeys: keyed by hash, with the by-id index and no stream', () => {
    const props = resources[tableId('apiKeys')].Properties;
    expect(props).toMatchObject({
      KeySchema: [{ AttributeName: 'keyHash', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{ IndexName: 'by-id', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    });
    expect(props.StreamSpecification).toBeUndefined();
  });

  it('idempotency: TTL on expiresAtEpoch, no indexes', () => {
    const props = resources[tableId('idempotency')].Properties;
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAtEpoch', Enabled: true });
    expect(props.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('webhooks: the by-kind index (kind, createdAt), no stream, no TTL', () => {
    const props = resources[tableId('webhooks')].Properties;
    expect(props).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-kind',
          KeySchema: [
            { AttributeName: 'kind', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
    expect(props.StreamSpecification).toBeUndefined();
    expect(props.TimeToLiveSpecification).toBeUndefined();
  });

  it('deliveries: endpointId + attemptKey, TTL on expiresAtEpoch, a sparse index of dead deliveries by endpoint', () => {
    const props = resources[tableId('deliveries')].Properties;
    expect(props.KeySchema).toEqual([
      { AttributeName: 'endpointId', KeyType: 'HASH' },
      { AttributeName: 'attemptKey', KeyType: 'RANGE' },
    ]);
    expect(props.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'endpointId', AttributeType: 'S' },
        { AttributeName: 'attemptKey', AttributeType: 'S' },
      ]),
    );
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAtEpoch', Enabled: true });
    expect(props.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'dead-by-endpoint',
        KeySchema: [
          { AttributeName: 'deadEndpointId', KeyType: 'HASH' },
          { AttributeName: 'diedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('has no hard-coded physical names', () => {
    for (const name of tableNames) expect(resources[tableId(name)].Properties.TableName).toBeUndefined();
    for (const name of queueNames) expect(resources[queueId(name)].Properties.QueueName).toBeUndefined();
    for (const name of functionNames) expect(resources[functionId(name)].Properties.FunctionName).toBeUndefined();
  });
});

describe('queues', () => {
  it('deliveries: SQS redrives to the DLQ only as a backstop (12 receives, above the 4 attempts the delivery counts), retention and visibility from the definition', () => {
    expect(resources[queueId('deliveries')].Properties).toEqual({
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId('deliveriesDlq'), 'Arn'] }, maxReceiveCount: 12 },
      VisibilityTimeout: queues.deliveries.visibilityTimeoutSeconds,
      MessageRetentionPeriod: queues.deliveries.retentionDays * 24 * 60 * 60,
      SqsManagedSseEnabled: true,
    });
  });

  it('deliveriesDlq: keeps dead deliveries for 14 days and has no redrive of its own', () => {
    const props = resources[queueId('deliveriesDlq')].Properties;
    expect(props).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 60 * 60, SqsManagedSseEnabled: true });
    expect(props.RedrivePolicy).toBeUndefined();
  });

  it('fanOutFailures: keeps failed stream batches for 14 days and has no redrive of its own', () => {
    const props = resources[queueId('fanOutFailures')].Properties;
    expect(props).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
      VisibilityTimeout: queues.fanOutFailures.visibilityTimeoutSeconds,
      SqsManagedSseEnabled: true,
    });
    expect(props.RedrivePolicy).toBeUndefined();
  });

  it('the consumed queue: visibility timeout at least 6× the consuming function timeout (AWS recommends it; Lambda requires 1×)', () => {
    const visibility = resources[queueId(queueConsumer.queue)].Properties.VisibilityTimeout as number;
    const timeout = resources[functionId(queueConsumer.function)].Properties.Timeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    expect(deliveryRetry.maxBackoffSeconds).toBeLessThanOrEqual(12 * 60 * 60);
  });

  it.each(queueNames)('%s: its queue policy denies requests without TLS', (name) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId(name) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

describe('HTTP API', () => {
  it('has exactly the routes of the definition, plus $default', () => {
    const keys = Object.values(resources)
      .filter((r: Json) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r: Json) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual([...routes.map(routeKey), defaultRoute.key].sort());
    // Including the webhooks API.
    for (const key of ['POST /v1/webhooks', 'GET /v1/webhooks/{id}/deliveries', 'POST /v1/webhooks/{id}/redrive']) expect(keys).toContain(key);
  });

  it.each(routes.map((r) => [routeKey(r), r.function] as const))('%s goes to %s, without an authorizer', (key, fnName) => {
    const [route] = Object.values(resources).filter((r: Json) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === key);
    expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    const [integrationId] = [...referencedIds(route.Properties.Target)];
    const integration = resources[integrationId as string];
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect([...referencedIds(integration.Properties.IntegrationUri)]).toEqual([functionId(fnName)]);
  });

  it("$default (every request no route matches) goes to the definition's function, without an authorizer, so unknown routes get the documented error shape", () => {
    const [route, ...others] = Object.values(resources).filter((r: Json) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === '$default');
    expect(others).toHaveLength(0);
    expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    const integration = resources[[...referencedIds(route.Properties.Target)][0] as string];
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect([...referencedIds(integration.Properties.IntegrationUri)]).toEqual([functionId(defaultRoute.function)]);
    // API Gateway may invoke that function for any method and path of this API.
    const permissions = Object.values(resources).filter(
      (r: Json) => r.Type === 'AWS::Lambda::Permission' && referencedIds(r.Properties.FunctionName).has(functionId(defaultRoute.function)),
    );
    expect(permissions.filter((p: Json) => p.Properties.SourceArn['Fn::Join'][1].at(-1) === '/*/*')).toHaveLength(1);
  });

  it('shares one integration per function', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', new Set([...routes.map((r) => r.function), defaultRoute.function]).size);
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  });

  it('$default stage: auto-deployed, throttled, access-logged to a log group kept for one month', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const [stage] = Object.values(resources).filter((r: Json) => r.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    expect(stage.Properties.AccessLogSettings.Format).toContain('$context.requestId');
    const [logGroupId] = [...referencedIds(stage.Properties.AccessLogSettings.DestinationArn)];
    expect(resources[logGroupId as string]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });
});

describe('event sources', () => {
  it('has exactly the stream mapping and one per queue consumer (deliveries, notifications)', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1 + queueConsumers.length);
    expect(queueConsumers.map((c) => [c.queue, c.function])).toEqual([
      ['deliveries', 'deliverWebhooks'],
      ['notifications', 'deliverNotifications'],
    ]);
  });

  it('notifications queue → deliverNotifications: batches of 10, partial failures, up to 10 concurrent batches; the shared DLQ as backstop', () => {
    const [mapping, ...others] = mappingsOf().filter((m) => referencedAttributes(m.Properties.EventSourceArn).has(`${queueId('notifications')}.Arn`));
    expect(others).toHaveLength(0);
    expect(mapping.Properties).toMatchObject({
      FunctionName: { Ref: functionId('deliverNotifications') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(resources[queueId('notifications')].Properties).toMatchObject({
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId('deliveriesDlq'), 'Arn'] }, maxReceiveCount: deliveryRetry.backstopReceives },
    });
  });

  it('drafts stream → fanOutDecisions: filtered to decisions, bisected, retried, failures to fanOutFailures', () => {
    const [mapping, ...others] = mappingsOf().filter((m) => referencedAttributes(m.Properties.EventSourceArn).has(`${tableId('drafts')}.StreamArn`));
    expect(others).toHaveLength(0);
    expect(mapping.Properties).toMatchObject({
      FunctionName: { Ref: functionId('fanOutDecisions') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: streamConsumer.batchSize,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId('fanOutFailures'), 'Arn'] } } },
    });
    // The pattern Lambda evaluates is the definition's, unchanged (leaf arrays = allowed values),
    // in the stream record's shape: eventName, dynamodb.OldImage/NewImage.status.S.
    const filters = mapping.Properties.FilterCriteria.Filters as Array<{ Pattern: string }>;
    expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual(JSON.parse(JSON.stringify(streamConsumer.filters)));
    expect(JSON.parse(filters[0]!.Pattern)).toEqual(JSON.parse(JSON.stringify(decisionStreamFilter)));
    expect(JSON.parse(filters[0]!.Pattern)).toEqual({
      eventName: ['MODIFY'],
      dynamodb: { OldImage: { status: { S: ['pending'] } }, NewImage: { status: { S: ['approved', 'rejected'] } } },
    });
    expect(JSON.parse(filters[1]!.Pattern)).toEqual({
      eventName: ['MODIFY'],
      dynamodb: { OldImage: { status: { S: ['pending'] } }, NewImage: { status: { S: ['expired'] } } },
    });
  });

  it('expireDrafts may send reminders to the notifications queue only (channels), and nothing to the deliveries queue', () => {
    expect([...sqsActionsOn('expireDrafts', 'notifications')].sort()).toEqual([...SEND_ACTIONS, ...SEND_METADATA].sort());
    for (const queue of ['deliveries', 'deliveriesDlq', 'fanOutFailures'] as const)
      expect({ queue, actions: [...sqsActionsOn('expireDrafts', queue)] }).toEqual({ queue, actions: [] });
    expect(resources[functionId('expireDrafts')].Properties.Environment.Variables[queues.deliveries.envVar]).toBeUndefined();
  });

  const scheduleRules = () => Object.values(resources).filter((r: any) => r.Type === 'AWS::Events::Rule') as any[];
  const scheduleOf = (fn: FunctionName) => scheduleRules().filter((r) => JSON.stringify(r.Properties.Targets).includes(functionId(fn)));

  it('expireDrafts runs every minute on a schedule', () => {
    expect(scheduleRules()).toHaveLength(2);
    expect(scheduleOf('expireDrafts').map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });

  it('sweepDeadLetters sweeps the DLQ every 5 minutes on a schedule, retried twice when a run fails', () => {
    const [rule, ...others] = scheduleOf('sweepDeadLetters');
    expect(others).toHaveLength(0);
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 2 } })]);
  });

  it('sweepDeadLetters may consume the DLQ (never send there), send to the delivery queues, read endpoints and write delivery states; nothing else', () => {
    expect([...sqsActionsOn('sweepDeadLetters', 'deliveriesDlq')].sort()).toEqual([...CONSUME_ACTIONS, 'sqs:GetQueueUrl'].sort());
    for (const queue of ['deliveries', 'notifications'] as const)
      expect({ queue, actions: [...sqsActionsOn('sweepDeadLetters', queue)].sort() }).toEqual({ queue, actions: [...SEND_ACTIONS, ...SEND_METADATA].sort() });
    expect([...sqsActionsOn('sweepDeadLetters', 'fanOutFailures')]).toEqual([]);
    for (const action of READ_ACTIONS) expect(dynamoActionsOn('sweepDeadLetters', 'webhooks')).toContain(action);
    for (const action of WRITE_ACTIONS) expect(dynamoActionsOn('sweepDeadLetters', 'webhooks')).not.toContain(action);
    expect(dynamoActionsOn('sweepDeadLetters', 'deliveries')).toContain('dynamodb:UpdateItem');
    for (const table of ['drafts', 'apiKeys', 'sessions', 'idempotency'] as const) {
      expect({ table, actions: [...dynamoActionsOn('sweepDeadLetters', table)] }).toEqual({ table, actions: [] });
      for (const statement of roleStatements('sweepDeadLetters')) expect(referencedIds(statement.Resource)).not.toContain(tableId(table));
    }
    const services = new Set(
      roleStatements('sweepDeadLetters')
        .flatMap(actionsOf)
        .map((a) => a.split(':')[0]),
    );
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'sqs']);
  });

  it('deliveries queue → deliverWebhooks: batches of 10, partial failures, up to 50 concurrent batches (room beside batches a hanging receiver holds)', () => {
    const [mapping, ...others] = mappingsOf().filter((m) => referencedAttributes(m.Properties.EventSourceArn).has(`${queueId('deliveries')}.Arn`));
    expect(others).toHaveLength(0);
    expect(mapping.Properties).toMatchObject({
      FunctionName: { Ref: functionId('deliverWebhooks') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    // maxBatchingWindowSeconds 0 in the definition: no window, invoke as soon as messages arrive.
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it('the limit check rejects a consumed queue whose visibility timeout is shorter than the consumer timeout', () => {
    const valid = definedEventSourceLimits(deliveryRetry.baseSeconds, deliveryRetry.timeoutMs);
    expect(() => assertEventSourceLimits(valid)).not.toThrow();
    const shortVisibility = { ...valid, queues: { ...valid.queues, deliveries: { visibilityTimeoutSeconds: 20 } } };
    expect(() => assertEventSourceLimits(shortVisibility)).toThrow(/visibility timeout of 20 s, shorter than the 30 s timeout of deliverWebhooks/);
    const underSixTimes = { ...valid, queues: { ...valid.queues, deliveries: { visibilityTimeoutSeconds: 60 } } };
    expect(() => assertEventSourceLimits(underSixTimes)).toThrow(/visibility timeout of 60 s, less than 6× the 30 s timeout of deliverWebhooks/);
    const tightBackstop = { ...valid, queues: { ...valid.queues, deliveries: { visibilityTimeoutSeconds: 180, maxReceiveCount: 4 } } };
    expect(() => assertEventSourceLimits(tightBackstop)).toThrow(/maxReceiveCount 4: as a backstop/);
    const longBackoff = { ...valid, deliveryRetry: { ...valid.deliveryRetry, maxBackoffSeconds: 12 * 60 * 60 + 1 } };
    expect(() => assertEventSourceLimits(longBackoff)).toThrow(/maxBackoffSeconds.*43200/);
    expect(() => assertEventSourceLimits({ ...valid, webhookTimeoutMs: 30_000 })).toThrow(/webhookTimeoutMs/);
  });
});

describe('least privilege', () => {
  // Operator notices (endpoint.disabled, delivery.exhausted) go to the alarm topic from the functions the definition names, and no other.
  it.each(functionNames)('%s: may publish to the alarm topic (and use its key) only if it sends operator notices', (fn) => {
    const publishes = (settings.operatorTopicArn.functions as readonly FunctionName[]).includes(fn);
    const topic = logicalId(stack.operations.topic);
    const key = logicalId(stack.operations.topicKey);
    expect({ fn, sns: [...actionsOn(fn, `${topic}.Ref`, 'sns:')], kms: [...actionsOn(fn, `${key}.Arn`, 'kms:')].sort() }).toEqual({
      fn,
      sns: publishes ? ['sns:Publish'] : [],
      kms: publishes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : [],
    });
    // sns:Publish on nothing else (no wildcard, no other topic).
    const elsewhere = roleStatements(fn).filter(
      (st) => actionsOf(st).some((a) => a.startsWith('sns:')) && !referencedAttributes(st.Resource).has(`${topic}.Ref`),
    );
    expect(elsewhere).toEqual([]);
  });

  // Notification emails leave through SES v2 as the notifyFrom identity: the delivery function alone may send, and only as it.
  it('ses:SendEmail is granted only with notifyFrom, only to deliverNotifications, only on that identity (the address and its domain)', () => {
    const sesStatements = (statements: Statement[]) => statements.filter((st) => actionsOf(st).some((a) => a.startsWith('ses:')));
    // The default synth has no notifyFrom: no function may send email.
    for (const fn of functionNames) expect({ fn, ses: sesStatements(roleStatements(fn)) }).toEqual({ fn, ses: [] });

    const app = new App({ outdir: join(outdir, 'notify'), context: { notifyFrom: 'approvals@mail.example.com', 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    const custom = new ProcessaStack(app, config.stackName, config.props);
    const customResources = Template.fromStack(custom).toJSON().Resources as Record<string, Json>;
    const idOf = (construct: IConstruct) => custom.getLogicalId(construct.node.defaultChild as CfnElement);
    const statementsOf = (fn: FunctionName): Statement[] => {
      const role = idOf(custom.stateless.functions[fn].role!);
      return Object.values(customResources)
        .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && referencedIds(r.Properties.Roles).has(role))
        .flatMap((r: Json) => r.Properties.PolicyDocument.Statement as Statement[]);
    };
    for (const fn of functionNames.filter((f) => f !== 'deliverNotifications')) expect({ fn, ses: sesStatements(statementsOf(fn)) }).toEqual({ fn, ses: [] });
    const granted = sesStatements(statementsOf('deliverNotifications'));
    expect(granted.flatMap(actionsOf)).toEqual(['ses:SendEmail']);
    expect(granted.every((st) => st.Effect === 'Allow')).toBe(true);
    const identities = granted
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]))
      .map((resource: Json) => {
        const arn = JSON.stringify(resource);
        // No wildcard anywhere: an identity ARN in this account and region, nothing else.
        expect(arn).not.toContain('*');
        expect(arn).toContain(':ses:');
        return arn.match(/:identity\/([^"]+)"/)?.[1];
      });
    expect(identities.sort()).toEqual(['approvals@mail.example.com', 'mail.example.com']);
    // And the function is told which identity to send as.
    const variables = customResources[idOf(custom.stateless.functions.deliverNotifications)].Properties.Environment.Variables;
    expect(variables[settings.notifyFrom.envVar]).toBe('approvals@mail.example.com');
    expect(customResources[idOf(custom.stateless.functions.deliverWebhooks)].Properties.Environment.Variables[settings.notifyFrom.envVar]).toBeUndefined();
  });

  it('readDrafts may only read, and only the drafts and apiKeys tables (and their indexes)', () => {
    const allowed = new Set([tableId('drafts'), tableId('apiKeys')]);
    const dynamoStatements = roleStatements('readDrafts').filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamoStatements.length).toBeGreaterThan(0);
    for (const statement of dynamoStatements) {
      for (const action of WRITE_ACTIONS) expect(actionsOf(statement)).not.toContain(action);
      expect(actionsOf(statement)).not.toContain('dynamodb:*');
      expect(statement.Resource).not.toBe('*');
      for (const id of referencedIds(statement.Resource)) expect(allowed).toContain(id);
    }
    // Both tables and their indexes (the list queries go through by-status / by-created).
    const resourcesJson = JSON.stringify(dynamoStatements.map((s) => s.Resource));
    for (const table of ['drafts', 'apiKeys'] as const) {
      expect(dynamoActionsOn('readDrafts', table).has('dynamodb:Query')).toBe(true);
      expect(resourcesJson).toContain(JSON.stringify([{ 'Fn::GetAtt': [tableId(table), 'Arn'] }, '/index/*']));
    }
  });

  it('the functions where keys decide may check the decider key in the decision transaction (ConditionCheckItem), and not write keys', () => {
    for (const name of ['decideDraft', 'reviewPages', 'slackInteractions'] as const) {
      const onKeys = dynamoActionsOn(name, 'apiKeys');
      expect(onKeys.has('dynamodb:ConditionCheckItem')).toBe(true);
      for (const action of WRITE_ACTIONS) expect(onKeys.has(action)).toBe(false);
      expect(dynamoActionsOn(name, 'drafts').has('dynamodb:UpdateItem')).toBe(true);
      expect(resources[functionId(name)].Properties.Environment.Variables).toHaveProperty('API_KEYS_TABLE_NAME');
    }
  });

  it('manageKeys has no access to the drafts table, nor its name', () => {
    const draftsId = tableId('drafts');
    for (const statement of roleStatements('manageKeys')) expect(referencedIds(statement.Resource)).not.toContain(draftsId);
    const variables = resources[functionId('manageKeys')].Properties.Environment.Variables;
    expect(variables[tables.drafts.envVar]).toBeUndefined();
  });

  it('fanOutDecisions reads webhooks, reads and writes delivery states (deliveries), reads drafts only through its stream', () => {
    for (const action of READ_ACTIONS) expect(dynamoActionsOn('fanOutDecisions', 'webhooks')).toContain(action);
    // It writes each delivery's queued state, after reading (one BatchGetItem per batch) whether one from before the sharded keys exists.
    expect(dynamoActionsOn('fanOutDecisions', 'deliveries')).toContain('dynamodb:PutItem');
    expect(dynamoActionsOn('fanOutDecisions', 'deliveries')).toContain('dynamodb:GetItem');
    expect(dynamoActionsOn('fanOutDecisions', 'deliveries')).toContain('dynamodb:BatchGetItem');
    const statements = roleStatements('fanOutDecisions');
    for (const statement of statements) {
      const onDeliveries = referencedIds(statement.Resource).has(tableId('deliveries'));
      if (!onDeliveries) for (const action of WRITE_ACTIONS) expect(actionsOf(statement)).not.toContain(action);
      expect(actionsOf(statement).filter((a) => a.endsWith(':*'))).toEqual([]);
    }
    // Not the drafts items, nor the name: only the stream.
    expect([...dynamoActionsOn('fanOutDecisions', 'drafts')]).toEqual([]);
    expect([...streamActionsOn('fanOutDecisions', 'drafts')].sort()).toEqual([...STREAM_ACTIONS].sort());
    expect(resources[functionId('fanOutDecisions')].Properties.Environment.Variables[tables.drafts.envVar]).toBeUndefined();
    // ListStreams has no resource-level permissions in IAM, so it can only be granted on "*".
    const onAnything = statements.filter((s) => JSON.stringify(s.Resource) === '"*"').flatMap(actionsOf);
    expect(onAnything.filter((a) => !a.startsWith('xray:'))).toEqual(['dynamodb:ListStreams']);
    // Only the webhooks table's items, the deliveries table's (states) and the drafts stream.
    const dynamoTargets = new Set(
      statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')) && s.Resource !== '*').flatMap((s) => [...referencedAttributes(s.Resource)]),
    );
    expect([...dynamoTargets].sort()).toEqual([`${tableId('drafts')}.StreamArn`, `${tableId('webhooks')}.Arn`, `${tableId('deliveries')}.Arn`].sort());
  });

  it('fanOutDecisions may only send: to the deliveries queue, and to fanOutFailures as the on-failure destination', () => {
    for (const queue of ['deliveries', 'fanOutFailures'] as const) {
      const actions = sqsActionsOn('fanOutDecisions', queue);
      expect(actions).toContain('sqs:SendMessage');
      for (const action of actions) expect([...SEND_ACTIONS, ...SEND_METADATA]).toContain(action);
    }
    expect([...sqsActionsOn('fanOutDecisions', 'deliveriesDlq')]).toEqual([]);
    const allSqs = roleStatements('fanOutDecisions')
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('sqs:'));
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:*']) {
      expect(allSqs).not.toContain(action);
    }
  });

  it('deliverWebhooks reads and writes webhooks (to disable a gone endpoint), reads and writes deliveries (states and log), consumes the deliveries queue, sends to the DLQ, nothing on drafts or apiKeys', () => {
    for (const action of READ_ACTIONS) expect(dynamoActionsOn('deliverWebhooks', 'webhooks')).toContain(action);
    expect(dynamoActionsOn('deliverWebhooks', 'webhooks')).toContain('dynamodb:PutItem');
    const deliveriesTable = dynamoActionsOn('deliverWebhooks', 'deliveries');
    for (const action of ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:GetItem']) expect(deliveriesTable).toContain(action);
    for (const action of CONSUME_ACTIONS) expect(sqsActionsOn('deliverWebhooks', 'deliveries')).toContain(action);
    // It moves dead messages to the DLQ itself, and does nothing else there.
    expect([...sqsActionsOn('deliverWebhooks', 'deliveriesDlq')].sort()).toEqual([...SEND_ACTIONS, ...SEND_METADATA].sort());
    expect([...sqsActionsOn('deliverWebhooks', 'fanOutFailures')]).toEqual([]);
    const forbidden = new Set([tableId('drafts'), tableId('apiKeys')]);
    for (const statement of roleStatements('deliverWebhooks')) {
      for (const id of referencedIds(statement.Resource)) expect(forbidden.has(id)).toBe(false);
    }
  });

  it("deliverWebhooks sends to the notifications queue (operator notices, channels' messages, operational events) and publishes nothing, sends no email, reads no secret", () => {
    expect([...sqsActionsOn('deliverWebhooks', 'notifications')].sort()).toEqual([...SEND_ACTIONS, ...SEND_METADATA].sort());
    const actions = roleStatements('deliverWebhooks').flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('sns:') || a.startsWith('ses:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('deliverNotifications: the same tables as deliverWebhooks, consumes the notifications queue, sends to deliveries (operational events) and the DLQ, nothing on drafts or apiKeys', () => {
    for (const action of READ_ACTIONS) expect(dynamoActionsOn('deliverNotifications', 'webhooks')).toContain(action);
    for (const action of ['dynamodb:BatchWriteItem', 'dynamodb:PutItem', 'dynamodb:GetItem'])
      expect(dynamoActionsOn('deliverNotifications', 'deliveries')).toContain(action);
    for (const action of CONSUME_ACTIONS) expect(sqsActionsOn('deliverNotifications', 'notifications')).toContain(action);
    for (const queue of ['deliveries', 'deliveriesDlq'] as const)
      expect([...sqsActionsOn('deliverNotifications', queue)].sort()).toEqual([...SEND_ACTIONS, ...SEND_METADATA].sort());
    expect([...sqsActionsOn('deliverNotifications', 'fanOutFailures')]).toEqual([]);
    const forbidden = new Set([tableId('drafts'), tableId('apiKeys')]);
    for (const statement of roleStatements('deliverNotifications')) {
      for (const id of referencedIds(statement.Resource)) expect(forbidden.has(id)).toBe(false);
    }
  });

  it('deliverWebhooks learns its queue, tables, retry base and webhook timeout from the environment', () => {
    expect(resources[functionId('deliverWebhooks')].Properties.Environment.Variables).toMatchObject({
      DELIVERIES_QUEUE_URL: { Ref: queueId('deliveries') },
      WEBHOOKS_TABLE_NAME: { Ref: tableId('webhooks') },
      DELIVERIES_TABLE_NAME: { Ref: tableId('deliveries') },
      PROCESSA_RETRY_BASE_SECONDS: String(deliveryRetry.baseSeconds),
      PROCESSA_WEBHOOK_TIMEOUT_MS: String(deliveryRetry.timeoutMs),
    });
  });

  it('manageWebhooks has no access to the drafts table (items or stream), nor its name', () => {
    const draftsId = tableId('drafts');
    for (const statement of roleStatements('manageWebhooks')) expect(referencedIds(statement.Resource)).not.toContain(draftsId);
    expect(resources[functionId('manageWebhooks')].Properties.Environment.Variables[tables.drafts.envVar]).toBeUndefined();
  });

  it('endpoint management (API and settings page) touches no queue, publishes nothing and only reads deliveries: test sends and redrive are the queue-actions functions', () => {
    for (const fn of ['manageWebhooks', 'webhookSettingsPages'] as const) {
      const actions = roleStatements(fn).flatMap(actionsOf);
      expect({ fn, queuesOrTopics: actions.filter((a) => a.startsWith('sqs:') || a.startsWith('sns:')) }).toEqual({ fn, queuesOrTopics: [] });
      for (const action of READ_ACTIONS) expect(dynamoActionsOn(fn, 'deliveries')).toContain(action);
      for (const action of WRITE_ACTIONS) expect(dynamoActionsOn(fn, 'deliveries')).not.toContain(action);
      const variables = resources[functionId(fn)].Properties.Environment.Variables;
      for (const queue of queueNames) expect(variables[queues[queue].envVar]).toBeUndefined();
    }
    for (const fn of ['webhookQueueActions', 'webhookSettingsQueueActions'] as const) {
      const sends = sqsActionsOn(fn, 'deliveries');
      expect(sends).toContain('sqs:SendMessage');
      for (const action of sends) expect([...SEND_ACTIONS, ...SEND_METADATA]).toContain(action);
      // Redrive sweeps the DLQ (receive, delete, release) and sends nothing there.
      for (const action of CONSUME_ACTIONS) expect(sqsActionsOn(fn, 'deliveriesDlq')).toContain(action);
      expect(sqsActionsOn(fn, 'deliveriesDlq')).not.toContain('sqs:SendMessage');
      expect([...sqsActionsOn(fn, 'fanOutFailures')]).toEqual([]);
      // They read endpoints and write delivery states; they never change an endpoint.
      for (const action of WRITE_ACTIONS) expect(dynamoActionsOn(fn, 'webhooks')).not.toContain(action);
      expect(dynamoActionsOn(fn, 'deliveries')).toContain('dynamodb:UpdateItem');
      for (const statement of roleStatements(fn)) expect(referencedIds(statement.Resource)).not.toContain(tableId('drafts'));
    }
  });

  it('only the drafts stream consumer may read a stream', () => {
    for (const fn of functionNames) {
      for (const table of tableNames) {
        const expected = fn === streamConsumer.function && table === streamConsumer.table ? STREAM_ACTIONS : [];
        expect({ fn, table, actions: [...streamActionsOn(fn, table)].sort() }).toEqual({ fn, table, actions: [...expected].sort() });
      }
    }
  });

  // Derived from the definition: every function gets exactly the queues it names, at its level,
  // plus what its event sources need (the stream's on-failure queue, the consumed queue).
  const queueCases = functionNames.flatMap((fn) => queueNames.map((queue) => [fn, queue] as const));
  it.each(queueCases)('%s → queue %s matches the definition', (fn, queue) => {
    const access = (functions[fn] as { queues?: Partial<Record<QueueName, QueueAccess>> }).queues?.[queue];
    const variables = resources[functionId(fn)].Properties.Environment.Variables;
    if (access === undefined) expect(variables[queues[queue].envVar]).toBeUndefined();
    else expect(variables[queues[queue].envVar]).toEqual({ Ref: queueId(queue) });
    const sends = access === 'send' || access === 'sendConsume' || (fn === streamConsumer.function && queue === streamConsumer.onFailure);
    const consumes = access === 'consume' || access === 'sendConsume' || (fn === queueConsumer.function && queue === queueConsumer.queue);
    const actions = sqsActionsOn(fn, queue);
    expect({ sends: actions.has('sqs:SendMessage'), consumes: CONSUME_ACTIONS.every((a) => actions.has(a)) }).toEqual({ sends, consumes });
    if (!consumes) for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']) expect(actions).not.toContain(action);
    if (!sends && !consumes) expect([...actions]).toEqual([]);
  });

  it.each(functionNames)('%s: its environment is exactly its tables, queues and declared settings', (fn) => {
    const variables = resources[functionId(fn)].Properties.Environment.Variables;
    const declared = functionEnvironment(fn, {
      table: (table) => ({ Ref: tableId(table) }),
      queue: (queue) => ({ Ref: queueId(queue) }),
      // The default stack: every setting the stack sets has its default (the stack name is Processa).
      settings: Object.fromEntries(
        (Object.keys(settings) as SettingName[]).flatMap((setting) => {
          const definition: SettingDefinition = settings[setting];
          if (definition.stackResource === 'alarmTopicArn') return [[setting, alarmTopicRef() as unknown as string]]; // the stack passes the ARN token, written as a Ref
          if (definition.stackResource === 'emailLinkKeySecret') return [[setting, emailLinkKeyRef() as unknown as string]];
          return definition.stack ? [[setting, String(definition.stack.default)]] : [];
        }),
      ),
    });
    // The fan-out (draft.created) and the reminder sweep have no request to derive reviewUrl from: the stack gives them the API's URL.
    const givenApiUrl = fn === streamConsumer.function || fn === 'expireDrafts';
    const apiUrl = givenApiUrl
      ? { [settings.publicBaseUrl.envVar]: { 'Fn::Join': ['', expect.arrayContaining([{ Ref: expect.stringMatching(/HttpApi/) }])] } }
      : {};
    // A function that reads a secret has the Parameters and Secrets extension, and with it the extension's own settings.
    const extension = readsSecretsManager(fn, {}) ? SECRETS_EXTENSION_VARIABLES : {};
    expect(variables).toEqual({ POWERTOOLS_SERVICE_NAME: 'processa', NODE_OPTIONS: '--enable-source-maps', ...declared, ...apiUrl, ...extension });
    // Each setting only where the definition says it is read; the local-only ones never.
    for (const setting of Object.keys(settings) as SettingName[]) {
      const definition: SettingDefinition = settings[setting];
      if (setting === 'publicBaseUrl' && givenApiUrl) continue;
      const value =
        definition.stackResource === 'alarmTopicArn'
          ? alarmTopicRef()
          : definition.stackResource === 'emailLinkKeySecret'
            ? emailLinkKeyRef()
            : definition.stack
              ? String(definition.stack.default)
              : undefined;
      const expected = (definition.functions as readonly FunctionName[]).includes(fn) ? value : undefined;
      expect({ setting, value: variables[definition.envVar] }).toEqual({ setting, value: expected });
    }
  });

  // Derived from the definition: every function gets exactly the tables it names, at its level.
  const cases = functionNames.flatMap((fn) => tableNames.map((table) => [fn, table] as const));
  it.each(cases)('%s → %s matches the definition', (fn, table) => {
    const access = (functions[fn].tables as Partial<Record<TableName, TableAccess>>)[table];
    const actions = dynamoActionsOn(fn, table);
    const variables = resources[functionId(fn)].Properties.Environment.Variables;
    if (access === undefined) {
      expect([...actions]).toEqual([]);
      expect(variables[tables[table].envVar]).toBeUndefined();
      return;
    }
    expect(variables[tables[table].envVar]).toEqual({ Ref: tableId(table) });
    const canRead = READ_ACTIONS.every((a) => actions.has(a));
    const canWrite = WRITE_ACTIONS.some((a) => actions.has(a));
    expect({ canRead, canWrite }).toEqual({ canRead: access !== 'write', canWrite: access !== 'read' });
  });
});

describe('tracing context', () => {
  /** A stack synthesized without bundling, with `context` on top. */
  const synthWith = (label: string, context: Record<string, string>) => {
    const app = new App({ outdir: join(outdir, `tracing-${label}`), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    return new ProcessaStack(app, config.stackName, config.props);
  };
  const tracingConfigs = (inStack: ProcessaStack): Json[] => {
    const json = Template.fromStack(inStack).toJSON().Resources as Record<string, Json>;
    return functionNames.map((name) => json[inStack.getLogicalId(inStack.stateless.functions[name].node.defaultChild as CfnElement)].Properties.TracingConfig);
  };

  it('sampled: every function traced actively (Lambda samples), X-Ray the only action on "*" besides ListStreams, no sampling rule', () => {
    const traced = synthWith('sampled', { tracing: 'sampled' });
    expect(tracingConfigs(traced)).toEqual(functionNames.map(() => ({ Mode: 'Active' })));
    for (const name of functionNames) {
      const expected = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments', ...(name === streamConsumer.function ? ['dynamodb:ListStreams'] : [])];
      expect(unscopedActions(traced, name)).toEqual(expected.sort());
      expect(traced.stateless.functions[name].tracingMode).toBe('sampled');
    }
    // Lambda ignores X-Ray sampling rules, so the stack deploys none rather than one that would not apply.
    Template.fromStack(traced).resourceCountIs('AWS::XRay::SamplingRule', 0);
  });

  it('off said explicitly is the default: no tracing config, no X-Ray grant', () => {
    const off = synthWith('off', { tracing: 'off' });
    expect(tracingConfigs(off)).toEqual(functionNames.map(() => undefined));
    for (const name of functionNames) expect(unscopedActions(off, name)).toEqual(name === streamConsumer.function ? ['dynamodb:ListStreams'] : []);
  });

  it.each([['sometimes'], ['all'], ['OFF']])('rejects tracing=%s at synth, naming the key', (value) => {
    expect(() => synthWith(`bad-${value}`, { tracing: value })).toThrow(`tracing must be one of off, sampled, got "${value}"`);
  });
});

describe('secretsExtensionLayerArn context', () => {
  const synthWith = (label: string, context: Record<string, string>) => {
    const app = new App({ outdir: join(outdir, `secrets-layer-${label}`), context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    return new ProcessaStack(app, config.stackName, config.props);
  };
  const layersOf = (inStack: ProcessaStack): Record<string, Json> => {
    const json = Template.fromStack(inStack).toJSON().Resources as Record<string, Json>;
    return Object.fromEntries(
      functionNames.map((name) => [name, json[inStack.getLogicalId(inStack.stateless.functions[name].node.defaultChild as CfnElement)].Properties.Layers]),
    );
  };
  const arn = 'arn:aws:lambda:eu-central-2:123456789012:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:4';

  it('puts the named layer on exactly the functions that read a secret, for Regions CDK lists no layer for', () => {
    const layers = layersOf(synthWith('named', { secretsExtensionLayerArn: arn }));
    for (const name of functionNames) expect(layers[name]).toEqual(readsSecretsManager(name, {}) ? [arn] : undefined);
  });

  it('without it, CDK looks the layer up by Region (a mapping), not the named ARN', () => {
    const layers = layersOf(synthWith('default', {}));
    const readers = functionNames.filter((name) => readsSecretsManager(name, {}));
    expect(readers.length).toBeGreaterThan(0);
    for (const name of readers) expect(JSON.stringify(layers[name])).toContain('Fn::FindInMap');
  });

  it.each([['eu-central-2'], ['arn:aws:lambda:eu-central-2:123456789012:function:x'], [`${arn}:extra`]])(
    'rejects secretsExtensionLayerArn=%s at synth, naming the key',
    (value) => {
      expect(() => synthWith(`bad-${value.length}`, { secretsExtensionLayerArn: value })).toThrow(
        `secretsExtensionLayerArn must be a Lambda layer version ARN`,
      );
    },
  );
});

describe('stack', () => {
  it('outputs the API URL, every table name and every queue URL under fixed names', () => {
    template.hasOutput('ApiUrl', {});
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack.operations.topic) } });
    expect(JSON.stringify(template.toJSON().Outputs.ApiUrl.Value)).toContain('execute-api');
    template.hasOutput('DraftsTableName', { Value: { Ref: tableId('drafts') } });
    template.hasOutput('ApiKeysTableName', { Value: { Ref: tableId('apiKeys') } });
    template.hasOutput('IdempotencyTableName', { Value: { Ref: tableId('idempotency') } });
    template.hasOutput('DeliveriesQueueUrl', { Value: { Ref: queueId('deliveries') } });
    template.hasOutput('DeliveriesDlqUrl', { Value: { Ref: queueId('deliveriesDlq') } });
    template.hasOutput('WebhooksTableName', { Value: { Ref: tableId('webhooks') } });
    template.hasOutput('DeliveriesTableName', { Value: { Ref: tableId('deliveries') } });
    template.hasOutput('FanOutFailuresQueueUrl', { Value: { Ref: queueId('fanOutFailures') } });
    // And nothing else: one per table, one per queue, the API URL and the alarm topic.
    expect(Object.keys(template.toJSON().Outputs)).toHaveLength(2 + tableNames.length + queueNames.length);
  });

  it('names its outputs as infra/stacks/outputs.ts does, the module the CLIs read them by', () => {
    const names = [outputNames.apiUrl, outputNames.alarmTopicArn, ...tableNames.map(outputNames.table), ...queueNames.map(outputNames.queue)];
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(names.sort());
    expect([outputNames.table('apiKeys'), outputNames.queue('deliveriesDlq')]).toEqual(['ApiKeysTableName', 'DeliveriesDlqUrl']);
  });

  it('keeps stateful resources when the stack is deleted (default stage)', () => {
    expect(stack.stackName).toBe('Processa');
    for (const name of tableNames) expect(resources[tableId(name)]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    for (const name of queueNames) expect(resources[queueId(name)]).toMatchObject({ DeletionPolicy: 'Retain' });
    // Logs (functions and API access), the alarm topic and its key too.
    const kept = ['AWS::Logs::LogGroup', 'AWS::SNS::Topic', 'AWS::KMS::Key'];
    const keptResources = Object.values(resources).filter((r: Json) => kept.includes(r.Type));
    expect(keptResources).toHaveLength(functionNames.length + 1 + 2);
    for (const resource of keptResources) expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('every log group has an explicit retention', () => {
    const logGroups = Object.values(resources).filter((r: Json) => r.Type === 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBe(functionNames.length + 1);
    for (const logGroup of logGroups) expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it('asks for no parameters at deploy time (only the bootstrap version, which has a default)', () => {
    const parameters = (template.toJSON().Parameters ?? {}) as Record<string, Json>;
    for (const [name, parameter] of Object.entries(parameters)) {
      expect({ name, hasDefault: parameter.Default !== undefined }).toEqual({ name, hasDefault: true });
    }
    expect(Object.keys(parameters)).toEqual(['BootstrapVersion']);
  });

  it('is environment-agnostic: no account id or region baked into the template', () => {
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
    // The one exception: CDK's table of the Parameters and Secrets extension's layer per region (AWS publishes it
    // from an account of its own in each), picked by AWS::Region at deploy time (Fn::FindInMap).
    const { Mappings: mappings, ...rest } = template.toJSON() as { Mappings?: Record<string, Record<string, Record<string, string>>> };
    expect(Object.keys(mappings ?? {})).toEqual(['ParamsandsecretslayerMap']);
    for (const [region, arns] of Object.entries(mappings!.ParamsandsecretslayerMap!))
      for (const arn of Object.values(arns))
        expect(arn).toMatch(new RegExp(`^arn:aws:lambda:${region}:\\d{12}:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\\d+$`));
    const json = JSON.stringify(rest);
    expect(json).not.toMatch(/(?<![0-9A-Za-z])\d{12}(?![0-9A-Za-z])/);
    expect(json).not.toMatch(
      /\b(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob)-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d\b/,
    );
    // Regions and accounts come from pseudo parameters only.
    expect(json).toContain('{"Ref":"AWS::Region"}');
    expect(json).toContain('{"Ref":"AWS::AccountId"}');
  });

  it('with stage=dev, stateful resources are deleted with the stack', () => {
    // Bundling is skipped for this second synthesis: only deletion policies are under test.
    const app = new App({ outdir: join(outdir, 'dev'), context: { stage: 'dev', stackName: 'ProcessaDev', 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    const devStack = new ProcessaStack(app, config.stackName, config.props);
    const dev = Template.fromStack(devStack);
    expect(devStack.stackName).toBe('ProcessaDev');
    const devResources = dev.toJSON().Resources as Record<string, Json>;
    for (const name of tableNames) {
      const id = devStack.getLogicalId(devStack.stateful.tables[name].node.defaultChild as CfnElement);
      expect(devResources[id]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
    for (const type of ['AWS::SQS::Queue', 'AWS::Logs::LogGroup', 'AWS::SNS::Topic', 'AWS::KMS::Key']) {
      dev.allResources(type, { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  it('passes retryBaseSeconds and webhookTimeoutMs context to the functions that read them, and to no other', () => {
    const app = new App({
      outdir: join(outdir, 'retry'),
      context: { retryBaseSeconds: '2', webhookTimeoutMs: '5000', 'aws:cdk:bundling-stacks': [] },
    });
    const config = configFromContext(app.node);
    const custom = new ProcessaStack(app, config.stackName, config.props);
    const customResources = Template.fromStack(custom).toJSON().Resources as Record<string, Json>;
    const given = { retryBaseSeconds: '2', webhookTimeoutMs: '5000' } as const;
    for (const fn of functionNames) {
      const id = custom.getLogicalId(custom.stateless.functions[fn].node.defaultChild as CfnElement);
      const variables = customResources[id].Properties.Environment.Variables;
      for (const setting of ['retryBaseSeconds', 'webhookTimeoutMs'] as const) {
        const reads = (settings[setting].functions as readonly FunctionName[]).includes(fn);
        expect({ fn, value: variables[settings[setting].envVar] }).toEqual({ fn, value: reads ? given[setting] : undefined });
      }
    }
  });

  it.each([['soon'], ['0'], ['2.5'], ['30000']])('rejects a webhookTimeoutMs context of %s', (value) => {
    const app = new App({ outdir: join(outdir, `bad-timeout-${value}`), context: { webhookTimeoutMs: value, 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    expect(() => new ProcessaStack(app, config.stackName, config.props)).toThrow(/webhookTimeoutMs/);
  });

  it('binds the breaker settings (K 5, cooldown 30 s by default; context breakerFailures, breakerCooldownSeconds) to the delivery workers only', () => {
    expect(settings.breakerFailures.functions).toEqual(['deliverWebhooks', 'deliverNotifications']);
    expect(settings.breakerCooldownSeconds.functions).toEqual(['deliverWebhooks', 'deliverNotifications']);
    const defaults = resources[functionId('deliverWebhooks')].Properties.Environment.Variables;
    expect(defaults).toMatchObject({ PROCESSA_BREAKER_FAILURES: '5', PROCESSA_BREAKER_COOLDOWN_SECONDS: '30' });
    const app = new App({
      outdir: join(outdir, 'breaker'),
      context: { breakerFailures: '3', breakerCooldownSeconds: '120', 'aws:cdk:bundling-stacks': [] },
    });
    const config = configFromContext(app.node);
    const custom = new ProcessaStack(app, config.stackName, config.props);
    const customResources = Template.fromStack(custom).toJSON().Resources as Record<string, Json>;
    for (const fn of functionNames) {
      const variables = customResources[custom.getLogicalId(custom.stateless.functions[fn].node.defaultChild as CfnElement)].Properties.Environment.Variables;
      const given = fn === 'deliverWebhooks' || fn === 'deliverNotifications' ? ['3', '120'] : [undefined, undefined];
      expect({ fn, values: [variables.PROCESSA_BREAKER_FAILURES, variables.PROCESSA_BREAKER_COOLDOWN_SECONDS] }).toEqual({ fn, values: given });
    }
  });

  it.each([
    ['breakerFailures', '0'],
    ['breakerFailures', '2.5'],
    ['breakerFailures', '101'],
    ['breakerFailures', 'many'],
    ['breakerCooldownSeconds', '0'],
    ['breakerCooldownSeconds', '3601'],
    ['breakerCooldownSeconds', 'soon'],
  ])('rejects a %s context of %s, naming it', (key, value) => {
    const app = new App({ outdir: join(outdir, `bad-${key}-${value}`), context: { [key]: value, 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    expect(() => new ProcessaStack(app, config.stackName, config.props)).toThrow(new RegExp(key));
  });

  it('rejects a retryBaseSeconds context that is not a positive whole number', () => {
    const app = new App({ outdir: join(outdir, 'bad-retry'), context: { retryBaseSeconds: 'soon', 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    expect(() => new ProcessaStack(app, config.stackName, config.props)).toThrow(/retryBaseSeconds/);
  });
});

describe('the email-link key', () => {
  const secretsReadBy = (fn: FunctionName, statements = roleStatements(fn)) =>
    statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));

  it('is a generated secret (64 characters, no punctuation) that only the functions signing or checking links may read, and nothing else', () => {
    const secrets = Object.entries(resources).filter(([, r]: [string, Json]) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0]!;
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
    const readers = settings.emailLinkKeySecret.functions as readonly FunctionName[];
    expect([...readers].sort()).toEqual(['deliverNotifications', 'emailDecisions']);
    for (const fn of functionNames) {
      const statements = secretsReadBy(fn);
      const variables = resources[functionId(fn)].Properties.Environment.Variables;
      if (!readers.includes(fn)) {
        expect({ fn, statements, variable: variables[settings.emailLinkKeySecret.envVar] }).toEqual({ fn, statements: [], variable: undefined });
        continue;
      }
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements[0]!).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(statements[0]!.Resource).toEqual({ Ref: secretId });
      expect(variables[settings.emailLinkKeySecret.envVar]).toEqual({ Ref: secretId });
      // The local runtime's key file is never set on AWS.
      expect(variables[settings.emailLinkKeyFile.envVar]).toBeUndefined();
    }
  });

  it('with the emailLinkKeySecret context, uses that secret by name instead (read permission on it alone)', () => {
    const app = new App({ outdir: join(outdir, 'link-key'), context: { emailLinkKeySecret: 'processa/email-link-key', 'aws:cdk:bundling-stacks': [] } });
    const config = configFromContext(app.node);
    expect(config.props.emailLinkKeySecret).toBe('processa/email-link-key');
    const custom = new ProcessaStack(app, config.stackName, config.props);
    const json = Template.fromStack(custom).toJSON().Resources as Record<string, Json>;
    expect(Object.values(json).filter((r: Json) => r.Type === 'AWS::SecretsManager::Secret')).toEqual([]);
    for (const fn of settings.emailLinkKeySecret.functions) {
      const id = custom.getLogicalId(custom.stateless.functions[fn].node.defaultChild as CfnElement);
      expect(json[id].Properties.Environment.Variables[settings.emailLinkKeySecret.envVar]).toBe('processa/email-link-key');
      const role = custom.getLogicalId(custom.stateless.functions[fn].role!.node.defaultChild as CfnElement);
      const statements = Object.values(json)
        .filter((r: Json) => r.Type === 'AWS::IAM::Policy' && referencedIds(r.Properties.Roles).has(role))
        .flatMap((r: Json) => r.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      expect(statements).toHaveLength(1);
      // The secret's ARN by name: its random 6-character suffix, nothing wider.
      expect(JSON.stringify(statements[0]!.Resource)).toContain(':secret:processa/email-link-key-??????');
    }
  });
});
