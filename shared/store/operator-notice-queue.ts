import type { SQSClient } from '@aws-sdk/client-sqs';
import { operatorNoticeMessage } from '../notifications/operator-notice-message.js';
import type { OperatorNotice, OperatorNotifier } from '../webhooks/operational-events.js';
import { sendBatch } from './sqs-queues.js';

// Apart from sqs-queues.ts: only the functions that queue notices bundle the notice message's schema.
/**
 * Operator notices, queued for the notifications worker, which publishes them (SNS on AWS): the
 * functions that see a delivery die or an endpoint be disabled then need neither SNS nor its client.
 */
export class SqsOperatorNoticeQueue implements OperatorNotifier {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async notify(notice: OperatorNotice): Promise<void> {
    const refused = await sendBatch(this.client, this.queueUrl, [{ Id: '0', MessageBody: JSON.stringify(operatorNoticeMessage(notice)) }]);
    if (refused.length > 0) throw new Error(`SQS refused the operator notice ${notice.event.id}`);
  }
}
