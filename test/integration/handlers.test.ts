/**
 * The three Lambda handlers with the real adapters, built by lambdas/wiring/ exactly as in
 * production, against moto (DynamoDB, SQS FIFO, Scheduler, EventBridge) and the Stripe
 * simulator over HTTP. API Gateway and SQS events are built by hand; webhooks are the events
 * the simulator recorded, signed with stripe-node's own generateTestHeaderString.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeWorkMessage, encodeWorkMessage } from '../../lambdas/adapters/messages.js';
import { SqsWorkQueue } from '../../lambdas/adapters/sqs/work-queue.js';
import { type StripeEventLike, translateStripeEvent } from '../../lambdas/adapters/stripe/events.js';
import type { Deps } from '../../lambdas/app/index.js';
import type { OrderEvent } from '../../lambdas/domain/index.js';
import { type ApiDeps, handleApi } from '../../lambdas/handlers/api.js';
import type { IngressDeps } from '../../lambdas/handlers/deps.js';
import { handleWebhook } from '../../lambdas/handlers/ingress.js';
import { makeWorkerHandler } from '../../lambdas/handlers/worker.js';
import type { WorkMessage } from '../../lambdas/ports/index.js';
import { appDeps } from '../../lambdas/wiring/app.js';
import { ingressDeps } from '../../lambdas/wiring/ingress.js';
import { resourceEnv } from '../../scripts/aws-resources.js';
import type { EventObj, EventType } from '../../scripts/stripe-sim/index.js';
import {
  type AwsClients,
  type AwsResources,
  awsClients,
  createResources,
  destroyClients,
  type Moto,
  startMoto,
} from '../support/moto.js';
import { type SimForTest, startSimForTest } from '../support/stripe-sim.js';

// Before the handlers' modules build their Powertools Logger and Metrics: keep the test output
// readable (logs and EMF metric lines are the handlers' business, not asserted here).
const quietEnv = vi.hoisted(() => {
  const saved = {
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
  };
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return saved;
});

const WEBHOOK_SECRET = 'whsec_handlers';
const ALLOWED_ORIGIN = 'https://shop.example';
const AWS_ENV = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

let moto: Moto | undefined;
let clients: AwsClients | undefined;
let resources: AwsResources;
let t: SimForTest | undefined;
let deps: Deps;
let ingress: IngressDeps;
let api: ApiDeps;
let worker: ReturnType<typeof makeWorkerHandler>;
const savedEnv: Partial<Record<(typeof AWS_ENV)[number], string | undefined>> = {};
/** Only to sign test webhooks (generateTestHeaderString); it never calls the network. */
const signer = new Stripe('sk_test_handlers', { telemetry: false });

beforeAll(async () => {
  moto = await startMoto();
  clients = awsClients(moto.endpoint);
  resources = await createResources(clients, 'hd');
  t = await startSimForTest();
  const aws = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
  // The SDK clients of lambdas/wiring/ are `new XClient({})`: endpoint, region and
  // credentials come from process.env, as in Lambda.
  for (const k of AWS_ENV) {
    savedEnv[k] = process.env[k];
    process.env[k] = aws[k];
  }
  const env = {
    ...resourceEnv(resources),
    STRIPE_SECRET_KEY: 'sk_test_handlers',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: t.sim.url,
    ...aws,
  };
  deps = await appDeps(env);
  ingress = await ingressDeps(env);
  api = { ...deps, corsOrigins: [ALLOWED_ORIGIN] };
  worker = makeWorkerHandler(() => Promise.resolve(deps));
});

