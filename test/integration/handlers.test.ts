/**
 * The three Lambda handlers with the real adapters, built by lambdas/wiring/ exactly as in
 * production, against moto (DynamoDB, SQS FIFO, Scheduler, EventBridge) and the Stripe
 * simulator over HTTP. API Gateway and SQS events are built by hand; webhooks are the events
 * the simulator recorded, signed with stripe-node's own generateTestHeaderString.
 *
 * Both Stripe APIs: the deployment default here is PaymentIntents (no PAYMENT_API), so the
 * Sources orders name `stripeApi: 'sources'`. PaymentIntents: create + confirm, the customer
 * paying or declining in the simulator, the expiry timer canceling the PaymentIntent (or finding
 * it paid), processing and its re-check, the merchant's cancel, money that does not match or
 * arrives late (refunded), events of another PaymentIntent or of the other API (recorded only).
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeWorkMessage, encodeWorkMessage } from '../../lambdas/adapters/messages.js';
import { SqsWorkQueue } from '../../lambdas/adapters/sqs/work-queue.js';
import { type StripeEventLike, translateStripeEvent } from '../../lambdas/adapters/stripe/events.js';
import { timerMessage } from '../../lambdas/app/effects.js';
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
import { nonConformingRequests, type SimForTest, startSimForTest } from '../support/stripe-sim.js';

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

interface SourcePaymentBody {
  api: 'sources';
  sourceId: string;
  qrCodeUrl?: string;
  redirectUrl?: string;
}

interface IntentPaymentBody {
  api: 'payment_intents';
  paymentIntentId: string;
  client?: string;
  qrCodeData?: string;
  qrCodeImageDataUrl?: string;
  hostedInstructionsUrl?: string;
  redirectUrl?: string;
  nativeUrl?: string;
  nativeData?: string;
  wechatAndroid?: Record<string, string>;
}

interface OrderBody<P = SourcePaymentBody> {
  id: string;
  status: string;
  amount: number;
  currency: string;
  clientSecret: string;
  chargeId?: string;
  failureReason?: string;
  failureCode?: string;
  cancelReason?: string;
  createdAt: string;
  pendingExpiresAt: string;
  recheckAt?: string;
  payment: P;
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

/** A Sources order (the legacy API, named explicitly: the deployment default is payment_intents). */
const ORDER = { amount: 1099, currency: 'usd', paymentMethod: 'wechat', stripeApi: 'sources' };

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
  it('creates a WeChat Pay order on Sources (stripeApi: sources): 201 with the source and its QR code, stored pending', async () => {
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
      stripeApi: 'sources',
    });
    expect(order.payment.api).toBe('sources');
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

// ================================================================== PaymentIntents orders

/** A PaymentIntents order: the deployment default (no PAYMENT_API here), so the request names no API. */
const PI_ORDER = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };
const PI_ALIPAY = { amount: 5000, currency: 'cny', paymentMethod: 'alipay', returnUrl: 'https://shop.example/back' };
const APP_ID = 'wx0123456789abcdef';

type IntentOrder = OrderBody<IntentPaymentBody>;

async function createIntentOrder(body: Record<string, unknown> = PI_ORDER, deps: ApiDeps = api): Promise<IntentOrder> {
  const res = await handleApi(
    deps,
    apiEvent({
      method: 'POST',
      resource: '/orders',
      path: '/orders',
      body: JSON.stringify(body),
      headers: JSON_HEADERS,
    }),
  );
  expect(res.statusCode, res.body).toBe(201);
  const order = bodyOf<IntentOrder>(res);
  expect(order.payment.api).toBe('payment_intents');
  return order;
}

const piOf = (o: IntentOrder) => o.payment.paymentIntentId;
const intentIn = (id: string) => {
  const pi = sim()
    .paymentIntents()
    .find((x) => x.id === id);
  if (!pi) throw new Error(`the simulator has no PaymentIntent ${id}`);
  return pi;
};
const intentCharges = (id: string) =>
  sim()
    .paymentIntentCharges()
    .filter((c) => c.payment_intent === id);
const intentRefunds = (id: string) =>
  sim()
    .refunds()
    .filter((r) => r.payment_intent === id);

