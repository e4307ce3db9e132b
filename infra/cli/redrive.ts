/**
 * `npm run redrive`: once a receiver is fixed, send its dead deliveries (in the DLQ) out again,
 * against the running dev runtime or, with --stack, a deployed stack.
 *
 *   npm run redrive -- --endpoint ep_abc123      # one endpoint's dead deliveries
 *   npm run redrive                              # every dead delivery
 *   npm run redrive -- --stack Processa [--region eu-west-1] [--endpoint ep_abc123]
 */
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetterQueue, SqsDeliveryQueue } from '../../shared/store/sqs-queues.js';
import { redriveDeadDeliveries } from '../../shared/webhooks/redrive.js';
import { localTarget, requireOutput, stackOutputs, UsageError } from './targets.js';

const USAGE = 'Usage: npm run redrive -- [--endpoint <ep_id>] [--stack <name>] [--region <r>]';

async function main() {
  const { values } = parseArgs({ options: { endpoint: { type: 'string' }, stack: { type: 'string' }, region: { type: 'string' } } });
  let client: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  if (values.stack) {
    const outputs = await stackOutputs(values.stack, values.region);
    client = new SQSClient({ region: values.region });
    queueUrl = requireOutput(outputs, 'DeliveriesQueueUrl', values.stack);
    dlqUrl = requireOutput(outputs, 'DeliveriesDlqUrl', values.stack);
  } else {
    const { info, sqs } = localTarget();
    client = new SQSClient(sqs);
    queueUrl = info.queues.deliveries;
    dlqUrl = info.queues.deliveriesDlq;
  }
  let total = 0;
  for (;;) {
    const { redriven, complete } = await redriveDeadDeliveries(values.endpoint, new SqsDeadLetterQueue(client, dlqUrl), new SqsDeliveryQueue(client, queueUrl));
    total += redriven;
    if (complete) break;
  }
  console.log(`Redrove ${total} dead ${total === 1 ? 'delivery' : 'deliveries'}${values.endpoint ? ` of ${values.endpoint}` : ''}.`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n${USAGE}` : error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