afterAll(async () => {
  for (const [k, v] of Object.entries(quietEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const k of AWS_ENV) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  if (clients) destroyClients(clients);
  await t?.close();
  await moto?.stop();
});

const sim = () => {
  if (!t) throw new Error('simulator not started');
  return t.sim;
};

// ------------------------------------------------------------------ API Gateway events

interface ApiCall {
  method: 'GET' | 'POST';
  resource: string;
  path: string;
  id?: string;
  body?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

function apiEvent(c: ApiCall): APIGatewayProxyEvent {
  return {
    httpMethod: c.method,
    resource: c.resource,
    path: c.path,
    pathParameters: c.id !== undefined ? { id: c.id } : null,
    queryStringParameters: c.query ?? null,
    multiValueQueryStringParameters: null,
    headers: c.headers ?? {},
    multiValueHeaders: {},
    body: c.body ?? null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

const postOrder = (body: unknown, headers: Record<string, string> = {}) =>
  handleApi(
    api,
    apiEvent({
      method: 'POST',
      resource: '/orders',
      path: '/orders',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { ...JSON_HEADERS, ...headers },
    }),
  );

const getOrder = (id: string) =>
  handleApi(api, apiEvent({ method: 'GET', resource: '/orders/{id}', path: `/orders/${id}`, id }));

const cancelOrder = (id: string) =>
  handleApi(api, apiEvent({ method: 'POST', resource: '/orders/{id}/cancel', path: `/orders/${id}/cancel`, id }));

const getStatus = (id: string, clientSecret: string, origin = ALLOWED_ORIGIN) =>
  handleApi(
    api,
    apiEvent({
      method: 'GET',
      resource: '/orders/{id}/status',
      path: `/orders/${id}/status`,
      id,
      query: { client_secret: clientSecret },
      headers: { Origin: origin },
    }),
  );

interface OrderBody {
  id: string;
  status: string;
  amount: number;
  currency: string;
  clientSecret: string;
  chargeId?: string;
  payment: { sourceId: string; qrCodeUrl?: string; redirectUrl?: string };
  history: { type: string; at: string; from: string | null; to: string; ignored?: string }[];
}

interface ErrorResponse {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}

const bodyOf = <T>(res: APIGatewayProxyResult): T => JSON.parse(res.body) as T;

function expectSecurityHeaders(res: APIGatewayProxyResult): void {
  expect(res.headers?.['X-Content-Type-Options']).toBe('nosniff');
  expect(res.headers?.['Cache-Control']).toBe('no-store');
  expect(res.headers?.['Content-Type']).toMatch(/^application\/json/);
}

/** The documented error shape (docs/openapi.json), with nothing internal in it. */
function expectError(res: APIGatewayProxyResult, status: number, code: string): ErrorResponse['error'] {
  expect(res.statusCode).toBe(status);
  expectSecurityHeaders(res);
  const body = bodyOf<ErrorResponse>(res);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  for (const k of Object.keys(body.error)) expect(['code', 'message', 'fields']).toContain(k);
  expect(res.body).not.toMatch(/Error:|\bstack\b|\n\s+at |node_modules|\.ts:\d+/);
  return body.error;
}

const ORDER = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };

async function createOrder(body: Record<string, unknown> = ORDER): Promise<OrderBody> {
  const res = await postOrder(body);
  expect(res.statusCode).toBe(201);
  return bodyOf<OrderBody>(res);
}

const sourcesOf = (orderId: string) =>
  sim()
    .sources()
    .filter((s) => s.metadata.order_id === orderId);
const chargesOf = (sourceId: string) =>
  sim()
    .charges()
    .filter((c) => c.source.id === sourceId);

// ------------------------------------------------------------------ webhooks

/** The event the simulator recorded for `objectId` (its source, or a charge of it). */
function simEvent(type: EventType, objectId: string): EventObj {
  const e = sim()
    .events()
    .filter((x) => x.type === type && (x.data.object as { id?: string }).id === objectId)
    .at(-1);
  if (!e) throw new Error(`the simulator has no ${type} event for ${objectId}`);
  return e;
}

function webhook(
  payload: string,
  o: { secret?: string; timestamp?: number; signature?: string | null; base64?: boolean } = {},
): APIGatewayProxyEvent {
  const header =
    o.signature === null
      ? undefined
      : (o.signature ??
        signer.webhooks.generateTestHeaderString({
          payload,
          secret: o.secret ?? WEBHOOK_SECRET,
          ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
        }));
  const e = apiEvent({
    method: 'POST',
    resource: '/webhooks/stripe',
    path: '/webhooks/stripe',
    body: o.base64 ? Buffer.from(payload, 'utf8').toString('base64') : payload,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...(header ? { 'Stripe-Signature': header } : {}) },
  });
  return { ...e, isBase64Encoded: o.base64 === true };
}

/** Stripe's wire format: the event as JSON, pretty-printed like the API. */
const payloadOf = (e: EventObj | Record<string, unknown>) => JSON.stringify(e, null, 2);

/** A created order whose source the customer has authorized, and the resulting event. */
async function authorizedOrder(): Promise<{ order: OrderBody; event: EventObj }> {
  const order = await createOrder();
  sim().authorizeSource(order.payment.sourceId);
  return { order, event: simEvent('source.chargeable', order.payment.sourceId) };
}

// ------------------------------------------------------------------ SQS

/** Receives and deletes everything visible on the work queue, with the FIFO attributes. */
async function drainQueue(): Promise<Message[]> {
  if (!clients) throw new Error('no clients');
  const out: Message[] = [];
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return out;
    out.push(...Messages);
    await clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: resources.queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/** A Lambda SQS record from a message SQS delivered. */
function recordOf(m: Message): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: resources.queueArn,
    awsRegion: 'us-east-1',
  };
}

let sequence = 0;
/** A Lambda SQS record built by hand, in FIFO group `groupId`. */
function handRecord(body: string, groupId: string, receiveCount = 1): SQSRecord {
  sequence += 1;
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      MessageGroupId: groupId,
      MessageDeduplicationId: messageId,
      SequenceNumber: String(sequence).padStart(20, '0'),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: resources.queueArn,
    awsRegion: 'us-east-1',
  };
}

