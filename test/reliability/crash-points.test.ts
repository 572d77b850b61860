/**
 * Crash points, for both Stripe APIs: for each event type, the worker path runs on the real
 * adapters (moto over HTTP, the Stripe simulator over HTTP, built by lambdas/wiring/ `appDeps`),
 * first without a crash,
 * counting every I/O call (DynamoDB, Scheduler, EventBridge through SDK client middleware;
 * Stripe through a Proxy around the gateway). Then, for k = 1..N, the process "dies" right after
 * the k-th call completed, and the same event is redelivered as SQS would (processRecord again,
 * until it succeeds; the merchant's cancel is retried through the use case). The end state must
 * be the clean run's: the order (status, reason, charge id present), the charges of its source
 * (never more than one, same statuses), the refunds, the lifecycle events published (at least
 * once each) and the timers that exist (ListSchedules in the group). On PaymentIntents the
 * end state also holds the PaymentIntent's status at Stripe and its charges and refunds: the
 * expiry, the merchant's cancel and a failed payment cancel it before or after the write, so a
 * crash on either side must still leave it as the clean run did.
 */
import { DeleteScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { timerMessage } from '../../lambdas/app/effects.js';
import { cancelOrder, createOrder, type Deps } from '../../lambdas/app/index.js';
import { chargeKey, isDomainError, type Order, type PaymentApi } from '../../lambdas/domain/index.js';
import { processRecord } from '../../lambdas/handlers/worker.js';
import type { WorkMessage } from '../../lambdas/ports/index.js';
import { appDeps } from '../../lambdas/wiring/app.js';
import { resourceEnv } from '../../scripts/aws-resources.js';
import { OffsetClock, type StripeSim, startStripeSim } from '../../scripts/stripe-sim/index.js';
import {
  type AwsClients,
  type AwsResources,
  awsClients,
  createResources,
  destroyClients,
  type Moto,
  startMoto,
} from '../support/moto.js';
import { paymentIntentIdOf, sourceIdOf } from '../support/orders.js';
import {
  Crash,
  IoMeter,
  meterAwsClient,
  meterGateway,
  moneyOf,
  moneyViolations,
  sqsRecord,
  workMessageOf,
} from './support.js';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

let moto: Moto | undefined;
let clients: AwsClients | undefined;
let meteredClients: AwsClients | undefined;
let resources: AwsResources;
let sim: StripeSim | undefined;
let clock: OffsetClock;
/** The adapters as wired in Lambda, unmetered (for the setup of each run). */
let base: Deps;
/** The same adapters, metered and crashing on demand. */
let deps: Deps;
const meter = new IoMeter();

beforeAll(async () => {
  moto = await startMoto();
  clients = awsClients(moto.endpoint);
  resources = await createResources(clients, 'crash');
  clock = new OffsetClock();
  sim = await startStripeSim({ port: 0, clock, expiryIntervalMs: 0 });
  const env = {
    ...resourceEnv(resources),
    STRIPE_SECRET_KEY: 'sk_test_crash',
    STRIPE_WEBHOOK_SECRET: 'whsec_crash',
    STRIPE_API_BASE: sim.url,
    STRIPE_MAX_NETWORK_RETRIES: '0',
  };
  // The handlers' clients, each with the meter as its outermost middleware.
  meteredClients = awsClients(moto.endpoint);
  for (const [service, client] of Object.entries(meteredClients)) meterAwsClient(client, service, meter);
  base = await appDeps(env, clock, awsClients(moto.endpoint));
  const wired = await appDeps(env, clock, meteredClients);
  deps = { ...wired, gateway: meterGateway(wired.gateway, meter) };
});

afterAll(async () => {
  if (clients) destroyClients(clients);
  if (meteredClients) destroyClients(meteredClients);
  await sim?.close();
  await moto?.stop();
});

const theSim = (): StripeSim => {
  if (!sim) throw new Error('simulator not started');
  return sim;
};

/** The latest event of `type` the simulator recorded about `objectId`. */
function simEvent(type: string, objectId: string) {
  const e = theSim()
    .events()
    .filter((x) => x.type === type && (x.data.object as { id?: string }).id === objectId)
    .at(-1);
  if (!e) throw new Error(`no ${type} event for ${objectId}`);
  return e;
}

async function stored(id: string): Promise<Order> {
  const o = await base.store.get(id);
  if (!o) throw new Error(`order ${id} not found`);
  return o;
}

const BODY = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' } as const;

/** A new pending order on `api` (Sources unless said: the scenarios predate PaymentIntents). */
async function newOrder(api: PaymentApi = 'sources'): Promise<Order> {
  return (await createOrder(base, { ...BODY, stripeApi: api })).order;
}

/** A new PaymentIntents order and its PaymentIntent's id. */
async function newIntentOrder(): Promise<{ o: Order; pi: string }> {
  const o = await newOrder('payment_intents');
  return { o, pi: paymentIntentIdOf(o) };
}

/** A canceled order whose customer authorizes anyway, and a charge attempt that reached Stripe (a lost response). */
async function chargedAfterCancel() {
  const o = await newOrder();
  await cancelOrder(base, o.id);
  theSim().authorizeSource(sourceIdOf(o));
  const charge = await base.gateway.charge({
    orderId: o.id,
    sourceId: sourceIdOf(o),
    amount: o.amount,
    currency: o.currency,
    idempotencyKey: chargeKey(o.id),
  });
  return { o, charge };
}

/** The customer confirms a PaymentIntent again after a failed attempt (client side, with Stripe.js). */
async function confirmAgain(paymentIntentId: string): Promise<void> {
  const res = await fetch(`${theSim().url}/v1/payment_intents/${paymentIntentId}/confirm`, {
    method: 'POST',
    headers: { Authorization: 'Bearer sk_test_crash', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'payment_method_data[type]=wechat_pay&payment_method_options[wechat_pay][client]=web',
  });
  if (res.status !== 200) throw new Error(`confirm ${paymentIntentId} → ${res.status} ${await res.text()}`);
}

/** Everything Stripe and AWS hold about an order, with its id masked so runs compare. */
async function snapshot(orderId: string) {
  const o = await stored(orderId);
  const money = moneyOf(theSim(), o);
  const { Schedules = [] } = await (clients as AwsClients).scheduler.send(
    new ListSchedulesCommand({ GroupName: resources.scheduleGroup, NamePrefix: orderId }),
  );
  return {
    status: o.status,
    failureReason: o.failureReason ?? null,
    cancelReason: o.cancelReason ?? null,
    hasChargeId: o.chargeId !== undefined,
    chargeIdIsStripes: o.chargeId === undefined || money.charges.some((c) => c.id === o.chargeId),
    /** The source's or the PaymentIntent's status at Stripe. */
    stripeStatus: money.objectStatus ?? null,
    charges: money.charges.map((c) => c.status).sort(),
    refunds: money.refunds.length,
    timers: Schedules.map((s) => (s.Name ?? '').replace(orderId, '<order>')).sort(),
    historyEventIdsUnique: new Set(o.history.map((h) => h.eventId)).size === o.history.length,
    /** Money invariants against Stripe (support.ts): none broken. */
    moneyViolations: moneyViolations(o, theSim()),
  };
}

/** What Scheduler does when a one-time schedule fires: it deletes itself (ActionAfterCompletion DELETE). */
async function fired(name: string): Promise<void> {
  await (clients as AwsClients).scheduler.send(
    new DeleteScheduleCommand({ GroupName: resources.scheduleGroup, Name: name }),
  );
}

interface Prepared {
  orderId(): string;
  /** One delivery of the event under test; throws when it failed (SQS would redeliver). */
  deliver(): Promise<unknown>;
}

interface Scenario {
  name: string;
  setup(): Promise<Prepared>;
}

type Of<A extends PaymentApi> = Scenario & { api: A };
const on =
  <A extends PaymentApi>(api: A) =>
  (s: Scenario): Of<A> => ({ ...s, api });

const viaWorker = (orderId: string, message: WorkMessage): Prepared => {
  let receive = 0;
  return {
    orderId: () => orderId,
    deliver: () => {
      receive += 1;
      return processRecord(deps, sqsRecord(message, resources.queueArn, receive));
    },
  };
};

/** Runs the worker on an event during setup (unmetered), tolerating the failure it is meant to have. */
async function setupEvent(message: WorkMessage): Promise<void> {
  await processRecord(base, sqsRecord(message, resources.queueArn)).catch(() => undefined);
}

const SOURCES_SCENARIOS: Scenario[] = [
  {
    name: 'POST /orders (Idempotency-Key), Sources → pending',
    async setup() {
      // Not a queue message: the API call, retried by the merchant with the same key after a 5xx.
      const key = `crash-${Date.now()}-${Math.random()}`;
      let id: string | undefined;
      return {
        orderId: () => id ?? '',
        deliver: async () => {
          const r = await createOrder(deps, { ...BODY, stripeApi: 'sources' }, key);
          id = r.order.id;
        },
      };
    },
  },
  {
    name: 'source.chargeable → paid',
    async setup() {
      const o = await newOrder();
      theSim().authorizeSource(sourceIdOf(o));
      return viaWorker(o.id, workMessageOf(simEvent('source.chargeable', sourceIdOf(o))));
    },
  },
  {
    name: 'source.chargeable, charge declined → failed',
    async setup() {
      const o = await newOrder();
      theSim().authorizeSource(sourceIdOf(o), { chargeOutcome: 'failed' });
      return viaWorker(o.id, workMessageOf(simEvent('source.chargeable', sourceIdOf(o))));
    },
  },
  {
    name: 'source.failed → failed',
    async setup() {
      const o = await newOrder();
      theSim().failSource(sourceIdOf(o));
      return viaWorker(o.id, workMessageOf(simEvent('source.failed', sourceIdOf(o))));
    },
  },
  {
    name: 'source.canceled → canceled',
    async setup() {
      const o = await newOrder();
      theSim().cancelSource(sourceIdOf(o));
      return viaWorker(o.id, workMessageOf(simEvent('source.canceled', sourceIdOf(o))));
    },
  },
  {
    name: 'timer.pending_expired, Sources → canceled',
    async setup() {
      const o = await newOrder();
      // An hour later Stripe has canceled the source, and the pending timer fires.
      await theSim().advance(3601);
      await fired(`${o.id}-pending`);
      return viaWorker(o.id, timerMessage(o.id, 'pending_expired', o.pendingExpiresAt));
    },
  },
  {
    name: 'timer.deadline, source expired → canceled',
    async setup() {
      const o = await newOrder();
      // Authorized while Stripe answers 500 to charges: the order is chargeable, not charged.
      theSim().setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
      try {
        theSim().authorizeSource(sourceIdOf(o));
        await setupEvent(workMessageOf(simEvent('source.chargeable', sourceIdOf(o))));
      } finally {
        theSim().setFaults({ rate: 0, paths: [] });
      }
      const chargeable = await stored(o.id);
      expect(chargeable.status).toBe('chargeable');
      // Past the deadline Stripe has canceled the source, and the deadline timer fires.
      await theSim().advance(6 * 3600 + 60);
      await fired(`${o.id}-deadline`);
      return viaWorker(o.id, timerMessage(o.id, 'deadline', chargeable.deadline ?? ''));
    },
  },
  {
    name: 'merchant.cancel, Sources → canceled',
    async setup() {
      const o = await newOrder();
      // Not a queue message: the API call, retried by the merchant after a 5xx.
      return { orderId: () => o.id, deliver: () => cancelOrder(deps, o.id) };
    },
  },
  {
    name: 'charge.succeeded after a cancel → refunded',
    async setup() {
      const { o, charge } = await chargedAfterCancel();
      return viaWorker(o.id, workMessageOf(simEvent('charge.succeeded', charge.id)));
    },
  },
  {
    name: 'charge.succeeded after a cancel, already refunded in the Dashboard → refunded',
    async setup() {
      const { o, charge } = await chargedAfterCancel();
      // Someone refunds it by hand before the webhook is processed: the automatic refund finds
      // it refunded already, and the record still completes (no poison message).
      await base.gateway.refund({ orderId: o.id, chargeId: charge.id, idempotencyKey: `dash-${o.id}` });
      return viaWorker(o.id, workMessageOf(simEvent('charge.succeeded', charge.id)));
    },
  },
  {
    name: 'charge.refunded on paid → refunded',
    async setup() {
      const o = await newOrder();
      theSim().authorizeSource(sourceIdOf(o));
      await setupEvent(workMessageOf(simEvent('source.chargeable', sourceIdOf(o))));
      const paid = await stored(o.id);
      expect(paid.status).toBe('paid');
      // A refund made in the Stripe Dashboard.
      await base.gateway.refund({ orderId: o.id, chargeId: paid.chargeId ?? '', idempotencyKey: `dash-${o.id}` });
      return viaWorker(o.id, workMessageOf(simEvent('charge.refunded', paid.chargeId ?? '')));
    },
  },
];

const INTENT_SCENARIOS: Scenario[] = [
  {
    name: 'POST /orders (Idempotency-Key), PaymentIntents → pending',
    async setup() {
      // The API call, retried by the merchant with the same key after a 5xx. A crash after
      // Stripe created the PaymentIntent but before the order was written leaves that
      // PaymentIntent unpaid and unknown to the customer (its QR code was never shown); the
      // retry creates the order with its own. The order's end state is the clean run's.
      const key = `crash-pi-${Date.now()}-${Math.random()}`;
      let id: string | undefined;
      return {
        orderId: () => id ?? '',
        deliver: async () => {
          const r = await createOrder(deps, { ...BODY, stripeApi: 'payment_intents' }, key);
          id = r.order.id;
        },
      };
    },
  },
  {
    name: 'payment_intent.succeeded → paid',
    async setup() {
      const { o, pi } = await newIntentOrder();
      theSim().authorizePaymentIntent(pi);
      return viaWorker(o.id, workMessageOf(simEvent('payment_intent.succeeded', pi)));
    },
  },
  {
    name: 'payment_intent.payment_failed → failed, PaymentIntent canceled',
    async setup() {
      const { o, pi } = await newIntentOrder();
      theSim().failPaymentIntent(pi);
      return viaWorker(o.id, workMessageOf(simEvent('payment_intent.payment_failed', pi)));
    },
  },
  {
    name: 'payment_intent.processing → charging (recheck timer)',
    async setup() {
      const { o, pi } = await newIntentOrder();
      theSim().authorizePaymentIntent(pi, { processing: true });
      return viaWorker(o.id, workMessageOf(simEvent('payment_intent.processing', pi)));
    },
  },
  {
    name: 'timer.pending_expired, PaymentIntents → PaymentIntent canceled, canceled',
    async setup() {
      const { o } = await newIntentOrder();
      await fired(`${o.id}-pending`);
      return viaWorker(o.id, timerMessage(o.id, 'pending_expired', o.pendingExpiresAt));
    },
  },
  {
    name: 'timer.pending_expired after the customer paid → paid',
    async setup() {
      const { o, pi } = await newIntentOrder();
      // The customer paid; the webhook is not there yet when the expiry timer fires.
      theSim().authorizePaymentIntent(pi);
      await fired(`${o.id}-pending`);
      return viaWorker(o.id, timerMessage(o.id, 'pending_expired', o.pendingExpiresAt));
    },
  },
  {
    name: 'merchant.cancel, PaymentIntents → PaymentIntent canceled, canceled',
    async setup() {
      const { o } = await newIntentOrder();
      return { orderId: () => o.id, deliver: () => cancelOrder(deps, o.id) };
    },
  },
  {
    name: 'merchant.cancel after the customer paid → paid (409)',
    async setup() {
      const { o, pi } = await newIntentOrder();
      theSim().authorizePaymentIntent(pi);
      return {
        orderId: () => o.id,
        // The merchant's retries all answer 409 once the order is known paid; that is the success here.
        deliver: async () => {
          try {
            await cancelOrder(deps, o.id);
          } catch (e) {
            if (!(isDomainError(e) && e.code === 'ORDER_NOT_CANCELABLE')) throw e;
          }
        },
      };
    },
  },
  {
    name: 'payment_intent.succeeded with another amount → failed, refunded',
    async setup() {
      const { o, pi } = await newIntentOrder();
      theSim().authorizePaymentIntent(pi);
      const m = workMessageOf(simEvent('payment_intent.succeeded', pi));
      if (m.event.type !== 'payment_intent.succeeded') throw new Error('unexpected event');
      return viaWorker(o.id, { ...m, event: { ...m.event, amount: m.event.amount - 1 } });
    },
  },
  {
    name: 'payment_intent.succeeded after the order failed → refunded',
    async setup() {
      const { o, pi } = await newIntentOrder();
      // Declined; the customer pays on a second attempt before our cancel reached Stripe.
      theSim().failPaymentIntent(pi);
      await confirmAgain(pi);
      theSim().authorizePaymentIntent(pi);
      await setupEvent(workMessageOf(simEvent('payment_intent.payment_failed', pi)));
      expect((await stored(o.id)).status).toBe('failed');
      return viaWorker(o.id, workMessageOf(simEvent('payment_intent.succeeded', pi)));
    },
  },
];

const SCENARIOS = [...SOURCES_SCENARIOS.map(on('sources')), ...INTENT_SCENARIOS.map(on('payment_intents'))];

/** Delivers until it succeeds, as SQS does; crashes are the only failures expected. */
async function deliverUntilDone(p: Prepared): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await p.deliver();
      return attempt;
    } catch (e) {
      if (!(e instanceof Crash) || attempt >= 5) throw e;
    }
  }
}

