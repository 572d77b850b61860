/**
 * The AWS adapters against moto (one moto_server for the whole file), through the same port
 * contracts as the in-memory fakes, plus what only the real adapters have: the exact Scheduler
 * request, input validation before any call, the wire format, error mapping.
 */
import { gunzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetScheduleCommand,
  SchedulerClient,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageSystemAttributeName,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isTransientAwsError, toAwsPortError } from '../../lambdas/adapters/aws-errors.js';
import { DynamoOrderStore } from '../../lambdas/adapters/dynamodb/order-store.js';
import { EventBridgePublisher } from '../../lambdas/adapters/eventbridge/publisher.js';
import { decodeWorkMessage, encodeWorkMessage, MalformedMessageError } from '../../lambdas/adapters/messages.js';
import { atExpression, SchedulerTimers } from '../../lambdas/adapters/scheduler/timers.js';
import { SqsWorkQueue } from '../../lambdas/adapters/sqs/work-queue.js';
import { type Order, summarize } from '../../lambdas/domain/index.js';
import { ConflictError, TransientError } from '../../lambdas/ports/index.js';
import { NAMES, QUEUE, SCHEDULER, TABLE_SCHEMA } from '../../lib/spec.js';
import { createOrderTable } from '../../scripts/aws-resources.js';
import {
  orderStoreContract,
  publisherContract,
  type ReceivedWork,
  sampleIntentOrder,
  sampleOrder,
  timerSpec,
  timersContract,
  unique,
  workMessage,
  workQueueContract,
} from '../support/contracts.js';
import {
  type AwsClients,
  type AwsResources,
  awsClients,
  clientConfig,
  createResources,
  destroyClients,
  type Moto,
  startMoto,
} from '../support/moto.js';
import { paymentIntentIdOf, sourceIdOf } from '../support/orders.js';

let moto: Moto | undefined;
let clients: AwsClients;
let res: AwsResources;
let sinkUrl: string;

beforeAll(async () => {
  moto = await startMoto();
  clients = awsClients(moto.endpoint);
  res = await createResources(clients, 'it');
  // A subscriber to the bus: a rule on the lifecycle events' source, delivering to a queue.
  sinkUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'it-events-sink' }))).QueueUrl ?? '';
  const sinkArn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: sinkUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  await clients.eventbridge.send(
    new PutRuleCommand({
      Name: 'it-lifecycle',
      EventBusName: res.eventBusName,
      EventPattern: JSON.stringify({ source: [NAMES.eventSource] }),
    }),
  );
  await clients.eventbridge.send(
    new PutTargetsCommand({
      Rule: 'it-lifecycle',
      EventBusName: res.eventBusName,
      Targets: [{ Id: 'sink', Arn: sinkArn }],
    }),
  );
});

afterAll(async () => {
  if (clients) destroyClients(clients);
  await moto?.stop();
});

/** Receives and deletes everything visible on a queue. */
async function drainQueue(
  url: string,
  attributes: MessageSystemAttributeName[] = ['MessageGroupId'],
): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: attributes,
      }),
    );
    if (Messages.length === 0) return out;
    out.push(...Messages);
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

let tables = 0;
/** A fresh table per store, so listRecent sees only its own test's orders. */
async function freshStore(now?: () => Date): Promise<DynamoOrderStore> {
  tables += 1;
  const name = `it-orders-${tables}`;
  await createOrderTable(clients.dynamodb, name);
  return new DynamoOrderStore(clients.dynamodb, name, now ? { now } : {});
}

const timersFor = (client: SchedulerClient) =>
  new SchedulerTimers(client, {
    groupName: res.scheduleGroup,
    queueArn: res.queueArn,
    roleArn: res.schedulerRoleArn,
    dlqArn: res.schedulerDlqArn,
  });

async function scheduleExists(name: string): Promise<boolean> {
  try {
    await clients.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: res.scheduleGroup }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return false;
    throw e;
  }
}

// ---- the port contracts ------------------------------------------------------------------

orderStoreContract('DynamoDB (moto)', () => freshStore());