const redelivered = (r: SQSRecord): SQSRecord => ({
  ...r,
  attributes: { ...r.attributes, ApproximateReceiveCount: String(Number(r.attributes.ApproximateReceiveCount) + 1) },
});

function messageOf(e: EventObj): WorkMessage {
  const tr = translateStripeEvent(JSON.parse(JSON.stringify(e)) as StripeEventLike);
  if (tr.kind !== 'event') throw new Error(`event ${e.id} was not translated: ${tr.reason}`);
  const groupId = tr.event.orderId ?? tr.event.sourceId ?? tr.event.id;
  return { groupId, dedupId: tr.event.id, event: tr.event };
}

const recordFor = (m: WorkMessage) => handRecord(encodeWorkMessage(m), m.groupId);

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'order-orchestrator-worker',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:order-orchestrator-worker',
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/order-orchestrator-worker',
  logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

const runWorker = (records: SQSRecord[]) => worker({ Records: records } satisfies SQSEvent, context);

const storedOrder = async (id: string) => {
  const o = await deps.store.get(id);
  if (!o) throw new Error(`order ${id} is not in DynamoDB`);
  return o;
};

/** An order taken to `paid` through the worker, as the webhook of its authorization would. */
async function paidOrder(): Promise<OrderBody> {
  const { order, event } = await authorizedOrder();
  const res = await runWorker([recordFor(messageOf(event))]);
  expect(res.batchItemFailures).toEqual([]);
  expect((await storedOrder(order.id)).status).toBe('paid');
  return order;
}

// ================================================================== ingress

