/**
 * us-east-1 list prices used by the cost model (section 4 of BENCHMARKS.md). Free tiers are left
 * out on purpose: the model prices the marginal million drafts. Entries marked `check` are ones
 * whose exact figure or applicability should be confirmed on the pricing page before relying on it.
 */
export const PRICES_AS_OF =
  'us-east-1 list prices as published in August 2025 on the AWS pricing pages named per entry (DynamoDB after its 2024-11-01 on-demand cut; Lambda logs after the 2025-05-01 tiering); re-check them before relying on the totals';

export interface Price {
  usd: number;
  unit: string;
  source: string;
  note?: string;
  check?: boolean;
}

export const PRICES = {
  apiGatewayHttpRequests: {
    usd: 1.0 / 1e6,
    unit: 'per HTTP API request (first 300 M/month tier: $1.00 per million; metered per 512 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  lambdaRequests: {
    usd: 0.2 / 1e6,
    unit: 'per Lambda request ($0.20 per million)',
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'per GB-second, arm64 (first 7.5 B GB-s/month tier); billed per 1 ms',
    source: 'https://aws.amazon.com/lambda/pricing/',
    note: 'Since 2025-08-01 the INIT phase (cold start) is billed too; cold starts are not in the per-draft model.',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'per write request unit, on-demand, Standard table class ($0.625 per million)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    note: 'After the 50% on-demand price cut effective 2024-11-01 (was $1.25). 1 WRU = 1 KB written, each GSI write counts; transactional writes cost 2.',
  },
  dynamoReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'per read request unit, on-demand ($0.125 per million)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    note: 'After the 2024-11-01 price cut (was $0.25). 1 RRU = one strongly consistent read of 4 KB, or two eventually consistent.',
  },
  dynamoStreamsForLambda: {
    usd: 0,
    unit: 'GetRecords made by a Lambda event source mapping',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (DynamoDB Streams)',
    note: 'Free when a Lambda trigger reads the stream; other readers pay $0.02 per 100 k read request units.',
  },
  sqsRequests: {
    usd: 0.4 / 1e6,
    unit: 'per SQS request, standard queue ($0.40 per million after the first 1 M/month; each 64 KB chunk is a request)',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  logsIngestedGb: {
    usd: 0.5,
    unit: 'per GB ingested into CloudWatch Logs (Standard class; Lambda logs: first tier of the tiered price since 2025-05-01)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    check: true,
  },
  xrayTraces: {
    usd: 5.0 / 1e6,
    unit: 'per trace recorded ($5.00 per million, first 100 k/month free)',
    source: 'https://aws.amazon.com/xray/pricing/',
    check: true,
  },
  stepFunctionsStandardTransitions: {
    usd: 25 / 1e6,
    unit: 'per state transition, Standard workflows ($0.025 per 1,000)',
    source: 'https://aws.amazon.com/step-functions/pricing/',
  },
} satisfies Record<string, Price>;

/**
 * X-Ray's default sampling rule records the first request each second and 5% of the rest. Above
 * about one invocation per second per function the marginal rate is the 5%; the reservoir is a
 * fixed cost of up to ~2.6 M traces per function per month. `check`: confirm how Lambda applies
 * the reservoir (per function or per account) for your account's rules.
 */
export const XRAY_MARGINAL_SAMPLING = 0.05;

/**
 * A Step Functions Standard approval flow doing the same job, one execution per draft:
 * StartExecution from the create API, then the states below; the decide API calls SendTaskSuccess.
 */
export const STEP_FUNCTIONS_FLOW = [
  'Store draft (DynamoDB PutItem, SDK integration)',
  'Wait for decision (Task .waitForTaskToken; token saved with the draft)',
  'Choice: approved or rejected',
  'Shape the webhook payload (Pass)',
  'Deliver the webhook (Lambda task, retries in the state machine)',
  'Succeed',
] as const;