/** The order's Scheduler timers in moto, by name with the order id masked. */
async function timersOf(orderId: string): Promise<string[]> {
  if (!clients) throw new Error('no clients');
  const { Schedules = [] } = await clients.scheduler.send(
    new ListSchedulesCommand({ GroupName: resources.scheduleGroup, NamePrefix: orderId }),
  );
  return Schedules.map((x) => (x.Name ?? '').replace(orderId, '<order>')).sort();
}

/** What Scheduler does once a one-time schedule fired (ActionAfterCompletion DELETE), then its message. */
async function firedTimer(orderId: string, kind: 'pending_expired' | 'recheck', at: string): Promise<WorkMessage> {
  if (!clients) throw new Error('no clients');
  const name = `${orderId}-${kind === 'pending_expired' ? 'pending' : 'recheck'}`;
  await clients.scheduler.send(new DeleteScheduleCommand({ GroupName: resources.scheduleGroup, Name: name }));
  return timerMessage(orderId, kind, at);
}

/** A Stripe event through the whole path: signed webhook → ingress → SQS FIFO → worker. */
async function deliver(...events: EventObj[]): Promise<void> {
  await drainQueue();
  for (const e of events) {
    const res = await handleWebhook(ingress, webhook(payloadOf(e)));
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ received: true });
  }
  const messages = await drainQueue();
  expect(messages).toHaveLength(events.length);
  const res = await runWorker(messages.map(recordOf));
  expect(res.batchItemFailures).toEqual([]);
}

const lastEntry = async (id: string) => (await storedOrder(id)).history.at(-1);