describe('ingress: POST /webhooks/stripe', () => {
  beforeEach(async () => {
    await drainQueue();
  });

  it('a signed source.chargeable of a real order → 200, on the FIFO queue in the order’s group', async () => {
    const { order, event } = await authorizedOrder();
    expect((event.data.object as { metadata: Record<string, string> }).metadata.order_id).toBe(order.id);
    const res = await handleWebhook(ingress, webhook(payloadOf(event)));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ received: true });
    expectSecurityHeaders(res);

    const messages = await drainQueue();
    expect(messages).toHaveLength(1);
    const m = messages[0] as Message;
    expect(m.Attributes?.MessageGroupId).toBe(order.id);
    expect(m.Attributes?.MessageDeduplicationId).toBe(event.id);
    const decoded = decodeWorkMessage(m.Body ?? '');
    expect(decoded).toMatchObject({ groupId: order.id, dedupId: event.id });
    expect(decoded.event).toMatchObject({
      type: 'source.chargeable',
      id: event.id,
      orderId: order.id,
      sourceId: order.payment.sourceId,
      amount: 1099,
      currency: 'usd',
      livemode: false,
      at: new Date(event.created * 1000).toISOString(),
    });
  });

  it('the same event delivered twice is enqueued once (FIFO deduplication on the event id)', async () => {
    const { event } = await authorizedOrder();
    const payload = payloadOf(event);
    expect((await handleWebhook(ingress, webhook(payload))).statusCode).toBe(200);
    expect((await handleWebhook(ingress, webhook(payload))).statusCode).toBe(200);
    const messages = await drainQueue();
    expect(messages.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual([event.id]);
  });

  it('verifies a base64-encoded body (isBase64Encoded) on its decoded bytes', async () => {
    const { order, event } = await authorizedOrder();
    const res = await handleWebhook(ingress, webhook(payloadOf(event), { base64: true }));
    expect(res.statusCode).toBe(200);
    const messages = await drainQueue();
    expect(messages).toHaveLength(1);
    expect(decodeWorkMessage(messages[0]?.Body ?? '').event.orderId).toBe(order.id);
  });

  it.each([
    ['a wrong secret', { secret: 'whsec_someone_else' }],
    ['no signature header', { signature: null }],
    ['a malformed header', { signature: 'v1=deadbeef' }],
    ['a stale timestamp (301 s old)', { timestamp: Math.floor(Date.now() / 1000) - 301 }],
  ] as const)('%s → 400 INVALID_SIGNATURE, no details, nothing enqueued', async (_name, o) => {
    const { event } = await authorizedOrder();
    const res = await handleWebhook(ingress, webhook(payloadOf(event), o));
    const err = expectError(res, 400, 'INVALID_SIGNATURE');
    expect(Object.keys(err).sort()).toEqual(['code', 'message']);
    expect(await drainQueue()).toEqual([]);
  });

  it('a body altered after signing → 400, nothing enqueued', async () => {
    const { event } = await authorizedOrder();
    const payload = payloadOf(event);
    const signature = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const res = await handleWebhook(ingress, webhook(payload.replace('"amount": 1099', '"amount": 1'), { signature }));
    expectError(res, 400, 'INVALID_SIGNATURE');
    expect(await drainQueue()).toEqual([]);
  });

  it('a body over 256 KB → 413, nothing enqueued', async () => {
    const payload = JSON.stringify({ id: 'evt_big', type: 'source.chargeable', pad: 'x'.repeat(256 * 1024) });
    expectError(await handleWebhook(ingress, webhook(payload)), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await handleWebhook(ingress, webhook(payload, { base64: true })), 413, 'PAYLOAD_TOO_LARGE');
    expect(await drainQueue()).toEqual([]);
  });

  it('an event type the orchestrator does not handle → 200 ignored, nothing enqueued', async () => {
    const payload = payloadOf({
      id: 'evt_unhandled_1',
      object: 'event',
      type: 'customer.created',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: 'cus_1', object: 'customer', metadata: {} } },
    });
    const res = await handleWebhook(ingress, webhook(payload));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ received: true, ignored: 'unhandled_type' });
    expect(await drainQueue()).toEqual([]);
  });

  it('an event of the other mode (livemode true for a test key) → 200 ignored, nothing enqueued', async () => {
    const { event } = await authorizedOrder();
    const res = await handleWebhook(ingress, webhook(payloadOf({ ...event, livemode: true })));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ received: true, ignored: 'livemode' });
    expect(await drainQueue()).toEqual([]);
  });

  it('SQS unavailable (no such queue) → 500, so Stripe retries', async () => {
    const { event } = await authorizedOrder();
    const badUrl = `${moto?.endpoint}/123456789012/hd-missing-queue.fifo`;
    const broken: IngressDeps = { ...ingress, queue: new SqsWorkQueue(new SQSClient({}), badUrl) };
    const res = await handleWebhook(broken, webhook(payloadOf(event)));
    expectError(res, 500, 'ENQUEUE_FAILED');
    expect(await drainQueue()).toEqual([]);
  });
});

// ================================================================== worker

