/**
 * At-least-once and disorder at volume: a thousand orders through the whole sandbox (the real
 * handlers behind the API Gateway emulation, moto, the Stripe simulator over HTTP, the SQS
 * poller with 8 workers, the Scheduler pump), with every webhook POSTed one to three times,
 * shuffled, after random delays (the simulator's `webhookChaos`). Scripts:
 *
 *   paid               the customer authorizes                         → paid
 *   declined           the customer declines                           → failed
 *   expired            never authorized; the pending expiry passes     → canceled
 *   deadline_missed    authorized while Stripe answers 500 to charges
 *                      of that source; the clock passes the deadline   → canceled
 *   merchant_canceled  the merchant cancels while pending              → canceled
 *
 * Afterwards: every order in its scripted state, none left non-terminal once the timers fired,
 * at most one succeeded charge per source (and no charge kept by an unpaid order), no timer left,
 * the work queue and the DLQ empty.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';
import { type StripeSim, seededRandom } from '../../scripts/stripe-sim/index.js';
import { clientConfig } from '../support/moto.js';
import { SandboxClient } from '../support/sandbox-client.js';
import {
  allowedFinal,
  eventually,
  histogram,
  moneyViolations,
  ORDER_BODIES,
  pool,
  queueDepth,
  type Script,
  type Scripted,
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
const MIX: [Script, number][] = [
  ['paid', 0.25],
  ['declined', 0.15],
  ['expired', 0.15],
  ['deadline_missed', 0.15],
  ['merchant_canceled', 0.15],
  ['cancel_race', 0.15],
];
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

function scriptsFor(n: number, random: () => number): Script[] {
  const out: Script[] = [];
  MIX.forEach(([script, share], i) => {
    const count = i === MIX.length - 1 ? n - out.length : Math.round(n * share);
    for (let k = 0; k < count; k++) out.push(script);
  });
  return shuffle(out, random);
}

/**
 * POST /orders. No Idempotency-Key here: moto runs TransactWriteItems (the keyed path) by deep-copying
 * the whole table, which is quadratic over a thousand orders and fails under concurrency
 * ("dictionary changed size during iteration"). The keyed path is exercised by faults.test.ts.
 * A 5xx is retried (at worst a spare pending order, which simply expires).
 */
