/**
 * Section 3 (counts): AWS and Stripe requests per order lifecycle, from a sandbox run. Each
 * lifecycle runs on its own batch of orders, with the system quiet before and after, and the
 * RequestCounter's bucket switched to it, so every request the handlers send is attributed to
 * one lifecycle. Four lifecycles on the legacy Sources API (each order says `stripeApi:
 * 'sources'`: the default is PaymentIntents) and three on PaymentIntents (`stripeApi:
 * 'payment_intents'`, said too, so the rows do not depend on the deployment's default).
 *
 * What the sandbox cannot count through `instrument` (the glue AWS provides, played by the
 * sandbox with its own clients) is taken from the sandbox itself: webhook deliveries (ingress
 * invocations) from the Stripe simulator, worker invocations and records from the event-source
 * poller, schedules fired (Scheduler → SQS sends) from the schedule pump.
 */
import { QUEUE, WORKER } from '../../lib/spec.js';
import type { Sandbox } from '../sandbox/start.js';
import type { RequestCounter, Tally } from './request-counter.js';
import type { CreatedOrder, SandboxDriver, StripeApi } from './sandbox-driver.js';
import { mapLimit, progress, round } from './stats.js';
import { StripeRequestCounter, type StripeRequestsWindow } from './stripe-requests.js';

export const ORDERS_PER_LIFECYCLE = 20;

export const LIFECYCLE_KEYS = [
  'happy',
  'declined',
  'pendingExpiry',
  'deadlineMissed',
  'piPaid',
  'piDeclined',
  'piAbandoned',
] as const;
export type LifecycleKey = (typeof LIFECYCLE_KEYS)[number];

export interface PerOrderCounts {
  dynamodb: { reads: number; writes: number; rru: number; wru: number; reportedCapacity: number };
  sqs: {
    /** SendMessage by the ingress. */
    ingressSends: number;
    /** Messages EventBridge Scheduler sent to the queue (timers fired). */
    schedulerSends: number;
    messagesReceived: number;
    /** One ReceiveMessage per worker batch (what the sandbox's poller formed). */
    receiveRequests: number;
    /** One DeleteMessageBatch per batch with at least one success (estimated from the failure share). */
    deleteRequests: number;
    /** The lower bound of the brief: messages / batch size. */
    receiveRequestsAtFullBatches: number;
    /** Records that failed and were redelivered (or dead-lettered). */
    failedRecords: number;
  };
  scheduler: { creates: number; deletes: number; fired: number };
  eventbridge: { putEventsCalls: number; entries: number };
  lambda: { api: number; ingress: number; worker: number };
  webhooks: Record<string, number>;
  /** Stripe API requests (stripe-requests.ts): sent by the handlers, received by the simulator's routes. */
  stripe: {
    sent: number;
    received: number;
    sentByEndpoint: Record<string, number>;
    receivedByEndpoint: Record<string, number>;
  };
}

export interface StatusPollCost {
  /** Per GET /orders/{id}/status, measured at the lifecycle's terminal state (the largest item). */
  dynamodbReads: number;
  rru: number;
}

export interface LifecycleCounts {
  key: LifecycleKey;
  label: string;
  /** The Stripe API of the lifecycle's orders. */
  api: StripeApi;
  scenario: string;
  orders: number;
  terminal: string;
  perOrder: PerOrderCounts;
  statusPoll: StatusPollCost;
  /** Raw tallies of the handlers' SDK commands, all orders of the lifecycle. */
  commands: Record<string, Tally>;
  /** POST /orders retried after a 503 (their requests are in the counts). */
  createRetries: number;
  wallSeconds: number;
}

interface Spec {
  key: LifecycleKey;
  label: string;
  api: StripeApi;
  scenario(s: Sandbox): string;
  terminal: string;
  drive(d: SandboxDriver, n: number): Promise<CreatedOrder[]>;
}

/** `n` orders on `api`, 4 at a time, each followed by `then` (the customer, Stripe). */
const createMany = (d: SandboxDriver, n: number, api: StripeApi, then?: (o: CreatedOrder) => Promise<unknown>) =>
  mapLimit(
    Array.from({ length: n }, (_, i) => i),
    4,
    async () => {
      const o = await d.createOrder(api);
      if (then) await then(o);
      return o;
    },
  );
const sourceControl = (d: SandboxDriver, action: 'authorize' | 'fail') => (o: CreatedOrder) =>
  d.sim('POST', `/_sim/sources/${o.paymentObjectId}/${action}`);
const intentControl = (d: SandboxDriver, action: 'authorize' | 'fail') => (o: CreatedOrder) =>
  d.sim('POST', `/_sim/payment_intents/${o.paymentObjectId}/${action}`);

