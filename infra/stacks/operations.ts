import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, STACK_DIMENSION, STACK_NAME_ENV } from '../../shared/observability.js';
import {
  deliveryRetry,
  functions,
  notificationConsumer,
  queueConsumer,
  queues,
  settingsFromStackResource,
  streamConsumer,
  tables,
  type FunctionName,
  type QueueName,
  type TableName,
} from '../app-definition.js';
import { pascalCase, tableId } from './names.js';
import { SERVICE_NAME } from './processa-function.js';

/**
 * The namespace shared/observability.ts gives Powertools Metrics; its default dimensions are
 * `service` and `stack` (STACK_DIMENSION, the stack's name, handed to every function below).
 */
export { METRICS_NAMESPACE, STACK_DIMENSION, STACK_NAME_ENV };

/**
 * Alarm thresholds, exported for the stack test. Every alarm fires at `>= threshold` and treats
 * missing data as not breaching: most of these metrics are only published when something happens.
 */
export const ALARM_THRESHOLDS = {
  /** Failed delivery attempts (each is retried; the 4th failure is dead) per 5 minutes. */
  deliveriesFailedPer5Min: 10,
  /** Floor of the deliveries queue age alarm; raised when a longer retry ladder is deployed. */
  minDeliveryQueueAgeSeconds: 15 * 60,
  /** Oldest drafts-stream record not yet handed to fanOutDecisions. */
  fanOutIteratorAgeMs: 60_000,
  /** Window of the stalled-decisions rule: decisions made in it and not one handled by the fan-out. */
  decisionsStalledWindowMinutes: 15,
  /**
   * How long the stalled-decisions alarm waits for the fan-out to show up before it notifies:
   * the decision's metric and the fan-out's reach CloudWatch separately, seconds apart.
   */
  fanOutGraceSeconds: 180,
  /** API 5xx responses as a percentage of requests, over 5 minutes... */
  api5xxPercent: 1,
  /** ...once the API served at least this many requests in those 5 minutes. */
  api5xxMinRequests: 20,
} as const;

/**
 * The DynamoDB operations whose ThrottledRequests the table alarms add up (the data plane calls
 * the stores make, and their batch and transaction variants). CloudWatch reports the metric per
 * operation only, and an alarm on metric math may use at most 10 metrics.
 */
export const THROTTLE_OPERATIONS = [
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
] as const;

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

/**
 * The longest a delivery can legitimately wait in the queue: the equal-jitter backoff before each
 * retry is at most base × 2^(n-1), capped at maxBackoffSeconds, so the ladder is their sum
 * (30 + 60 + 120 s ≈ 3.5 min at the default 30 s base). The age alarm sits well above it.
 */
export function deliveryQueueAgeThresholdSeconds(retryBaseSeconds: number): number {
  let ladder = 0;
  for (let retry = 0; retry < deliveryRetry.maxAttempts - 1; retry++) {
    ladder += Math.min(deliveryRetry.maxBackoffSeconds, retryBaseSeconds * 2 ** retry);
  }
  return Math.max(ALARM_THRESHOLDS.minDeliveryQueueAgeSeconds, 2 * ladder);
}

export interface OperationsProps {
  /** Each is given STACK_NAME_ENV, the `stack` dimension of the metrics it publishes. */
  functions: Record<FunctionName, lambda.Function>;
  tables: Record<TableName, dynamodb.ITable>;
  queues: Record<QueueName, sqs.IQueue>;
  /** The HTTP API's $default stage: its metrics carry the ApiId and Stage dimensions. */
  stage: HttpStage;
  /** The alarm topic and its key follow the stack's stage: kept unless `dev`. */
  removalPolicy: RemovalPolicy;
  /** First webhook retry delay actually deployed; sets the queue age threshold. */
  retryBaseSeconds: number;
  /** Subscribed to the alarm topic by email (SNS sends a confirmation first). */
  alarmEmail?: string;
}