workQueueContract('SQS FIFO (moto)', async () => {
  await drainQueue(res.queueUrl);
  return {
    queue: new SqsWorkQueue(clients.sqs, res.queueUrl),
    drain: async (): Promise<ReceivedWork[]> =>
      (await drainQueue(res.queueUrl)).map((m) => ({
        message: decodeWorkMessage(m.Body ?? ''),
        groupId: m.Attributes?.MessageGroupId ?? '',
      })),
  };
});

timersContract('EventBridge Scheduler (moto)', async () => ({
  timers: timersFor(clients.scheduler),
  exists: scheduleExists,
}));

publisherContract('EventBridge (moto)', async () => {
  await drainQueue(sinkUrl);
  return {
    publisher: new EventBridgePublisher(clients.eventbridge, res.eventBusName),
    delivered: async () =>
      (await drainQueue(sinkUrl)).map((m) => {
        const e = JSON.parse(m.Body ?? '{}') as { 'detail-type': string; detail: unknown };
        return { type: e['detail-type'], order: e.detail };
      }),
  };
});

// ---- resources ---------------------------------------------------------------------------

describe('scripts/aws-resources.ts', () => {
  it('creates the table, queues, schedule group and bus with the settings of lib/spec.ts', async () => {
    const table = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: res.tableName }))).Table;
    expect(table?.KeySchema).toEqual([{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' }]);
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const gsis = Object.fromEntries((table?.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g]));
    expect(gsis[TABLE_SCHEMA.bySourceIndex.name]?.Projection?.ProjectionType).toBe('KEYS_ONLY');
    expect(gsis[TABLE_SCHEMA.recentIndex.name]?.KeySchema).toEqual([
      { AttributeName: 'day', KeyType: 'HASH' },
      { AttributeName: 'createdAt', KeyType: 'RANGE' },
    ]);
    expect(gsis[TABLE_SCHEMA.recentIndex.name]?.Projection?.ProjectionType).toBe('KEYS_ONLY');

    const q = (
      await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: res.queueUrl, AttributeNames: ['All'] }))
    ).Attributes;
    expect(q?.FifoQueue).toBe('true');
    expect(q?.ContentBasedDeduplication).toBe('true');
    expect(q?.VisibilityTimeout).toBe(String(QUEUE.visibilityTimeoutSeconds));
    expect(JSON.parse(q?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: res.dlqArn,
      maxReceiveCount: QUEUE.maxReceiveCount,
    });
    expect(res.dlqName.endsWith('.fifo')).toBe(true);
    expect(res.schedulerDlqName.endsWith('.fifo')).toBe(false);
  });

  it('is idempotent: creating the same resources again reuses them', async () => {
    const again = await createResources(clients, 'it');
    expect(again).toEqual(res);
  });
});

// ---- DynamoDB specifics ------------------------------------------------------------------