/** I/O calls of a run's last delivery (the one that succeeded). */
const lastDeliveryCalls = (r: Run, crashPoints: number[]) => r.steps.length - Math.max(0, ...crashPoints);

interface Run {
  steps: string[];
  published: string[];
  attempts: number;
  snap: Awaited<ReturnType<typeof snapshot>>;
}

async function run(s: Scenario, crashPoints: number[] = []): Promise<Run> {
  meter.active = false;
  const p = await s.setup();
  meter.reset(crashPoints);
  meter.active = true;
  let attempts: number;
  try {
    attempts = await deliverUntilDone(p);
  } finally {
    meter.active = false;
  }
  const calls = meter.calls;
  return {
    steps: calls.map((c) => c.what),
    published: [...new Set(calls.filter((c) => c.ok).flatMap((c) => c.detailTypes ?? []))].sort(),
    attempts,
    snap: await snapshot(p.orderId()),
  };
}

const table: { api: PaymentApi; event: string; steps: number; passed: number; doubles: number; io: string }[] = [];

afterAll(() => {
  if (table.length === 0) return;
  const w = Math.max(...table.map((r) => r.event.length));
  const lines = [
    `${'event'.padEnd(w)}  I/O steps  crash points passed  crash pairs passed`,
    ...table.map(
      (r) =>
        `${r.event.padEnd(w)}  ${String(r.steps).padStart(9)}  ${`${r.passed}/${r.steps}`.padStart(19)}  ${String(r.doubles).padStart(18)}`,
    ),
    '',
    ...table.map((r) => `${r.event}: ${r.io}`),
  ];
  const runs = (rows: typeof table) => rows.reduce((n, r) => n + r.passed + r.doubles, 0);
  const perApi = (['sources', 'payment_intents'] as const)
    .map((api) => {
      const rows = table.filter((r) => r.api === api);
      return `${api} ${runs(rows)} in ${rows.length} scenarios`;
    })
    .join(', ');
  console.log(
    `\nCrash points (crash after the k-th I/O call, then redelivery; pairs: a second crash after each call of that redelivery), ${runs(table)} crashed runs (${perApi}):\n${lines.join('\n')}\n`,
  );
});

