/**
 * Production readiness of the Processa stack: the alarm topic, every alarm (derived from the app
 * definition: fixed alarms, two per function, one per table), the dashboard, and a clean cdk-nag
 * AwsSolutions run. Bundling is skipped (stack.test.ts bundles once and checks the assets); the
 * template is otherwise the same.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createMetrics, METRICS } from '../../shared/observability.js';
import {
  deliveryRetry,
  functions,
  notificationConsumer,
  queueConsumer,
  routes,
  streamConsumer,
  tables,
  type FunctionName,
  type TableName,
} from '../../infra/app-definition.js';
import { configFromContext } from '../../infra/stacks/context.js';
import { pascalCase, tableId as tableConstructId } from '../../infra/stacks/names.js';
import { indexWildcardFinding } from '../../infra/stacks/nag-suppressions.js';
import {
  ALARM_THRESHOLDS,
  deliveryQueueAgeThresholdSeconds,
  METRICS_NAMESPACE,
  STACK_DIMENSION,
  STACK_NAME_ENV,
  THROTTLE_OPERATIONS,
} from '../../infra/stacks/operations.js';
import { ProcessaStack } from '../../infra/stacks/processa-stack.js';

type Json = any;

const functionNames = Object.keys(functions) as FunctionName[];
const tableNames = Object.keys(tables) as TableName[];
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
/**
 * DeliveriesDead, NewDeadDeliveries, EndpointDisabled, DeliveriesFailing, DeliveryQueueAge, NotificationQueueAge, FanOutFailures, FanOutIteratorAge,
 * DecisionsWithoutFanOut and FanOutActive (the inputs of the DecisionsStalled composite alarm), Api5xxRate.
 */
const FIXED_ALARMS = 11;
/** Metric alarms that notify nobody: inputs of a composite alarm. */
const COMPOSITE_INPUTS = ['DecisionsWithoutFanOut', 'FanOutActive'];
/** Metric alarms that notify on ALARM only: each new occurrence, whose OK means nothing. */
const ALARM_ONLY = ['NewDeadDeliveries', 'EndpointDisabled'];

let outdir: string;
let stack: ProcessaStack;
let template: Template;
let resources: Record<string, Json>;

function synth(context: Record<string, unknown>, dir: string): { stack: ProcessaStack; template: Template; app: App } {
  const app = new App({ outdir: join(outdir, dir), context: { ...NO_BUNDLING, ...context } });
  const config = configFromContext(app.node);
  const built = new ProcessaStack(app, config.stackName, config.props);
  return { app, stack: built, template: Template.fromStack(built) };
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'processa-ops-'));
  ({ stack, template } = synth({}, 'default'));
  resources = template.toJSON().Resources as Record<string, Json>;
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const topicId = () => logicalId(stack.operations.topic);
const ofType = (type: string): Json[] => Object.values(resources).filter((r: Json) => r.Type === type);
const alarms = (): Json[] => ofType('AWS::CloudWatch::Alarm');
const compositeAlarms = (): Json[] => ofType('AWS::CloudWatch::CompositeAlarm');
const shortName = (props: Json): string => String(props.AlarmName).slice(stack.stackName.length + 1);

function alarm(id: string): Json {
  const found = alarms().filter((a) => a.Properties.AlarmName === `${stack.stackName}-${id}`);
  if (found.length !== 1) throw new Error(`Expected one alarm named ${stack.stackName}-${id}, found ${found.length}`);
  return found[0].Properties;
}

/** The alarm's single metric (MetricName, Namespace, Dimensions, Statistic, Period). */
const singleMetric = (props: Json) => ({
  Namespace: props.Namespace,
  MetricName: props.MetricName,
  Dimensions: props.Dimensions,
  Statistic: props.Statistic,
  Period: props.Period,
});

/** Every metric an alarm reads: its own, or each MetricStat of its metric math. */
const alarmMetrics = (props: Json): Json[] =>
  props.Metrics
    ? (props.Metrics as Json[]).filter((q) => q.MetricStat).map((q) => ({ ...q.MetricStat.Metric, Stat: q.MetricStat.Stat, Period: q.MetricStat.Period }))
    : [{ Namespace: props.Namespace, MetricName: props.MetricName, Dimensions: props.Dimensions, Stat: props.Statistic, Period: props.Period }];