const SPECS: Spec[] = [
  {
    key: 'happy',
    label: 'happy path',
    api: 'sources',
    scenario: () =>
      'Sources: create → customer authorizes (source.chargeable) → charge → paid (then charge.succeeded arrives)',
    terminal: 'paid',
    drive: (d, n) => createMany(d, n, 'sources', sourceControl(d, 'authorize')),
  },
  {
    key: 'declined',
    label: 'declined',
    api: 'sources',
    scenario: () => 'Sources: create → customer declines (source.failed) → failed',
    terminal: 'failed',
    drive: (d, n) => createMany(d, n, 'sources', sourceControl(d, 'fail')),
  },
  {
    key: 'pendingExpiry',
    label: 'pending expiry',
    api: 'sources',
    scenario: () =>
      'Sources: create → nobody pays; clock +1 h: Stripe cancels the source (source.canceled) and the pending timer fires → canceled',
    terminal: 'canceled',
    async drive(d, n) {
      const orders = await createMany(d, n, 'sources');
      await d.sandbox.advanceClock(3601);
      return orders;
    },
  },
  {
    key: 'deadlineMissed',
    label: 'deadline missed',
    api: 'sources',
    scenario: () =>
      `Sources: create → authorize while Stripe answers 500 to every charge: the source.chargeable message fails ` +
      `${QUEUE.maxReceiveCount}× and is dead-lettered; Stripe recovers; clock +6 h 1 min: Stripe cancels the ` +
      'source and the deadline timer fires (reconciles: not chargeable) → canceled',
    terminal: 'canceled',
    async drive(d, n) {
      const failedBefore = d.sandbox.events.stats().failed;
      await d.sim('POST', '/_sim/faults', { rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
      let orders: CreatedOrder[];
      try {
        orders = await createMany(d, n, 'sources', sourceControl(d, 'authorize'));
        await d.waitAll(
          orders.map((o) => o.id),
          (o) => o.status === 'chargeable',
          'chargeable',
        );
        // Every source.chargeable message exhausts its receives (then moto moves it to the DLQ).
        const end = Date.now() + 180_000;
        while (d.sandbox.events.stats().failed - failedBefore < QUEUE.maxReceiveCount * n) {
          if (Date.now() > end) throw new Error('the failing charges were not retried as expected');
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        await d.sim('POST', '/_sim/faults', { rate: 0 });
      }
      await d.sandbox.advanceClock(6 * 3600 + 60);
      return orders;
    },
  },
  {
    key: 'piPaid',
    label: 'PI paid',
    api: 'payment_intents',
    scenario: () =>
      'PaymentIntents: create+confirm the PaymentIntent → customer authorizes (payment_intent.succeeded, then ' +
      'charge.succeeded; Stripe captures, no charge call by us) → paid',
    terminal: 'paid',
    drive: (d, n) => createMany(d, n, 'payment_intents', intentControl(d, 'authorize')),
  },
  {
    key: 'piDeclined',
    label: 'PI declined',
    api: 'payment_intents',
    scenario: () =>
      'PaymentIntents: create+confirm → customer declines (payment_intent.payment_failed) → failed, and the worker ' +
      'cancels the PaymentIntent (then payment_intent.canceled arrives)',
    terminal: 'failed',
    drive: (d, n) => createMany(d, n, 'payment_intents', intentControl(d, 'fail')),
  },
  {
    key: 'piAbandoned',
    label: 'PI abandoned',
    api: 'payment_intents',
    scenario: (s) =>
      `PaymentIntents: create+confirm → nobody pays; clock +PAYMENT_EXPIRY_SECONDS (${s.payment.expirySeconds} s) + 1 s: ` +
      'the <id>-pending timer fires, the worker cancels the PaymentIntent → canceled (then payment_intent.canceled arrives)',
    terminal: 'canceled',
    async drive(d, n) {
      const orders = await createMany(d, n, 'payment_intents');
      await d.sandbox.advanceClock(d.sandbox.payment.expirySeconds + 1);
      return orders;
    },
  },
];

const sum = (tallies: Record<string, Tally>, keys: string[], field: keyof Tally) =>
  keys.reduce((s, k) => s + (tallies[k]?.[field] ?? 0), 0);

function perOrderOf(
  tallies: Record<string, Tally>,
  n: number,
  d: {
    deliveries: { type: string }[];
    invocations: number;
    records: number;
    failed: number;
    fired: number;
    stripe: StripeRequestsWindow;
  },
): PerOrderCounts {
  const keys = Object.keys(tallies);
  const ddbReads = keys.filter((k) => /^dynamodb:(GetItem|Query|Scan|BatchGetItem|TransactGetItems)$/.test(k));
  const ddbWrites = keys.filter((k) =>
    /^dynamodb:(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)$/.test(k),
  );
  const per = (v: number) => round(v / n, 3);
  const webhooks: Record<string, number> = {};
  for (const x of d.deliveries) webhooks[x.type] = (webhooks[x.type] ?? 0) + 1;
  const successShare = d.records > 0 ? 1 - d.failed / d.records : 1;
  return {
    dynamodb: {
      reads: per(sum(tallies, ddbReads, 'calls')),
      writes: per(sum(tallies, ddbWrites, 'calls')),
      rru: per(sum(tallies, keys, 'rru')),
      wru: per(sum(tallies, keys, 'wru')),
      reportedCapacity: per(sum(tallies, keys, 'reportedCapacity')),
    },
    sqs: {
      ingressSends: per(sum(tallies, ['sqs:SendMessage'], 'calls')),
      schedulerSends: per(d.fired),
      messagesReceived: per(d.records),
      receiveRequests: per(d.invocations),
      deleteRequests: per(d.invocations * successShare),
      receiveRequestsAtFullBatches: per(d.records / WORKER.batchSize),
      failedRecords: per(d.failed),
    },
    scheduler: {
      creates: per(sum(tallies, ['scheduler:CreateSchedule'], 'calls')),
      deletes: per(sum(tallies, ['scheduler:DeleteSchedule'], 'calls')),
      fired: per(d.fired),
    },
    eventbridge: {
      putEventsCalls: per(sum(tallies, ['eventbridge:PutEvents'], 'calls')),
      entries: per(sum(tallies, ['eventbridge:PutEvents'], 'entries')),
    },
    lambda: { api: 1, ingress: per(d.deliveries.length), worker: per(d.invocations) },
    webhooks: Object.fromEntries(Object.entries(webhooks).map(([k, v]) => [k, per(v)])),
    stripe: {
      sent: per(Object.values(d.stripe.sent).reduce((a, b) => a + b, 0)),
      received: per(Object.values(d.stripe.received).reduce((a, b) => a + b, 0)),
      sentByEndpoint: Object.fromEntries(Object.entries(d.stripe.sent).map(([k, v]) => [k, per(v)])),
      receivedByEndpoint: Object.fromEntries(Object.entries(d.stripe.received).map(([k, v]) => [k, per(v)])),
    },
  };
}

export async function runLifecycles(
  sandbox: Sandbox,
  driver: SandboxDriver,
  counter: RequestCounter,
  { orders: n = ORDERS_PER_LIFECYCLE, only }: { orders?: number; only?: readonly LifecycleKey[] } = {},
): Promise<LifecycleCounts[]> {
  if (!sandbox.sim) throw new Error('the lifecycles need the Stripe simulator');
  const stripe = new StripeRequestCounter(sandbox.sim);
  try {
    return await runAll(sandbox, driver, counter, stripe, n, only);
  } finally {
    stripe.close();
  }
}

async function runAll(
  sandbox: Sandbox,
  driver: SandboxDriver,
  counter: RequestCounter,
  stripe: StripeRequestCounter,
  n: number,
  only: readonly LifecycleKey[] | undefined,
): Promise<LifecycleCounts[]> {
  const out: LifecycleCounts[] = [];
  const quiet = () => driver.quiesce(() => counter.total());
  await quiet();
  for (const spec of SPECS.filter((x) => only === undefined || only.includes(x.key))) {
    progress(`3/4 requests per lifecycle: ${spec.label}, ${n} orders…`);
    const started = Date.now();
    const stripeMark = stripe.mark();
    const deliveriesBefore = sandbox.sim?.deliveries().length ?? 0;
    const statsBefore = sandbox.events.stats();
    const firedBefore = sandbox.schedules.fired();
    const retriesBefore = driver.createRetries;
    counter.setBucket(spec.key);
    const orders = await spec.drive(driver, n);
    await driver.waitAll(
      orders.map((o) => o.id),
      (o) => o.status === spec.terminal,
      spec.terminal,
    );
    await quiet();
    const stats = sandbox.events.stats();
    const deliveries = (sandbox.sim?.deliveries() ?? []).slice(deliveriesBefore);
    const commands = counter.tallies(spec.key);
    const perOrder = perOrderOf(commands, n, {
      deliveries,
      invocations: stats.invocations - statsBefore.invocations,
      records: stats.records - statsBefore.records,
      failed: stats.failed - statsBefore.failed,
      fired: sandbox.schedules.fired() - firedBefore,
      stripe: stripe.since(stripeMark),
    });

    // One customer status poll per order, at the terminal state, in a bucket of its own.
    counter.setBucket(`${spec.key}:statusPoll`);
    for (const o of orders) {
      const s = await driver.customerStatus(o);
      if (s !== spec.terminal) throw new Error(`${o.id}: status route says ${s}, expected ${spec.terminal}`);
    }
    counter.setBucket('idle');
    const poll = counter.tallies(`${spec.key}:statusPoll`);
    out.push({
      key: spec.key,
      label: spec.label,
      api: spec.api,
      scenario: spec.scenario(sandbox),
      orders: n,
      terminal: spec.terminal,
      perOrder,
      statusPoll: {
        dynamodbReads: round(sum(poll, Object.keys(poll), 'calls') / n, 3),
        rru: round(sum(poll, Object.keys(poll), 'rru') / n, 3),
      },
      commands,
      createRetries: driver.createRetries - retriesBefore,
      wallSeconds: round((Date.now() - started) / 1000, 1),
    });
  }
  return out;
}