describe('worker: SQS FIFO batches', () => {
  it('a transient failure fails its record and the rest of its group; other groups go on', async () => {
    // Group A: its source is chargeable, but every charge call answers 500 (Stripe down).
    const a = await authorizedOrder();
    // Group B: the customer declined; nothing in B needs a charge.
    const b = await createOrder();
    sim().failSource(b.payment.sourceId);
    const bFailed = messageOf(simEvent('source.failed', b.payment.sourceId));
    const later = (orderId: string, sourceId: string, id: string): WorkMessage => {
      const event: OrderEvent = {
        type: 'source.canceled',
        id,
        at: new Date().toISOString(),
        orderId,
        sourceId,
      };
      return { groupId: orderId, dedupId: id, event };
    };

    const r1 = recordFor(messageOf(a.event)); // A: fails (charge → 500)
    const r2 = recordFor(bFailed); // B: applied
    const r3 = recordFor(later(a.order.id, a.order.payment.sourceId, `evt_late_a_${randomUUID()}`)); // A: skipped
    const r4 = handRecord('{"v":1, this is not json', 'ord_malformed_group'); // malformed: acknowledged
    const r5 = recordFor(later(b.id, b.payment.sourceId, `evt_late_b_${randomUUID()}`)); // B: ignored (terminal)

    sim().setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
    let res: Awaited<ReturnType<typeof runWorker>>;
    try {
      res = await runWorker([r1, r2, r3, r4, r5]);
    } finally {
      sim().setFaults({ rate: 0, paths: [] });
    }
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: r1.messageId }, { itemIdentifier: r3.messageId }]);

    const storedB = await storedOrder(b.id);
    expect(storedB.status).toBe('failed');
    expect(storedB.history.map((h) => h.type)).toEqual(['order.created', 'source.failed', 'source.canceled']);
    const storedA = await storedOrder(a.order.id);
    expect(storedA.history.map((h) => h.type)).not.toContain('source.canceled');
    expect(storedA.status).not.toBe('canceled');
    expect(chargesOf(a.order.payment.sourceId)).toEqual([]);

    // SQS redelivers the failed records once Stripe is back: A is charged exactly once.
    const retry = await runWorker([redelivered(r1), redelivered(r3)]);
    expect(retry.batchItemFailures).toEqual([]);
    const paid = await storedOrder(a.order.id);
    expect(paid.status).toBe('paid');
    const charges = chargesOf(a.order.payment.sourceId);
    expect(charges).toHaveLength(1);
    expect(paid.chargeId).toBe(charges[0]?.id);
  });

  it('malformed messages are acknowledged, not retried', async () => {
    const res = await runWorker([
      handRecord('not json at all', 'ord_bad_1'),
      handRecord(JSON.stringify({ v: 99, groupId: 'g', dedupId: 'd', event: {} }), 'ord_bad_2'),
      handRecord(JSON.stringify({ v: 1, groupId: 'g', dedupId: 'd', event: { type: 'nope', id: 'x', at: 'y' } }), 'g'),
    ]);
    expect(res.batchItemFailures).toEqual([]);
  });

  it('end to end: webhook source.chargeable → ingress → SQS FIFO → worker → paid, one charge', async () => {
    await drainQueue();
    const { order, event } = await authorizedOrder();
    expect((await handleWebhook(ingress, webhook(payloadOf(event)))).statusCode).toBe(200);
    const delivered = await drainQueue();
    expect(delivered).toHaveLength(1);

    const res = await runWorker(delivered.map(recordOf));
    expect(res.batchItemFailures).toEqual([]);

    const stored = await storedOrder(order.id);
    expect(stored.status).toBe('paid');
    const charges = chargesOf(order.payment.sourceId);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ status: 'succeeded', amount: 1099, currency: 'usd' });
    expect(charges[0]?.metadata.order_id).toBe(order.id);
    expect(stored.chargeId).toBe(charges[0]?.id);
    expect(stored.chargeableAt).toBe(new Date(event.created * 1000).toISOString());

    // Stripe's own charge.succeeded webhook arrives afterwards: a no-op, still one charge.
    const chargeEvent = simEvent('charge.succeeded', charges[0]?.id ?? '');
    expect((await handleWebhook(ingress, webhook(payloadOf(chargeEvent)))).statusCode).toBe(200);
    const second = await drainQueue();
    expect(second).toHaveLength(1);
    expect((await runWorker(second.map(recordOf))).batchItemFailures).toEqual([]);
    expect((await storedOrder(order.id)).status).toBe('paid');
    expect(chargesOf(order.payment.sourceId)).toHaveLength(1);

    const view = await getOrder(order.id);
    expect(view.statusCode).toBe(200);
    expect(bodyOf<OrderBody>(view)).toMatchObject({ status: 'paid', chargeId: charges[0]?.id });
  });
});