/** The dimensions of a Processa custom metric in this stack. */
const customDimensions = (stackName = stack.stackName) => [
  { Name: 'service', Value: 'processa' },
  { Name: STACK_DIMENSION, Value: stackName },
];

const queueDimension = (construct: IConstruct) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(construct), 'QueueName'] } }];
const functionDimension = (name: FunctionName) => [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.stateless.functions[name]) } }];

describe('alarm topic', () => {
  it('is encrypted with a rotated customer managed key that CloudWatch may use', () => {
    const [topic] = ofType('AWS::SNS::Topic');
    const keyId = logicalId(stack.operations.topicKey);
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = resources[keyId];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
  });

  it('denies publishing without TLS and lets only this stack’s alarms in this account publish', () => {
    const [policy] = ofType('AWS::SNS::TopicPolicy');
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId() }]);
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allow = statements.find((s) => s.Effect === 'Allow');
    expect(allow).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: { Ref: topicId() },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(`:alarm:${stack.stackName}-*`);
  });

  it('has no subscription unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the alarmEmail context by email', () => {
    const { stack: withEmail, template: emailTemplate } = synth({ alarmEmail: 'oncall@example.com' }, 'email');
    emailTemplate.resourceCountIs('AWS::SNS::Subscription', 1);
    emailTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: withEmail.getLogicalId(withEmail.operations.topic.node.defaultChild as CfnElement) },
    });
  });

  it.each([['not-an-email'], ['ops@'], ['two words@example.com'], ['ops@example']])('rejects an alarmEmail of %s', (value) => {
    const app = new App({ outdir: join(outdir, 'bad-email'), context: { ...NO_BUNDLING, alarmEmail: value } });
    const config = configFromContext(app.node);
    expect(() => new ProcessaStack(app, config.stackName, config.props)).toThrow(/alarmEmail/);
  });
});

