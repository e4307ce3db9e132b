/**
 * Capacity on AWS at sustained decision rates: a model from the app's own settings (infra/app-definition.ts,
 * the stack's throttle defaults) and AWS's documented limits (quotas.ts), not a measurement. For each
 * resource: the load one decision puts on it, the load at each rate, the limit, whether it binds, and
 * the setting or quota increase that lifts it. Starts no services; runs in milliseconds.
 */
import { deliveryShards, draftListShards, functions, queueConsumer, routeKey, routes, streamConsumer, tables } from '../../infra/app-definition.js';
import { DEFAULT_API_THROTTLE, resolveApiThrottle, ROUTE_THROTTLE_GROUPS, throttleContextKeys } from '../../infra/stacks/throttle.js';
import { QUOTAS, type Quota, type QuotaName } from './quotas.js';

export const CAPACITY_RATES = [100, 1_000, 10_000] as const;

/**
 * What the model assumes but cannot read from the settings. Durations are guesses for AWS in-region
 * (the cost section measures the handlers against DynamoDB Local, a few ms per call); the receiver's
 * answer time is the customer's.
 */
export const CAPACITY_ASSUMPTIONS = {
  /** Each decision follows one create (steady state): 2 API requests, 2 stream records per draft. */
  apiFunctionSeconds: 0.03,
  /** A stream batch: fixed overhead plus a little per record (the fan-out handles a batch's records concurrently). */
  fanOutBatchSeconds: 0.03,
  fanOutSecondsPerRecord: 0.001,
  /** The receiving endpoint's answer time; a delivery batch's POSTs run concurrently, so a batch lasts about this. */
  receiverSeconds: 0.2,
  /** Endpoints subscribed to every decision. */
  endpoints: 1,
  /** Write units per write of a draft item (measured items: 0.6–1 KB; a 4 KB draft takes 4–5). */
  draftItemWriteUnits: 1,
  /**
   * Write units per delivered message on keys of its endpoint in the deliveries table: the delivery
   * state put by the fan-out, its update and the attempt log (spread over the endpoint's
   * deliveryShards partitions by event id) and the endpoint's health item (one update per endpoint
   * per delivery batch, under the plain endpoint id). Replaced by the cost section's measured
   * fanOutDecisions + deliverWebhooks WRU (batches of one) when it ran in the same bench run.
   */
  endpointWritesPerMessage: 4,
  /** Of those, the health item's update: one per endpoint per delivery batch (1 WRU: the item stays small). */
  healthWritesPerBatch: 1,
  /** API keys the traffic uses: one agent key creates every draft, one reviewer key decides. */
  keysPerRole: 1,
};

export interface CapacityRow {
  resource: string;
  /** What one decision puts on it, in words. */
  perDecision: string;
  /** Load at each rate, in `unit`. */
  loads: number[];
  limit: number;
  unit: string;
  /** The quota the limit comes from (its source URL is in the quotas table), or the setting. */
  quota?: QuotaName;
  /** Where the limit comes from when it is one of Processa's own settings. */
  setting?: string;
  lift: string;
  /** Limits that only shape a ramp (scaling rates) do not bind sustained load. */
  rampOnly?: boolean;
  /** A per-partition DynamoDB limit: a hot partition when it binds. */
  partition?: boolean;
}

/** Figures another section of the same run measured, used instead of the assumptions. */
export interface CapacityMeasured {
  /** WRU per delivered message (batches of one) of fanOutDecisions + deliverWebhooks, from the cost section. */
  endpointWritesPerMessage?: number;
}

export interface CapacityReport {
  rates: readonly number[];
  rows: CapacityRow[];
  /** Per rate: the rows that bind (load > limit), worst first. */
  binding: Array<{ rate: number; rows: string[] }>;
  /** Per rate: the most loaded row that does not bind, with its share of its limit. */
  nearest: Array<{ rate: number; resource: string; share: number }>;
  assumptions: typeof CAPACITY_ASSUMPTIONS;
  /** Which assumptions were replaced by this run's measurements. */
  measured: CapacityMeasured;
}

const projectionOf = (index: { projection?: { type: string } }) => index.projection?.type ?? 'ALL';