describe('DynamoOrderStore (moto)', () => {
  it('writes the documented item layout', async () => {
    const store = await freshStore();
    const o = sampleOrder({ createdAt: '2026-11-21T23:59:59.999Z' });
    await store.create(o);
    const tableName = `it-orders-${tables}`;
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: o.id } }, ConsistentRead: true }),
    );
    expect(Item?.pk).toEqual({ S: o.id });
    expect(Item?.sourceId).toEqual({ S: sourceIdOf(o) });
    expect(Item?.status).toEqual({ S: 'pending' });
    expect(Item?.version).toEqual({ N: String(o.version) });
    expect(Item?.createdAt).toEqual({ S: o.createdAt });
    expect(Item?.day).toEqual({ S: '2026-11-21' });
    // The whole order, gzip-compressed JSON: what an operator gets from `base64 -d | gunzip`.
    expect(Item?.doc?.B).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(gunzipSync(Item?.doc?.B ?? new Uint8Array()).toString('utf8'))).toEqual(
      JSON.parse(JSON.stringify(o)),
    );
    // A smaller item than the plain JSON: writes are billed per started KB.
    expect(Item?.doc?.B?.length ?? Infinity).toBeLessThan(JSON.stringify(o).length);
  });

  it('keeps a settled order with its history and outbox under 1 KB, where its plain JSON is over', async () => {
    const store = await freshStore();
    const at = (m: number) => new Date(Date.parse('2026-11-21T08:00:00.000Z') + m * 60_000).toISOString();
    const step = (type: string, eventId: string, m: number, from: Order['status'] | null, to: Order['status']) => ({
      type,
      eventId,
      at: at(m),
      recordedAt: at(m),
      from,
      to,
    });
    const base = sampleOrder({ metadata: { cart: 'c_1042' } });
    const o: Order = {
      ...base,
      status: 'paid',
      version: 4,
      chargeId: 'ch_3PZk2Ab9cdEfGh0123456789',
      chargeableAt: at(2),
      deadline: at(362),
      history: [
        step('order.created', `${base.id}_created`, 0, null, 'pending'),
        step('source.chargeable', 'evt_1PZk2Ab9cdEfGh0123456789', 2, 'pending', 'chargeable'),
        step('charge.succeeded', 'evt_1PZk2Bb9cdEfGh0123456789', 2, 'chargeable', 'paid'),
        step('charge.succeeded', 'evt_1PZk2Cb9cdEfGh0123456789', 3, 'paid', 'paid'),
      ],
      outbox: { chain: ['evt_1PZk2Bb9cdEfGh0123456789'], effects: [] },
    };
    o.outbox.effects = [
      { type: 'deleteTimer', orderId: o.id, kind: 'deadline', name: `${o.id}-deadline` },
      { type: 'publish', event: 'order.paid', order: summarize(o) },
    ];
    await store.create(o);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: `it-orders-${tables}`, Key: { pk: { S: o.id } }, ConsistentRead: true }),
    );
    // DynamoDB's item size: attribute names plus values (binary: its bytes).
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
    const size = Object.entries(Item ?? {}).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + (v.B?.length ?? Buffer.byteLength(v.S ?? v.N ?? '')),
      0,
    );
    expect(JSON.stringify(o).length).toBeGreaterThan(1024);
    expect(size).toBeLessThanOrEqual(1024);
  });

  it('still reads an order item written as plain JSON (doc: S)', async () => {
    const store = await freshStore();
    const o = sampleOrder({});
    const tableName = `it-orders-${tables}`;
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: o.id },
          status: { S: o.status },
          version: { N: String(o.version) },
          doc: { S: JSON.stringify(o) },
        },
      }),
    );
    expect(await store.get(o.id)).toEqual(JSON.parse(JSON.stringify(o)));
  });

  it('listRecent walks back day by day from now(), at most 7 days', async () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const store = await freshStore(() => now);
    const at = (iso: string) => sampleOrder({ createdAt: iso });
    const today = [at('2026-11-21T09:00:00.000Z'), at('2026-11-21T01:00:00.000Z')];
    const yesterday = [at('2026-11-20T23:00:00.000Z')];
    const sixDaysAgo = [at('2026-11-15T12:00:00.000Z')];
    const tooOld = [at('2026-11-14T23:59:59.000Z')];
    for (const o of [...today, ...yesterday, ...sixDaysAgo, ...tooOld]) await store.create(o);
    const ids = (os: { id: string }[]) => os.map((o) => o.id);
    expect(ids(await store.listRecent(2))).toEqual(ids(today));
    expect(ids(await store.listRecent(3))).toEqual(ids([...today, ...yesterday]));
    expect(ids(await store.listRecent(50))).toEqual(ids([...today, ...yesterday, ...sixDaysAgo]));
  });

  it('a PaymentIntents order: its PaymentIntent id in the indexed sourceId attribute (the index keeps its first name)', async () => {
    const store = await freshStore();
    const o = sampleIntentOrder({ createdAt: '2026-11-22T00:00:00.000Z' });
    await store.create(o);
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: `it-orders-${tables}`, Key: { pk: { S: o.id } }, ConsistentRead: true }),
    );
    expect(Item?.sourceId).toEqual({ S: paymentIntentIdOf(o) });
    expect(Item?.day).toEqual({ S: '2026-11-22' });
    expect(JSON.parse(gunzipSync(Item?.doc?.B ?? new Uint8Array()).toString('utf8')).payment).toEqual(o.payment);
  });

  it('an order item written before payment.api existed is read as a Sources order', async () => {
    const store = await freshStore();
    const o = sampleOrder();
    const { api: _api, ...legacyPayment } = o.payment;
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: `it-orders-${tables}`,
        Item: {
          pk: { S: o.id },
          sourceId: { S: sourceIdOf(o) },
          status: { S: o.status },
          version: { N: String(o.version) },
          createdAt: { S: o.createdAt },
          doc: { S: JSON.stringify({ ...o, payment: legacyPayment }) },
        },
      }),
    );
    const read = await store.get(o.id);
    expect(read?.payment).toEqual({ ...legacyPayment, api: 'sources' });
    expect(read).toEqual(JSON.parse(JSON.stringify(o)));
  });

  it('an order without a source id is stored (not indexed) and read back', async () => {
    const store = await freshStore();
    const o = sampleOrder();
    const bare: Order = { ...o, payment: { api: 'sources', sourceId: '' } };
    await store.create(bare);
    expect(await store.get(o.id)).toEqual(bare);
  });

  it('a missing table passes the error through, untranslated (not transient)', async () => {
    const store = new DynamoOrderStore(clients.dynamodb, 'it-no-such-table');
    const err = await store.get('ord_x').catch((e: unknown) => e);
    expect((err as Error).name).toBe('ResourceNotFoundException');
    expect(err).not.toBeInstanceOf(TransientError);
  });

  it('a refused connection is a TransientError', async () => {
    const dead = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9', // discard port: nothing listens
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      await expect(new DynamoOrderStore(dead, 't').get('ord_x')).rejects.toBeInstanceOf(TransientError);
    } finally {
      dead.destroy();
    }
  });
});

