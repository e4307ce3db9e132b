import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { queues, tables, type FunctionDefinition, type QueueAccess, type QueueName, type TableAccess, type TableName } from '../app-definition.js';
import { functionEsbuildOptions } from './bundling.js';
import { DEFAULT_TRACING, type TracingMode } from './tracing.js';

export interface ProcessaFunctionProps {
  definition: FunctionDefinition;
  /** Applied to the function's log group: dev stacks drop their logs, others keep them. */
  removalPolicy?: RemovalPolicy;
  /** X-Ray tracing (infra/stacks/tracing.ts); off also leaves the X-Ray SDK out of the bundle. */
  tracing?: TracingMode;
  /** It reads Secrets Manager secrets: it gets the AWS Parameters and Secrets Lambda Extension (shared/store/secret-string.ts). */
  readsSecrets?: boolean;
  /**
   * The extension's layer version ARN (the secretsExtensionLayerArn context), for Regions CDK's own table of
   * layer ARNs does not list; absent, CDK picks the ARM64 layer of the stack's Region at deploy time.
   */
  secretsExtensionLayerArn?: string;
}

/** POWERTOOLS_SERVICE_NAME of every function: the `service` dimension of Processa's custom metrics. */
export const SERVICE_NAME = 'processa';

// Resolved from this file, not the working directory, so `cdk synth` and jest agree.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const lockFile = fileURLToPath(new URL('../../package-lock.json', import.meta.url));
const entryOf = (folder: string): string => fileURLToPath(new URL(`../../functions/${folder}/handler.ts`, import.meta.url));

const SECRETS_EXTENSION_OPTIONS: lambda.ParamsAndSecretsOptions = { logLevel: lambda.ParamsAndSecretsLogLevel.WARN, cacheEnabled: false };
const secretsExtension = (layerArn: string | undefined): lambda.ParamsAndSecretsLayerVersion =>
  layerArn
    ? lambda.ParamsAndSecretsLayerVersion.fromVersionArn(layerArn, SECRETS_EXTENSION_OPTIONS)
    : lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, SECRETS_EXTENSION_OPTIONS);

/**
 * One Lambda function of Processa with the defaults every function shares, so that stacks
 * describe only what differs (its folder, memory, timeout and the resources it may touch).
 */
export class ProcessaFunction extends NodejsFunction {
  /** Its X-Ray tracing: `off` means no active tracing, no X-Ray permissions and no X-Ray SDK in the bundle. */
  readonly tracingMode: TracingMode;

  constructor(scope: Construct, id: string, props: ProcessaFunctionProps) {
    const { definition } = props;
    const tracing = props.tracing ?? DEFAULT_TRACING;
    // The bundle's esbuild options, one definition with the bundle bench and tests (infra/stacks/bundling.ts).
    const esbuild = functionEsbuildOptions(tracing);
    // An explicit log group (not the deprecated logRetention custom resource) so that its
    // retention and removal are part of the template.
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An explicit role instead of the default one with the AWSLambdaBasicExecutionRole managed
    // policy (logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group): this one may
    // only write to the function's own log group, which the template creates.
    const role = new iam.Role(scope, `${id}ServiceRole`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${definition.folder} function`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: entryOf(definition.folder),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: lockFile,
      // Node.js 22, the project's chosen Lambda runtime (cdk-nag L1 is acknowledged in nag-suppressions.ts).
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: definition.description,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      // Sampled: Lambda's own rule (1/s, then 5%), which X-Ray sampling rules cannot change (infra/stacks/tracing.ts).
      tracing: tracing === 'off' ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
      logGroup,
      // Lambda's JSON log format, so levels filter: WARN for the platform's own lines drops START, END and
      // REPORT (three lines per invocation, paid for in log bytes; Duration and errors are in CloudWatch metrics),
      // INFO for ours (Powertools reads AWS_LAMBDA_LOG_LEVEL, which this sets), and never above: the EMF metric
      // lines carry no level, which Lambda reads as INFO, so WARN would drop every custom metric the alarms read.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      role,
      // The extension reads secrets for the function (no Secrets Manager client in its bundle); WARN keeps its
      // start-up lines out of the logs. Its cache is off: the function keeps a secret for at most a minute (SECRET_CACHE_TTL_MS), so a
      // rotation applies within it, and retries a secret it could not use (a malformed value) on the next request,
      // which the extension's cache would answer with the same bad value for minutes after an operator fixed it.
      paramsAndSecrets: props.readsSecrets ? secretsExtension(props.secretsExtensionLayerArn) : undefined,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        // Stack traces point into the TypeScript sources through the bundled source map.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: esbuild.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
        target: esbuild.target,
        minify: esbuild.minify,
        sourceMap: esbuild.sourcemap,
        sourcesContent: esbuild.sourcesContent,
        mainFields: [...esbuild.mainFields],
        banner: esbuild.banner.js,
        externalModules: [...esbuild.external],
        // Never fall back to Docker: esbuild is a devDependency.
        forceDockerBundling: false,
        // Credentials from the environment only (what Lambda provides), no event-stream codec, and with tracing
        // off a no-op tracer, so aws-xray-sdk-core is neither shipped nor imported (infra/stacks/bundling.ts).
        esbuildArgs: { '--alias': Object.entries(esbuild.alias).map(([from, to]) => `${from}=${to}`) },
      },
    });
    this.tracingMode = tracing;
  }

  /** Grants exactly `access` to `table` and tells the function its physical name. */
  bindTable(name: TableName, table: dynamodb.ITable, access: TableAccess): this {
    switch (access) {
      case 'read':
        table.grantReadData(this);
        break;
      case 'write':
        table.grantWriteData(this);
        break;
      case 'readWrite':
        table.grantReadWriteData(this);
        break;
    }
    this.addEnvironment(tables[name].envVar, table.tableName);
    return this;
  }

  /** Grants exactly `access` to `queue` and tells the function its URL. */
  bindQueue(name: QueueName, queue: sqs.IQueue, access: QueueAccess): this {
    if (access === 'send' || access === 'sendConsume') queue.grantSendMessages(this);
    // Consumers also change visibility (per-message backoff); grantConsumeMessages covers it.
    if (access === 'consume' || access === 'sendConsume') queue.grantConsumeMessages(this);
    this.addEnvironment(queues[name].envVar, queue.queueUrl);
    return this;
  }
}
