/**
 * Creates the stack's AWS resources through the AWS APIs (not CloudFormation), for moto or
 * LocalStack: the integration tests and the local sandbox. Every setting comes from lib/spec.ts
 * and the table schema, the same constants the CDK stack reads, so what runs locally is what is
 * deployed. Idempotent: resources that exist already are reused.
 *
 *   table        `<prefix>-orders`: pk S, GSI bySourceId (KEYS_ONLY), GSI byDay (day, createdAt; KEYS_ONLY), on demand
 *   work queue   `<prefix>-work.fifo` + dead-letter `<prefix>-work-dlq.fifo` (redrive after QUEUE.maxReceiveCount)
 *   scheduler    dead-letter queue `<prefix>-scheduler-dlq` (standard) and schedule group `<prefix>-timers`
 *   event bus    `<prefix>-events`
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateScheduleGroupCommand, GetScheduleGroupCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../lambdas/config.js';
import { QUEUE, TABLE_SCHEMA } from '../lib/spec.js';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  scheduler: SchedulerClient;
  eventbridge: EventBridgeClient;
}

export interface AwsResources {
  tableName: string;
  queueName: string;
  queueUrl: string;
  queueArn: string;
  dlqName: string;
  dlqUrl: string;
  dlqArn: string;
  schedulerDlqName: string;
  schedulerDlqUrl: string;
  schedulerDlqArn: string;
  scheduleGroup: string;
  /** No IAM here: moto does not check it. An ARN of the account the queues live in. */
  schedulerRoleArn: string;
  eventBusName: string;
  eventBusArn: string;
}

const PREFIX = /^[A-Za-z0-9_-]{1,40}$/;

const errorName = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : '';

export async function createAwsResources(clients: AwsClients, prefix: string): Promise<AwsResources> {
  if (!PREFIX.test(prefix))
    throw new RangeError(`Resource prefix ${JSON.stringify(prefix)}: use 1-40 of [A-Za-z0-9_-].`);
  const names = {
    tableName: `${prefix}-orders`,
    queueName: `${prefix}-work.fifo`,
    dlqName: `${prefix}-work-dlq.fifo`,
    schedulerDlqName: `${prefix}-scheduler-dlq`,
    scheduleGroup: `${prefix}-timers`,
    eventBusName: `${prefix}-events`,
  };

  await createOrderTable(clients.dynamodb, names.tableName);

  const retention = String(QUEUE.retentionSeconds);
  const dlq = await createQueue(clients.sqs, names.dlqName, {
    FifoQueue: String(QUEUE.fifo),
    ContentBasedDeduplication: String(QUEUE.contentBasedDeduplication),
    MessageRetentionPeriod: retention,
  });
  const queue = await createQueue(clients.sqs, names.queueName, {
    FifoQueue: String(QUEUE.fifo),
    ContentBasedDeduplication: String(QUEUE.contentBasedDeduplication),
    VisibilityTimeout: String(QUEUE.visibilityTimeoutSeconds),
    MessageRetentionPeriod: retention,
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: QUEUE.maxReceiveCount }),
  });
  const schedulerDlq = await createQueue(clients.sqs, names.schedulerDlqName, { MessageRetentionPeriod: retention });

  try {
    await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: names.scheduleGroup }));
  } catch (e) {
    if (errorName(e) !== 'ConflictException') throw e;
    await clients.scheduler.send(new GetScheduleGroupCommand({ Name: names.scheduleGroup }));
  }

  let eventBusArn: string | undefined;
  try {
    eventBusArn = (await clients.eventbridge.send(new CreateEventBusCommand({ Name: names.eventBusName }))).EventBusArn;
  } catch (e) {
    if (errorName(e) !== 'ResourceAlreadyExistsException') throw e;
  }
  eventBusArn ??= (await clients.eventbridge.send(new DescribeEventBusCommand({ Name: names.eventBusName }))).Arn;
  if (!eventBusArn) throw new Error(`No ARN for event bus ${names.eventBusName}`);

  // arn:aws:sqs:<region>:<account>:<name>
  const [, partition = 'aws', , , account = '000000000000'] = queue.arn.split(':');
  return {
    ...names,
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    schedulerDlqUrl: schedulerDlq.url,
    schedulerDlqArn: schedulerDlq.arn,
    schedulerRoleArn: `arn:${partition}:iam::${account}:role/${prefix}-scheduler`,
    eventBusArn,
  };
}

/** The environment lambdas/config.ts reads, for handlers run against these resources. */
export function resourceEnv(r: AwsResources): Record<string, string> {
  return {
    [ENV.TABLE_NAME]: r.tableName,
    [ENV.QUEUE_URL]: r.queueUrl,
    [ENV.QUEUE_ARN]: r.queueArn,
    [ENV.SCHEDULE_GROUP]: r.scheduleGroup,
    [ENV.SCHEDULER_ROLE_ARN]: r.schedulerRoleArn,
    [ENV.SCHEDULER_DLQ_ARN]: r.schedulerDlqArn,
    [ENV.EVENT_BUS_NAME]: r.eventBusName,
  };
}

/** The order table (TABLE_SCHEMA), on demand; reused if it exists. */
export async function createOrderTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, bySourceIndex, recentIndex } = TABLE_SCHEMA;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: partitionKey, AttributeType: 'S' },
          { AttributeName: bySourceIndex.partitionKey, AttributeType: 'S' },
          { AttributeName: recentIndex.partitionKey, AttributeType: 'S' },
          { AttributeName: recentIndex.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: bySourceIndex.name,
            KeySchema: [{ AttributeName: bySourceIndex.partitionKey, KeyType: 'HASH' }],
            Projection: { ProjectionType: bySourceIndex.projection },
          },
          {
            IndexName: recentIndex.name,
            KeySchema: [
              { AttributeName: recentIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: recentIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: recentIndex.projection },
          },
        ],
      }),
    );
  } catch (e) {
    if (errorName(e) !== 'ResourceInUseException') throw e;
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: tableName });
}

async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!url) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`No QueueArn for ${name}`);
  return { url, arn };
}
