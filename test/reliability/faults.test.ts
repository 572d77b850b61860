/**
 * Faults, through the whole sandbox (real handlers, moto, the Stripe simulator over HTTP):
 *
 * (a) Stripe answers 500 / 429 / hangs (past the client's timeout) for 30 % of API calls, and
 *     DynamoDB throttles 20 % of writes (a ProvisionedThroughputExceededException injected by a
 *     middleware on the handlers' own SDK client): a few dozen orders of mixed scripts, on the
 *     Sources API and on PaymentIntents, still end as scripted, with at most one successful
 *     payment kept per order and no PaymentIntent left payable for an order that ended. The
 *     merchant retries a 503 with the same Idempotency-Key. Then the same with 30 % of Stripe's
 *     answers lost after Stripe acted.
 * (b) A record that keeps failing (every charge of its source answers 500) lands in the DLQ after
 *     5 receives; once Stripe is back, scripts/dlq-redrive.ts (the function, then the CLI) brings
 *     it back and the order completes, with one charge.
 *     The same for PaymentIntents: a declined payment whose cancel keeps failing leaves the
 *     PaymentIntent payable until the redriven record cancels it.
 * (c) The ingress cannot reach its queue: it answers 500, the simulator retries with backoff, and
 *     once the queue is back the event arrives and the order completes: a 500, then a 200.
 * (d) A webhook lost for good: the timer reconciles with Stripe (Sources: the source is charged;
 *     PaymentIntents: the customer had paid, the order ends paid).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PaymentApi } from '../../lambdas/domain/index.js';
import { redriveDlq } from '../../scripts/dlq-redrive.js';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';
import { type StripeSim, seededRandom } from '../../scripts/stripe-sim/index.js';
import { clientConfig } from '../support/moto.js';
import { SandboxClient } from '../support/sandbox-client.js';
import {
  actOnIntent,
  allowedFinal,
  clearOfDailyCutoff,
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
  sleep,
  statusesOf,
  TERMINAL,
  throttlingError,
} from './support.js';

vi.hoisted(() => {
  // The handlers log every injected failure at ERROR; the assertions and figures say what matters.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const run = promisify(execFile);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);
const raceRandom = seededRandom(SEED + 2);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

/** Switches the middlewares read on every call. */
const inject = {
  /** Share of DynamoDB writes throttled (0 = off). */
  throttleRate: 0,
  throttled: 0,
  writes: 0,
  /** The ingress's SendMessage goes to a queue that does not exist. */
  queueDown: false,
  random: seededRandom(SEED + 1),
};

let sandbox: Sandbox;
let c: SandboxClient;
let sim: StripeSim;
let sqs: SQSClient;
let dynamodb: DynamoDBClient;

