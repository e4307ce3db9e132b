import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { DEFAULT_AUTO_DISABLE_DAYS } from '../../shared/webhooks/endpoint-health.js';
import { breakerSettingError } from '../../shared/webhooks/circuit-breaker-config.js';
import type { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { deliveryRetry, notificationConsumer, queues, settings, settingsFromStackResource, tables, type QueueName, type TableName } from '../app-definition.js';
import { assertEventSourceLimits, definedEventSourceLimits } from './event-sources.js';
import { acknowledgeNagFindings, type NagAcknowledgment } from './nag-suppressions.js';
import { Operations } from './operations.js';
import { outputNames } from './outputs.js';
import { Stateful } from './stateful.js';
import { Stateless } from './stateless.js';
import { resolveApiThrottle, type ApiThrottleInput } from './throttle.js';
import { resolveTracing } from './tracing.js';

export interface ProcessaStackProps extends StackProps {
  /** `dev` stacks may be torn down with their data; every other stage keeps it. */
  stage?: string;
  /** First webhook retry delay in seconds; later ones double. */
  retryBaseSeconds?: number;
  /** Per-attempt webhook HTTP timeout in milliseconds (default deliveryRetry.timeoutMs). */
  webhookTimeoutMs?: number;
  /** Days of nothing but failed attempts after which an endpoint is disabled (default 5). */
  autoDisableDays?: number;
  /** Consecutive failed (or unanswered) attempts that open an endpoint's circuit breaker (default 5). */
  breakerFailures?: number;
  /** Seconds an open breaker defers its endpoint's deliveries before a probe (default 30). */
  breakerCooldownSeconds?: number;
  /** Subscribed by email to the alarm topic; validated as an address. */
  alarmEmail?: string;
  /** Sender of notification emails: an SES identity (address) verified in the account; the delivery function may send only as it. */
  notifyFrom?: string;
  /**
   * Decide from Slack: the Secrets Manager secret (name or full ARN) holding the Slack app's signing
   * secret (a string, or JSON {"signingSecret", "botToken"}). Only the interactivity function may read it.
   */
  slackSecret?: string;
  /**
   * Name of an existing Secrets Manager secret holding the HMAC key of email decision links (at
   * least 32 characters). Absent: the stack generates one (64 random characters).
   */
  emailLinkKeySecret?: string;
  /** X-Ray tracing of the functions: `off` (default) or `sampled` (infra/stacks/tracing.ts). */
  tracing?: string;
  /** The API stage's throttle (apiRateLimit, apiBurstLimit) and routes set apart (<group>RateLimit, …): infra/stacks/throttle.ts. */
  apiThrottle?: ApiThrottleInput;
  /**
   * The ARM64 layer version ARN of the AWS Parameters and Secrets Lambda Extension in the stack's Region, for
   * Regions CDK's built-in table does not list (there the deploy would fail); absent, CDK's table decides.
   */
  secretsExtensionLayerArn?: string;
}

/** A Secrets Manager secret's name, or its full ARN (the slackSecret context). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** A Lambda layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>). */
const LAYER_VERSION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$/;
/** A plain address (local@domain.tld), without display names or spaces. */
const EMAIL = /^[^\s@<>()",;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/**
 * Everything Processa deploys (data, code, and the alarms, topic and dashboard that watch them),
 * environment-agnostic so that `cdk synth` needs no credentials
 * and one template fits any account. Output names are a contract with the CLIs (infra/stacks/outputs.ts).
 */
export class ProcessaStack extends Stack {
  readonly stateful: Stateful;
  readonly stateless: Stateless;
  readonly operations: Operations;
  /** The HMAC key of email decision links (generated, or the one the emailLinkKeySecret context names). */
  readonly emailLinkKey: secretsmanager.ISecret;
  /** The cdk-nag findings this stack acknowledges, with their reasons (infra/stacks/nag-suppressions.ts). */
  readonly nagAcknowledgments: NagAcknowledgment[];

  constructor(scope: Construct, id: string, props: ProcessaStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.stage === 'dev' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const retryBaseSeconds = props.retryBaseSeconds ?? deliveryRetry.baseSeconds;
    if (!Number.isInteger(retryBaseSeconds) || retryBaseSeconds < 1) {
      throw new Error(`retryBaseSeconds must be a positive whole number of seconds, got ${retryBaseSeconds}`);
    }
    const webhookTimeoutMs = props.webhookTimeoutMs ?? deliveryRetry.timeoutMs;
    if (!Number.isInteger(webhookTimeoutMs) || webhookTimeoutMs < 1) {
      throw new Error(`webhookTimeoutMs must be a positive whole number of milliseconds, got ${webhookTimeoutMs}`);
    }
    if (props.notifyFrom !== undefined && !EMAIL.test(props.notifyFrom)) {
      throw new Error(`notifyFrom must be an email address such as approvals@example.com (a verified SES identity), got "${props.notifyFrom}"`);
    }
    if (props.slackSecret !== undefined && !SECRET_NAME.test(props.slackSecret) && !SECRET_ARN.test(props.slackSecret)) {
      throw new Error(`slackSecret must be a Secrets Manager secret name or ARN, got "${props.slackSecret}"`);
    }
    if (props.secretsExtensionLayerArn !== undefined && !LAYER_VERSION_ARN.test(props.secretsExtensionLayerArn)) {
      throw new Error(
        `secretsExtensionLayerArn must be a Lambda layer version ARN such as arn:aws:lambda:eu-central-2:123456789012:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:4, got "${props.secretsExtensionLayerArn}"`,
      );
    }
    if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail)) {
      throw new Error(`alarmEmail must be an email address such as ops@example.com, got "${props.alarmEmail}"`);
    }
    // Fail the synth, not the deploy, when the definition breaks a Lambda or SQS limit.
    assertEventSourceLimits(definedEventSourceLimits(retryBaseSeconds, webhookTimeoutMs));
    const autoDisableDays = props.autoDisableDays ?? DEFAULT_AUTO_DISABLE_DAYS;
    if (!(autoDisableDays > 0 && autoDisableDays <= 90))
      throw new Error(`autoDisableDays must be a number of days from 0 (exclusive) to 90, got ${autoDisableDays}`);
    const breakerFailures = props.breakerFailures ?? settings.breakerFailures.stack.default;
    const breakerCooldownSeconds = props.breakerCooldownSeconds ?? settings.breakerCooldownSeconds.stack.default;
    for (const error of [breakerSettingError('breakerFailures', breakerFailures), breakerSettingError('breakerCooldownSeconds', breakerCooldownSeconds)])
      if (error) throw new Error(error);

    // X-Ray: off unless the tracing context asks (infra/stacks/tracing.ts); a bad value fails the synth naming its key.
    const tracing = resolveTracing(props.tracing);
    // Likewise the API throttle: a bad rate or burst fails the synth naming its context key.
    const throttle = resolveApiThrottle(props.apiThrottle);
    this.stateful = new Stateful(this, 'Stateful', { removalPolicy });
    this.stateless = new Stateless(this, 'Stateless', {
      tables: this.stateful.tables,
      queues: this.stateful.queues,
      removalPolicy,
      tracing,
      throttle,
      secretsExtensionLayerArn: props.secretsExtensionLayerArn,
      // The settings the stack sets; the others are never set on AWS (see `settings`).
      settings: {
        retryBaseSeconds: String(retryBaseSeconds),
        webhookTimeoutMs: String(webhookTimeoutMs),
        autoDisableDays: String(autoDisableDays),
        breakerFailures: String(breakerFailures),
        breakerCooldownSeconds: String(breakerCooldownSeconds),
        stackName: this.stackName,
        notifyFrom: props.notifyFrom,
        slackSecret: props.slackSecret,
      },
    });
    if (props.notifyFrom) {
      // SES authorizes a send by the identity used: the address itself, or its verified domain.
      const domain = props.notifyFrom.split('@')[1]!;
      this.stateless.functions[notificationConsumer.function].addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: [props.notifyFrom, domain].map((identity) => this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })),
        }),
      );
    }
    // The HMAC key of email decision links: only the functions that sign or check links may read it.
    const emailLinkKey = (this.emailLinkKey = props.emailLinkKeySecret
      ? secretsmanager.Secret.fromSecretNameV2(this, 'EmailLinkKey', props.emailLinkKeySecret)
      : new secretsmanager.Secret(this, 'EmailLinkKey', {
          description: 'HMAC-SHA256 key of the Approve and Reject links in Processa notification emails',
          generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
          removalPolicy,
        }));
    for (const definition of settingsFromStackResource('emailLinkKeySecret')) {
      for (const name of definition.functions) {
        // A name is looked up as is; a generated secret by its full ARN.
        this.stateless.functions[name].addEnvironment(definition.envVar, props.emailLinkKeySecret ?? emailLinkKey.secretArn);
        emailLinkKey.grantRead(this.stateless.functions[name]);
      }
    }
    if (props.slackSecret) {
      // The Slack app's secret: read by the interactivity function alone. A name matches the secret's
      // ARN with Secrets Manager's six random characters after it; an ARN is taken as it is.
      const secretArn = SECRET_ARN.test(props.slackSecret)
        ? props.slackSecret
        : `arn:${this.partition}:secretsmanager:${this.region}:${this.account}:secret:${props.slackSecret}-??????`;
      this.stateless.functions.slackInteractions.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
      );
    }
    this.operations = new Operations(this, 'Operations', {
      functions: this.stateless.functions,
      tables: this.stateful.tables,
      queues: this.stateful.queues,
      stage: this.stateless.stage,
      removalPolicy,
      retryBaseSeconds,
      alarmEmail: props.alarmEmail,
    });
    this.nagAcknowledgments = acknowledgeNagFindings(this.stateful, this.stateless);
    if (emailLinkKey instanceof secretsmanager.Secret) {
      const reason =
        'The email-link key has no rotation Lambda: rotating it would end every link already sent (they are checked against ' +
        'one key and live at most 7 days); an operator rotates it by updating the secret, and only two functions may read it.';
      Validations.of(emailLinkKey).acknowledge({ id: 'AwsSolutions-SMG4', reason });
      this.nagAcknowledgments.push({ path: emailLinkKey.node.path, id: 'AwsSolutions-SMG4', reason });
    }

    // Outputs live on the stack itself so their logical ids are exactly these names.
    new CfnOutput(this, outputNames.apiUrl, { value: this.stateless.apiUrl, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, outputNames.alarmTopicArn, {
      value: this.operations.topic.topicArn,
      description: 'SNS topic every alarm notifies (ALARM and OK); subscribe on-call tools to it',
    });
    for (const name of Object.keys(tables) as TableName[]) {
      new CfnOutput(this, outputNames.table(name), { value: this.stateful.tables[name].tableName });
    }
    for (const name of Object.keys(queues) as QueueName[]) {
      new CfnOutput(this, outputNames.queue(name), { value: this.stateful.queues[name].queueUrl });
    }
  }
}