describe('alarms', () => {
  it('one per fixed concern, two per function (errors, throttles) and one per table (throttling); one composite', () => {
    expect(alarms()).toHaveLength(FIXED_ALARMS + 2 * functionNames.length + tableNames.length);
    expect(stack.operations.alarms).toHaveLength(alarms().length);
    expect(compositeAlarms()).toHaveLength(1);
    expect(stack.operations.compositeAlarms).toHaveLength(1);
  });

  it('every alarm: named after the stack, explained, >= threshold in one period, missing data not breaching', () => {
    const names = new Set<string>();
    for (const { Properties: props } of alarms()) {
      names.add(props.AlarmName);
      expect(props.AlarmName).toMatch(new RegExp(`^${stack.stackName}-[A-Za-z0-9]+$`));
      expect(props.AlarmDescription.length).toBeGreaterThan(80);
      expect(props.AlarmDescription.length).toBeLessThanOrEqual(1024);
      expect(props).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    }
    expect(names.size).toBe(alarms().length);
  });

  it('every alarm notifies the topic on ALARM and on OK, but the per-death alarm (ALARM only) and the composite’s inputs (nothing)', () => {
    for (const { Properties: props } of [...alarms(), ...compositeAlarms()]) {
      const name = shortName(props);
      const topic = [{ Ref: topicId() }];
      const expected = COMPOSITE_INPUTS.includes(name)
        ? { alarm: undefined, ok: undefined }
        : ALARM_ONLY.includes(name)
          ? { alarm: topic, ok: undefined }
          : { alarm: topic, ok: topic };
      expect({ name, alarm: props.AlarmActions, ok: props.OKActions }).toEqual({ name, ...expected });
    }
  });

  it('every alarm filters on its own stack: custom metrics by the stack dimension, AWS metrics by a resource of this stack', () => {
    const own = new Set(Object.keys(resources));
    const refersToOwnResource = (value: Json): boolean => {
      const id = value?.Ref ?? value?.['Fn::GetAtt']?.[0];
      return typeof id === 'string' && own.has(id);
    };
    let custom = 0;
    for (const { Properties: props } of alarms()) {
      for (const metric of alarmMetrics(props)) {
        const where = `${props.AlarmName}: ${metric.Namespace}/${metric.MetricName}`;
        if (metric.Namespace === METRICS_NAMESPACE) {
          custom++;
          expect({ where, dimensions: metric.Dimensions }).toEqual({ where, dimensions: customDimensions() });
        } else {
          expect({ where, own: (metric.Dimensions as Json[]).some((d) => refersToOwnResource(d.Value)) }).toEqual({ where, own: true });
        }
      }
    }
    expect(custom).toBeGreaterThanOrEqual(6);
  });

  it('two stacks in one account (dev and prod): each one’s custom-metric alarms and functions name only its own stack', () => {
    const app = new App({ outdir: join(outdir, 'two'), context: NO_BUNDLING });
    const dev = new ProcessaStack(app, 'ProcessaDev', { stage: 'dev' });
    const prod = new ProcessaStack(app, 'ProcessaProd');
    for (const [built, other] of [
      [dev, prod],
      [prod, dev],
    ] as const) {
      const json = Template.fromStack(built).toJSON();
      const body = JSON.stringify(json.Resources);
      expect(body).not.toContain(`"${other.stackName}"`);
      const fns = Object.values(json.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(fns.map((f) => f.Properties.Environment.Variables[STACK_NAME_ENV])).toEqual(fns.map(() => built.stackName));
      const dims = Object.values(json.Resources as Record<string, Json>)
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
        .flatMap((r) => alarmMetrics(r.Properties))
        .filter((m) => m.Namespace === METRICS_NAMESPACE)
        .map((m) => m.Dimensions);
      expect(dims.length).toBeGreaterThan(0);
      for (const d of dims) expect(d).toEqual(customDimensions(built.stackName));
    }
  });

  it('EndpointDisabled: every endpoint Processa disables (410 Gone) notifies (1-minute Sum of EndpointsDisabled)', () => {
    const props = alarm('EndpointDisabled');
    expect(singleMetric(props)).toEqual({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.endpointsDisabled,
      Dimensions: customDimensions(),
      Statistic: 'Sum',
      Period: 60,
    });
    expect(props).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId() }],
    });
    expect(props.OKActions).toBeUndefined();
    expect(props.AlarmDescription).toContain('{"enabled": true}');
  });

  it('NewDeadDeliveries: every dead delivery notifies, even while earlier ones sit in the DLQ (1-minute Sum of DeliveriesDead)', () => {
    const props = alarm('NewDeadDeliveries');
    expect(singleMetric(props)).toEqual({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.deliveriesDead,
      Dimensions: customDimensions(),
      Statistic: 'Sum',
      Period: 60,
    });
    expect(props).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      // Back to OK in the minutes without a death, so the next death is a new ALARM transition.
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId() }],
    });
    expect(props.OKActions).toBeUndefined();
    expect(props.AlarmDescription).toContain('POST /v1/webhooks/{id}/redrive');
    expect(props.AlarmDescription).toContain('DeliveriesDead');
  });

  it('DecisionsStalled: decisions in 15 minutes and none fanned out, notified unless the fan-out shows up within the grace period', () => {
    const [composite] = compositeAlarms();
    const props = composite.Properties;
    expect(props.AlarmName).toBe(`${stack.stackName}-DecisionsStalled`);
    expect(props.AlarmActions).toEqual([{ Ref: topicId() }]);
    expect(props.OKActions).toEqual([{ Ref: topicId() }]);
    expect(props.AlarmDescription.length).toBeGreaterThan(80);
    expect(props.AlarmDescription.length).toBeLessThanOrEqual(1024);
    expect(props.AlarmDescription).toMatch(/event source mapping/);
    const input = stack.operations.alarms.find((a) => a.node.id === 'DecisionsWithoutFanOutAlarm')!;
    const suppressor = stack.operations.alarms.find((a) => a.node.id === 'FanOutActiveAlarm')!;
    expect(JSON.stringify(props.AlarmRule)).toContain(logicalId(input));
    expect(JSON.stringify(props.AlarmRule)).toMatch(/^.*ALARM\(.*$/);
    expect(JSON.stringify(props.ActionsSuppressor)).toContain(logicalId(suppressor));
    expect(props.ActionsSuppressorWaitPeriod).toBe(ALARM_THRESHOLDS.fanOutGraceSeconds);
    expect(props.ActionsSuppressorExtensionPeriod).toBe(60);

    // Its input: the decisions of the window when the fan-out handled none of them.
    const rule = alarm('DecisionsWithoutFanOut');
    expect(rule).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
    const queries = rule.Metrics as Json[];
    const returned = queries.filter((q) => q.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0].Expression).toBe('IF(decisions >= 1 AND FILL(fannedOut, 0) == 0, decisions, 0)');
    expect(queries.find((q) => q.Id === 'decisions').Expression).toBe('FILL(approved, 0) + FILL(rejected, 0) + FILL(expired, 0)');
    const stat = (id: string) => queries.find((q) => q.Id === id)?.MetricStat;
    const custom = (name: string, statName: string) => ({
      Metric: { Namespace: METRICS_NAMESPACE, MetricName: name, Dimensions: customDimensions() },
      Period: 15 * 60,
      Stat: statName,
    });
    expect(stat('approved')).toEqual(custom(METRICS.draftsApproved, 'Sum'));
    expect(stat('rejected')).toEqual(custom(METRICS.draftsRejected, 'Sum'));
    expect(stat('expired')).toEqual(custom(METRICS.draftsExpired, 'Sum'));
    // One sample per decision handled, whether or not an endpoint subscribes (see test/unit/observability.test.ts).
    expect(stat('fannedOut')).toEqual(custom(METRICS.webhooksEnqueued, 'SampleCount'));

    // The suppressor: the fan-out handled a decision in the last minute.
    const active = alarm('FanOutActive');
    expect(singleMetric(active)).toEqual({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.webhooksEnqueued,
      Dimensions: customDimensions(),
      Statistic: 'SampleCount',
      Period: 60,
    });
    expect(active).toMatchObject({ Threshold: 1, TreatMissingData: 'notBreaching' });
  });

  it('DeliveriesDead: any visible message in the deliveries DLQ, and says how to redrive', () => {
    const props = alarm('DeliveriesDead');
    expect(singleMetric(props)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queueDimension(stack.stateful.queues.deliveriesDlq),
      Statistic: 'Maximum',
      Period: 60,
    });
    expect(props.Threshold).toBe(1);
    expect(props.AlarmDescription).toContain('POST /v1/webhooks/{id}/redrive');
    expect(props.AlarmDescription).toContain(`npm run redrive -- --stack ${stack.stackName}`);
  });

  it('FanOutFailures: any visible message in the stream consumer’s on-failure queue', () => {
    const props = alarm('FanOutFailures');
    expect(singleMetric(props)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queueDimension(stack.stateful.queues[streamConsumer.onFailure]),
      Statistic: 'Maximum',
      Period: 60,
    });
    expect(props.Threshold).toBe(1);
  });

  it('DeliveriesFailing: the DeliveriesFailed custom metric, summed over 5 minutes', () => {
    const props = alarm('DeliveriesFailing');
    expect(singleMetric(props)).toEqual({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRICS.deliveriesFailed,
      Dimensions: customDimensions(),
      Statistic: 'Sum',
      Period: 300,
    });
    expect(props.Threshold).toBe(ALARM_THRESHOLDS.deliveriesFailedPer5Min);
  });

  it('custom metrics: the namespace and dimensions are the ones Powertools writes in the functions’ EMF lines', () => {
    for (const name of functionNames) {
      const variables = resources[logicalId(stack.stateless.functions[name])].Properties.Environment.Variables;
      // The metrics each function publishes, built from the environment the stack gives it.
      const fnMetrics = createMetrics(variables);
      fnMetrics.addMetric(METRICS.deliveriesFailed, 'Count', 1);
      const emf = fnMetrics.serializeMetrics() as Json;
      fnMetrics.clearMetrics();
      const [directive] = emf._aws.CloudWatchMetrics;
      expect(directive.Namespace).toBe(METRICS_NAMESPACE);
      expect(directive.Dimensions).toEqual([['service', STACK_DIMENSION]]);
      expect(variables[STACK_NAME_ENV]).toBe(stack.stackName);
      expect([
        { Name: 'service', Value: emf.service },
        { Name: STACK_DIMENSION, Value: emf[STACK_DIMENSION] },
      ]).toEqual(customDimensions());
    }
  });

  it('DeliveryQueueAge: oldest delivery message past 15 minutes, above the whole retry ladder', () => {
    const props = alarm('DeliveryQueueAge');
    expect(singleMetric(props)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: queueDimension(stack.stateful.queues[queueConsumer.queue]),
      Statistic: 'Maximum',
      Period: 300,
    });
    expect(props.Threshold).toBe(15 * 60);
    // 30 + 60 + 120 s of backoff at the default base: well under the threshold.
    expect(deliveryQueueAgeThresholdSeconds(deliveryRetry.baseSeconds)).toBe(900);
    // A slower ladder raises it to twice the ladder: 600 + 1200 + 2400 s.
    expect(deliveryQueueAgeThresholdSeconds(600)).toBe(2 * 4200);
  });

  it('NotificationQueueAge: the same for the notifications queue (channels and operator notices), naming its worker', () => {
    const props = alarm('NotificationQueueAge');
    expect(singleMetric(props)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: queueDimension(stack.stateful.queues[notificationConsumer.queue]),
      Statistic: 'Maximum',
      Period: 300,
    });
    expect(props.Threshold).toBe(alarm('DeliveryQueueAge').Threshold);
    expect(props.AlarmDescription).toContain('DeliverNotifications');
  });

  it('FanOutIteratorAge: the stream consumer at least 60 s behind (maximum over 5 minutes)', () => {
    const props = alarm('FanOutIteratorAge');
    expect(singleMetric(props)).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: functionDimension(streamConsumer.function),
      Statistic: 'Maximum',
      Period: 300,
    });
    expect(props.Threshold).toBe(60_000);
  });

  it.each(functionNames)('%s: Errors and Throttles alarms (sum over 5 minutes, >= 1)', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      const props = alarm(`${pascalCase(name)}${metric}`);
      expect(singleMetric(props)).toEqual({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: functionDimension(name),
        Statistic: 'Sum',
        Period: 300,
      });
      expect(props.Threshold).toBe(1);
    }
  });

  it('Api5xxRate: 5xx / Count × 100 of the $default stage >= 1 %, once enough requests were served', () => {
    const props = alarm('Api5xxRate');
    expect(props.Threshold).toBe(ALARM_THRESHOLDS.api5xxPercent);
    const queries = props.Metrics as Json[];
    const returned = queries.filter((q) => q.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0].Expression).toBe(`IF(requests >= ${ALARM_THRESHOLDS.api5xxMinRequests}, 100 * errors / requests, 0)`);
    const dimensions = [
      { Name: 'ApiId', Value: { Ref: logicalId(stack.stateless.api) } },
      { Name: 'Stage', Value: '$default' },
    ];
    const stat = (id: string) => queries.find((q) => q.Id === id)?.MetricStat;
    expect(stat('errors')).toEqual({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: dimensions }, Period: 300, Stat: 'Sum' });
    expect(stat('requests')).toEqual({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: dimensions }, Period: 300, Stat: 'Sum' });
  });

  it.each(tableNames)('%s: ThrottledRequests over the data-plane operations (at most 10 metrics, as CloudWatch allows)', (name) => {
    const props = alarm(`${tableConstructId(name)}Throttles`);
    expect(props.Threshold).toBe(1);
    const queries = props.Metrics as Json[];
    const stats = queries.filter((q) => q.MetricStat);
    expect(stats.length).toBeLessThanOrEqual(10);
    const tableRef = { Ref: logicalId(stack.stateful.tables[name]) };
    const operations = stats.map((q) => {
      const { Metric, Period, Stat } = q.MetricStat;
      expect({ Namespace: Metric.Namespace, MetricName: Metric.MetricName, Period, Stat }).toEqual({
        Namespace: 'AWS/DynamoDB',
        MetricName: 'ThrottledRequests',
        Period: 300,
        Stat: 'Sum',
      });
      expect(Metric.Dimensions).toContainEqual({ Name: 'TableName', Value: tableRef });
      return Metric.Dimensions.find((d: Json) => d.Name === 'Operation').Value as string;
    });
    expect(operations.sort()).toEqual([...THROTTLE_OPERATIONS].sort());
    const [expression] = queries.filter((q) => q.ReturnData !== false);
    for (const q of stats) expect(expression.Expression).toContain(`FILL(${q.Id}, 0)`);
  });

  it('the table alarms cover every DynamoDB operation the code calls', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const toOperation: Record<string, string> = {
      Get: 'GetItem',
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      Query: 'Query',
      Scan: 'Scan',
      BatchGet: 'BatchGetItem',
      BatchWrite: 'BatchWriteItem',
      TransactWrite: 'TransactWriteItems',
      TransactGet: 'TransactGetItems',
      ExecuteStatement: 'ExecuteStatement',
      BatchExecuteStatement: 'BatchExecuteStatement',
      ExecuteTransaction: 'ExecuteTransaction',
    };
    const pattern = new RegExp(`new (${Object.keys(toOperation).join('|')})(?:Item)?Command\\(`, 'g');
    const used = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(pattern)) used.add(toOperation[m[1]!]!);
      }
    };
    walk(join(root, 'shared'));
    walk(join(root, 'functions'));
    expect(used.size).toBeGreaterThan(3);
    for (const operation of used) expect(THROTTLE_OPERATIONS).toContain(operation);
  });
});