interface Stack {
  add(
    mw: (
      next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
    options: { step: 'initialize'; name: string; priority: 'high' },
  ): void;
}

/** The handlers' SDK clients: DynamoDB writes throttled on demand; the ingress's queue made unreachable on demand. */
function instrument(client: { middlewareStack: unknown }, service: string): void {
  const stack = client.middlewareStack as Stack;
  if (service === 'dynamodb') {
    stack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '').replace(/Command$/, '');
        if (WRITES.has(command)) {
          inject.writes += 1;
          if (inject.throttleRate > 0 && inject.random() < inject.throttleRate) {
            inject.throttled += 1;
            throw throttlingError();
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectThrottling', priority: 'high' },
    );
  }
  if (service === 'sqs') {
    stack.add(
      (next, context) => async (args) => {
        if (inject.queueDown && context.commandName === 'SendMessageCommand') {
          const url = String(args.input.QueueUrl ?? '');
          return next({ ...args, input: { ...args.input, QueueUrl: url.replace(/[^/]+$/, 'faults-missing.fifo') } });
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectQueueDown', priority: 'high' },
    );
  }
}

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    simPort: 0,
    quiet: true,
    prefix: 'faults',
    concurrency: 4,
    fastMoto: true,
    pollWaitSeconds: 0,
    instrument,
    sim: { webhookRetryBaseMs: 300, random: seededRandom(SEED) },
    // A hung Stripe call is abandoned after 500 ms (stripe-node `timeout`); one client-side retry, as deployed.
    env: { ...process.env, STRIPE_TIMEOUT_MS: '500', STRIPE_MAX_NETWORK_RETRIES: '1' },
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

const noFaults = () => {
  sim.setFaults({ rate: 0, modes: ['500'], paths: [], sources: [], paymentIntents: [] });
  inject.throttleRate = 0;
  inject.queueDown = false;
};

/** An API call as a merchant makes it: a 503 (or a lost connection) is retried, with the same Idempotency-Key. */
async function call(method: 'GET' | 'POST', path: string, body?: unknown, key?: string) {
  for (let attempt = 1; ; attempt++) {
    const r = await c.api(method, path, body, key ? { 'Idempotency-Key': key } : {}).catch((e: Error) => e);
    if (!(r instanceof Error) && r.status !== 503) return { ...r, attempts: attempt };
    if (attempt >= 30) throw new Error(`${method} ${path}: still failing after ${attempt} attempts`);
    await sleep(Math.min(1000, 50 * 2 ** attempt));
  }
}

async function createOrder(
  i: number,
  api: PaymentApi,
  script: Script,
  tag: string,
): Promise<Scripted & { attempts: number }> {
  const bodies = ORDER_BODIES_OF[api];
  const r = await call('POST', '/orders', bodies[i % bodies.length], `faults-${tag}-${api}-${SEED}-${i}`);
  if (r.status !== 201) throw new Error(`POST /orders → ${r.status} ${JSON.stringify(r.body)}`);
  const o = scripted(r.body, script);
  if (o.api !== api) throw new Error(`asked for ${api}, got ${JSON.stringify(r.body)}`);
  return { ...o, attempts: r.attempts };
}

/** The merchant's cancel, retried on 503 like any API call; its final status. */
async function merchantCancel(orderId: string): Promise<number> {
  const r = await call('POST', `/orders/${orderId}/cancel`);
  if (r.status !== 200 && r.status !== 409)
    throw new Error(`cancel ${orderId} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.status;
}

/** The system is idle: no webhook queued or retrying, the work queue empty. */
async function quiet(): Promise<boolean> {
  await sim.webhooksIdle();
  return (await queueDepth(sqs, sandbox.resources.queueUrl)) === 0;
}

const MIX: Record<PaymentApi, [Script, number][]> = {
  sources: [
    ['paid', 10],
    ['declined', 5],
    ['charge_declined', 5],
    ['expired', 5],
    ['merchant_canceled', 7],
    ['cancel_race', 6],
  ],
  // charge_declined: the payment goes processing, then fails.
  payment_intents: [
    ['paid', 8],
    ['declined', 4],
    ['charge_declined', 3],
    ['expired', 4],
    ['merchant_canceled', 5],
    ['cancel_race', 5],
    ['declined_then_paid', 3],
  ],
};

/** A few dozen scripted orders under whatever faults are on; returns the figures. */
async function scriptedRun(tag: string) {
  const started = Date.now();
  const sourcesBefore = sim.sources().length;
  const intentsBefore = sim.paymentIntents().length;
  const planned = (['sources', 'payment_intents'] as const).flatMap((api) =>
    MIX[api].flatMap(([script, n]) => Array.from({ length: n }, () => ({ api, script }))),
  );
  const orders = await pool(planned, 8, (p, i) => createOrder(i, p.api, p.script, tag));
  await pool(orders, 8, async (o) => {
    if (o.api === 'payment_intents') {
      const race: [number, number] = [Math.floor(raceRandom() * 1500), Math.floor(raceRandom() * 1500)];
      return actOnIntent(sim, o, merchantCancel, race);
    }
    if (o.script === 'paid') sim.authorizeSource(o.paymentId);
    else if (o.script === 'declined') sim.failSource(o.paymentId);
    else if (o.script === 'charge_declined') sim.authorizeSource(o.paymentId, { chargeOutcome: 'failed' });
    else if (o.script === 'merchant_canceled') {
      if ((await merchantCancel(o.id)) !== 200) throw new Error(`cancel ${o.id} was refused`);
    } else if (o.script === 'cancel_race') {
      sim.authorizeSource(o.paymentId);
      await sleep(Math.floor(raceRandom() * 3000));
      o.cancelStatus = await merchantCancel(o.id);
    }
  });
  // Let the redeliveries play out, then jump past every deadline: timers fire (still under faults).
  await eventually(quiet, 'the system to go quiet', 120_000, 1000).catch(() => undefined);
  await sandbox.advanceClock(6 * 3600 + 120);
  const ids = orders.map((o) => o.id);
  const settled = await eventually(
    async () => {
      if (!(await quiet())) return undefined;
      const now = await statusesOf(dynamodb, sandbox.resources.tableName, ids);
      return orders.every((o) => allowedFinal(o).includes(now.get(o.id)?.status ?? '')) ? now : undefined;
    },
    'every order to reach its scripted state under faults',
    180_000,
    1000,
  );
  const dlqUnderFaults = await queueDepth(sqs, sandbox.resources.dlqUrl);
  return {
    orders,
    settled,
    dlqUnderFaults,
    sources: sim.sources().length - sourcesBefore,
    intents: sim.paymentIntents().length - intentsBefore,
    /**
     * PaymentIntents no order points at: a POST /orders that failed after Stripe created its
     * PaymentIntent (a lost or late answer, a throttled write), retried by the merchant, creates
     * the order with a new id and so a new PaymentIntent. Nobody was shown the orphan's QR code.
     */
    orphans: histogram(
      sim
        .paymentIntents()
        .slice(intentsBefore)
        .filter((pi) => !ids.includes(pi.metadata.order_id ?? ''))
        .map((pi) => pi.status),
    ),
    ms: Date.now() - started,
  };
}

/**
 * Whatever the faults pushed into the DLQ is redriven (the operator's `npm run dlq:redrive`);
 * then every order of the run is as scripted and within the money invariants, and the
 * PaymentIntents races are consistent. The money is checked after the redrive: a record that
 * failed five times may be the effect that cancels a failed order's PaymentIntent, which stays
 * payable until it runs (were it paid meanwhile, the success would be refunded). The DLQ
 * messages' types, for the report.
 */
async function redriveAndCheck(r: Awaited<ReturnType<typeof scriptedRun>>): Promise<string[]> {
  const dlqLines: string[] = [];
  let settled = r.settled;
  if (r.dlqUnderFaults > 0) {
    const where = { sqs, dlqUrl: sandbox.resources.dlqUrl, queueUrl: sandbox.resources.queueUrl };
    await redriveDlq({ ...where, dryRun: true, log: (l) => dlqLines.push(l) });
    const moved = await redriveDlq({ ...where, log: () => undefined });
    expect(moved).toMatchObject({ moved: r.dlqUnderFaults, failed: 0 });
    await eventually(quiet, 'the redriven records to be processed', 60_000, 500);
    settled = await statusesOf(
      dynamodb,
      sandbox.resources.tableName,
      r.orders.map((o) => o.id),
    );
  }
  expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(0);
  // The redrive changes no order's state, only finishes the effects of their last write.
  expect([...settled.values()].map((o) => [o.id, o.status])).toEqual(
    [...settled.keys()].map((id) => [id, r.settled.get(id)?.status]),
  );
  const money = new StripeMoney(sim);
  expect([...settled.values()].flatMap((o) => moneyViolations(o, money))).toEqual([]);
  expect([...settled.values()].filter((o) => !TERMINAL.has(o.status))).toEqual([]);
  expect(r.orders.filter((o) => !allowedFinal(o).includes(settled.get(o.id)?.status ?? ''))).toEqual([]);
  expect(r.orders.filter((o) => !raceConsistent(o)).map((o) => JSON.stringify(o))).toEqual([]);
  expect(new Set(r.orders.map((o) => o.api))).toEqual(new Set(['sources', 'payment_intents']));
  return dlqLines;
}

const dlqLine = (dlqLines: string[]) =>
  `DLQ redriven        ${
    dlqLines
      .filter((l) => l.includes('would move'))
      .map((l) => /"type":"([^"]+)"/.exec(l)?.[1] ?? '?')
      .join(', ') || 'nothing'
  }`;

function report(title: string, r: Awaited<ReturnType<typeof scriptedRun>>, extra: string[]) {
  const stats = sandbox.events.stats();
  type O = (typeof r.orders)[number];
  const perApi = (api: PaymentApi, f: (o: O) => string, only: (o: O) => boolean) =>
    `${api} ${JSON.stringify(histogram(r.orders.filter((o) => o.api === api && only(o)).map(f)))}`;
  const both = (f: (o: O) => string, only: (o: O) => boolean = () => true) =>
    `${perApi('sources', f, only)}; ${perApi('payment_intents', f, only)}`;
  console.log(
    `\n${title}:\n  ${[
      `orders per script   ${both((o) => o.script)}`,
      `POST /orders tries  ${JSON.stringify(histogram(r.orders.map((o) => `${o.attempts}×`)))}; Stripe created ${r.sources} sources, ${r.intents} PaymentIntents`,
      `orphan PIs          ${JSON.stringify(r.orphans)} (created by a POST /orders that failed after Stripe acted; no order points at them)`,
      ...extra,
      `worker so far       ${stats.invocations} invocations, ${stats.records} records, ${stats.failed} failed and redelivered`,
      `final states        ${both((o) => r.settled.get(o.id)?.status ?? 'missing')}`,
      `cancel races        ${both(
        (o) => `cancel ${o.cancelStatus} → ${r.settled.get(o.id)?.status}`,
        (o) => o.script === 'cancel_race',
      )}`,
      `DLQ under faults    ${r.dlqUnderFaults}`,
      `wall time           ${(r.ms / 1000).toFixed(1)} s`,
    ].join('\n  ')}\n`,
  );
}

/** The report lines of the money Stripe holds for these orders: charges by status per API, refunds, PaymentIntents. */
const chargesLine = (orders: readonly Scripted[]): string[] => {
  const money = new StripeMoney(sim);
  const of = (api: PaymentApi) =>
    orders.filter((o) => o.api === api).map((o) => money.of({ id: o.id, payment: paymentOf(o) }));
  const charges = (api: PaymentApi) =>
    JSON.stringify(histogram(of(api).flatMap((m) => m.charges.map((c) => c.status))));
  const refunds = (api: PaymentApi) => of(api).reduce((n, m) => n + m.refunds.length, 0);
  return [
    `charges             sources ${charges('sources')}; payment_intents ${charges('payment_intents')}`,
    `refunds             sources ${refunds('sources')}; payment_intents ${refunds('payment_intents')}`,
    `PaymentIntents      ${JSON.stringify(histogram(of('payment_intents').map((m) => m.objectStatus ?? 'missing')))}`,
  ];
};

const paymentOf = (o: Scripted) =>
  o.api === 'sources'
    ? { api: 'sources' as const, sourceId: o.paymentId }
    : { api: 'payment_intents' as const, paymentIntentId: o.paymentId };

describe('faults', () => {
  it('(c) the ingress cannot reach SQS: 500, Stripe retries, the event arrives once the queue is back', async () => {
    noFaults();
    const o = await createOrder(0, 'sources', 'paid', 'ingress');
    inject.queueDown = true;
    let evtId: string | undefined;
    try {
      sim.authorizeSource(o.paymentId);
      evtId = sim
        .events()
        .find((e) => e.type === 'source.chargeable' && (e.data.object as { id: string }).id === o.paymentId)?.id;
      expect(evtId).toBeDefined();
      // At least two failed attempts (the first and a retry) while the queue is unreachable.
      await eventually(
        () => sim.deliveries().filter((d) => d.eventId === evtId && d.status === 500).length >= 2,
        'two 500 answers to the webhook',
        30_000,
        100,
      );
      const stored = await statusesOf(dynamodb, sandbox.resources.tableName, [o.id]);
      expect(stored.get(o.id)?.status).toBe('pending');
    } finally {
      inject.queueDown = false;
    }
    await eventually(
      async () => (await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id)?.status === 'paid',
      'the order to be paid once the queue is back',
      60_000,
    );
    const attempts = sim.deliveries().filter((d) => d.eventId === evtId);
    const statuses = attempts.map((d) => d.status);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.slice(0, -1).every((s) => s === 500)).toBe(true);
    expect(attempts.map((d) => d.attempt)).toEqual(attempts.map((_, i) => i + 1));
    expect(sim.charges().filter((ch) => ch.source.id === o.paymentId)).toHaveLength(1);
    console.log(`\n(c) ingress queue down: delivery attempts of ${evtId}: ${statuses.join(' → ')}\n`);
  });

  it('(b) a record that exhausts its receives lands in the DLQ; dlq-redrive brings it back and it completes', async () => {
    noFaults();
    const a = await createOrder(0, 'sources', 'paid', 'dlq');
    const b = await createOrder(1, 'sources', 'paid', 'dlq');
    expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(0);
    // Stripe answers 500 to every charge of these two sources: their source.chargeable records
    // fail on every receive and move to the DLQ after the fifth.
    sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'], sources: [a.paymentId, b.paymentId] });
    try {
      sim.authorizeSource(a.paymentId);
      sim.authorizeSource(b.paymentId);
      await eventually(
        async () => (await queueDepth(sqs, sandbox.resources.dlqUrl)) === 2,
        'both records in the DLQ',
        90_000,
        500,
      );
    } finally {
      noFaults();
    }
    const before = await statusesOf(dynamodb, sandbox.resources.tableName, [a.id, b.id]);
    expect([before.get(a.id)?.status, before.get(b.id)?.status]).toEqual(['chargeable', 'chargeable']);
    expect(sim.charges().filter((ch) => ch.source.id === a.paymentId || ch.source.id === b.paymentId)).toEqual([]);

    // A dry run moves nothing.
    const lines: string[] = [];
    const dry = await redriveDlq({
      sqs,
      dlqUrl: sandbox.resources.dlqUrl,
      queueUrl: sandbox.resources.queueUrl,
      dryRun: true,
      log: (l) => lines.push(l),
    });
    expect(dry).toMatchObject({ moved: 0, seen: 2, failed: 0 });
    expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(2);

    // The function moves one (--max 1)…
    const one = await redriveDlq({
      sqs,
      dlqUrl: sandbox.resources.dlqUrl,
      queueUrl: sandbox.resources.queueUrl,
      max: 1,
      log: (l) => lines.push(l),
    });
    expect(one).toMatchObject({ moved: 1, failed: 0, skipped: 0 });
    const first = Object.keys(one.groups)[0];
    expect([a.id, b.id]).toContain(first);
    await eventually(
      async () =>
        (await statusesOf(dynamodb, sandbox.resources.tableName, [first ?? ''])).get(first ?? '')?.status === 'paid',
      'the redriven order to be paid',
      30_000,
    );

    // …and the operator's CLI the other one.
    const cli = await run(
      'npx',
      [
        'tsx',
        'scripts/dlq-redrive.ts',
        '--dlq-url',
        sandbox.resources.dlqUrl,
        '--queue-url',
        sandbox.resources.queueUrl,
      ],
      {
        cwd: process.cwd(),
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: sandbox.awsEndpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
        timeout: 60_000,
      },
    );
    expect(cli.stdout).toMatch(/moved 1 message\(s\) of 1 order\(s\)/);
    expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(0);
    const after = await eventually(
      async () => {
        const s = await statusesOf(dynamodb, sandbox.resources.tableName, [a.id, b.id]);
        return s.get(a.id)?.status === 'paid' && s.get(b.id)?.status === 'paid' ? s : undefined;
      },
      'both orders paid',
      30_000,
    );
    for (const o of after.values()) expect(moneyViolations(o, sim)).toEqual([]);
    for (const o of [a, b]) expect(sim.charges().filter((ch) => ch.source.id === o.paymentId)).toHaveLength(1);
    console.log(`\n(b) DLQ redrive:\n  ${[...lines, ...cli.stdout.trim().split('\n')].join('\n  ')}\n`);
  });

  it('(a) Stripe 500/429/hang on 30 % of calls and DynamoDB throttling 20 % of writes: every order ends as scripted', async () => {
    noFaults();
    const throttledBefore = inject.throttled;
    const writesBefore = inject.writes;
    sim.setFaults({ rate: 0.3, modes: ['500', '429', 'hang'], hangMs: 800 });
    inject.throttleRate = 0.2;
    let r: Awaited<ReturnType<typeof scriptedRun>>;
    try {
      r = await scriptedRun('a');
    } finally {
      noFaults();
    }
    const dlqLines = await redriveAndCheck(r);
    report('(a) Stripe 500/429/hang 30 % + DynamoDB write throttling 20 %', r, [
      `DynamoDB writes     ${inject.writes - writesBefore}, throttled ${inject.throttled - throttledBefore}`,
      dlqLine(dlqLines),
      ...chargesLine(r.orders),
    ]);
  });

  it("(a') 30 % of Stripe's answers lost after Stripe acted: every order ends as scripted, one charge per source", async () => {
    noFaults();
    sim.setFaults({ rate: 0.3, modes: ['lost'] });
    let r: Awaited<ReturnType<typeof scriptedRun>>;
    try {
      r = await scriptedRun('lost');
    } finally {
      noFaults();
    }
    const dlqLines = await redriveAndCheck(r);
    report("(a') Stripe answers lost after the fact 30 %", r, [dlqLine(dlqLines), ...chargesLine(r.orders)]);
  });

  it('(d) the source.chargeable webhook is lost for good: the pending-expiry timer asks Stripe and charges', async () => {
    noFaults();
    // Earlier tests moved the shared clock by hours: authorizing within the hour before 23:45 CST
    // would make the timer find the deadline passed (a cancel, correctly) instead of a charge.
    await clearOfDailyCutoff(sandbox, 3600 + 120);
    const o = await createOrder(0, 'sources', 'paid', 'lost-webhook');
    // Stripe never delivers this event (no endpoint at that moment, and it is not retried).
    sim.setWebhookUrl(undefined);
    try {
      sim.authorizeSource(o.paymentId);
    } finally {
      sim.setWebhookUrl(`${sandbox.url}/webhooks/stripe`);
    }
    await sleep(500);
    expect((await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id)?.status).toBe('pending');
    // An hour later the pending-expiry timer fires; the source is chargeable at Stripe: charge it.
    await sandbox.advanceClock(3600 + 60);
    const paid = await eventually(
      async () => {
        const s = (await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id);
        return s?.status === 'paid' ? s : undefined;
      },
      'the order to be paid through its timer',
      30_000,
    );
    expect(moneyViolations(paid, sim)).toEqual([]);
    expect(sim.charges().filter((ch) => ch.source.id === o.paymentId)).toHaveLength(1);
  });

  it("(d') PaymentIntents: payment_intent.succeeded is lost for good: the expiry timer finds it paid → paid, nothing refunded", async () => {
    noFaults();
    const o = await createOrder(0, 'payment_intents', 'paid', 'lost-pi-webhook');
    sim.setWebhookUrl(undefined);
    try {
      sim.authorizePaymentIntent(o.paymentId);
    } finally {
      sim.setWebhookUrl(`${sandbox.url}/webhooks/stripe`);
    }
    await sleep(500);
    expect((await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id)?.status).toBe('pending');
    // PAYMENT_EXPIRY_SECONDS later the -pending timer tries to cancel: Stripe refuses, the customer paid.
    await sandbox.advanceClock(sandbox.payment.expirySeconds + 60);
    const paid = await eventually(
      async () => {
        const s = (await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id);
        return s?.status === 'paid' ? s : undefined;
      },
      'the order to be paid through its expiry timer',
      30_000,
    );
    expect(moneyViolations(paid, sim)).toEqual([]);
    expect(sim.paymentIntents().find((pi) => pi.id === o.paymentId)?.status).toBe('succeeded');
    expect(sim.refunds().filter((r) => r.payment_intent === o.paymentId)).toEqual([]);
  });

  it("(b') PaymentIntents: a decline whose cancel keeps failing lands in the DLQ; redriven, the PaymentIntent is canceled", async () => {
    noFaults();
    expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(0);
    const o = await createOrder(0, 'payment_intents', 'declined', 'dlq-pi');
    await eventually(async () => (await quiet()) || undefined, 'the creation to be processed', 30_000, 200);
    const intent = () => sim.paymentIntents().find((pi) => pi.id === o.paymentId);
    // Stripe answers 500 to every cancel of this PaymentIntent: the payment_failed record writes
    // the order failed, then fails on its cancel effect, on every receive, and moves to the DLQ.
    sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/payment_intents'], paymentIntents: [o.paymentId] });
    try {
      sim.failPaymentIntent(o.paymentId);
      await eventually(
        async () => (await queueDepth(sqs, sandbox.resources.dlqUrl)) === 1,
        'the record in the DLQ',
        90_000,
        500,
      );
    } finally {
      noFaults();
    }
    const before = (await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id);
    expect(before?.status).toBe('failed');
    // The order ended, but its PaymentIntent could still be paid: what the redrive must fix.
    expect(intent()?.status).toBe('requires_payment_method');
    const moved = await redriveDlq({
      sqs,
      dlqUrl: sandbox.resources.dlqUrl,
      queueUrl: sandbox.resources.queueUrl,
      log: () => undefined,
    });
    expect(moved).toMatchObject({ moved: 1, failed: 0 });
    await eventually(() => intent()?.status === 'canceled', 'the PaymentIntent to be canceled', 30_000, 200);
    await eventually(quiet, 'the redriven record to be processed', 30_000, 500);
    const after = (await statusesOf(dynamodb, sandbox.resources.tableName, [o.id])).get(o.id);
    expect(after?.status).toBe('failed');
    if (after) expect(moneyViolations(after, sim)).toEqual([]);
    expect(await queueDepth(sqs, sandbox.resources.dlqUrl)).toBe(0);
  });
});