describe('PaymentIntents: POST /orders', () => {
  it('without stripeApi (the default): a PaymentIntent created and confirmed; 201 with the QR code data; pending with its -pending timer', async () => {
    const res = await postOrder({ ...PI_ORDER, metadata: { cart: 'c-pi' } });
    expect(res.statusCode).toBe(201);
    expectSecurityHeaders(res);
    const order = bodyOf<IntentOrder>(res);
    expect(order).toMatchObject({ status: 'pending', amount: 1099, currency: 'usd' });
    const p = order.payment;
    expect(p).toMatchObject({ api: 'payment_intents', client: 'web' });
    expect(p).not.toHaveProperty('sourceId');
    expect(p.paymentIntentId).toMatch(/^pi_/);
    expect(p.qrCodeData).toContain(p.paymentIntentId);
    expect(p.qrCodeImageDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(p.hostedInstructionsUrl).toContain(p.paymentIntentId);
    expect(intentIn(p.paymentIntentId)).toMatchObject({
      status: 'requires_action',
      amount: 1099,
      currency: 'usd',
      metadata: { cart: 'c-pi', order_id: order.id },
      allowed_payment_method_types: ['wechat_pay'],
    });
    expect(sourcesOf(order.id)).toEqual([]);
    const stored = await storedOrder(order.id);
    expect(stored.status).toBe('pending');
    // What the storefront needs later is stored (the QR code's PNG may be answered on creation only).
    const { qrCodeImageDataUrl: _png, ...kept } = order.payment;
    expect(stored.payment).toMatchObject(kept);
    expect(Date.parse(stored.pendingExpiresAt) - Date.parse(stored.createdAt)).toBe(
      deps.settings.paymentExpirySeconds * 1000,
    );
    expect(await timersOf(order.id)).toEqual(['<order>-pending']);
    // The customer's status route shows the same payment, without the secret.
    const view = bodyOf<Record<string, unknown>>(await getStatus(order.id, order.clientSecret));
    expect(view).toMatchObject({ status: 'pending', payment: kept });
    expect(view).not.toHaveProperty('clientSecret');
  });

  it('Alipay: the redirect URL, with the return URL given to Stripe', async () => {
    const order = await createIntentOrder(PI_ALIPAY);
    expect(order.payment.redirectUrl).toContain(piOf(order));
    expect(order.payment.client).toBeUndefined();
    expect(order.payment.qrCodeData).toBeUndefined();
    expect(intentIn(piOf(order)).next_action?.alipay_handle_redirect?.return_url).toBe(PI_ALIPAY.returnUrl);
  });

  it('WeChat Pay inside the merchant’s app (client ios / android) with the deployment’s app id', async () => {
    const withApp: ApiDeps = { ...api, settings: { ...api.settings, wechatAppId: APP_ID } };
    const ios = await createIntentOrder({ ...PI_ORDER, client: 'ios' }, withApp);
    expect(ios.payment).toMatchObject({ client: 'ios', nativeUrl: expect.stringContaining(piOf(ios)) });
    expect(intentIn(piOf(ios)).payment_method_options?.wechat_pay).toEqual({ client: 'ios', app_id: APP_ID });
    const android = await createIntentOrder({ ...PI_ORDER, client: 'android' }, withApp);
    expect(android.payment.client).toBe('android');
    expect(android.payment.wechatAndroid).toMatchObject({ appId: APP_ID, package: 'Sign=WXPay' });
    expect(android.payment.qrCodeData).toBeUndefined();
  });

  it.each([
    ['client ios without a configured app id', { ...PI_ORDER, client: 'ios' }, ['client']],
    ['client on a Sources order', { ...PI_ORDER, stripeApi: 'sources', client: 'web' }, ['client']],
    ['client on Alipay', { ...PI_ALIPAY, client: 'web' }, ['client']],
    ['an unknown client', { ...PI_ORDER, client: 'mini_program' }, ['client']],
    ['an unknown stripeApi', { ...PI_ORDER, stripeApi: 'charges' }, ['stripeApi']],
    ['stripeApi of the wrong type', { ...PI_ORDER, stripeApi: 1 }, ['stripeApi']],
    [
      'a statement descriptor of 23 characters on payment_intents',
      { ...PI_ORDER, statementDescriptor: 'S'.repeat(23) },
      ['statementDescriptor'],
    ],
    [
      'a statement descriptor without a letter on payment_intents',
      { ...PI_ORDER, statementDescriptor: '12345' },
      ['statementDescriptor'],
    ],
    [
      'a statement descriptor with a * on payment_intents',
      { ...PI_ORDER, statementDescriptor: 'SHOP*SALE' },
      ['statementDescriptor'],
    ],
  ])('%s → 400 VALIDATION_FAILED naming the field; nothing created at Stripe', async (_name, body, fields) => {
    const before = { intents: sim().paymentIntents().length, sources: sim().sources().length };
    const err = expectError(await postOrder(body), 400, 'VALIDATION_FAILED');
    expect(err.fields?.map((f) => f.field).sort()).toEqual([...fields].sort());
    expect({ intents: sim().paymentIntents().length, sources: sim().sources().length }).toEqual(before);
  });

  it('a 23-character statement descriptor is fine on Sources (32 there)', async () => {
    const order = await createOrder({ ...ORDER, statementDescriptor: 'S'.repeat(23) });
    expect(sourcesOf(order.id)[0]?.statement_descriptor).toBe('S'.repeat(23));
  });

  it('is idempotent: the same Idempotency-Key twice → the same order, replayed, one PaymentIntent', async () => {
    const key = `idem-pi-${randomUUID()}`;
    const first = await postOrder(PI_ORDER, { 'Idempotency-Key': key });
    const second = await postOrder(PI_ORDER, { 'Idempotency-Key': key });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(second.headers?.['Idempotent-Replayed']).toBe('true');
    const a = bodyOf<IntentOrder>(first);
    const { qrCodeImageDataUrl: _png, ...kept } = a.payment;
    expect(bodyOf<IntentOrder>(second)).toMatchObject({ id: a.id, payment: kept });
    expect(
      sim()
        .paymentIntents()
        .filter((pi) => pi.metadata.order_id === a.id),
    ).toHaveLength(1);
    // The same key naming another API is another request.
    expectError(
      await postOrder({ ...PI_ORDER, stripeApi: 'sources' }, { 'Idempotency-Key': key }),
      409,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('Stripe unavailable while creating → 503 with Retry-After; the retry with the same key creates one PaymentIntent', async () => {
    const key = `idem-pi-${randomUUID()}`;
    sim().setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/payment_intents'] });
    let failed: APIGatewayProxyResult;
    try {
      failed = await postOrder(PI_ORDER, { 'Idempotency-Key': key });
    } finally {
      sim().setFaults({ rate: 0, paths: [] });
    }
    expectError(failed, 503, 'SERVICE_UNAVAILABLE');
    expect(failed.headers?.['Retry-After']).toBe('2');
    const ok = await postOrder(PI_ORDER, { 'Idempotency-Key': key });
    expect(ok.statusCode).toBe(201);
    const order = bodyOf<IntentOrder>(ok);
    expect(
      sim()
        .paymentIntents()
        .filter((pi) => pi.metadata.order_id === order.id),
    ).toHaveLength(1);
  });
});

describe('PaymentIntents: webhooks and the worker', () => {
  it('ingress: a signed payment_intent.succeeded → 200, on the FIFO queue in the order’s group, deduplicated by event id', async () => {
    await drainQueue();
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order));
    const event = simEvent('payment_intent.succeeded', piOf(order));
    const payload = payloadOf(event);
    expect((await handleWebhook(ingress, webhook(payload))).statusCode).toBe(200);
    expect((await handleWebhook(ingress, webhook(payload))).statusCode).toBe(200);
    const messages = await drainQueue();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes).toMatchObject({ MessageGroupId: order.id, MessageDeduplicationId: event.id });
    expect(decodeWorkMessage(messages[0]?.Body ?? '').event).toEqual({
      type: 'payment_intent.succeeded',
      id: event.id,
      at: new Date(event.created * 1000).toISOString(),
      orderId: order.id,
      paymentIntentId: piOf(order),
      amount: 1099,
      currency: 'usd',
      livemode: false,
      chargeId: intentIn(piOf(order)).latest_charge,
    });
  });

  it('create → the customer pays → payment_intent.succeeded → paid with the charge; the -pending timer deleted; the rest recorded', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order));
    const charge = intentCharges(piOf(order))[0];
    expect(charge?.status).toBe('succeeded');
    await deliver(simEvent('payment_intent.succeeded', piOf(order)));
    const paid = await storedOrder(order.id);
    expect(paid).toMatchObject({ status: 'paid', chargeId: charge?.id });
    expect(paid.history.at(-1)).toMatchObject({ type: 'payment_intent.succeeded', from: 'pending', to: 'paid' });
    expect(await timersOf(order.id)).toEqual([]);

    // Stripe's other events of that payment, late and in any order: recorded, nothing else.
    await deliver(
      simEvent('charge.succeeded', charge?.id ?? ''),
      simEvent('payment_intent.requires_action', piOf(order)),
    );
    const after = await storedOrder(order.id);
    expect(after.status).toBe('paid');
    expect(after.history.slice(-2).map((h) => [h.type, h.to, h.ignored])).toEqual(
      expect.arrayContaining([
        ['charge.succeeded', 'paid', 'recorded'],
        ['payment_intent.requires_action', 'paid', 'already_paid'],
      ]),
    );
    expect(intentCharges(piOf(order))).toHaveLength(1);
    expect(intentRefunds(piOf(order))).toEqual([]);
    expect(bodyOf<IntentOrder>(await getOrder(order.id))).toMatchObject({ status: 'paid', chargeId: charge?.id });
  });

  it.each([
    ['the customer declines', 'failPaymentIntent', 'declined', 'payment_intent_payment_attempt_failed'],
    ['Stripe expires the attempt', 'expirePaymentAttempt', 'payment_expired', 'payment_intent_payment_attempt_expired'],
  ] as const)(
    '%s → payment_intent.payment_failed → failed, and the PaymentIntent canceled at Stripe',
    async (_n, act, reason, code) => {
      const order = await createIntentOrder(PI_ALIPAY);
      sim()[act](piOf(order));
      await deliver(simEvent('payment_intent.payment_failed', piOf(order)));
      const failed = await storedOrder(order.id);
      expect(failed).toMatchObject({ status: 'failed', failureReason: reason, failureCode: code });
      expect(intentIn(piOf(order))).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
      expect(await timersOf(order.id)).toEqual([]);
      // Stripe then reports our own cancel (reason abandoned): it changes nothing, not even the history.
      const before = await storedOrder(order.id);
      await deliver(simEvent('payment_intent.canceled', piOf(order)));
      expect(await storedOrder(order.id)).toEqual(before);
      expect(intentCharges(piOf(order))).toEqual([]);
    },
  );

  it('the expiry timer: the worker cancels the PaymentIntent, then the order → canceled pending_expired', async () => {
    const order = await createIntentOrder();
    const timer = await firedTimer(order.id, 'pending_expired', order.pendingExpiresAt);
    const res = await runWorker([recordFor(timer)]);
    expect(res.batchItemFailures).toEqual([]);
    expect(await storedOrder(order.id)).toMatchObject({ status: 'canceled', cancelReason: 'pending_expired' });
    expect(intentIn(piOf(order))).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(await timersOf(order.id)).toEqual([]);
    // A redelivered timer and Stripe's payment_intent.canceled (the echo of our own cancel,
    // reason abandoned) change nothing: the echo is not even written.
    expect((await runWorker([redelivered(recordFor(timer))])).batchItemFailures).toEqual([]);
    const before = await storedOrder(order.id);
    await deliver(simEvent('payment_intent.canceled', piOf(order)));
    const after = await storedOrder(order.id);
    expect(after.status).toBe('canceled');
    expect(after).toEqual(before);
  });

  it('the expiry timer after the customer paid (webhook not there yet): Stripe refuses the cancel → paid, nothing refunded', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order));
    const timer = await firedTimer(order.id, 'pending_expired', order.pendingExpiresAt);
    expect((await runWorker([recordFor(timer)])).batchItemFailures).toEqual([]);
    const paid = await storedOrder(order.id);
    expect(paid).toMatchObject({ status: 'paid', chargeId: intentIn(piOf(order)).latest_charge });
    expect(paid.history.at(-1)).toMatchObject({ type: 'timer.pending_expired', from: 'pending', to: 'paid' });
    expect(intentIn(piOf(order)).status).toBe('succeeded');
    // Stripe's webhook arrives afterwards: already paid.
    await deliver(simEvent('payment_intent.succeeded', piOf(order)));
    expect(await lastEntry(order.id)).toMatchObject({ type: 'payment_intent.succeeded', ignored: 'already_paid' });
    expect(intentRefunds(piOf(order))).toEqual([]);
    expect(await timersOf(order.id)).toEqual([]);
  });

  it('payment_intent.processing → charging with a -recheck timer; payment_intent.succeeded → paid, the timer deleted', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order), { processing: true });
    await deliver(simEvent('payment_intent.processing', piOf(order)));
    const charging = await storedOrder(order.id);
    expect(charging.status).toBe('charging');
    expect(charging.recheckAt).toBeDefined();
    expect(await timersOf(order.id)).toEqual(['<order>-recheck']);
    // The merchant cannot cancel a payment in flight.
    expectError(await cancelOrder(order.id), 409, 'ORDER_NOT_CANCELABLE');
    sim().succeedPaymentIntent(piOf(order));
    await deliver(simEvent('payment_intent.succeeded', piOf(order)));
    expect((await storedOrder(order.id)).status).toBe('paid');
    expect(await timersOf(order.id)).toEqual([]);
  });

  it('the -recheck timer of a processing payment that succeeded meanwhile → paid', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order), { processing: true });
    await deliver(simEvent('payment_intent.processing', piOf(order)));
    sim().succeedPaymentIntent(piOf(order));
    const charging = await storedOrder(order.id);
    const timer = await firedTimer(order.id, 'recheck', charging.recheckAt ?? '');
    expect((await runWorker([recordFor(timer)])).batchItemFailures).toEqual([]);
    expect(await storedOrder(order.id)).toMatchObject({
      status: 'paid',
      chargeId: intentIn(piOf(order)).latest_charge,
    });
  });

  it('a success with another amount → failed amount_mismatch, and the money refunded', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order));
    const genuine = simEvent('payment_intent.succeeded', piOf(order));
    // As if Stripe had taken another amount: the PaymentIntent's amount_received is what counts.
    const other = {
      ...genuine,
      id: `evt_other_amount_${randomUUID().slice(0, 8)}`,
      data: { ...genuine.data, object: { ...genuine.data.object, amount_received: 1 } },
    } as EventObj;
    await deliver(other);
    const failed = await storedOrder(order.id);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'amount_mismatch' });
    const refunds = intentRefunds(piOf(order));
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ charge: intentIn(piOf(order)).latest_charge, amount: 1099 });
    // The genuine event afterwards changes nothing, and refunds nothing more.
    await deliver(genuine);
    expect((await storedOrder(order.id)).status).toBe('failed');
    expect(intentRefunds(piOf(order))).toHaveLength(1);
  });

  it('a success after the order failed (the customer paid on a second attempt before our cancel) → refunded, refund once', async () => {
    const order = await createIntentOrder();
    const id = piOf(order);
    sim().failPaymentIntent(id);
    // The customer tries again and pays before the worker processed the decline.
    await t?.stripe.paymentIntents.confirm(id, {
      payment_method_data: { type: 'wechat_pay' },
      payment_method_options: { wechat_pay: { client: 'web' } },
    });
    sim().authorizePaymentIntent(id);
    await deliver(simEvent('payment_intent.payment_failed', id));
    expect((await storedOrder(order.id)).status).toBe('failed');
    expect(intentIn(id).status).toBe('succeeded'); // our cancel came too late: Stripe refused it
    await deliver(simEvent('payment_intent.succeeded', id));
    const refunded = await storedOrder(order.id);
    expect(refunded).toMatchObject({ status: 'refunded', chargeId: intentIn(id).latest_charge });
    expect(intentRefunds(id)).toHaveLength(1);
    // Stripe's charge.refunded and a redelivered success: nothing more.
    await deliver(simEvent('charge.refunded', intentIn(id).latest_charge ?? ''));
    expect((await storedOrder(order.id)).status).toBe('refunded');
    expect(intentRefunds(id)).toHaveLength(1);
  });

  it('events about another PaymentIntent naming the order: recorded as foreign, the order and its PaymentIntent untouched', async () => {
    const order = await createIntentOrder();
    const stranger = await t?.stripe.paymentIntents.create({
      amount: 1099,
      currency: 'usd',
      confirm: true,
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
      metadata: { order_id: order.id },
    });
    const strangerId = stranger?.id ?? '';
    sim().authorizePaymentIntent(strangerId);
    await deliver(simEvent('payment_intent.succeeded', strangerId));
    let stored = await storedOrder(order.id);
    expect(stored.status).toBe('pending');
    expect(stored.chargeId).toBeUndefined();
    expect(stored.history.at(-1)).toMatchObject({
      type: 'payment_intent.succeeded',
      ignored: 'foreign_payment_intent',
    });
    // Its charge event: a PaymentIntents order only records charge events.
    await deliver(simEvent('charge.succeeded', intentIn(strangerId).latest_charge ?? ''));
    stored = await storedOrder(order.id);
    expect(stored.status).toBe('pending');
    // A decline and a cancel of another PaymentIntent do not fail or cancel ours.
    const other = await t?.stripe.paymentIntents.create({
      amount: 1099,
      currency: 'usd',
      confirm: true,
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
      metadata: { order_id: order.id },
    });
    sim().failPaymentIntent(other?.id ?? '');
    await t?.stripe.paymentIntents.cancel(other?.id ?? '');
    await deliver(
      simEvent('payment_intent.payment_failed', other?.id ?? ''),
      simEvent('payment_intent.canceled', other?.id ?? ''),
    );
    stored = await storedOrder(order.id);
    expect(stored.status).toBe('pending');
    expect(stored.history.slice(-2).map((h) => h.ignored)).toEqual([
      'foreign_payment_intent',
      'foreign_payment_intent',
    ]);
    expect(intentIn(piOf(order)).status).toBe('requires_action');
    expect(intentRefunds(strangerId)).toEqual([]);
    expect(await timersOf(order.id)).toEqual(['<order>-pending']);
  });

  it('events of the other API are recorded as other_api: a source naming a PaymentIntents order, a PaymentIntent naming a Sources order', async () => {
    const piOrder = await createIntentOrder();
    const srcOrder = await createOrder();
    const src = await t?.stripe.sources.create({
      type: 'wechat',
      amount: 1099,
      currency: 'usd',
      metadata: { order_id: piOrder.id },
    });
    sim().authorizeSource(src?.id ?? '');
    const pi = await t?.stripe.paymentIntents.create({
      amount: 1099,
      currency: 'usd',
      confirm: true,
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
      metadata: { order_id: srcOrder.id },
    });
    sim().authorizePaymentIntent(pi?.id ?? '');
    await deliver(simEvent('source.chargeable', src?.id ?? ''), simEvent('payment_intent.succeeded', pi?.id ?? ''));
    for (const id of [piOrder.id, srcOrder.id]) {
      const o = await storedOrder(id);
      expect(o.status).toBe('pending');
      expect(o.history.at(-1)?.ignored).toBe('other_api');
    }
    expect(chargesOf(src?.id ?? '')).toEqual([]);
    expect(intentRefunds(pi?.id ?? '')).toEqual([]);
  });

  it('a Sources order and a PaymentIntents order in one batch: both paid, each through its own API', async () => {
    const srcOrder = await createOrder();
    const piOrder = await createIntentOrder();
    sim().authorizeSource(srcOrder.payment.sourceId);
    sim().authorizePaymentIntent(piOf(piOrder));
    await deliver(
      simEvent('source.chargeable', srcOrder.payment.sourceId),
      simEvent('payment_intent.succeeded', piOf(piOrder)),
    );
    const [s, p] = [await storedOrder(srcOrder.id), await storedOrder(piOrder.id)];
    expect([s.status, s.payment.api, p.status, p.payment.api]).toEqual(['paid', 'sources', 'paid', 'payment_intents']);
    const charges = chargesOf(srcOrder.payment.sourceId);
    expect(charges).toHaveLength(1);
    expect(s.chargeId).toBe(charges[0]?.id);
    expect(p.chargeId).toBe(intentIn(piOf(piOrder)).latest_charge);
    // GET /orders lists both with their API.
    const list = bodyOf<{ orders: { id: string; payment: { api: string } }[] }>(
      await handleApi(api, apiEvent({ method: 'GET', resource: '/orders', path: '/orders' })),
    );
    const apis = Object.fromEntries(list.orders.map((o) => [o.id, o.payment.api]));
    expect([apis[srcOrder.id], apis[piOrder.id]]).toEqual(['sources', 'payment_intents']);
  });
});