// ---- SQS specifics -----------------------------------------------------------------------

describe('SqsWorkQueue (moto)', () => {
  it('sends the versioned v1 envelope with the group and deduplication ids', async () => {
    await drainQueue(res.queueUrl);
    const m = workMessage();
    await new SqsWorkQueue(clients.sqs, res.queueUrl).enqueue(m);
    const [got, ...rest] = await drainQueue(res.queueUrl, ['MessageGroupId', 'MessageDeduplicationId']);
    expect(rest).toEqual([]);
    expect(got?.Body).toBe(encodeWorkMessage(m));
    expect(JSON.parse(got?.Body ?? '{}').v).toBe(1);
    expect(got?.Attributes?.MessageGroupId).toBe(m.groupId);
    expect(got?.Attributes?.MessageDeduplicationId).toBe(m.dedupId);
  });
});

// ---- Scheduler specifics -----------------------------------------------------------------

describe('SchedulerTimers (moto)', () => {
  it('creates the one-time schedule exactly as docs/architecture.md (Timers) says', async () => {
    // moto fills in ScheduleExpressionTimezone 'UTC' and State 'ENABLED' when they are not sent,
    // so what the adapter sent is recorded too (the request input, before serialization).
    const sent: Record<string, unknown>[] = [];
    const recording = new SchedulerClient(clientConfig(moto?.endpoint ?? ''));
    recording.middlewareStack.add(
      (next) => async (args) => {
        sent.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: 'initialize', name: 'recordInput' },
    );
    const t = timerSpec({ at: new Date('2026-11-21T15:45:00.000Z') });
    try {
      await timersFor(recording).schedule(t);
    } finally {
      recording.destroy();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      Name: t.name,
      GroupName: res.scheduleGroup,
      ScheduleExpression: 'at(2026-11-21T15:45:00)',
      ScheduleExpressionTimezone: SCHEDULER.timezone,
      State: 'ENABLED',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });

    const s = await clients.scheduler.send(new GetScheduleCommand({ Name: t.name, GroupName: res.scheduleGroup }));
    expect(s.ScheduleExpression).toBe('at(2026-11-21T15:45:00)');
    expect(s.ScheduleExpressionTimezone).toBe('UTC');
    expect(s.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(s.ActionAfterCompletion).toBe('DELETE');
    expect(s.State).toBe('ENABLED');
    expect(s.Target?.Arn).toBe(res.queueArn);
    expect(s.Target?.RoleArn).toBe(res.schedulerRoleArn);
    expect(s.Target?.SqsParameters).toEqual({ MessageGroupId: t.message.groupId });
    expect(s.Target?.DeadLetterConfig).toEqual({ Arn: res.schedulerDlqArn });
    expect(s.Target?.RetryPolicy).toEqual({
      MaximumRetryAttempts: SCHEDULER.maximumRetryAttempts,
      MaximumEventAgeInSeconds: SCHEDULER.maximumEventAgeSeconds,
    });
    expect(decodeWorkMessage(s.Target?.Input ?? '')).toEqual(t.message);
  });

  it('rounds a fractional second up: 15:44:59.001Z fires at(…T15:45:00)', async () => {
    const t = timerSpec({ at: new Date('2026-11-21T15:44:59.001Z') });
    await timersFor(clients.scheduler).schedule(t);
    const s = await clients.scheduler.send(new GetScheduleCommand({ Name: t.name, GroupName: res.scheduleGroup }));
    expect(s.ScheduleExpression).toBe('at(2026-11-21T15:45:00)');
  });

  it('accepts a 64-character name', async () => {
    const name = `ord_${unique('L')}`.padEnd(64, 'x');
    expect(name).toHaveLength(64);
    await timersFor(clients.scheduler).schedule(timerSpec({ name }));
    expect(await scheduleExists(name)).toBe(true);
  });

  it('rejects bad names and invalid dates before any call to AWS', async () => {
    const send = vi.fn(async () => {
      throw new Error('must not be called');
    });
    const timers = timersFor({ send } as unknown as SchedulerClient);
    for (const name of ['a'.repeat(65), 'a/b', 'a b', '', 'ord_1:deadline', 'ünïcode']) {
      await expect(timers.schedule(timerSpec({ name }))).rejects.toBeInstanceOf(RangeError);
      await expect(timers.cancel(name)).rejects.toBeInstanceOf(RangeError);
    }
    await expect(timers.schedule(timerSpec({ at: new Date('not a date') }))).rejects.toBeInstanceOf(RangeError);
    await expect(timers.schedule(timerSpec({ at: new Date(Number.NaN) }))).rejects.toThrow(/Invalid timer instant/);
    expect(send).not.toHaveBeenCalled();
  });

  it('passes other errors through the shared mapping', async () => {
    const throttled = new ThrottlingException({
      message: 'slow down',
      Message: 'slow down',
      $metadata: { httpStatusCode: 429 },
    });
    const invalid = new ValidationException({ message: 'bad', Message: 'bad', $metadata: { httpStatusCode: 400 } });
    const fail = (e: Error) => timersFor({ send: async () => Promise.reject(e) } as unknown as SchedulerClient);
    await expect(fail(throttled).schedule(timerSpec())).rejects.toBeInstanceOf(TransientError);
    await expect(fail(throttled).cancel('ord_1-pending')).rejects.toBeInstanceOf(TransientError);
    await expect(fail(invalid).schedule(timerSpec())).rejects.toBe(invalid);
  });

  it('atExpression: UTC wall time, whole seconds, rounded up, across a year boundary', () => {
    expect(atExpression(new Date('2026-11-21T15:45:00.000Z'))).toBe('at(2026-11-21T15:45:00)');
    expect(atExpression(new Date('2026-11-21T15:44:59.001Z'))).toBe('at(2026-11-21T15:45:00)');
    expect(atExpression(new Date('2026-12-31T23:59:59.500Z'))).toBe('at(2027-01-01T00:00:00)');
    expect(() => atExpression(new Date('x'))).toThrow(RangeError);
    expect(() => atExpression(new Date(Date.UTC(10000, 0, 1)))).toThrow(RangeError);
  });
});

