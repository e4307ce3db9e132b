/**
 * `npm run redrive`: once a receiver is fixed, send its dead deliveries out again, against the
 * running dev runtime or, with --stack, a deployed stack. Dead deliveries are read from the
 * delivery states by endpoint (not from the DLQ), so every one is reached however full the DLQ is.
 *
 *   npm run redrive -- --endpoint ep_abc123                      # one endpoint's dead deliveries
 *   npm run redrive -- --endpoint ep_abc123 --since 2026-02-10T12:00:00Z   # only those that died since
 *   npm run redrive                                              # every endpoint's
 *   npm run redrive -- --stack Processa [--region eu-west-1] [--endpoint ep_abc123]
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { createDocumentClient } from '../../shared/store/dynamo-client.js';
import { DynamoDeliveryLogStore, DynamoDeliveryStateStore } from '../../shared/store/deliveries-store.js';
import { SqsDeadLetterQueue, SqsDeliveryQueue } from '../../shared/store/sqs-queues.js';
import { SqsOperatorNoticeQueue } from '../../shared/store/operator-notice-queue.js';
import { DynamoEndpointStore } from '../../shared/store/webhooks-store.js';
import { redriveDeadDeliveries, redriveInputSchema, type DeadDeliveries } from '../../shared/webhooks/redrive.js';
import { outputNames } from '../stacks/outputs.js';
import { localTarget, requireOutput, stackOutputs, UsageError } from './targets.js';

const USAGE = 'Usage: npm run redrive -- [--endpoint <ep_id>] [--since <ISO time>] [--stack <name>] [--region <r>]';

async function main() {
  const { values } = parseArgs({ options: { endpoint: { type: 'string' }, since: { type: 'string' }, stack: { type: 'string' }, region: { type: 'string' } } });
  let since: string | undefined;
  try {
    since = parseOrThrow(redriveInputSchema, values.since === undefined ? {} : { since: values.since }).since;
  } catch {
    throw new UsageError(`--since must be an ISO 8601 time, got "${values.since}"`);
  }
  let sqs: SQSClient;
  let dynamodb: DynamoDBClient;
  let names: { queue: string; notifications: string; dlq: string; deliveries: string; webhooks: string };
  if (values.stack) {
    const outputs = await stackOutputs(values.stack, values.region);
    sqs = new SQSClient({ region: values.region });
    dynamodb = new DynamoDBClient({ region: values.region });
    names = {
      queue: requireOutput(outputs, outputNames.queue('deliveries'), values.stack),
      notifications: requireOutput(outputs, outputNames.queue('notifications'), values.stack),
      dlq: requireOutput(outputs, outputNames.queue('deliveriesDlq'), values.stack),
      deliveries: requireOutput(outputs, outputNames.table('deliveries'), values.stack),
      webhooks: requireOutput(outputs, outputNames.table('webhooks'), values.stack),
    };
  } else {
    const target = localTarget();
    sqs = new SQSClient(target.sqs);
    dynamodb = new DynamoDBClient(target.dynamodb);
    names = {
      queue: target.info.queues.deliveries,
      notifications: target.info.queues.notifications,
      dlq: target.info.queues.deliveriesDlq,
      deliveries: target.info.tables.deliveries,
      webhooks: target.info.tables.webhooks,
    };
  }
  const documents = createDocumentClient(dynamodb);
  const dead: DeadDeliveries = {
    states: new DynamoDeliveryStateStore(documents, names.deliveries),
    dlq: new SqsDeadLetterQueue(sqs, names.dlq),
    log: new DynamoDeliveryLogStore(documents, names.deliveries),
    // Operator notices SQS dead-lettered go back to the notifications queue, whose worker publishes them.
    notices: new SqsOperatorNoticeQueue(sqs, names.notifications),
  };
  // Each redriven delivery goes to its target's queue: webhooks' to deliveries, channels' to notifications.
  const queue = new SqsDeliveryQueue(sqs, names.queue, names.notifications);
  const endpointIds = values.endpoint ? [values.endpoint] : (await new DynamoEndpointStore(documents, names.webhooks).listAll()).map((e) => e.id);
  let total = 0;
  for (const endpointId of endpointIds) {
    // Each call is bounded; what it redrove is no longer dead, so the next call continues with the rest.
    for (;;) {
      const { redriven, complete } = await redriveDeadDeliveries(endpointId, dead, queue, { since });
      total += redriven;
      if (complete || redriven === 0) break;
    }
  }
  sqs.destroy();
  dynamodb.destroy();
  console.log(`Redrove ${total} dead ${total === 1 ? 'delivery' : 'deliveries'}${values.endpoint ? ` of ${values.endpoint}` : ''}.`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n${USAGE}` : error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