describe('PaymentIntents: merchant cancel', () => {
  it('a pending order → 200 canceled; its PaymentIntent canceled at Stripe; its timer deleted; again → still canceled', async () => {
    const order = await createIntentOrder();
    const res = await cancelOrder(order.id);
    expect(res.statusCode).toBe(200);
    const canceled = bodyOf<IntentOrder>(res);
    expect(canceled).toMatchObject({ status: 'canceled', cancelReason: 'merchant' });
    expect(canceled.history.at(-1)).toMatchObject({ type: 'merchant.cancel', from: 'pending', to: 'canceled' });
    expect(intentIn(piOf(order))).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(await timersOf(order.id)).toEqual([]);
    const twice = await cancelOrder(order.id);
    expect(twice.statusCode).toBe(200);
    expect(bodyOf<IntentOrder>(twice).status).toBe('canceled');
    // The echo of our own cancel (reason abandoned) is not written.
    const before = await storedOrder(order.id);
    await deliver(simEvent('payment_intent.canceled', piOf(order)));
    expect(await storedOrder(order.id)).toEqual(before);
  });

  it('after the customer paid (webhook not there yet) → 409 ORDER_NOT_CANCELABLE, and the order is paid; nothing refunded', async () => {
    const order = await createIntentOrder();
    sim().authorizePaymentIntent(piOf(order));
    expectError(await cancelOrder(order.id), 409, 'ORDER_NOT_CANCELABLE');
    expect(await storedOrder(order.id)).toMatchObject({
      status: 'paid',
      chargeId: intentIn(piOf(order)).latest_charge,
    });
    expect(intentIn(piOf(order)).status).toBe('succeeded');
    expect(intentRefunds(piOf(order))).toEqual([]);
    expect(await timersOf(order.id)).toEqual([]);
    expectError(await cancelOrder(order.id), 409, 'ORDER_NOT_CANCELABLE');
  });

  it('Stripe unavailable on the cancel → 503, the order still pending; the retry cancels', async () => {
    const order = await createIntentOrder();
    sim().setFaults({ rate: 1, modes: ['500'], paymentIntents: [piOf(order)] });
    let res: APIGatewayProxyResult;
    try {
      res = await cancelOrder(order.id);
    } finally {
      sim().setFaults({ rate: 0, paymentIntents: [] });
    }
    expectError(res, 503, 'SERVICE_UNAVAILABLE');
    expect((await storedOrder(order.id)).status).toBe('pending');
    expect(intentIn(piOf(order)).status).toBe('requires_action');
    expect((await cancelOrder(order.id)).statusCode).toBe(200);
    expect(intentIn(piOf(order)).status).toBe('canceled');
  });
});

describe('the Stripe requests the handlers sent', () => {
  it('every request the simulator accepted conforms to its OpenAPI subset (PaymentIntents: plus exactly the known gaps)', async () => {
    const accepted = sim()
      .requests()
      .filter((r) => r.status < 300);
    expect(accepted.some((r) => r.method === 'POST' && r.path === '/v1/payment_intents')).toBe(true);
    expect(accepted.some((r) => r.path.endsWith('/cancel'))).toBe(true);
    expect(accepted.some((r) => r.path === '/v1/refunds')).toBe(true);
    expect(await nonConformingRequests(sim())).toEqual([]);
  });
});