// ---- EventBridge specifics ---------------------------------------------------------------

describe('EventBridgePublisher', () => {
  it('puts the event on the bus with the stack source, detail-type and summary detail (moto)', async () => {
    await drainQueue(sinkUrl);
    const order = summarize(sampleOrder({ status: 'canceled', cancelReason: 'merchant' }));
    await new EventBridgePublisher(clients.eventbridge, res.eventBusName).publish({ type: 'order.canceled', order });
    const [m, ...rest] = await drainQueue(sinkUrl);
    expect(rest).toEqual([]);
    const e = JSON.parse(m?.Body ?? '{}');
    expect(e.source).toBe(NAMES.eventSource);
    expect(e['detail-type']).toBe('order.canceled');
    expect(e.detail).toEqual(order);
  });

  it('a failed entry (FailedEntryCount > 0) is a TransientError naming the error code', async () => {
    const send = vi.fn(async () => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      $metadata: {},
    }));
    const publisher = new EventBridgePublisher({ send } as unknown as EventBridgeClient, 'bus');
    const o = sampleOrder();
    const err = await publisher
      .publish({
        type: 'order.failed',
        order: {
          id: o.id,
          status: 'failed',
          api: 'sources',
          amount: 1,
          currency: 'usd',
          paymentMethod: 'wechat',
          sourceId: 's',
          metadata: {},
          updatedAt: o.updatedAt,
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toContain('InternalFailure');
    expect(send).toHaveBeenCalledTimes(1);
  });
});

// ---- the shared error mapping and the wire format ----------------------------------------

describe('aws-errors', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

  it('a failed condition is a ConflictError', () => {
    const e = new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta(400) });
    expect(toAwsPortError(e)).toBeInstanceOf(ConflictError);
    const tx = new TransactionCanceledException({
      message: 'Transaction cancelled',
      ...meta(400),
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    expect(toAwsPortError(tx)).toBeInstanceOf(ConflictError);
  });

  it('throttling, server faults, transaction conflicts, timeouts and socket errors are transient', () => {
    const cases: unknown[] = [
      new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', ...meta(400) }),
      Object.assign(new Error('Throughput exceeds the limit'), { name: 'ProvisionedThroughputExceededException' }),
      Object.assign(new Error('Too many requests'), { name: 'RequestLimitExceeded' }),
      Object.assign(new Error('conflict'), { name: 'TransactionConflictException' }),
      Object.assign(new Error('boom'), { name: 'SomethingBroke', $fault: 'server', ...meta(500) }),
      Object.assign(new Error('bad gateway'), { name: 'Unknown', ...meta(502) }),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        ...meta(400),
        CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
      }),
    ];
    for (const e of cases) {
      expect(isTransientAwsError(e)).toBe(true);
      const mapped = toAwsPortError(e, 'op');
      expect(mapped).toBeInstanceOf(TransientError);
      expect((mapped as TransientError).cause).toBe(e);
    }
  });

  it('client errors are neither: passed through as they are', () => {
    const e = new ValidationException({ message: 'bad input', Message: 'bad input', ...meta(400) });
    expect(isTransientAwsError(e)).toBe(false);
    expect(toAwsPortError(e)).toBe(e);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(isTransientAwsError(abort)).toBe(false);
    expect(toAwsPortError('weird')).toBeInstanceOf(Error);
  });
});

