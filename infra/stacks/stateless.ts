import type { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  defaultRoute,
  functions,
  readsSecretsManager,
  routeKey,
  routes,
  settings,
  streamConsumer,
  type FunctionDefinition,
  type FunctionName,
  type QueueAccess,
  type QueueName,
  type RouteDefinition,
  type TableAccess,
  type TableName,
} from '../app-definition.js';
import { settingsEnvironment, type SettingValues } from '../function-environment.js';
import { addEventSources } from './event-sources.js';
import { pascalCase } from './names.js';
import { ProcessaFunction } from './processa-function.js';
import { resolveApiThrottle, type ApiThrottle } from './throttle.js';
import { DEFAULT_TRACING, type TracingMode } from './tracing.js';

export interface StatelessProps {
  tables: Record<TableName, dynamodb.ITable>;
  queues: Record<QueueName, sqs.IQueue>;
  /** For log groups: dev stacks drop them with the stack. */
  removalPolicy: RemovalPolicy;
  /** The definition's settings with the values this stack gives them; each goes only to the functions that read it. */
  settings: SettingValues;
  /** X-Ray tracing of every function (the `tracing` context, infra/stacks/tracing.ts); default off. */
  tracing?: TracingMode;
  /** The stage's throttle and the routes set apart (the api…Limit and <group>…Limit contexts, infra/stacks/throttle.ts); default 50/s, burst 100. */
  throttle?: ApiThrottle;
  /** The Parameters and Secrets extension's layer ARN for the functions that read secrets (the secretsExtensionLayerArn context). */
  secretsExtensionLayerArn?: string;
}

/** One JSON line per request; HTTP APIs require $context.requestId in the format. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/**
 * The code side: one ProcessaFunction per entry of `functions`, each bound to exactly the tables
 * and queues its entry names, the stream and queue event sources of `streamConsumer` and
 * `queueConsumers`, and an HTTP API with one route per entry of `routes` plus the $default route
 * (`defaultRoute`) for everything else. There is
 * no authorizer at API Gateway: the handlers authenticate the Bearer key and check the route's roles.
 */
export class Stateless extends Construct {
  readonly functions: Record<FunctionName, ProcessaFunction>;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Each route of the definition with the construct built for it. */
  readonly routes: ReadonlyArray<{ definition: RouteDefinition; route: HttpRoute }>;
  /** The $default route: every request no route matches, answered in the API's error shape. */
  readonly defaultRoute: HttpRoute;

  constructor(scope: Construct, id: string, props: StatelessProps) {
    super(scope, id);

    const built = {} as Record<FunctionName, ProcessaFunction>;
    for (const [name, definition] of Object.entries(functions) as Array<[FunctionName, FunctionDefinition]>) {
      const fn = new ProcessaFunction(this, `${pascalCase(name)}Function`, {
        definition,
        removalPolicy: props.removalPolicy,
        tracing: props.tracing ?? DEFAULT_TRACING,
        readsSecrets: readsSecretsManager(name, props.settings),
        secretsExtensionLayerArn: props.secretsExtensionLayerArn,
      });
      for (const [table, access] of Object.entries(definition.tables) as Array<[TableName, TableAccess]>) {
        fn.bindTable(table, props.tables[table], access);
      }
      const queueAccess = Object.entries(definition.queues ?? {}) as Array<[QueueName, QueueAccess]>;
      for (const [queue, access] of queueAccess) fn.bindQueue(queue, props.queues[queue], access);
      // The settings it reads (the definition's `settings`), and no others.
      for (const [envVar, value] of Object.entries(settingsEnvironment(name, props.settings))) fn.addEnvironment(envVar, value);
      built[name] = fn;
    }
    this.functions = built;
    addEventSources({ functions: built, tables: props.tables, queues: props.queues });

    // The stage is created explicitly (not createDefaultStage) because the API's own default
    // stage takes neither throttling nor access-log settings.
    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Processa: drafts, decisions, API keys and webhooks',
      createDefaultStage: false,
    });
    const throttle = props.throttle ?? resolveApiThrottle();
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: throttle.stage,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });

    // One integration per function, shared by all of its routes.
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, built[name]);
        integrations.set(name, integration);
      }
      return integration;
    };
    this.routes = routes.map((definition: RouteDefinition) => {
      const [route] = this.api.addRoutes({
        path: definition.path,
        methods: [HttpMethod[definition.method]],
        integration: integrationFor(definition.function),
      });
      if (!route) throw new Error(`No route was built for ${definition.method} ${definition.path}`);
      return { definition, route };
    });
    // Routes set apart from the stage's throttle. HttpStage takes only the default, so they go on the CfnStage (RouteSettings
    // is plain JSON, spelled as CloudFormation does); the stage waits for those routes, as API Gateway refuses
    // settings for a route it does not have yet.
    if (Object.keys(throttle.routes).length > 0) {
      (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
        Object.entries(throttle.routes).map(([key, limits]) => [key, { ThrottlingRateLimit: limits.rateLimit, ThrottlingBurstLimit: limits.burstLimit }]),
      );
      for (const { definition, route } of this.routes) if (routeKey(definition) in throttle.routes) this.stage.node.addDependency(route);
    }
    // The fan-out (draft.created) and the reminder sweep (expireDrafts) have no request to derive reviewUrl
    // from: they are given the API's URL, unless the stack sets PUBLIC_BASE_URL itself (e.g. a custom domain).
    if (props.settings.publicBaseUrl === undefined)
      for (const name of [streamConsumer.function, 'expireDrafts'] as const) built[name].addEnvironment(settings.publicBaseUrl.envVar, this.stage.url);
    // Without it API Gateway answers unknown routes itself, with {"message":"Not Found"}.
    this.defaultRoute = new HttpRoute(this, 'DefaultRoute', {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: integrationFor(defaultRoute.function),
    });
  }

  /** The base URL clients call (the $default stage has no path prefix). */
  get apiUrl(): string {
    return this.stage.url;
  }
}