/**
 * What an operator needs once Processa is deployed: an encrypted SNS topic that receives every
 * alarm's ALARM and OK transitions (optionally by email), alarms on dead and failing deliveries,
 * backlogs, a stalled decisions pipeline, function errors and throttles, the API's 5xx rate and
 * DynamoDB throttling, and one dashboard with the custom metrics the functions publish
 * (shared/observability.ts). Every custom metric is filtered on this stack's `stack` dimension;
 * every AWS metric names a resource of this stack (queue, function, table, API).
 */
export class Operations extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly dashboard: cloudwatch.Dashboard;
  /** Every metric alarm, the two without actions that the DecisionsStalled composite alarm reads included. */
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly compositeAlarms: cloudwatch.CompositeAlarm[] = [];
  private readonly alarmPrefix: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.alarmPrefix = stack.stackName;
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS managed
    // alias/aws/sns key, whose policy cannot grant it kms:GenerateDataKey.
    this.topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `${stack.stackName}: encrypts the alarm topic`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [cloudwatchPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.topic.applyRemovalPolicy(props.removalPolicy);
    // Only this stack's alarms (by name prefix) in this account may publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: `${this.alarmPrefix}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const { functions: fns, tables: builtTables, queues: builtQueues, stage } = props;
    const dlq = builtQueues.deliveriesDlq;
    const deliveriesQueue = builtQueues[queueConsumer.queue];
    const fanOutFailures = builtQueues[streamConsumer.onFailure];
    const stackName = stack.stackName;

    // The `stack` dimension of every metric the functions publish; the alarms below filter on it.
    for (const fn of Object.values(fns)) fn.addEnvironment(STACK_NAME_ENV, stackName);
    // Operator notices (endpoint.disabled, delivery.exhausted) go to this topic too, so alarmEmail hears
    // them: the functions the definition names get its ARN and sns:Publish on it alone (with its key).
    for (const definition of settingsFromStackResource('alarmTopicArn')) {
      for (const name of definition.functions) {
        fns[name].addEnvironment(definition.envVar, this.topic.topicArn);
        // Spelled out rather than grantPublish, whose key grant is the wildcard kms:GenerateDataKey*:
        // publishing to an encrypted topic takes exactly these two on its key.
        fns[name].addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
        this.topicKey.grant(fns[name], 'kms:GenerateDataKey', 'kms:Decrypt');
      }
    }

    // Dead and failing deliveries.
    this.alarm('DeliveriesDead', {
      metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: 1,
      description:
        `Webhook deliveries failed all ${deliveryRetry.maxAttempts} attempts (or SQS gave up after ${queues.deliveries.maxReceiveCount} ` +
        `receives): dead, with a copy in the deliveries DLQ (kept ${queues.deliveriesDlq.retentionDays} days). Read them with ` +
        'GET /v1/webhooks/{id}/deliveries, fix the receiver, then redrive (from the delivery log, whatever the DLQ holds): ' +
        'POST /v1/webhooks/{id}/redrive [{"since": "<ISO time>"}], the Redrive button on /settings/webhooks, or ' +
        `npm run redrive -- --stack ${stackName} [--endpoint <id>]. Redrives delete the copies of redriven deliveries; OK once the DLQ is empty.`,
    });
    // The DLQ alarm above stays in ALARM while the DLQ holds anything, so it notifies once: this one
    // notifies again for every later death. A 1-minute Sum of the per-event metric, missing data not
    // breaching: ALARM in the minute a delivery dies, OK again once the minutes after it publish
    // none, ALARM again at the next death. It notifies on ALARM only (its OK means nothing).
    this.alarm('NewDeadDeliveries', {
      metric: this.customMetric(METRICS.deliveriesDead, 'Sum', ONE_MINUTE),
      threshold: 1,
      okAction: false,
      description:
        `A webhook delivery died just now (custom metric ${METRICS_NAMESPACE}/${METRICS.deliveriesDead}, summed per minute; ` +
        'the datapoint is how many died that minute). Unlike DeliveriesDead, which stays in ALARM while the DLQ holds anything, ' +
        'this one returns to OK by itself a few minutes later and fires again at the next death, so each is heard even ' +
        'while earlier ones wait for a redrive (deaths within the same few minutes share one notification); it sends no ' +
        'OK notification. Read ' +
        'the dead delivery in GET /v1/webhooks/{id}/deliveries or /settings/webhooks, fix the receiver, then redrive ' +
        `(POST /v1/webhooks/{id}/redrive or npm run redrive -- --stack ${stackName}).`,
    });
    this.alarm('EndpointDisabled', {
      metric: this.customMetric(METRICS.endpointsDisabled, 'Sum', ONE_MINUTE),
      threshold: 1,
      okAction: false,
      description:
        `A webhook endpoint was disabled by Processa (custom metric ${METRICS_NAMESPACE}/${METRICS.endpointsDisabled}): its ` +
        'receiver answered 410 Gone, so nothing more is sent to it and its queued deliveries are held. Find it in ' +
        'GET /v1/webhooks (enabled false, disabledReason "gone") or /settings/webhooks. If the receiver moved, PATCH its url; ' +
        'then PATCH {"enabled": true} and redrive with since (POST /v1/webhooks/{id}/redrive) to send what it missed.',
    });
    this.alarm('DeliveriesFailing', {
      metric: this.customMetric(METRICS.deliveriesFailed, 'Sum', FIVE_MINUTES),
      threshold: ALARM_THRESHOLDS.deliveriesFailedPer5Min,
      description:
        `At least ${ALARM_THRESHOLDS.deliveriesFailedPer5Min} webhook delivery attempts failed in 5 minutes (custom metric ` +
        `${METRICS_NAMESPACE}/${METRICS.deliveriesFailed}). They are retried with backoff and dead after ` +
        `${deliveryRetry.maxAttempts} attempts. Find the failing endpoints with GET /v1/webhooks/{id}/deliveries (status ` +
        'and error of each attempt) and the DeliverWebhooks logs; disable or fix endpoints that keep failing.',
    });

    // Backlogs.
    const ageThreshold = deliveryQueueAgeThresholdSeconds(props.retryBaseSeconds);
    this.alarm('DeliveryQueueAge', {
      metric: deliveriesQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES }),
      threshold: ageThreshold,
      description:
        `The oldest message in the deliveries queue is ${Math.round(ageThreshold / 60)} minutes old or more, longer than ` +
        `the whole retry ladder (${props.retryBaseSeconds} s base, doubling): deliveries are not being worked. Check the ` +
        `${pascalCase(queueConsumer.function)} function's errors and throttles and that its SQS event source mapping is enabled.`,
    });
    // The same for Slack and email channels and operator notices, which have their own queue and worker.
    this.alarm('NotificationQueueAge', {
      metric: builtQueues[notificationConsumer.queue].metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE_MINUTES }),
      threshold: ageThreshold,
      description:
        `The oldest message in the notifications queue (Slack and email channels, operator notices) is ${Math.round(ageThreshold / 60)} ` +
        `minutes old or more, longer than the whole retry ladder: notifications are not being worked. Check the ` +
        `${pascalCase(notificationConsumer.function)} function's errors and throttles and that its SQS event source mapping is enabled.`,
    });
    this.alarm('FanOutFailures', {
      metric: fanOutFailures.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE_MINUTE }),
      threshold: 1,
      description:
        `Drafts-stream batches failed ${pascalCase(streamConsumer.function)} after ${streamConsumer.retryAttempts} retries: ` +
        'those decisions and expiries produced no webhook deliveries. Each message in the fan-out failures queue names the ' +
        'stream, shard and sequence-number range, not the records: fix the function (its logs and Errors alarm), replay ' +
        'that range from the drafts stream while it is still there (24 hours), then delete the message.',
    });
    this.alarm('FanOutIteratorAge', {
      metric: fns[streamConsumer.function].metric('IteratorAge', { statistic: 'Maximum', period: FIVE_MINUTES }),
      threshold: ALARM_THRESHOLDS.fanOutIteratorAgeMs,
      description:
        `${pascalCase(streamConsumer.function)} is ${ALARM_THRESHOLDS.fanOutIteratorAgeMs / 1000} s or more behind the ` +
        'drafts stream: decisions reach webhooks late, and records older than 24 hours are lost. Check the function for ' +
        'errors (a failing batch is retried before the stream moves on), throttles and its duration. A disabled or ' +
        'stalled mapping publishes no iterator age at all: DecisionsStalled covers that.',
    });
    this.decisionsStalledAlarm();

    // Every function: errors and throttles.
    for (const name of Object.keys(functions) as FunctionName[]) {
      const fn = fns[name];
      const label = pascalCase(name);
      this.alarm(`${label}Errors`, {
        metric: fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: 1,
        description:
          `The ${label} function (${functions[name].description}) failed at least once in 5 minutes. ` +
          'Read its log group (or X-Ray traces) for the error and stack trace.',
      });
      this.alarm(`${label}Throttles`, {
        metric: fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }),
        threshold: 1,
        description:
          `Lambda throttled the ${label} function in the last 5 minutes. Check the account's concurrency (ConcurrentExecutions) ` +
          'and any reserved concurrency, and request a higher limit if the load is real.',
      });
    }

    // The API's server errors as a share of its requests.
    this.alarm('Api5xxRate', {
      metric: new cloudwatch.MathExpression({
        expression: `IF(requests >= ${ALARM_THRESHOLDS.api5xxMinRequests}, 100 * errors / requests, 0)`,
        usingMetrics: {
          errors: stage.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }),
          requests: stage.metricCount({ statistic: 'Sum', period: FIVE_MINUTES }),
        },
        label: '5xx %',
        period: FIVE_MINUTES,
      }),
      threshold: ALARM_THRESHOLDS.api5xxPercent,
      description:
        `${ALARM_THRESHOLDS.api5xxPercent} % or more of the HTTP API's requests got a 5xx in 5 minutes (counted once it ` +
        `served ${ALARM_THRESHOLDS.api5xxMinRequests} requests). Check the function alarms and logs, and the API access ` +
        'log (status, integrationError) for the failing routes.',
    });

    // Every table: throttled requests.
    for (const name of Object.keys(tables) as TableName[]) {
      const table = builtTables[name];
      const usingMetrics: Record<string, cloudwatch.IMetric> = {};
      for (const operation of THROTTLE_OPERATIONS) {
        usingMetrics[operation.toLowerCase()] = table.metric('ThrottledRequests', {
          statistic: 'Sum',
          period: FIVE_MINUTES,
          dimensionsMap: { TableName: table.tableName, Operation: operation },
        });
      }
      this.alarm(`${tableId(name)}Throttles`, {
        // Each operation's series exists only while it is throttled: fill the gaps before adding.
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(usingMetrics)
            .map((id) => `FILL(${id}, 0)`)
            .join(' + '),
          usingMetrics,
          label: `${tableId(name)} throttled requests`,
          period: FIVE_MINUTES,
        }),
        threshold: 1,
        description:
          `DynamoDB throttled requests to the ${name} table in the last 5 minutes. It is on-demand, so this means a ` +
          'sudden spike past twice the previous peak or a hot partition key: check the ThrottledRequests operations and ' +
          'the callers; the SDK retries, but the callers may have failed.',
      });
    }

    this.dashboard = this.buildDashboard(props);
  }

  /**
   * An alarm named `<stack>-<id>`, firing at >= threshold in one period, notifying the topic on
   * ALARM and (unless okAction is false) OK; with `actions: false`, an input of a composite alarm
   * that notifies nobody itself.
   */
  private alarm(
    id: string,
    options: { metric: cloudwatch.IMetric; threshold: number; description: string; okAction?: boolean; actions?: boolean },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      alarmName: `${this.alarmPrefix}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (options.actions !== false) {
      const action = new SnsAction(this.topic);
      alarm.addAlarmAction(action);
      if (options.okAction !== false) alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * A stalled decisions pipeline: a disabled or stuck drafts-stream mapping invokes nothing, so
   * no error, throttle or iterator-age alarm can see it. The rule compares what the decision side
   * counts (DraftsApproved + DraftsRejected + DraftsExpired, one per decided draft) with what the
   * fan-out side counts: FanOutDecisions adds one WebhooksEnqueued sample per decision it handles
   * (its value is the deliveries enqueued, 0 when no endpoint subscribes), so its SampleCount is
   * the decisions fanned out and the rule holds with or without endpoints. Stalled = at least one
   * decision in the window and not one handled.
   *
   * The two counts reach CloudWatch from different functions seconds apart, so the rule is briefly
   * true after every isolated decision. A composite alarm therefore notifies, and holds its
   * actions while FanOutActive (the fan-out handled a decision in the last minute or so) is in
   * ALARM, waiting up to fanOutGraceSeconds for it: an ordinary decision is followed by its
   * fan-out within that time, a stalled one never is.
   */
  private decisionsStalledAlarm(): void {
    const window = Duration.minutes(ALARM_THRESHOLDS.decisionsStalledWindowMinutes);
    const minutes = ALARM_THRESHOLDS.decisionsStalledWindowMinutes;
    const fanOutName = pascalCase(streamConsumer.function);
    const unhandled = this.alarm('DecisionsWithoutFanOut', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(decisions >= 1 AND FILL(fannedOut, 0) == 0, decisions, 0)',
        usingMetrics: {
          // Each series exists only in windows where it was published: fill the gaps before adding.
          decisions: new cloudwatch.MathExpression({
            expression: 'FILL(approved, 0) + FILL(rejected, 0) + FILL(expired, 0)',
            usingMetrics: {
              approved: this.customMetric(METRICS.draftsApproved, 'Sum', window),
              rejected: this.customMetric(METRICS.draftsRejected, 'Sum', window),
              expired: this.customMetric(METRICS.draftsExpired, 'Sum', window),
            },
            label: 'Decisions',
            period: window,
          }),
          fannedOut: this.customMetric(METRICS.webhooksEnqueued, 'SampleCount', window),
        },
        label: 'Decisions not fanned out',
        period: window,
      }),
      threshold: 1,
      actions: false,
      description:
        `Input of ${this.alarmPrefix}-DecisionsStalled, which notifies: in ${minutes} minutes, drafts were decided or expired ` +
        `(${METRICS.draftsApproved} + ${METRICS.draftsRejected} + ${METRICS.draftsExpired}) and ${fanOutName} handled none of ` +
        `them (SampleCount of ${METRICS.webhooksEnqueued}); the datapoint is the number of decisions. Briefly in ALARM after ` +
        'a lone decision, until its fan-out reaches CloudWatch.',
    });
    const active = this.alarm('FanOutActive', {
      metric: this.customMetric(METRICS.webhooksEnqueued, 'SampleCount', ONE_MINUTE),
      threshold: 1,
      actions: false,
      description:
        `Not a problem: ${fanOutName} handled at least one decision in the last minute (SampleCount of ` +
        `${METRICS.webhooksEnqueued}). It suppresses ${this.alarmPrefix}-DecisionsStalled's notifications while the fan-out ` +
        'is visibly working, and notifies nobody itself.',
    });
    const stalled = new cloudwatch.CompositeAlarm(this, 'DecisionsStalledAlarm', {
      compositeAlarmName: `${this.alarmPrefix}-DecisionsStalled`,
      alarmRule: cloudwatch.AlarmRule.fromAlarm(unhandled, cloudwatch.AlarmState.ALARM),
      actionsSuppressor: active,
      actionsSuppressorWaitPeriod: Duration.seconds(ALARM_THRESHOLDS.fanOutGraceSeconds),
      actionsSuppressorExtensionPeriod: Duration.seconds(60),
      alarmDescription:
        `Decisions are not reaching webhooks: in ${minutes} minutes drafts were approved, rejected or expired and ` +
        `${fanOutName} handled none of them (no error follows when nothing is invoked). Check the drafts-stream event ` +
        `source mapping of ${fanOutName} (aws lambda list-event-source-mappings --function-name <its name>, or the ` +
        "console's Triggers): enable it if disabled, read its LastProcessingResult, check the drafts table still has its " +
        'stream, and the FanOutIteratorAge, FanOutFailures and function alarms. Records stay in the stream 24 hours and ' +
        'are fanned out once the mapping runs again; decisions older than that produced no webhook and must be sent by hand.',
    });
    const action = new SnsAction(this.topic);
    stalled.addAlarmAction(action);
    stalled.addOkAction(action);
    this.compositeAlarms.push(stalled);
  }

  /** A metric the functions publish through Powertools (EMF): namespace Processa, dimensions service and this stack. */
  private customMetric(name: string, statistic: string, period: cloudwatch.MetricOptions['period'] = FIVE_MINUTES, label?: string) {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME, [STACK_DIMENSION]: Stack.of(this).stackName },
      statistic,
      period,
      // A label would turn the alarm into a metric-math alarm; graphs show the metric name anyway.
      label,
    });
  }

  private buildDashboard(props: OperationsProps): cloudwatch.Dashboard {
    const { functions: fns, queues: builtQueues, stage } = props;
    const sum = (name: string) => this.customMetric(name, 'Sum');
    const percentiles = (name: string) => [
      this.customMetric(name, 'p50', FIVE_MINUTES, `${name} p50`),
      this.customMetric(name, 'p99', FIVE_MINUTES, `${name} p99`),
    ];
    const deliveriesQueue = builtQueues[queueConsumer.queue];
    const notificationsQueue = builtQueues[notificationConsumer.queue];
    const width = 8;
    const functionNames = Object.keys(functions) as FunctionName[];

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${Stack.of(this).stackName}\nDrafts, webhook deliveries and the API. Alarms notify the ` +
          `alarm topic; dead deliveries: fix the receiver, then \`npm run redrive -- --stack ${Stack.of(this).stackName}\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Drafts (per 5 min)',
        left: [METRICS.draftsCreated, METRICS.draftsApproved, METRICS.draftsRejected, METRICS.draftsExpired].map(sum),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Deliveries (per 5 min)',
        left: [
          METRICS.webhooksEnqueued,
          METRICS.createdEventsEnqueued,
          METRICS.deliveriesSucceeded,
          METRICS.deliveriesFailed,
          METRICS.deliveriesDead,
          METRICS.endpointsDisabled,
          METRICS.operationalEventsFailed,
        ].map(sum),
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Delivery latency (ms)',
        left: [...percentiles(METRICS.deliveryLag), ...percentiles(METRICS.deliveryDuration)],
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Delivery queues',
        left: [
          deliveriesQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'Visible' }),
          deliveriesQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'In flight / backing off' }),
          notificationsQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'Notifications visible' }),
          notificationsQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', label: 'Notifications in flight / backing off' }),
        ],
        right: [
          deliveriesQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'Oldest message (s)' }),
          notificationsQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'Oldest notification (s)' }),
        ],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        left: [
          builtQueues.deliveriesDlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'Deliveries DLQ' }),
          builtQueues[streamConsumer.onFailure].metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            label: 'Fan-out failures',
          }),
        ],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drafts stream: fan-out iterator age (ms)',
        left: [fns[streamConsumer.function].metric('IteratorAge', { statistic: 'Maximum', label: 'IteratorAge max' })],
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [
          stage.metricLatency({ statistic: 'p50', label: 'Latency p50' }),
          stage.metricLatency({ statistic: 'p99', label: 'Latency p99' }),
          stage.metricIntegrationLatency({ statistic: 'p99', label: 'Integration latency p99' }),
        ],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [stage.metricClientError({ statistic: 'Sum', label: '4xx' }), stage.metricServerError({ statistic: 'Sum', label: '5xx' })],
        right: [stage.metricCount({ statistic: 'Sum', label: 'Requests' })],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: functionNames.map((name) => fns[name].metricErrors({ statistic: 'Sum', label: pascalCase(name) })),
        width,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.compositeAlarms, ...this.alarms],
        width: 24,
        height: Math.ceil((this.compositeAlarms.length + this.alarms.length) / 4) + 1,
      }),
    );
    return dashboard;
  }
}
