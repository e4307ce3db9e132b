/**
 * The stack's output names: a contract between the stack, which declares them, and the CLIs
 * (infra/cli) and tests, which look them up in DescribeStacks. Pure: no CDK import.
 */
import type { QueueName, TableName } from '../app-definition.js';
import { queueId, tableId } from './names.js';

export const outputNames = {
  /** Base URL of the HTTP API. */
  apiUrl: 'ApiUrl',
  /** SNS topic every alarm notifies. */
  alarmTopicArn: 'AlarmTopicArn',
  /** drafts → DraftsTableName */
  table: (name: TableName): string => `${tableId(name)}Name`,
  /** deliveries → DeliveriesQueueUrl, deliveriesDlq → DeliveriesDlqUrl */
  queue: (name: QueueName): string => `${queueId(name)}Url`,
} as const;
