/**
 * At-least-once and disorder at volume: a thousand orders through the whole sandbox (the real
 * handlers behind the API Gateway emulation, moto, the Stripe simulator over HTTP, the SQS
 * poller with 8 workers, the Scheduler pump), half on the legacy Sources API and half on
 * PaymentIntents, in one run, with every webhook POSTed one to three times, shuffled, after
 * random delays (the simulator's `webhookChaos`). Scripts:
 *
 *   Sources
 *   paid               the customer authorizes                         → paid
 *   declined           the customer declines                           → failed
 *   expired            never authorized; the pending expiry passes     → canceled
 *   deadline_missed    authorized while Stripe answers 500 to charges
 *                      of that source; the clock passes the deadline   → canceled
 *   merchant_canceled  the merchant cancels while pending              → canceled
 *   cancel_race        the merchant cancels 0–3 s after the customer
 *                      authorized, racing the charge                   → canceled | refunded (200), paid (409)
 *   PaymentIntents
 *   paid               the customer pays                               → paid
 *   declined           the customer declines                           → failed (PaymentIntent canceled)
 *   expired            nobody pays; the -pending timer cancels the
 *                      PaymentIntent                                   → canceled
 *   merchant_canceled  the merchant cancels while pending              → canceled (PaymentIntent canceled)
 *   cancel_race        the customer pays and the merchant cancels at
 *                      random moments within 1.5 s, racing at Stripe   → canceled (200) | paid (409)
 *   declined_then_paid the customer declines, then pays on a second
 *                      attempt 0–1.5 s later, racing the cancel the
 *                      failed order sends                              → failed | refunded | paid
 *
 * Afterwards: every order in its scripted state, none left non-terminal once the timers fired,
 * at most one successful payment kept per order (one succeeded charge per source or
 * PaymentIntent, and any that succeeded for an order that is not paid refunded), no
 * PaymentIntent left payable for an order that ended, no timer left, the work queue and the DLQ
 * empty.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PaymentApi } from '../../lambdas/domain/index.js';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';
import { type StripeSim, seededRandom } from '../../scripts/stripe-sim/index.js';
import { clientConfig } from '../support/moto.js';
import { SandboxClient } from '../support/sandbox-client.js';
import {
  actOnIntent,
  allowedFinal,
  eventually,
  histogram,
  moneyViolations,
  ORDER_BODIES_OF,
  pool,
  queueDepth,
  raceConsistent,
  type Script,
  type Scripted,
  StripeMoney,
  scripted,
  shuffle,
  sleep,
  statusesOf,
  TERMINAL,
} from './support.js';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const ORDERS = Number(process.env.RELIABILITY_ORDERS ?? 1000);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);
/** Share of the orders on PaymentIntents; the rest are Sources orders. */
const INTENT_SHARE = Number(process.env.RELIABILITY_PI_SHARE ?? 0.5);
const MIX: Record<PaymentApi, [Script, number][]> = {
  sources: [
    ['paid', 0.25],
    ['declined', 0.15],
    ['expired', 0.15],
    ['deadline_missed', 0.15],
    ['merchant_canceled', 0.15],
    ['cancel_race', 0.15],
  ],
  payment_intents: [
    ['paid', 0.25],
    ['declined', 0.15],
    ['expired', 0.2],
    ['merchant_canceled', 0.15],
    ['cancel_race', 0.15],
    ['declined_then_paid', 0.1],
  ],
};
const CLIENT_PARALLELISM = 16;

let sandbox: Sandbox;
let c: SandboxClient;
let sim: StripeSim;
let sqs: SQSClient;
let dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    simPort: 0,
    quiet: true,
    prefix: 'volume',
    concurrency: 8,
    fastMoto: true,
    // Short polling: moto's long poll spins while every visible message's group is in flight.
    pollWaitSeconds: 0,
    // Failed records come back after 10 s (AWS: the visibility timeout, minutes), so a source
    // whose charges fail stays out of the DLQ while the other orders of its wave are processed.
    retryDelaySeconds: 10,
    // Listing a thousand schedules twice a second would take most of moto; advanceClock fires
    // what is due anyway.
    scheduleIntervalMs: 5000,
    scheduleConcurrency: 8,
    sim: {
      webhookChaos: { maxCopies: 3, maxDelayMs: 500, seed: SEED },
      webhookRetryBaseMs: 250,
      // A burst of a thousand concurrent POSTs would only thrash moto's threads.
      webhookConcurrency: 16,
    },
    // A failing charge answers at once (no client-side retry), so a Stripe outage shows up as
    // SQS redeliveries, which is what this test watches.
    env: { ...process.env, STRIPE_MAX_NETWORK_RETRIES: '0' },
  });
  if (!sandbox.sim) throw new Error('the sandbox runs without the simulator');
  sim = sandbox.sim;
  c = new SandboxClient(sandbox.url, sandbox.simUrl ?? '', sandbox.apiKey);
  sqs = new SQSClient(clientConfig(sandbox.awsEndpoint));
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  dynamodb = new DynamoDBClient(clientConfig(sandbox.awsEndpoint));
});

