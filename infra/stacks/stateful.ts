import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  queues,
  tables,
  type IndexProjection,
  type KeyAttribute,
  type QueueDefinition,
  type QueueName,
  type TableDefinition,
  type TableName,
} from '../app-definition.js';
import { queueId, tableId } from './names.js';

export interface StatefulProps {
  /** RETAIN outside dev: deleting the stack must not delete drafts, keys or undelivered events. */
  removalPolicy: RemovalPolicy;
}

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

const projection = (wanted: IndexProjection = { type: 'ALL' }): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> =>
  wanted.type === 'INCLUDE'
    ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...wanted.attributes] }
    : { projectionType: dynamodb.ProjectionType[wanted.type] };

/**
 * The resources that hold data: one DynamoDB table per entry of `tables` and one SQS queue per
 * entry of `queues`. Kept apart from the functions so that their lifecycle (retention, removal)
 * is decided in one place and the stateless side receives them as typed props.
 */
export class Stateful extends Construct {
  readonly tables: Record<TableName, dynamodb.Table>;
  readonly queues: Record<QueueName, sqs.Queue>;

  constructor(scope: Construct, id: string, props: StatefulProps) {
    super(scope, id);

    const builtTables = {} as Record<TableName, dynamodb.Table>;
    for (const [name, definition] of Object.entries(tables) as Array<[TableName, TableDefinition]>) {
      builtTables[name] = this.table(name, definition, props.removalPolicy);
    }
    this.tables = builtTables;

    // A queue's dead-letter queue must exist before the queue that names it.
    const builtQueues: Partial<Record<QueueName, sqs.Queue>> = {};
    const queueFor = (name: QueueName): sqs.Queue => {
      const existing = builtQueues[name];
      if (existing) return existing;
      const definition: QueueDefinition = queues[name];
      const deadLetterQueue = definition.deadLetterQueue
        ? { queue: queueFor(definition.deadLetterQueue), maxReceiveCount: this.maxReceiveCount(name, definition) }
        : undefined;
      const queue = new sqs.Queue(this, queueId(name), {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(definition.retentionDays),
        deadLetterQueue,
        removalPolicy: props.removalPolicy,
      });
      builtQueues[name] = queue;
      return queue;
    };
    for (const name of Object.keys(queues) as QueueName[]) queueFor(name);
    this.queues = builtQueues as Record<QueueName, sqs.Queue>;
  }

  private table(name: TableName, definition: TableDefinition, removalPolicy: RemovalPolicy): dynamodb.Table {
    const table = new dynamodb.Table(this, tableId(name), {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      stream: definition.stream ? dynamodb.StreamViewType[definition.stream] : undefined,
      timeToLiveAttribute: definition.ttlAttribute,
      removalPolicy,
    });
    for (const index of definition.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
        ...projection(index.projection),
      });
    }
    return table;
  }

  private maxReceiveCount(name: QueueName, definition: QueueDefinition): number {
    if (definition.maxReceiveCount === undefined) {
      throw new Error(`Queue ${name} names a dead-letter queue but no maxReceiveCount`);
    }
    return definition.maxReceiveCount;
  }
}