describe('work message codec', () => {
  it('encodes the v1 envelope and decodes it back', () => {
    const m = workMessage();
    const body = encodeWorkMessage(m);
    expect(body.startsWith(`{"v":1,"groupId":${JSON.stringify(m.groupId)},"dedupId":`)).toBe(true);
    expect(decodeWorkMessage(body)).toEqual(m);
  });

  it('refuses anything else with a MalformedMessageError saying why', () => {
    const m = workMessage();
    const env = JSON.parse(encodeWorkMessage(m));
    const bad: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['[]', /not a JSON object/],
      ['null', /not a JSON object/],
      [JSON.stringify({ ...env, v: 2 }), /version 2/],
      [JSON.stringify({ groupId: m.groupId, dedupId: m.dedupId, event: m.event }), /version undefined/],
      [JSON.stringify({ ...env, groupId: '' }), /groupId/],
      [JSON.stringify({ ...env, dedupId: 1 }), /dedupId/],
      [JSON.stringify({ ...env, event: 'x' }), /event object/],
      [JSON.stringify({ ...env, event: { ...env.event, type: undefined } }), /event\.type is missing/],
      [JSON.stringify({ ...env, event: { ...env.event, type: 'order.exploded' } }), /unknown event\.type/],
      [JSON.stringify({ ...env, event: { ...env.event, id: undefined } }), /event\.id is missing/],
    ];
    for (const [body, why] of bad) {
      expect(() => decodeWorkMessage(body)).toThrow(MalformedMessageError);
      expect(() => decodeWorkMessage(body)).toThrow(why);
    }
  });
});