afterAll(async () => {
  sqs?.destroy();
  dynamodb?.destroy();
  await sandbox?.stop();
});

interface Planned {
  api: PaymentApi;
  script: Script;
}

function scriptsFor(n: number, random: () => number): Planned[] {
  const out: Planned[] = [];
  const intents = Math.round(n * INTENT_SHARE);
  for (const [api, count] of [
    ['sources', n - intents],
    ['payment_intents', intents],
  ] as const) {
    const mix = MIX[api];
    let made = 0;
    mix.forEach(([script, share], i) => {
      const k = i === mix.length - 1 ? count - made : Math.round(count * share);
      for (let j = 0; j < k; j++) out.push({ api, script });
      made += k;
    });
  }
  return shuffle(out, random);
}

/**
 * POST /orders. No Idempotency-Key here: moto runs TransactWriteItems (the keyed path) by deep-copying
 * the whole table, which is quadratic over a thousand orders and fails under concurrency
 * ("dictionary changed size during iteration"). The keyed path is exercised by faults.test.ts.
 * A 5xx is retried (at worst a spare pending order, which simply expires).
 */
async function createOrder(i: number, { api, script }: Planned): Promise<Scripted> {
  const bodies = ORDER_BODIES_OF[api];
  const body = bodies[i % bodies.length];
  for (let attempt = 1; ; attempt++) {
    const r = await c.api('POST', '/orders', body);
    if (r.status === 201) {
      const o = scripted(r.body, script);
      if (o.api !== api) throw new Error(`asked for ${api}, got ${JSON.stringify(r.body)}`);
      return o;
    }
    if (r.status < 500 || attempt >= 10) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100 * attempt));
  }
}

/**
 * Waits until every order of `list` has one of the statuses `want(order)`. With `quiet`, reads the
 * statuses only once the system is idle (no webhook queued or retrying, the work queue empty):
 * polling a thousand orders would cost moto more than the work itself.
 */