async function createOrder(i: number, script: Script): Promise<Scripted> {
  const body = ORDER_BODIES[i % ORDER_BODIES.length];
  for (let attempt = 1; ; attempt++) {
    const r = await c.api('POST', '/orders', body);
    if (r.status === 201) {
      const o = r.body as { id: string; payment: { sourceId: string } };
      return { id: o.id, sourceId: o.payment.sourceId, script };
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

    // 1. The merchant creates the orders (bounded parallelism).
    const orders = await pool(scripts, CLIENT_PARALLELISM, (script, i) => createOrder(i, script));
    const createdMs = Date.now() - started;
    const by = (s: Script) => orders.filter((o) => o.script === s);

    // 2. Customers authorize or decline, merchants cancel, in random order; some merchants
    //    cancel 0–3 s after their customer authorized, racing the worker's charge.
    const actors = shuffle(
      orders.filter((o) => o.script !== 'expired' && o.script !== 'deadline_missed'),
      random,
    );
    const raceDelays = new Map(actors.map((o) => [o.id, random() * 3000]));
    await pool(actors, CLIENT_PARALLELISM * 2, async (o) => {
      if (o.script === 'paid') sim.authorizeSource(o.sourceId);
      else if (o.script === 'declined') sim.failSource(o.sourceId);
      else if (o.script === 'merchant_canceled') {
        const r = await c.api('POST', `/orders/${o.id}/cancel`);
        if (r.status !== 200) throw new Error(`cancel ${o.id} → ${r.status} ${JSON.stringify(r.body)}`);
      } else {
        sim.authorizeSource(o.sourceId);
        await sleep(raceDelays.get(o.id) ?? 0);
        const r = await c.api('POST', `/orders/${o.id}/cancel`);
        if (r.status !== 200 && r.status !== 409)
          throw new Error(`cancel ${o.id} → ${r.status} ${JSON.stringify(r.body)}`);
        o.cancelStatus = r.status;
      }
    });
    await settle(actors, allowedFinal, 'the authorized, declined and canceled orders to settle', { quiet: true });

    // 3. Deadline missed: authorized while every charge of those sources answers 500.
    const missed = by('deadline_missed');
    sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'], sources: missed.map((o) => o.sourceId) });
    for (const o of missed) sim.authorizeSource(o.sourceId);
    await settle(missed, () => ['chargeable'], 'the deadline-missed orders to be chargeable', { quiet: false });

    // 4. Six hours later: pending sources expired, chargeable ones canceled by Stripe, every
    //    timer due. Stripe's charges work again (for sources that can still be charged).
    // (sandbox.advanceClock, with the faults lifted between the clock jump and the timers.)
    await sim.advance(6 * 3600 + 120);
    sim.setFaults({ rate: 0, paths: [], sources: [] });
    await sandbox.schedules.tick();
    const final = await settle(orders, allowedFinal, 'every order to reach its scripted state', { quiet: true });
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
    expect(wrong.map((o) => `${o.id} ${o.script} → ${after.get(o.id)?.status}`)).toEqual([]);
    expect([...after.values()].filter((o) => !TERMINAL.has(o.status))).toEqual([]);
    expect([...final.values()].flatMap((o) => moneyViolations(o, sim))).toEqual([]);
    expect([...after.values()].flatMap((o) => moneyViolations(o, sim))).toEqual([]);
    const charges = sim.charges();
    const succeededPerSource = histogram(charges.filter((ch) => ch.status === 'succeeded').map((ch) => ch.source.id));
    expect(Object.values(succeededPerSource).filter((n) => n > 1)).toEqual([]);
    expect(by('paid').every((o) => succeededPerSource[o.sourceId] === 1)).toBe(true);
    const dlqDepth = await queueDepth(sqs, sandbox.resources.dlqUrl);
    expect(dlqDepth).toBe(0);
    expect(await queueDepth(sqs, sandbox.resources.queueUrl)).toBe(0);

    // Figures.
    const deliveries = sim.deliveries();
    const delivered = deliveries.filter((d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300);
    const eventsDelivered = new Set(delivered.map((d) => d.eventId)).size;
    const copies = histogram(Object.values(histogram(delivered.map((d) => d.eventId))).map((n) => `${n}×`));
    const stats = sandbox.events.stats();
    const lines = [
      `orders per script      ${JSON.stringify(histogram(orders.map((o) => o.script)))}`,
      `orders created in      ${(createdMs / 1000).toFixed(1)} s`,
      `Stripe events          ${sim.events().length} (${eventsDelivered} delivered)`,
      `webhooks delivered     ${delivered.length} (incl. ${delivered.length - eventsDelivered} duplicates; events delivered ${JSON.stringify(copies)}); ${deliveries.length - delivered.length} failed attempts`,
      `worker invocations     ${stats.invocations} (${stats.records} records, ${stats.failed} failed and redelivered)`,
      `timers fired           ${sandbox.schedules.fired()}; left at convergence ${timersLeftAtConvergence}, at the end 0`,
      `final states           ${JSON.stringify(histogram([...after.values()].map((o) => o.status)))}`,
      `cancel races           ${JSON.stringify(histogram(by('cancel_race').map((o) => `cancel ${o.cancelStatus} → ${after.get(o.id)?.status}`)))}`,
      `charges                ${JSON.stringify(histogram(charges.map((ch) => ch.status)))}; max succeeded per source ${Math.max(0, ...Object.values(succeededPerSource))}`,
      `refunds                ${sim.refunds().length}`,
      `DLQ depth              ${dlqDepth}`,
      `wall time              ${(wallMs / 1000).toFixed(1)} s`,
    ];
    console.log(`\nVolume (${ORDERS} orders, seed ${SEED}):\n  ${lines.join('\n  ')}\n`);
  });
});