// ================================================================== API

describe('API: POST /orders', () => {
  it('creates a WeChat Pay order: 201 with the source and its QR code, stored pending', async () => {
    const res = await postOrder({ ...ORDER, metadata: { cart: 'c-42' } });
    expect(res.statusCode).toBe(201);
    expectSecurityHeaders(res);
    expect(res.headers?.['Idempotent-Replayed']).toBeUndefined();
    const order = bodyOf<OrderBody>(res);
    expect(order).toMatchObject({ status: 'pending', amount: 1099, currency: 'usd' });
    expect(order.id).toMatch(/^ord_[0-9A-Z]{26}$/);
    expect(order.payment.qrCodeUrl).toContain(order.payment.sourceId);
    expect(order.clientSecret).toBeTruthy();
    expect(sourcesOf(order.id)).toHaveLength(1);
    expect(sourcesOf(order.id)[0]?.metadata).toEqual({ cart: 'c-42', order_id: order.id });
    expect((await storedOrder(order.id)).status).toBe('pending');
  });

  it('creates an Alipay order with its redirect URL', async () => {
    const order = await createOrder({
      amount: 5000,
      currency: 'cny',
      paymentMethod: 'alipay',
      returnUrl: 'https://shop.example/return',
    });
    expect(order.payment.redirectUrl).toContain(order.payment.sourceId);
    expect(sourcesOf(order.id)[0]?.redirect?.return_url).toBe('https://shop.example/return');
  });

  it.each([
    ['an unknown field', { ...ORDER, coupon: 'FREE' }, ['coupon']],
    ['a negative amount', { ...ORDER, amount: -5 }, ['amount']],
    ['a currency WeChat Pay does not support', { ...ORDER, currency: 'cny' }, ['currency']],
    ['an Alipay order without returnUrl', { ...ORDER, paymentMethod: 'alipay' }, ['returnUrl']],
    ['several problems at once', { ...ORDER, amount: 0, coupon: 'FREE' }, ['amount', 'coupon']],
  ])('%s → 400 VALIDATION_FAILED naming each field; no source created', async (_name, body, fields) => {
    const before = sim().sources().length;
    const err = expectError(await postOrder(body), 400, 'VALIDATION_FAILED');
    expect(err.fields?.map((f) => f.field).sort()).toEqual([...fields].sort());
    for (const f of err.fields ?? []) expect(f.message.length).toBeGreaterThan(0);
    expect(sim().sources()).toHaveLength(before);
  });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    expectError(await postOrder('{"amount": 1099,'), 400, 'MALFORMED_JSON');
  });

  it('a body that is not application/json → 415', async () => {
    expectError(await postOrder(ORDER, { 'Content-Type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('is idempotent: the same Idempotency-Key twice → the same order, replayed, one source', async () => {
    const key = `idem-${randomUUID()}`;
    const first = await postOrder(ORDER, { 'Idempotency-Key': key });
    const second = await postOrder(ORDER, { 'Idempotency-Key': key });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(first.headers?.['Idempotent-Replayed']).toBeUndefined();
    expect(second.headers?.['Idempotent-Replayed']).toBe('true');
    const a = bodyOf<OrderBody>(first);
    const b = bodyOf<OrderBody>(second);
    expect(b.id).toBe(a.id);
    expect(b.payment).toEqual(a.payment);
    expect(sourcesOf(a.id)).toHaveLength(1);
  });

  it('the same Idempotency-Key with another body → 409 IDEMPOTENCY_KEY_REUSED, no new source', async () => {
    const key = `idem-${randomUUID()}`;
    expect((await postOrder(ORDER, { 'Idempotency-Key': key })).statusCode).toBe(201);
    const before = sim().sources().length;
    expectError(await postOrder({ ...ORDER, amount: 2000 }, { 'Idempotency-Key': key }), 409, 'IDEMPOTENCY_KEY_REUSED');
    expect(sim().sources()).toHaveLength(before);
  });
});

describe('API: GET /orders/{id}, cancel, status', () => {
  it('GET /orders/{id} → 200 with its history', async () => {
    const order = await createOrder();
    const res = await getOrder(order.id);
    expect(res.statusCode).toBe(200);
    expectSecurityHeaders(res);
    const got = bodyOf<OrderBody>(res);
    expect(got).toMatchObject({ id: order.id, status: 'pending', amount: 1099, currency: 'usd' });
    expect(got.history).toEqual([{ type: 'order.created', at: expect.any(String), from: null, to: 'pending' }]);
  });

  it('GET an unknown order → 404; a malformed id → 400', async () => {
    expectError(await getOrder('ord_01JZ0000000000000000000000'), 404, 'ORDER_NOT_FOUND');
    expectError(await getOrder('not-an-order'), 400, 'INVALID_ORDER_ID');
    expectError(await getOrder('ord_<script>'), 400, 'INVALID_ORDER_ID');
  });

  it('cancel → 200 canceled, recorded in the history; again → still canceled', async () => {
    const order = await createOrder();
    const res = await cancelOrder(order.id);
    expect(res.statusCode).toBe(200);
    expectSecurityHeaders(res);
    const canceled = bodyOf<OrderBody>(res);
    expect(canceled.status).toBe('canceled');
    expect(canceled.history.at(-1)).toMatchObject({ type: 'merchant.cancel', from: 'pending', to: 'canceled' });
    expect((await storedOrder(order.id)).status).toBe('canceled');
    const twice = await cancelOrder(order.id);
    expect(twice.statusCode).toBe(200);
    expect(bodyOf<OrderBody>(twice).status).toBe('canceled');
  });

  it('cancel of a paid order → 409, and it stays paid', async () => {
    const order = await paidOrder();
    expectError(await cancelOrder(order.id), 409, 'ORDER_NOT_CANCELABLE');
    expect((await storedOrder(order.id)).status).toBe('paid');
  });

  it('cancel of an unknown order → 404', async () => {
    expectError(await cancelOrder('ord_01JZ0000000000000000000000'), 404, 'ORDER_NOT_FOUND');
  });

  it('GET /orders/{id}/status with the order’s client secret → 200 with CORS for an allowed origin', async () => {
    const order = await createOrder();
    const res = await getStatus(order.id, order.clientSecret);
    expect(res.statusCode).toBe(200);
    expectSecurityHeaders(res);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBe(ALLOWED_ORIGIN);
    const view = bodyOf<Record<string, unknown>>(res);
    expect(view).toMatchObject({ id: order.id, status: 'pending', payment: order.payment });
    expect(view).not.toHaveProperty('clientSecret');
    expect(view).not.toHaveProperty('metadata');
  });

  it('status from an origin that is not allowed: no Access-Control-Allow-Origin', async () => {
    const order = await createOrder();
    const res = await getStatus(order.id, order.clientSecret, 'https://evil.example');
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('status with a wrong client secret → 404, exactly like a missing order', async () => {
    const order = await createOrder();
    const wrong = await getStatus(order.id, `${order.clientSecret.slice(0, -1)}x`);
    const err = expectError(wrong, 404, 'ORDER_NOT_FOUND');
    expect(wrong.headers?.['Access-Control-Allow-Origin']).toBe(ALLOWED_ORIGIN);
    const missing = await getStatus('ord_01JZ0000000000000000000000', order.clientSecret);
    expect(expectError(missing, 404, 'ORDER_NOT_FOUND')).toEqual(err);
  });

  it('an unknown route → 404 in the same error shape', async () => {
    expectError(
      await handleApi(api, apiEvent({ method: 'POST', resource: '/admin', path: '/admin' })),
      404,
      'NOT_FOUND',
    );
  });
});