async function settle(
  list: Scripted[],
  want: (o: Scripted) => string[],
  what: string,
  o: { quiet: boolean; timeoutMs?: number },
) {
  const ids = list.map((x) => x.id);
  let behind: string[] = [];
  try {
    return await eventually(
      async () => {
        if (o.quiet) {
          await sim.webhooksIdle();
          if ((await queueDepth(sqs, sandbox.resources.queueUrl)) > 0) return undefined;
        }
        const now = await statusesOf(dynamodb, sandbox.resources.tableName, ids);
        behind = list
          .filter((x) => !want(x).includes(now.get(x.id)?.status ?? ''))
          .map((x) => `${x.id} ${now.get(x.id)?.status ?? 'missing'} (want ${want(x).join('|')})`);
        return behind.length === 0 ? now : undefined;
      },
      what,
      // An upper bound for slow machines, not a timing: a run here takes about 80 s in all.
      o.timeoutMs ?? 420_000,
      1000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; ${behind.length} order(s) behind, e.g. ${behind.slice(0, 5).join('; ')}`);
  }
}

describe('at-least-once and disorder at volume', () => {
  it(`${ORDERS} orders, every webhook 1–3 times, shuffled and delayed: every order ends as scripted`, async () => {
    const started = Date.now();
    const random = seededRandom(SEED);
    const scripts = scriptsFor(ORDERS, random);

    // 1. The merchant creates the orders (bounded parallelism), Sources and PaymentIntents mixed.
    const orders = await pool(scripts, CLIENT_PARALLELISM, (planned, i) => createOrder(i, planned));
    const createdMs = Date.now() - started;
    const by = (s: Script, api: PaymentApi = 'sources') => orders.filter((o) => o.script === s && o.api === api);
    const onApi = (api: PaymentApi) => orders.filter((o) => o.api === api);

    // 2. Customers authorize or decline, merchants cancel, in random order. Sources: some
    //    merchants cancel 0–3 s after their customer authorized, racing the worker's charge.
    //    PaymentIntents: the customer pays and the merchant cancels, each after 0–1.5 s, racing
    //    at Stripe.
    const actors = shuffle(
      orders.filter((o) => o.script !== 'expired' && o.script !== 'deadline_missed'),
      random,
    );
    const raceDelays = new Map(actors.map((o) => [o.id, [random() * 3000, random() * 1500, random() * 1500]]));
    const cancel = async (id: string) => {
      const r = await c.api('POST', `/orders/${id}/cancel`);
      if (r.status !== 200 && r.status !== 409) throw new Error(`cancel ${id} → ${r.status} ${JSON.stringify(r.body)}`);
      return r.status;
    };
    await pool(actors, CLIENT_PARALLELISM * 2, async (o) => {
      const [sourceRace = 0, customerAt = 0, merchantAt = 0] = raceDelays.get(o.id) ?? [];
      if (o.api === 'payment_intents') return actOnIntent(sim, o, cancel, [customerAt, merchantAt]);
      if (o.script === 'paid') sim.authorizeSource(o.paymentId);
      else if (o.script === 'declined') sim.failSource(o.paymentId);
      else if (o.script === 'merchant_canceled') {
        if ((await cancel(o.id)) !== 200) throw new Error(`cancel ${o.id} was refused`);
      } else {
        sim.authorizeSource(o.paymentId);
        await sleep(sourceRace);
        o.cancelStatus = await cancel(o.id);
      }
    });
    await settle(actors, allowedFinal, 'the authorized, declined and canceled orders to settle', { quiet: true });
    const actedMs = Date.now() - started;

    // 3. Deadline missed: authorized while every charge of those sources answers 500.
    const missed = by('deadline_missed');
    sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'], sources: missed.map((o) => o.paymentId) });
    for (const o of missed) sim.authorizeSource(o.paymentId);
    await settle(missed, () => ['chargeable'], 'the deadline-missed orders to be chargeable', { quiet: false });

    // 4. Six hours later: pending sources expired, chargeable ones canceled by Stripe, every
    //    timer due (the PaymentIntents orders' -pending timers, an hour after creation, cancel
    //    the PaymentIntents nobody paid). Stripe's charges work again (for sources that can
    //    still be charged).
    // (sandbox.advanceClock, with the faults lifted between the clock jump and the timers.)
    await sim.advance(6 * 3600 + 120);
    sim.setFaults({ rate: 0, paths: [], sources: [] });
    await sandbox.schedules.tick();
    const final = await settle(orders, allowedFinal, 'every order to reach its scripted state', { quiet: true });
    const convergedMs = Date.now() - started;
    await sim.webhooksIdle();
    await eventually(
      async () => (await queueDepth(sqs, sandbox.resources.queueUrl)) === 0,
      'the work queue to drain',
      60_000,
      500,
    );
    const timersLeftAtConvergence = (await sandbox.schedules.pending()).length;
    // Any timer still there fires within the minimum lead; let it, then nothing may be left.
    await sandbox.advanceClock(600);
    await eventually(
      async () =>
        (await queueDepth(sqs, sandbox.resources.queueUrl)) === 0 && (await sandbox.schedules.pending()).length === 0,
      'every timer to have fired or been deleted',
      60_000,
      500,
    );
    const after = await statusesOf(
      dynamodb,
      sandbox.resources.tableName,
      orders.map((o) => o.id),
    );
    const wallMs = Date.now() - started;

    // Assertions.
    const wrong = orders.filter((o) => !allowedFinal(o).includes(after.get(o.id)?.status ?? ''));
    expect(wrong.map((o) => `${o.id} ${o.api} ${o.script} → ${after.get(o.id)?.status}`)).toEqual([]);
    expect([...after.values()].filter((o) => !TERMINAL.has(o.status))).toEqual([]);
    expect(orders.filter((o) => !raceConsistent(o)).map((o) => `${o.id} ${JSON.stringify(o)}`)).toEqual([]);
    // Money, against what Stripe holds (read once per check): at most one successful payment kept
    // per order, every one that succeeded for an order that is not paid refunded, no PaymentIntent
    // left payable for an order that ended.
    const moneyAtConvergence = new StripeMoney(sim);
    expect([...final.values()].flatMap((o) => moneyViolations(o, moneyAtConvergence))).toEqual([]);
    const money = new StripeMoney(sim);
    expect([...after.values()].flatMap((o) => moneyViolations(o, money))).toEqual([]);
    const charges = sim.charges();
    const intentCharges = sim.paymentIntentCharges();
    const succeededPer = histogram([
      ...charges.filter((ch) => ch.status === 'succeeded').map((ch) => ch.source.id),
      ...intentCharges.filter((ch) => ch.status === 'succeeded').map((ch) => ch.payment_intent),
    ]);
    expect(Object.entries(succeededPer).filter(([, n]) => n > 1)).toEqual([]);
    const paidOrders = orders.filter((o) => after.get(o.id)?.status === 'paid');
    expect(paidOrders.filter((o) => succeededPer[o.paymentId] !== 1).map((o) => o.id)).toEqual([]);
    expect(by('paid').length + by('paid', 'payment_intents').length).toBeGreaterThan(0);
    expect([...by('paid'), ...by('paid', 'payment_intents')].every((o) => succeededPer[o.paymentId] === 1)).toBe(true);
    const dlqDepth = await queueDepth(sqs, sandbox.resources.dlqUrl);
    expect(dlqDepth).toBe(0);
    expect(await queueDepth(sqs, sandbox.resources.queueUrl)).toBe(0);

    // Figures.
    const deliveries = sim.deliveries();
    const delivered = deliveries.filter((d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300);
    const eventsDelivered = new Set(delivered.map((d) => d.eventId)).size;
    const copies = histogram(Object.values(histogram(delivered.map((d) => d.eventId))).map((n) => `${n}×`));
    const stats = sandbox.events.stats();
    const refunds = sim.refunds();
    const perApi = (api: PaymentApi) => {
      const mine = onApi(api);
      const ids = new Set(mine.map((o) => o.paymentId));
      const theirCharges =
        api === 'sources'
          ? charges.filter((ch) => ids.has(ch.source.id))
          : intentCharges.filter((ch) => ids.has(ch.payment_intent));
      const chargeIds = new Set(theirCharges.map((ch) => ch.id));
      const intents = api === 'payment_intents' ? sim.paymentIntents().filter((pi) => ids.has(pi.id)) : [];
      const maxPerObject = Math.max(0, ...mine.map((o) => succeededPer[o.paymentId] ?? 0));
      return [
        `${api}:`,
        `  orders per script    ${JSON.stringify(histogram(mine.map((o) => o.script)))}`,
        `  final states         ${JSON.stringify(histogram(mine.map((o) => after.get(o.id)?.status ?? 'missing')))}`,
        `  cancel races         ${JSON.stringify(histogram(mine.filter((o) => o.script === 'cancel_race').map((o) => `cancel ${o.cancelStatus} → ${after.get(o.id)?.status}`)))}`,
        ...(api === 'payment_intents'
          ? [
              `  declined, then paid  ${JSON.stringify(histogram(mine.filter((o) => o.script === 'declined_then_paid').map((o) => `${o.customerPaid ? 'paid at Stripe' : 'cancel first'} → ${after.get(o.id)?.status}`)))}`,
            ]
          : []),
        ...(api === 'payment_intents'
          ? [`  PaymentIntents       ${JSON.stringify(histogram(intents.map((pi) => pi.status)))}`]
          : []),
        `  charges              ${JSON.stringify(histogram(theirCharges.map((ch) => ch.status)))}; max succeeded per ${api === 'sources' ? 'source' : 'PaymentIntent'} ${maxPerObject}`,
        `  refunds              ${refunds.filter((r) => chargeIds.has(r.charge)).length}`,
      ];
    };
    const lines = [
      `orders                 ${JSON.stringify(histogram(orders.map((o) => o.api)))}`,
      `phases (from start)    created ${(createdMs / 1000).toFixed(1)} s, acted and settled ${(actedMs / 1000).toFixed(1)} s, every order as scripted ${(convergedMs / 1000).toFixed(1)} s`,
      `Stripe events          ${sim.events().length} (${eventsDelivered} delivered)`,
      `webhooks delivered     ${delivered.length} (incl. ${delivered.length - eventsDelivered} duplicates; events delivered ${JSON.stringify(copies)}); ${deliveries.length - delivered.length} failed attempts`,
      `worker invocations     ${stats.invocations} (${stats.records} records, ${stats.failed} failed and redelivered)`,
      `timers fired           ${sandbox.schedules.fired()}; left at convergence ${timersLeftAtConvergence}, at the end 0`,
      `final states           ${JSON.stringify(histogram([...after.values()].map((o) => o.status)))}`,
      ...perApi('sources'),
      ...perApi('payment_intents'),
      `DLQ depth              ${dlqDepth}`,
      `wall time              ${(wallMs / 1000).toFixed(1)} s`,
    ];
    console.log(`\nVolume (${ORDERS} orders, seed ${SEED}):\n  ${lines.join('\n  ')}\n`);
  });
});
