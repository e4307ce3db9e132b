/**
 * AWS limits the capacity model (BENCHMARKS.md, capacity) checks Processa's settings against: the
 * documented default of each, where it is documented, and whether it can be raised. Entries marked
 * `check` are ones whose current value or exact scope should be confirmed on the page before relying
 * on them. Defaults for us-east-1 and most Regions; some Regions have lower API Gateway defaults.
 */
export const QUOTAS_AS_OF = 'AWS documentation pages named per entry, as read in 2026; defaults, before any quota increase';

export interface Quota {
  value: number;
  unit: string;
  source: string;
  /** How to get more, when the limit binds. */
  lift: string;
  note?: string;
  check?: boolean;
}

export const QUOTAS = {
  dynamoPartitionWrites: {
    value: 1000,
    unit: 'write units/s per partition (table or GSI)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html',
    lift: 'spread the key over more partition key values (shards); not a quota',
  },
  dynamoPartitionReads: {
    value: 3000,
    unit: 'read units/s per partition (table or GSI)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html',
    lift: 'spread the key over more partition key values; not a quota',
  },
  dynamoOnDemandTableWrites: {
    value: 40_000,
    unit: 'write request units/s per on-demand table (and per GSI)',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html',
    lift: 'Service Quotas: table-level write throughput',
    note: 'Whether a table and its GSIs share one 40,000 or each has its own is worded differently across the pages.',
    check: true,
  },
  dynamoOnDemandNewTableWrites: {
    value: 4000,
    unit: 'write units/s a new on-demand table sustains at once; then up to double its previous peak, instantly',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html',
    lift: 'pre-warm (warm throughput on the table and GSIs), or ramp traffic over 30 minutes per doubling',
  },
  streamParallelizationFactor: {
    value: 10,
    unit: 'concurrent batches per stream shard (ParallelizationFactor, 1–10; default 1)',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html',
    lift: 'streamConsumer.parallelizationFactor in infra/app-definition.ts, up to 10',
  },
  streamShards: {
    value: 1000,
    unit: 'write units/s one DynamoDB Streams shard carries: a shard follows one table partition',
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html',
    lift: 'none needed: shards split as the table does',
    note: 'DynamoDB does not publish the shard count; the model takes one shard per 1,000 write units/s of the base table.',
    check: true,
  },
  sqsStandardThroughput: {
    value: Number.POSITIVE_INFINITY,
    unit: 'API calls/s on a standard queue ("nearly unlimited")',
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html',
    lift: 'none needed',
    check: true,
  },
  sqsInFlight: {
    value: 120_000,
    unit: 'in-flight messages per standard queue',
    source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html',
    lift: 'support request',
  },
  lambdaSqsMaxConcurrency: {
    value: 1000,
    unit: 'concurrent batches per SQS event source mapping (MaximumConcurrency 2–1,000); scales up by 300 a minute',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html',
    lift: 'queueConsumer.maxConcurrency in infra/app-definition.ts, up to 1,000',
  },
  lambdaAccountConcurrency: {
    value: 1000,
    unit: 'concurrent executions per account and Region, all functions together',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
    lift: 'Service Quotas: Lambda concurrent executions',
    note: 'New accounts may start lower.',
    check: true,
  },
  lambdaScalingRate: {
    value: 1000,
    unit: 'new execution environments per function every 10 s',
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html',
    lift: 'not adjustable; ramp traffic, or provisioned concurrency',
  },
  apiGatewayAccountRate: {
    value: 10_000,
    unit: 'requests/s per account and Region, all APIs together',
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
    lift: 'Service Quotas: API Gateway throttle quota (L-8A5B8E43)',
    note: '2,500 requests/s (burst 1,250) in some newer Regions.',
  },
  apiGatewayAccountBurst: {
    value: 5000,
    unit: 'burst (token bucket) per account and Region',
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
    lift: 'set by AWS from the rate quota',
  },
} satisfies Record<string, Quota>;
export type QuotaName = keyof typeof QUOTAS;