describe('crash after every I/O call, then redelivery: the same end state as without a crash', () => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
    const clean = await run(s);
    expect(clean.attempts).toBe(1);
    expect(clean.snap.charges.length).toBeLessThanOrEqual(1);
    expect(clean.snap.historyEventIdsUnique).toBe(true);
    expect(clean.snap.chargeIdIsStripes).toBe(true);
    expect(clean.snap.moneyViolations).toEqual([]);
    const n = clean.steps.length;
    expect(n).toBeGreaterThan(0);
    let passed = 0;
    let doubles = 0;
    for (let k = 1; k <= n; k++) {
      const r = await run(s, [k]);
      const where = `crash after step ${k}/${n} (${clean.steps[k - 1]})`;
      expect(r.attempts, where).toBe(2);
      expect(r.snap, where).toEqual(clean.snap);
      // Lifecycle events: each one the clean run published is published at least once.
      expect(r.published, where).toEqual(expect.arrayContaining(clean.published));
      passed += 1;
      // And a second crash after each call of that redelivery.
      const m = lastDeliveryCalls(r, [k]);
      for (let k2 = 1; k2 <= m; k2++) {
        const points = [k, k + k2];
        const r2 = await run(s, points);
        const where2 = `${where}, then after step ${k2}/${m} of the redelivery (${r2.steps[k + k2 - 1]})`;
        expect(r2.attempts, where2).toBe(3);
        expect(r2.snap, where2).toEqual(clean.snap);
        expect(r2.published, where2).toEqual(expect.arrayContaining(clean.published));
        doubles += 1;
      }
    }
    table.push({ api: s.api, event: s.name, steps: n, passed, doubles, io: clean.steps.join(' → ') });
  });
});
