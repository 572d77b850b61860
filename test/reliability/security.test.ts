/**
 * A corpus of hostile or broken requests against the Stripe webhook and the storefront API,
 * sent over HTTP to one sandbox this file starts (the very handler code Lambda runs, behind
 * the sandbox's API Gateway stand-in, with moto and the Stripe simulator), for orders of both
 * Stripe APIs: Sources orders (which name `stripeApi: 'sources'`) and PaymentIntents orders
 * (the default).
 *
 * Each case is a raw request (method, path, headers, bytes) and the answer it must get. For
 * every case the same invariants are checked:
 * - the status, and the body: our handlers' `{error: {code, message, fields?}}` with the
 *   security headers, or the gateway's `{message}`, or the acknowledgement of a webhook;
 * - nothing internal in the body: no stack frame, no `Error:`, no SDK/class names, no paths,
 *   no secret, no API key, no echo of the attacker's signature;
 * - side effects, counted where they happen: every AWS command the handlers send goes through
 *   a middleware installed with `startSandbox({instrument})`, so a rejected request must send
 *   no write at all (no SendMessage, no PutItem, no CreateSchedule…); the worker's record
 *   count; the simulator's sources, PaymentIntents (and their statuses), charges and refunds;
 *   and every order created for the file, read with `GET /orders/{id}` before and after, must
 *   be byte-for-byte the same.
 * Accepted requests (an event for an order that does not exist, a mismatching
 * `source.chargeable`, a valid order with odd-but-legal input) declare what they may change,
 * and check that it changed as it must.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../scripts/sandbox/start.js';
import { type IntentPaymentJson, type OrderJson, SandboxClient } from '../support/sandbox-client.js';
import './security-corpus/webhook.js';
import './security-corpus/api.js';
import {
  ALIPAY,
  CASES,
  type Case,
  client,
  fx,
  IDEMPOTENCY_KEY,
  ifx,
  intentOrder,
  order,
  PAID_SILENTLY,
  PI_WECHAT,
  type Req,
  type Res,
  sandbox,
  sleep,
  stripeSim,
  until,
  useGenuineEvents,
  useSandbox,
  WECHAT,
} from './security-corpus/context.js';
import { clearOfDailyCutoff } from './support.js';

// ------------------------------------------------------------------ the sandbox, counted

/** AWS commands sent by the handlers' own SDK clients, by name, while counting is on. */
const sent: string[] = [];
const READ_COMMAND = /^(Get|Query|Scan|Receive|List|Describe|BatchGet)/;
type Middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => typeof next;
function countCommands(c: { middlewareStack: unknown }, service: string): void {
  (c.middlewareStack as { add(mw: Middleware, o: { step: 'initialize'; name: string }): void }).add(
    (next, context) => async (args) => {
      sent.push(`${service}:${context.commandName ?? '?'}`);
      return next(args);
    },
    { step: 'initialize', name: `securityCorpusCounter_${service}` },
  );
}
const writesIn = (names: string[]) => names.filter((n) => !READ_COMMAND.test(n.split(':')[1] ?? ''));