export function capacityModel(measured: CapacityMeasured = {}): CapacityReport {
  const a = { ...CAPACITY_ASSUMPTIONS, ...measured };
  const rates = CAPACITY_RATES;
  const at = (perDecision: number) => rates.map((r) => r * perDecision);
  const throttle = resolveApiThrottle();
  const routeLimit = (key: string) => throttle.routes[key]?.rateLimit ?? throttle.stage.rateLimit;
  const createKey = ROUTE_THROTTLE_GROUPS.createDraft[0];
  const approveKey = ROUTE_THROTTLE_GROUPS.decideDraft[0];
  if (!routes.some((r) => routeKey(r) === createKey) || !routes.some((r) => routeKey(r) === approveKey))
    throw new Error('capacity: create/approve routes missing');

  // DynamoDB: the drafts table's items are keyed by random ids (spread); its listing indexes by <scope>#<shard>.
  const draftIndexes = tables.drafts.indexes as ReadonlyArray<{ name: string; projection?: { type: string } }>;
  const keysOnly = draftIndexes.every((i) => projectionOf(i) === 'KEYS_ONLY');
  // Per draft: the review queue's scope takes the create's put and the decision's delete; over draftListShards partitions.
  const pendingScopeWrites = 2 / draftListShards;
  const baseTableWrites = 2 * a.draftItemWriteUnits;
  const streamRecords = 2;
  const shardsAt = (rate: number) => Math.max(1, Math.ceil((rate * baseTableWrites) / QUOTAS.streamShards.value));
  const batchSeconds = a.fanOutBatchSeconds + a.fanOutSecondsPerRecord * streamConsumer.batchSize;
  const shardRecordsPerSecond = (streamConsumer.parallelizationFactor * streamConsumer.batchSize) / batchSeconds;
  const deliveryBatchSeconds = a.receiverSeconds + a.apiFunctionSeconds;
  const deliveryConcurrencyPerDecision = (a.endpoints / queueConsumer.batchSize) * deliveryBatchSeconds;
  // Deliveries: the state and attempt writes spread over the endpoint's shards; the health update is
  // one per batch. Batches hold at least what maxConcurrency batches in flight must carry (a backlog
  // fills them), at most batchSize: the fewest messages per batch, so the most health writes.
  const shardedWritesPerMessage = Math.max(0, a.endpointWritesPerMessage - a.healthWritesPerBatch);
  const messagesPerBatch = (rate: number) =>
    Math.min(queueConsumer.batchSize, Math.max(1, (rate * a.endpoints * deliveryBatchSeconds) / queueConsumer.maxConcurrency));
  const writesPerMessageText = `${Number.isInteger(a.endpointWritesPerMessage) ? a.endpointWritesPerMessage : a.endpointWritesPerMessage.toFixed(1)} WRU per message${measured.endpointWritesPerMessage === undefined ? ' (assumed)' : ' (measured in section 4)'}`;
  // Batches in flight: at least one per shard, as many as full batches need, at most the factor per shard.
  const fanOutConcurrency = (rate: number) =>
    Math.min(
      shardsAt(rate) * streamConsumer.parallelizationFactor,
      Math.max(shardsAt(rate), ((rate * streamRecords) / streamConsumer.batchSize) * batchSeconds),
    );

  const rows: CapacityRow[] = [
    {
      resource: `API stage throttle, \`${createKey}\``,
      perDecision: '1 request (the draft decided was created)',
      loads: at(1),
      limit: routeLimit(createKey),
      unit: 'requests/s',
      setting: `stage default ${DEFAULT_API_THROTTLE.rateLimit}/s, burst ${DEFAULT_API_THROTTLE.burstLimit}`,
      lift: `\`-c ${throttleContextKeys('createDraft').rateLimit}=…\` (or \`${throttleContextKeys().rateLimit}\` for every route)`,
    },
    {
      resource: `API stage throttle, \`${approveKey}\``,
      perDecision: '1 request if every decision approves (the worst case for one route)',
      loads: at(1),
      limit: routeLimit(approveKey),
      unit: 'requests/s',
      setting: `stage default ${DEFAULT_API_THROTTLE.rateLimit}/s`,
      lift: `\`-c ${throttleContextKeys('decideDraft').rateLimit}=…\``,
    },
    {
      resource: 'API Gateway account throttle (all APIs in the Region)',
      perDecision: '2 requests (create + decide)',
      loads: at(2),
      limit: QUOTAS.apiGatewayAccountRate.value,
      unit: 'requests/s',
      quota: 'apiGatewayAccountRate',
      lift: QUOTAS.apiGatewayAccountRate.lift,
    },
    {
      resource: `DynamoDB \`drafts\` listing index, busiest partition (review queue scope, ${draftListShards} shards)`,
      perDecision: `2 index writes (create's put, decision's delete) ÷ ${draftListShards} shards${keysOnly ? ', keys-only entries: 1 WRU each' : ', entries carry projected attributes (more WRU for bigger drafts)'}`,
      loads: at(pendingScopeWrites),
      limit: QUOTAS.dynamoPartitionWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoPartitionWrites',
      partition: true,
      lift: '`draftListShards` (infra/app-definition.ts; a draft’s shard is in its keys, so a change needs a backfill)',
    },
    {
      resource: `DynamoDB \`deliveries\`, busiest partition of one endpoint (\`endpointId#0..${deliveryShards - 1}\`, by event id)`,
      perDecision: `${writesPerMessageText} less ${a.healthWritesPerBatch} for the health item, ÷ ${deliveryShards} shards (state put, state update, attempt log)`,
      loads: at(shardedWritesPerMessage / deliveryShards),
      limit: QUOTAS.dynamoPartitionWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoPartitionWrites',
      partition: true,
      lift: '`deliveryShards` (infra/app-definition.ts; an event’s shard is in its keys, so a change strands stored states)',
    },
    {
      resource: `DynamoDB \`deliveries\` dead-by-endpoint index, busiest partition of one endpoint that fails every delivery (${deliveryShards} shards)`,
      perDecision: `1 index write when the delivery dies (the state, projected whole: 1 WRU, as the fan-out's measured state put) ÷ ${deliveryShards} shards`,
      loads: at(1 / deliveryShards),
      limit: QUOTAS.dynamoPartitionWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoPartitionWrites',
      partition: true,
      lift: '`deliveryShards` (the index key is the state’s partition)',
    },
    {
      resource: 'DynamoDB `deliveries` health item of one endpoint (plain `endpointId`)',
      perDecision: `${a.healthWritesPerBatch} WRU per delivery batch (${queueConsumer.batchSize} messages at most; fuller as the queue backs up), breaker writes only while it fails`,
      loads: rates.map((r) => (r * a.healthWritesPerBatch) / messagesPerBatch(r)),
      limit: QUOTAS.dynamoPartitionWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoPartitionWrites',
      partition: true,
      lift: '`queueConsumer.batchSize` (fewer, fuller batches)',
    },
    {
      resource: 'DynamoDB `deliveries` table writes (on-demand table quota)',
      perDecision: `${writesPerMessageText} × ${a.endpoints} endpoint(s)`,
      loads: at(a.endpointWritesPerMessage * a.endpoints),
      limit: QUOTAS.dynamoOnDemandTableWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoOnDemandTableWrites',
      lift: QUOTAS.dynamoOnDemandTableWrites.lift,
    },
    {
      resource: 'DynamoDB `apiKeys` item of the one agent key',
      perDecision: `1 consistent read (≤ 4 KB: 1 RRU) per create, one key for all agents`,
      loads: at(1 / a.keysPerRole),
      limit: QUOTAS.dynamoPartitionReads.value,
      unit: 'RRU/s',
      quota: 'dynamoPartitionReads',
      partition: true,
      lift: 'spread agents over several keys (each key is its own item)',
    },
    {
      resource: 'DynamoDB `drafts` table writes (on-demand table quota)',
      perDecision: `${baseTableWrites} WRU (create + decision, ${a.draftItemWriteUnits} WRU per item write); each GSI counts apart`,
      loads: at(baseTableWrites),
      limit: QUOTAS.dynamoOnDemandTableWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoOnDemandTableWrites',
      lift: QUOTAS.dynamoOnDemandTableWrites.lift,
    },
    {
      resource: 'DynamoDB `drafts` table, new or cold (on-demand initial throughput)',
      perDecision: `${baseTableWrites} WRU`,
      loads: at(baseTableWrites),
      limit: QUOTAS.dynamoOnDemandNewTableWrites.value,
      unit: 'WRU/s',
      quota: 'dynamoOnDemandNewTableWrites',
      rampOnly: true,
      lift: QUOTAS.dynamoOnDemandNewTableWrites.lift,
    },
    {
      resource: `Drafts stream → fan-out, per shard (batch ${streamConsumer.batchSize}, parallelizationFactor ${streamConsumer.parallelizationFactor})`,
      perDecision: `${streamRecords} stream records (insert, decision) over the shards (one per ${QUOTAS.streamShards.value.toLocaleString('en-US')} WRU/s of the table)`,
      loads: rates.map((r) => (r * streamRecords) / shardsAt(r)),
      limit: shardRecordsPerSecond,
      unit: 'records/s',
      setting: `${streamConsumer.parallelizationFactor} batches of ${streamConsumer.batchSize} in flight per shard, ${Math.round(batchSeconds * 1000)} ms each (assumed)`,
      lift: `\`streamConsumer.parallelizationFactor\` up to ${QUOTAS.streamParallelizationFactor.value}`,
    },
    {
      resource: `SQS delivery queue → ${queueConsumer.function} (batch ${queueConsumer.batchSize}, maxConcurrency ${queueConsumer.maxConcurrency})`,
      perDecision: `${a.endpoints} message(s); a batch lasts the receiver's answer (${Math.round(deliveryBatchSeconds * 1000)} ms assumed)`,
      loads: at(deliveryConcurrencyPerDecision),
      limit: queueConsumer.maxConcurrency,
      unit: 'concurrent batches',
      setting: 'queueConsumer.maxConcurrency',
      lift: `\`queueConsumer.maxConcurrency\` up to ${QUOTAS.lambdaSqsMaxConcurrency.value.toLocaleString('en-US')} (Lambda adds up to 300 pollers a minute)`,
    },
    {
      resource: 'SQS standard queue',
      perDecision: `${a.endpoints} message(s) sent, received, deleted (batched)`,
      loads: at(a.endpoints),
      limit: QUOTAS.sqsStandardThroughput.value,
      unit: 'messages/s',
      quota: 'sqsStandardThroughput',
      lift: QUOTAS.sqsStandardThroughput.lift,
    },
    {
      resource: 'Lambda account concurrency (all functions)',
      perDecision: `2 API invocations × ${Math.round(a.apiFunctionSeconds * 1000)} ms + the fan-out's and the deliveries' batches in flight`,
      loads: rates.map((r) => 2 * r * a.apiFunctionSeconds + fanOutConcurrency(r) + Math.min(queueConsumer.maxConcurrency, r * deliveryConcurrencyPerDecision)),
      limit: QUOTAS.lambdaAccountConcurrency.value,
      unit: 'concurrent executions',
      quota: 'lambdaAccountConcurrency',
      lift: QUOTAS.lambdaAccountConcurrency.lift,
    },
    {
      resource: 'Lambda scaling rate (per function)',
      perDecision: `${Math.round(a.apiFunctionSeconds * 1000)} ms of \`createDraft\` (${functions.createDraft.memoryMb} MB) per create`,
      loads: at(a.apiFunctionSeconds),
      limit: QUOTAS.lambdaScalingRate.value,
      unit: 'environments (reached within 10 s)',
      quota: 'lambdaScalingRate',
      rampOnly: true,
      lift: QUOTAS.lambdaScalingRate.lift,
    },
  ];

  const binds = (row: CapacityRow, i: number) => !row.rampOnly && row.loads[i]! > row.limit;
  const binding = rates.map((rate, i) => ({
    rate,
    rows: rows
      .filter((row) => binds(row, i))
      .sort((x, y) => y.loads[i]! / y.limit - x.loads[i]! / x.limit)
      .map((row) => row.resource),
  }));
  const nearest = rates.map((rate, i) => {
    const candidates = rows.filter((row) => !row.rampOnly && !binds(row, i) && Number.isFinite(row.limit));
    const best = candidates.reduce((m, row) => (row.loads[i]! / row.limit > m.loads[i]! / m.limit ? row : m), candidates[0]!);
    return { rate, resource: best.resource, share: best.loads[i]! / best.limit };
  });
  return { rates, rows, binding, nearest, assumptions: a, measured };
}

/** Rows that are DynamoDB partitions and bind at `rate`: hot partitions. */
export function hotPartitionsAt(report: CapacityReport, rate: number): string[] {
  const i = report.rates.indexOf(rate);
  return i < 0 ? [] : report.rows.filter((row) => row.partition && !row.rampOnly && row.loads[i]! > row.limit).map((row) => row.resource);
}

export const quotaOf = (row: CapacityRow): Quota | undefined => (row.quota ? QUOTAS[row.quota] : undefined);