describe('dashboard', () => {
  it('shows drafts, deliveries, latency percentiles, queues, the DLQ, the API and function errors', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const name of Object.values(METRICS)) expect(body).toContain(`\\"${name}\\"`);
    expect(body).toContain(METRICS_NAMESPACE);
    for (const percentile of ['p50', 'p99']) expect(body).toContain(`\\"stat\\":\\"${percentile}\\"`);
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'IteratorAge', 'Latency', '4xx', '5xx', 'Errors']) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    // Each queue and each function by reference.
    for (const queue of Object.values(stack.stateful.queues)) expect(body).toContain(logicalId(queue));
    for (const fn of Object.values(stack.stateless.functions)) expect(body).toContain(logicalId(fn));
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions: no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    const findings = report.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      resources: v.violatingResources.map((r) => r.constructPath),
    }));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('AwsSolutions as registered by infra/app.ts (-c nag=true): the synth passes validation', () => {
    const app = new App({ outdir: join(outdir, 'nag'), context: { ...NO_BUNDLING, nag: 'true' } });
    const config = configFromContext(app.node);
    expect(config.nag).toBe(true);
    new ProcessaStack(app, config.stackName, config.props);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => app.synth()).not.toThrow();
  });

  it('nag is off unless asked for, and must be true or false', () => {
    expect(configFromContext(new App({ context: NO_BUNDLING }).node).nag).toBe(false);
    expect(() => configFromContext(new App({ context: { nag: 'yes' } }).node)).toThrow(/nag/);
  });

  it('every acknowledgment names one rule (IAM5 with its exact resource) and gives a specific reason', () => {
    const acknowledged = stack.nagAcknowledgments;
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledged) {
      expect(id).toMatch(/^AwsSolutions-(L1|SQS3|SMG4|APIG4|IAM5\[Resource::[^\]]+\])$/);
      expect(reason.length).toBeGreaterThan(60);
    }
    // IAM5 index wildcards: exactly the tables with indexes each function binds.
    const indexAcks = acknowledged.filter((a) => a.id.includes('/index/*'));
    const expected = functionNames.flatMap((fn) =>
      (Object.keys(functions[fn].tables) as TableName[])
        .filter((table) => tables[table].indexes.length > 0)
        .map((table) => ({ path: stack.stateless.functions[fn].role!.node.path, id: indexWildcardFinding(stack.stateful.tables[table]) })),
    );
    expect(indexAcks.map(({ path, id }) => ({ path, id }))).toEqual(expected);
    // APIG4 (no API Gateway authorizer): one per route and one for $default, since each handler authorizes itself.
    expect(acknowledged.filter((a) => a.id === 'AwsSolutions-APIG4')).toHaveLength(routes.length + 1);
  });
});