function send(r: Req): Promise<Res> {
  const url = new URL(sandbox.url);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  return new Promise((resolve, reject) => {
    const q = request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers: { ...(r.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    q.on('error', reject);
    q.end(body);
  });
}

beforeAll(async () => {
  const started = await startSandbox({
    port: 0,
    simPort: 0,
    quiet: true,
    prefix: 'security',
    instrument: countCommands,
  });
  useSandbox(started, new SandboxClient(started.url, started.simUrl ?? '', started.apiKey));
  // A chargeable source is canceled by Stripe at 23:45 CST (15:45 UTC): keep the genuine
  // source of this file far from it, so nothing but the corpus changes the orders.
  await clearOfDailyCutoff(sandbox, 40 * 60);

  for (const name of ['target', 'replay', 'amount', 'currency', 'objLivemode', 'evtLivemode', 'amountString']) {
    fx.set(name, await client.createOrder(WECHAT));
  }
  for (const name of ['foreignChargeable', 'foreignFailed', 'foreignCanceled', 'foreignCharge']) {
    fx.set(name, await client.createOrder(WECHAT));
  }
  fx.set('alipay', await client.createOrder(ALIPAY));
  for (const name of ['otherApi', 'foreignIntentCharge']) fx.set(name, await client.createOrder(WECHAT));
  const idem = await client.api('POST', '/orders', WECHAT, { 'Idempotency-Key': IDEMPOTENCY_KEY });
  expect(idem.status).toBe(201);
  fx.set('idempotent', idem.body as OrderJson);
  for (const o of fx.values()) expect(o.payment.api, o.id).toBe('sources');
  for (const name of ['piTarget', 'piForeign', 'piOtherApi', 'piForeignRefund', ...PAID_SILENTLY]) {
    const o = await client.createOrder<IntentPaymentJson>(PI_WECHAT);
    expect(o.payment.api).toBe('payment_intents');
    ifx.set(name, o);
  }

  // The customer authorizes `replay` while the simulator delivers nothing: the genuine event
  // exists, signed by nobody yet.
  const sim = stripeSim();
  // The PaymentIntents fixtures' payment_intent.requires_action webhooks first.
  await sim.webhooksIdle();
  sim.setWebhookUrl(undefined);
  try {
    sim.authorizeSource(order('replay').payment.sourceId);
    for (const name of PAID_SILENTLY) sim.authorizePaymentIntent(intentOrder(name).payment.paymentIntentId);
  } finally {
    sim.setWebhookUrl(`${sandbox.url}/webhooks/stripe`);
  }
  const pi = sim
    .events()
    .find(
      (x) =>
        x.type === 'payment_intent.succeeded' &&
        (x.data.object as { id?: string }).id === intentOrder('piReplay').payment.paymentIntentId,
    );
  if (!pi) throw new Error('no genuine payment_intent.succeeded');
  const e = sim
    .events()
    .find(
      (x) =>
        x.type === 'source.chargeable' && (x.data.object as { id?: string }).id === order('replay').payment.sourceId,
    );
  if (!e) throw new Error('no genuine source.chargeable');
  useGenuineEvents(e, pi);
  // Whatever creating the fixtures enqueued is processed before the corpus starts.
  await until('the worker to be idle', async () => {
    const before = sandbox.events.stats().records;
    await sleep(1500);
    return sandbox.events.stats().records === before ? true : undefined;
  });
  processedAtStart = sandbox.events.stats().records;
  // The fixtures as they are now (the PaymentIntents orders have recorded their requires_action).
  for (const [name, o] of fx) fx.set(name, await client.order(o.id));
  for (const [name, o] of ifx) ifx.set(name, await client.order<IntentPaymentJson>(o.id));
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
});

// ------------------------------------------------------------------ the invariants

const SECRET_PATTERNS = [/whsec_/, /sk_test_/, /sk_live_/, /rk_(test|live)_/];
const LEAK_PATTERNS = [
  /\n\s*at\s/,
  /\bat [\w$.<>]+ \(/,
  /\.[cm]?[jt]s:\d+/,
  /Error:/,
  /\b[A-Z]\w*(Error|Exception)\b/,
  /\/work\/|\/home\/|\/root\/|\/var\/task|node_modules|file:\/\//,
  /\bAWS\b|@aws-sdk|amazonaws|arn:aws|DynamoDB|\bSQS\b|Scheduler|EventBridge|Powertools|\bzod\b|Zod/,
  /\bStripe[A-Z]\w*/,
  /middy/i,
];

/** The signature values an attacker sent, long enough not to match by chance. */
const signatureValues = (req: Req): string[] => {
  const h = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'stripe-signature')?.[1];
  if (!h) return [];
  return [h, ...h.split(',').map((p) => p.slice(p.indexOf('=') + 1))].filter((v) => v.length >= 16);
};

function checkAnswer(c: Case, req: Req, res: Res): void {
  const e = c.expect;
  expect(res.status, `status; body: ${res.text.slice(0, 300)}`).toBe(e.status);
  for (const p of SECRET_PATTERNS) expect(res.text).not.toMatch(p);
  expect(res.text).not.toContain(sandbox.apiKey);
  expect(res.text).not.toContain(sandbox.webhookSecret);
  for (const p of LEAK_PATTERNS) expect(res.text).not.toMatch(p);
  for (const v of signatureValues(req)) expect(res.text).not.toContain(v);
  if (e.kind === 'empty') {
    expect(res.text).toBe('');
    return;
  }
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  if (e.kind === 'gateway') {
    expect(body).toEqual({ message: e.message });
    return;
  }
  if (e.kind === 'gateway-error' || e.kind === 'error') {
    expect(Object.keys(body)).toEqual(['error']);
    const err = body.error as { code?: unknown; message?: unknown; fields?: { field: string; message: string }[] };
    expect(err.code).toBe(e.code);
    expect(typeof err.message).toBe('string');
    expect((err.message as string).length).toBeGreaterThan(0);
    for (const k of Object.keys(err)) expect(['code', 'message', 'fields']).toContain(k);
    if (e.kind === 'error') {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      if (e.fields !== undefined) {
        expect(Array.isArray(err.fields)).toBe(true);
        const named = (err.fields ?? []).map((f) => f.field);
        for (const f of e.fields) {
          expect(
            named.some((n) => n === f || n.startsWith(`${f}.`)),
            `fields ${named.join(', ')} name ${f}`,
          ).toBe(true);
        }
        for (const f of err.fields ?? []) {
          expect(typeof f.field).toBe('string');
          expect(typeof f.message).toBe('string');
        }
      }
    }
    return;
  }
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  if (e.body !== undefined) expect(body).toEqual(e.body);
}

interface Snapshot {
  orders: Map<string, string>;
  charges: string[];
  /** PaymentIntents (id, status) and their charges (id, status), in creation order. */
  intents: string[];
  intentCharges: string[];
  refunds: number;
  sources: number;
  events: number;
}

async function snapshot(): Promise<Snapshot> {
  const ids = [...fx.values(), ...ifx.values()].map((o) => o.id);
  const bodies = await Promise.all(
    ids.map(async (id) => {
      const r = await client.api('GET', `/orders/${id}`);
      expect(r.status).toBe(200);
      return [id, JSON.stringify(r.body)] as const;
    }),
  );
  const s = stripeSim();
  return {
    orders: new Map(bodies),
    charges: s.charges().map((c) => JSON.stringify([c.id, c.status, c.refunded, c.amount_refunded])),
    intents: s.paymentIntents().map((pi) => JSON.stringify([pi.id, pi.status])),
    intentCharges: s.paymentIntentCharges().map((c) => JSON.stringify([c.id, c.status])),
    refunds: s.refunds().length,
    sources: s.sources().length,
    events: s.events().length,
  };
}

const results = new Map<string, boolean>();
let expectedProcessed = 0;
/** Worker records processed once the fixtures were settled. */
let processedAtStart = 0;
const label = (c: Case) => `${c.category} › ${c.name}`;

describe('security corpus: hostile and broken requests against the webhook and the API', () => {
  it('has unique case names', () => {
    expect(new Set(CASES.map(label)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [label(c), c] as const))(
    '%s',
    async (name, c) => {
      results.set(name, false);
      const before = await snapshot();
      const processed = sandbox.events.stats().records;
      sent.length = 0;
      const req = c.req();
      const res = await send(req);
      const during = [...sent];
      checkAnswer(c, req, res);

      const a = c.accepted;
      // Side effects of the request itself: only an accepted webhook enqueues, and only once. (A
      // webhook Stripe sends in consequence may reach the ingress before the answer does.)
      const sends = during.filter((n) => n === 'sqs:SendMessageCommand').length;
      expect(sends).toBeGreaterThanOrEqual(a?.enqueued ?? 0);
      expect(sends).toBeLessThanOrEqual((a?.enqueued ?? 0) + (a?.stripeWebhooks ?? 0));
      if (!a?.writes) {
        expect(writesIn(during).filter((n) => n !== 'sqs:SendMessageCommand')).toEqual([]);
      }
      const toProcess = (a?.enqueued ?? 0) + (a?.stripeWebhooks ?? 0);
      expectedProcessed += toProcess;
      if (toProcess > 0) {
        await until('the worker to process the events', () =>
          sandbox.events.stats().records >= processed + toProcess ? true : undefined,
        );
      }
      await c.check?.(res, req);
      // Nothing else changed: the other orders, the money, Stripe's objects; and the worker saw
      // exactly what was enqueued.
      const after = await snapshot();
      const mutable = new Set(a?.mutates?.() ?? []);
      for (const [id, json] of before.orders) if (!mutable.has(id)) expect(after.orders.get(id), id).toBe(json);
      if (a?.chargesCreated) {
        expect(after.charges.length).toBe(before.charges.length + a.chargesCreated);
        expect(after.charges.slice(0, before.charges.length)).toEqual(before.charges);
      } else expect(after.charges).toEqual(before.charges);
      expect(after.refunds).toBe(before.refunds + (a?.refundsCreated ?? 0));
      expect(after.sources).toBe(before.sources + (a?.sourcesCreated ?? 0));
      expect(after.intents).toHaveLength(before.intents.length + (a?.intentsCreated ?? 0));
      expect(after.intents.slice(0, before.intents.length)).toEqual(before.intents);
      expect(after.intentCharges).toEqual(before.intentCharges);
      if (!a?.writes) expect(writesIn(sent)).toEqual(during.filter((n) => n === 'sqs:SendMessageCommand'));
      expect(sandbox.events.stats().records).toBe(processed + toProcess);
      results.set(name, true);
    },
    60_000,
  );

  it('summary: every case passed, and nothing was processed late', async () => {
    // A late enqueue would show up here: the worker processed exactly the accepted events.
    await sleep(2500);
    const fixtureOrders = await snapshot();
    expect(fixtureOrders.orders.size).toBe(fx.size + ifx.size);
    expect(sandbox.events.stats().failed).toBe(0);
    expect(sandbox.events.stats().records - processedAtStart).toBe(expectedProcessed);
    const n = CASES.length;
    const passed = [...results.values()].filter(Boolean).length;
    const failed = CASES.map(label).filter((l) => results.get(l) !== true);
    const aboutIntents = /payment_intent|PaymentIntent|stripeApi|other API/;
    const onIntents = CASES.filter((c) => aboutIntents.test(c.category) || aboutIntents.test(c.name)).length;
    console.log(`security corpus: ${n} cases, ${passed} passed (${onIntents} about PaymentIntents)`);
    const perCategory = new Map<string, number>();
    for (const c of CASES) perCategory.set(c.category, (perCategory.get(c.category) ?? 0) + 1);
    console.log([...perCategory].map(([k, v]) => `  ${v.toString().padStart(3)}  ${k}`).join('\n'));
    expect(failed, `failed cases:\n${failed.join('\n')}`).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(100);
    expect(passed).toBe(n);
    expect(expectedProcessed).toBeGreaterThan(0);
  });
});
