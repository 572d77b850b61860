/**
 * A corpus of hostile or broken requests against the Stripe webhook and the storefront API,
 * sent over HTTP to one sandbox this file starts (the very handler code Lambda runs, behind
 * the sandbox's API Gateway stand-in, with moto and the Stripe simulator).
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
 *   count; the simulator's sources, charges and refunds; and every order created for the
 *   file, read with `GET /orders/{id}` before and after, must be byte-for-byte the same.
 * Accepted requests (an event for an order that does not exist, a mismatching
 * `source.chargeable`, a valid order with odd-but-legal input) declare what they may change,
 * and check that it changed as it must.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';
import type { EventObj, SourceObj } from '../../scripts/stripe-sim/index.js';
import { type OrderJson, SandboxClient } from '../support/sandbox-client.js';
import { clearOfDailyCutoff } from './support.js';

// ------------------------------------------------------------------ types

interface Req {
  method: string;
  /** Sent as-is on the request line (no normalisation, no re-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

type Expect =
  /** Our handlers' error: `{error: {code, message, fields?}}` with the security headers. */
  | { status: number; kind: 'error'; code: string; fields?: string[] }
  /** The sandbox's HTTP layer (API Gateway's part): JSON `{message}`, or its own 404 error. */
  | { status: number; kind: 'gateway'; message: string }
  | { status: number; kind: 'gateway-error'; code: string }
  /** A JSON answer from our handlers, compared exactly when `body` is given. */
  | { status: number; kind: 'json'; body?: unknown }
  /** Node's HTTP parser refused the request before any handler: no body at all. */
  | { status: number; kind: 'empty' };

/** What an accepted case may change; without it the case must change nothing at all. */
interface Accepted {
  /** SendMessage calls the request itself makes (the ingress enqueueing the event). */
  enqueued?: number;
  /** AWS writes are expected (creating an order, the worker applying an event). */
  writes?: boolean;
  /** Orders of this file that may change (by id, resolved when the case runs). */
  mutates?: () => string[];
  sourcesCreated?: number;
  chargesCreated?: number;
  /** Webhooks Stripe (the simulator) sends in consequence, which the worker also processes. */
  stripeWebhooks?: number;
}

interface Case {
  category: string;
  name: string;
  req: () => Req;
  expect: Expect;
  accepted?: Accepted;
  /** Further assertions on the answer and the state once the worker is done. */
  check?: (res: Res, req: Req) => Promise<void> | void;
}

// ------------------------------------------------------------------ the sandbox

let sandbox: Sandbox;
let client: SandboxClient;
/** Only to sign webhooks with stripe-node's own generateTestHeaderString; no network. */
const signer = new Stripe('sk_test_security_corpus', { telemetry: false });

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSec = () => Math.floor(sandbox.clock.now().getTime() / 1000);

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------ fixtures

const WECHAT = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };
const ALIPAY = { amount: 1000, currency: 'cny', paymentMethod: 'alipay', returnUrl: 'https://shop.example/return' };
const IDEMPOTENCY_KEY = `sec-corpus-${randomUUID()}`;

/** Orders created for this file; `order(name)` throws before beforeAll. */
const fx = new Map<string, OrderJson>();
const order = (name: string): OrderJson => {
  const o = fx.get(name);
  if (!o) throw new Error(`fixture ${name} missing`);
  return o;
};
/** The `source.chargeable` the simulator emitted when the customer authorized order `replay`'s source; never delivered. */
let genuine: EventObj;
let genuinePayload: string;

const NONEXISTENT = 'ord_01JZ0000000000000000000001';

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, simPort: 0, quiet: true, prefix: 'security', instrument: countCommands });
  client = new SandboxClient(sandbox.url, sandbox.simUrl ?? '', sandbox.apiKey);
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
  const idem = await client.api('POST', '/orders', WECHAT, { 'Idempotency-Key': IDEMPOTENCY_KEY });
  expect(idem.status).toBe(201);
  fx.set('idempotent', idem.body as OrderJson);

  // The customer authorizes `replay` while the simulator delivers nothing: the genuine event
  // exists, signed by nobody yet.
  const sim = stripeSim();
  sim.setWebhookUrl(undefined);
  try {
    sim.authorizeSource(order('replay').payment.sourceId);
  } finally {
    sim.setWebhookUrl(`${sandbox.url}/webhooks/stripe`);
  }
  const e = sim
    .events()
    .find(
      (x) =>
        x.type === 'source.chargeable' && (x.data.object as { id?: string }).id === order('replay').payment.sourceId,
    );
  if (!e) throw new Error('no genuine source.chargeable');
  genuine = e;
  genuinePayload = JSON.stringify(genuine, null, 2);
  // Whatever creating the fixtures enqueued is processed before the corpus starts.
  await until('the worker to be idle', async () => {
    const before = sandbox.events.stats().records;
    await sleep(1500);
    return sandbox.events.stats().records === before ? true : undefined;
  });
  processedAtStart = sandbox.events.stats().records;
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
});

function stripeSim() {
  if (!sandbox.sim) throw new Error('the corpus needs the Stripe simulator');
  return sandbox.sim;
}

// ------------------------------------------------------------------ request builders

const API_HEADERS = (): Record<string, string> => ({ 'x-api-key': sandbox.apiKey });
const apiGet = (path: string, headers: Record<string, string> = API_HEADERS()): Req => ({
  method: 'GET',
  path,
  headers,
});
const apiPost = (path: string, body: string | Buffer | undefined, headers: Record<string, string> = {}): Req => ({
  method: 'POST',
  path,
  headers: { ...API_HEADERS(), 'content-type': 'application/json', ...headers },
  ...(body !== undefined ? { body } : {}),
});
const createReq = (body: unknown, headers: Record<string, string> = {}): Req =>
  apiPost('/orders', typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers);

const sign = (payload: string, o: { secret?: string; t?: number } = {}) =>
  signer.webhooks.generateTestHeaderString({
    payload,
    secret: o.secret ?? sandbox.webhookSecret,
    timestamp: o.t ?? nowSec(),
  });
const hook = (body: string | Buffer, headers: Record<string, string>): Req => ({
  method: 'POST',
  path: '/webhooks/stripe',
  headers,
  body,
});
/** `payload` signed now with the endpoint's secret, as Stripe sends it. */
const signed = (payload: string, headers: Record<string, string> = {}): Req =>
  hook(payload, { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': sign(payload), ...headers });
const unsigned = (body: string | Buffer, headers: Record<string, string>): Req =>
  hook(body, { 'content-type': 'application/json; charset=utf-8', ...headers });

const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
const evtId = () => `evt_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`;

function stripeEvent(type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: evtId(),
    object: 'event',
    api_version: genuine.api_version,
    created: nowSec(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...extra,
  };
}
const wire = (e: unknown) => JSON.stringify(e, null, 2);

/** The simulator's source of a fixture order, as a `source.chargeable` would carry it. */
function sourceOf(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const s = stripeSim()
    .sources()
    .find((x: SourceObj) => x.id === order(name).payment.sourceId);
  if (!s) throw new Error(`no source for ${name}`);
  return { ...(JSON.parse(JSON.stringify(s)) as Record<string, unknown>), status: 'chargeable', ...overrides };
}
/** A source nobody here created, shaped like ours. */
const strangerSource = (metadata: unknown) =>
  sourceOf('target', { id: `src_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`, metadata });
/** A charge of a source nobody here created. */
const strangerCharge = (metadata: unknown) => ({
  id: `ch_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`,
  object: 'charge',
  amount: 1099,
  currency: 'usd',
  status: 'succeeded',
  paid: true,
  livemode: false,
  metadata,
  source: strangerSource({}),
});

const ack = (extra: Record<string, unknown> = {}): Expect => ({
  status: 200,
  kind: 'json',
  body: { received: true, ...extra },
});
const badSig: Expect = { status: 400, kind: 'error', code: 'INVALID_SIGNATURE' };
const badEvent: Expect = { status: 400, kind: 'error', code: 'MALFORMED_EVENT' };
const invalid = (...fields: string[]): Expect => ({ status: 400, kind: 'error', code: 'VALIDATION_FAILED', fields });
const badId: Expect = { status: 400, kind: 'error', code: 'INVALID_ORDER_ID' };
const notFound: Expect = { status: 404, kind: 'error', code: 'ORDER_NOT_FOUND' };
const forbidden: Expect = { status: 403, kind: 'gateway', message: 'Forbidden' };

/** Checks for an event the ingress accepted and the worker processed. */
const orderNow = (name: string) => client.order(order(name).id);
const chargesOfOrder = (name: string) =>
  stripeSim()
    .charges()
    .filter((c) => c.source.id === order(name).payment.sourceId);

// ------------------------------------------------------------------ the corpus

const CASES: Case[] = [];
const add = (category: string, cases: Omit<Case, 'category'>[]) => {
  for (const c of cases) CASES.push({ category, ...c });
};

// ---------------- webhook: signature missing
add('webhook: missing signature', [
  { name: 'no Stripe-Signature header', req: () => unsigned(genuinePayload, {}), expect: badSig },
  {
    name: 'empty Stripe-Signature header',
    req: () => unsigned(genuinePayload, { 'stripe-signature': '' }),
    expect: badSig,
  },
  {
    name: 'signature under a misspelt header name',
    req: () => unsigned(genuinePayload, { 'stripe-signatures': sign(genuinePayload) }),
    expect: badSig,
  },
  {
    name: 'valid signature of an empty body',
    req: () => unsigned('', { 'stripe-signature': sign('') }),
    expect: badSig,
  },
]);

// ---------------- webhook: malformed signature
add('webhook: malformed signature', [
  { name: 'garbage', req: () => unsigned(genuinePayload, { 'stripe-signature': 'garbage' }), expect: badSig },
  { name: '"t=" only', req: () => unsigned(genuinePayload, { 'stripe-signature': 't=' }), expect: badSig },
  {
    name: 'timestamp without any v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()}` }),
    expect: badSig,
  },
  {
    name: 'v1 without a timestamp',
    req: () => {
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'non-numeric timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=now,v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'negative timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=-${nowSec()},v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'fractional timestamp with its true signature',
    req: () => {
      const t = `${nowSec()}.5`;
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${t},v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'non-hex v1 (64 characters)',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'zz'.repeat(32)}` }),
    expect: badSig,
  },
  {
    name: 'v1 one hex digit short',
    req: () => {
      const h = sign(genuinePayload);
      return unsigned(genuinePayload, { 'stripe-signature': h.slice(0, -1) });
    },
    expect: badSig,
  },
  {
    name: 'v1 with a trailing extra hex digit',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `${sign(genuinePayload)}0` }),
    expect: badSig,
  },
  {
    name: '8 KB header of one long v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'a'.repeat(8000)}` }),
    expect: badSig,
  },
  {
    name: '12 KB header of 170 random v1 values',
    req: () =>
      unsigned(genuinePayload, {
        'stripe-signature': [`t=${nowSec()}`, ...Array.from({ length: 170 }, () => `v1=${hex(64)}`)].join(','),
      }),
    expect: badSig,
  },
  {
    name: '20 KB header: refused by the HTTP layer (431) before any handler',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'b'.repeat(20_000)}` }),
    expect: { status: 431, kind: 'empty' },
  },
  {
    name: 'separators only',
    req: () => unsigned(genuinePayload, { 'stripe-signature': ',,,=,=,t,v1' }),
    expect: badSig,
  },
]);

// ---------------- webhook: forged signature
add('webhook: forged signature', [
  {
    name: 'random v1, current timestamp',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${hex(64)}` }),
    expect: badSig,
  },
  {
    name: 'all-zero v1',
    req: () => unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${'0'.repeat(64)}` }),
    expect: badSig,
  },
  {
    name: 'a true v1 moved to another timestamp',
    req: () => {
      const v1 = /v1=([0-9a-f]+)/.exec(sign(genuinePayload, { t: nowSec() - 60 }))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${v1}` });
    },
    expect: badSig,
  },
  {
    name: 'the true signature of another payload',
    req: () => {
      const other = wire(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
      return unsigned(genuinePayload, { 'stripe-signature': sign(other) });
    },
    expect: badSig,
  },
  {
    name: 'a valid HMAC under the v0 scheme only',
    req: () => {
      const v = /v1=([0-9a-f]+)/.exec(sign(genuinePayload))?.[1] ?? '';
      return unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v0=${v}` });
    },
    expect: badSig,
  },
  {
    name: 'the true v1 in upper-case hex (stripe-node compares lower-case hex strings)',
    req: () => {
      const h = sign(genuinePayload).replace(/v1=([0-9a-f]+)/, (_, v: string) => `v1=${v.toUpperCase()}`);
      return unsigned(genuinePayload, { 'stripe-signature': h });
    },
    expect: badSig,
  },
  {
    name: 'several random v1 values',
    req: () =>
      unsigned(genuinePayload, { 'stripe-signature': `t=${nowSec()},v1=${hex(64)},v1=${hex(64)},v1=${hex(64)}` }),
    expect: badSig,
  },
]);

// ---------------- webhook: wrong secret
add('webhook: wrong secret', [
  {
    name: 'another endpoint secret',
    req: () => signedWith(genuinePayload, 'whsec_attacker_guess'),
    expect: badSig,
  },
  {
    name: 'the Stripe API key used as the signing secret',
    req: () => signedWith(genuinePayload, 'sk_test_sandbox'),
    expect: badSig,
  },
  {
    name: 'the endpoint secret with a trailing newline',
    req: () => signedWith(genuinePayload, `${sandbox.webhookSecret}\n`),
    expect: badSig,
  },
  {
    name: 'the endpoint secret upper-cased',
    req: () => signedWith(genuinePayload, sandbox.webhookSecret.toUpperCase()),
    expect: badSig,
  },
  {
    name: 'the endpoint secret without its whsec_ prefix',
    req: () => signedWith(genuinePayload, sandbox.webhookSecret.replace(/^whsec_/, '')),
    expect: badSig,
  },
]);
function signedWith(payload: string, secret: string): Req {
  return unsigned(payload, { 'stripe-signature': sign(payload, { secret }) });
}

// ---------------- webhook: replayed (stale timestamp)
const replayAt = (ageSeconds: number): Req =>
  unsigned(genuinePayload, { 'stripe-signature': sign(genuinePayload, { t: nowSec() - ageSeconds }) });
add('webhook: stale timestamp (replay of a genuine event)', [
  { name: 'signed 301 s ago', req: () => replayAt(301), expect: badSig },
  { name: 'signed an hour ago', req: () => replayAt(3600), expect: badSig },
  { name: 'signed three days ago (Stripe’s retry window)', req: () => replayAt(3 * 86400), expect: badSig },
  {
    name: 'signed at t=1 (1970; stripe-node treats t=0 as “now”)',
    req: () => unsigned(genuinePayload, { 'stripe-signature': sign(genuinePayload, { t: 1 }) }),
    expect: badSig,
  },
  {
    name: 'a stale v1 relabelled with a fresh timestamp, plus a random v1',
    req: () => {
      const old = sign(genuinePayload, { t: nowSec() - 600 });
      return unsigned(genuinePayload, {
        'stripe-signature': `${old.replace(/^t=\d+/, `t=${nowSec()}`)},v1=${hex(64)}`,
      });
    },
    expect: badSig,
  },
  {
    name: 'control: 290 s old is still accepted (an unhandled type, ignored)',
    req: () => {
      const p = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer' }));
      return unsigned(p, { 'stripe-signature': sign(p, { t: nowSec() - 290 }) });
    },
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: body altered after signing
const tampered = (alter: (p: string) => string | Buffer): Req => {
  const h = sign(genuinePayload);
  return unsigned(alter(genuinePayload), { 'stripe-signature': h });
};
add('webhook: body altered after signing', [
  {
    name: 'one byte changed (amount 1099 → 1098)',
    req: () => tampered((p) => p.replace('1099', '1098')),
    expect: badSig,
  },
  { name: 'a newline appended', req: () => tampered((p) => `${p}\n`), expect: badSig },
  { name: 'a space appended', req: () => tampered((p) => `${p} `), expect: badSig },
  { name: 'a space prepended', req: () => tampered((p) => ` ${p}`), expect: badSig },
  { name: 're-serialized compactly', req: () => tampered((p) => JSON.stringify(JSON.parse(p))), expect: badSig },
  {
    name: 're-serialized with keys reordered',
    req: () =>
      tampered((p) => {
        const o = JSON.parse(p) as Record<string, unknown>;
        return JSON.stringify(Object.fromEntries(Object.entries(o).reverse()), null, 2);
      }),
    expect: badSig,
  },
  { name: 'CRLF line endings', req: () => tampered((p) => p.replaceAll('\n', '\r\n')), expect: badSig },
  { name: 'a character \\u-escaped', req: () => tampered((p) => p.replace('"type"', '"\\u0074ype"')), expect: badSig },
  { name: 'last byte dropped', req: () => tampered((p) => p.slice(0, -1)), expect: badSig },
  {
    name: 'a UTF-8 BOM prepended',
    req: () => tampered((p) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(p)])),
    expect: badSig,
  },
  {
    name: 'livemode flipped',
    req: () => tampered((p) => p.replace('"livemode": false', '"livemode": true')),
    expect: badSig,
  },
]);

// ---------------- webhook: wrong content type (valid signature)
const withType = (contentType: string | undefined): Req => {
  const h = sign(genuinePayload);
  return hook(genuinePayload, {
    'stripe-signature': h,
    ...(contentType !== undefined ? { 'content-type': contentType } : {}),
  });
};
const unsupported: Expect = { status: 415, kind: 'error', code: 'UNSUPPORTED_MEDIA_TYPE' };
add('webhook: wrong content type, valid signature', [
  { name: 'text/plain', req: () => withType('text/plain'), expect: unsupported },
  {
    name: 'application/x-www-form-urlencoded',
    req: () => withType('application/x-www-form-urlencoded'),
    expect: unsupported,
  },
  { name: 'no Content-Type', req: () => withType(undefined), expect: unsupported },
  { name: 'multipart/form-data', req: () => withType('multipart/form-data; boundary=x'), expect: unsupported },
  { name: 'application/jsonp', req: () => withType('application/jsonp'), expect: unsupported },
  { name: 'text/json', req: () => withType('text/json'), expect: unsupported },
  {
    name: 'control: APPLICATION/JSON is JSON (an unhandled type, ignored)',
    req: () => {
      const p = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer' }));
      return hook(p, { 'content-type': 'APPLICATION/JSON', 'stripe-signature': sign(p) });
    },
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: oversized
const LIMIT = 256 * 1024;
/** An unhandled event padded to exactly `bytes` bytes. */
function paddedEvent(bytes: number, fill = 'x'): string {
  const base = wire(stripeEvent('customer.created', { id: 'cus_sec', object: 'customer', pad: '' }));
  const room = bytes - Buffer.byteLength(base);
  const unit = Buffer.byteLength(fill);
  return base.replace('"pad": ""', `"pad": "${fill.repeat(Math.floor(room / unit))}${'x'.repeat(room % unit)}"`);
}
const tooLarge: Expect = { status: 413, kind: 'error', code: 'PAYLOAD_TOO_LARGE' };
add('webhook: oversized body', [
  { name: '256 KB + 1 byte, validly signed', req: () => signed(paddedEvent(LIMIT + 1)), expect: tooLarge },
  { name: '1 MB, validly signed', req: () => signed(paddedEvent(1024 * 1024)), expect: tooLarge },
  {
    name: '5 MB, unsigned and not JSON',
    req: () => unsigned(Buffer.alloc(5 * 1024 * 1024, 0x41), {}),
    expect: tooLarge,
  },
  {
    name: '300 KB of 3-byte characters (under the limit in characters, over it in bytes)',
    req: () => signed(paddedEvent(300 * 1024, '中')),
    expect: tooLarge,
  },
  {
    name: 'oversized with a wrong content type: size first',
    req: () => {
      const p = paddedEvent(LIMIT + 10);
      return hook(p, { 'content-type': 'text/plain', 'stripe-signature': sign(p) });
    },
    expect: tooLarge,
  },
  {
    name: 'control: exactly 256 KB is accepted (an unhandled type, ignored)',
    req: () => signed(paddedEvent(LIMIT)),
    expect: ack({ ignored: 'unhandled_type' }),
  },
]);

// ---------------- webhook: malformed JSON (valid signature)
add('webhook: malformed JSON, valid signature', [
  { name: 'an opening brace', req: () => signed('{'), expect: badEvent },
  { name: 'plain text', req: () => signed('not json at all'), expect: badEvent },
  { name: 'truncated object', req: () => signed('{"id": "evt_1", "type":'), expect: badEvent },
  { name: 'trailing comma', req: () => signed('{"id": "evt_1",}'), expect: badEvent },
  { name: 'single quotes', req: () => signed("{'id': 'evt_1'}"), expect: badEvent },
  { name: 'NaN literal', req: () => signed('{"created": NaN}'), expect: badEvent },
  { name: 'JSON null', req: () => signed('null'), expect: badEvent },
  { name: 'JSON number', req: () => signed('42'), expect: badEvent },
  { name: 'JSON string', req: () => signed('"source.chargeable"'), expect: badEvent },
  { name: 'JSON true', req: () => signed('true'), expect: badEvent },
  { name: 'JSON array', req: () => signed(`[${genuinePayload}]`), expect: badEvent },
  { name: 'a BOM before the JSON', req: () => signed(`\uFEFF${genuinePayload}`), expect: badEvent },
  {
    name: 'an empty object (JSON, but not an event): ignored',
    req: () => signed('{}'),
    expect: ack({ ignored: 'not_an_event' }),
  },
]);

// ---------------- webhook: unknown event types
add('webhook: unknown event type', [
  {
    name: 'customer.created',
    req: () => signed(wire(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'payment_intent.succeeded naming a real order',
    req: () =>
      signed(wire(stripeEvent('payment_intent.succeeded', { id: 'pi_1', metadata: { order_id: order('target').id } }))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'source.refund_attributes_required (a real Sources event we do not handle)',
    req: () => signed(wire(stripeEvent('source.refund_attributes_required', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: '"__proto__" as the type',
    req: () => signed(wire(stripeEvent('__proto__', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: '"constructor" as the type',
    req: () => signed(wire(stripeEvent('constructor', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a 10 KB type',
    req: () => signed(wire(stripeEvent(`source.${'chargeable'.repeat(1000)}`, sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a handled type in upper case',
    req: () => signed(wire(stripeEvent('SOURCE.CHARGEABLE', sourceOf('target')))),
    expect: ack({ ignored: 'unhandled_type' }),
  },
  {
    name: 'a numeric type',
    req: () => signed(wire({ ...stripeEvent('x', sourceOf('target')), type: 7 })),
    expect: ack({ ignored: 'not_an_event' }),
  },
  {
    name: 'no data.object',
    req: () => signed(wire({ ...stripeEvent('source.chargeable', {}), data: null })),
    expect: ack({ ignored: 'not_an_event' }),
  },
]);

// ---------------- webhook: objects we never created
const unknownOrderEnqueued: Accepted = { enqueued: 1, writes: false };
add('webhook: objects we never created', [
  {
    name: 'source.chargeable of a stranger source, no metadata.order_id',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({})))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable with metadata null',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource(null)))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a malformed order id (ord_123)',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: 'ord_123' })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: "an injection as order id (' OR 1=1 --)",
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: "ord_' OR 1=1 --" })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a real order id with a path suffix',
    req: () => signed(wire(stripeEvent('source.failed', strangerSource({ order_id: `${order('target').id}/../x` })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'a real order id in lower case',
    req: () =>
      signed(wire(stripeEvent('source.failed', strangerSource({ order_id: order('target').id.toLowerCase() })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'order id as a number',
    req: () => signed(wire(stripeEvent('source.canceled', strangerSource({ order_id: 12345 })))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'order id smuggled through metadata.__proto__',
    req: () =>
      signed(
        wire(stripeEvent('source.canceled', strangerSource({}))).replace(
          '"metadata": {}',
          `"metadata": {"__proto__": {"order_id": "${order('target').id}"}}`,
        ),
      ),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable for a well-formed order id that does not exist',
    req: () => signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: NONEXISTENT })))),
    expect: ack(),
    accepted: unknownOrderEnqueued,
  },
  {
    name: 'charge.succeeded for a well-formed order id that does not exist',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({ order_id: NONEXISTENT })))),
    expect: ack(),
    accepted: unknownOrderEnqueued,
  },
  {
    name: 'charge.succeeded of a stranger charge without metadata',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({})))),
    expect: ack({ ignored: 'not_our_object' }),
  },
  {
    name: 'source.chargeable of a stranger source naming a real order: the order is untouched, nothing charged',
    req: () =>
      signed(wire(stripeEvent('source.chargeable', strangerSource({ order_id: order('foreignChargeable').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignChargeable').id] },
    check: () => foreignUntouched('foreignChargeable', 'source.chargeable'),
  },
  {
    name: 'source.failed of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('source.failed', strangerSource({ order_id: order('foreignFailed').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignFailed').id] },
    check: () => foreignUntouched('foreignFailed', 'source.failed'),
  },
  {
    name: 'source.canceled of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('source.canceled', strangerSource({ order_id: order('foreignCanceled').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignCanceled').id] },
    check: () => foreignUntouched('foreignCanceled', 'source.canceled'),
  },
  {
    name: 'charge.succeeded of a stranger source naming a real order: the order is untouched',
    req: () => signed(wire(stripeEvent('charge.succeeded', strangerCharge({ order_id: order('foreignCharge').id })))),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('foreignCharge').id] },
    check: () => foreignUntouched('foreignCharge', 'charge.succeeded'),
  },
]);

/** An event about a source that is not the order's: recorded as ignored at most, nothing else. */
async function foreignUntouched(name: string, type: string): Promise<void> {
  const before = order(name);
  const after = await until(`${type} recorded on ${name}`, async () => {
    const o = await orderNow(name);
    return o.history.some((h) => h.type === type) ? o : undefined;
  });
  expect(after.status).toBe('pending');
  expect(after.history.at(-1)).toMatchObject({ type, to: 'pending', ignored: expect.stringMatching(/^foreign_/) });
  expect(after.chargeId).toBeUndefined();
  expect(after.deadline).toBeUndefined();
  expect(after.failureReason).toBeUndefined();
  expect(after.cancelReason).toBeUndefined();
  expect(after.history).toHaveLength(before.history.length + 1);
  expect(chargesOfOrder(name)).toEqual([]);
}

// ---------------- webhook: mismatching source.chargeable on a real order
async function failedWith(name: string, reason: string): Promise<void> {
  const o = await until(`${name} to fail`, async () => {
    const x = await orderNow(name);
    return x.status === 'pending' ? undefined : x;
  });
  expect(o.status).toBe('failed');
  expect(o.failureReason).toBe(reason);
  expect(o.chargeId).toBeUndefined();
  expect(chargesOfOrder(name)).toEqual([]);
}
const mismatch = (name: string): Accepted => ({ enqueued: 1, writes: true, mutates: () => [order(name).id] });
add('webhook: amount/currency/livemode mismatch', [
  {
    name: 'amount 1 instead of 1099 → failed amount_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('amount', { amount: 1 })))),
    expect: ack(),
    accepted: mismatch('amount'),
    check: () => failedWith('amount', 'amount_mismatch'),
  },
  {
    name: 'amount as the string "1099" → failed amount_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('amountString', { amount: '1099' })))),
    expect: ack(),
    accepted: mismatch('amountString'),
    check: () => failedWith('amountString', 'amount_mismatch'),
  },
  {
    name: 'currency jpy instead of usd → failed currency_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('currency', { currency: 'jpy' })))),
    expect: ack(),
    accepted: mismatch('currency'),
    check: () => failedWith('currency', 'currency_mismatch'),
  },
  {
    name: 'a live source for a test order → failed livemode_mismatch, no charge',
    req: () => signed(wire(stripeEvent('source.chargeable', sourceOf('objLivemode', { livemode: true })))),
    expect: ack(),
    accepted: mismatch('objLivemode'),
    check: () => failedWith('objLivemode', 'livemode_mismatch'),
  },
  {
    name: 'a live-mode event → ignored, order unchanged',
    req: () =>
      signed(wire(stripeEvent('source.chargeable', sourceOf('evtLivemode', { livemode: true }), { livemode: true }))),
    expect: ack({ ignored: 'livemode' }),
    check: async () => {
      expect((await orderNow('evtLivemode')).status).toBe('pending');
      expect(chargesOfOrder('evtLivemode')).toEqual([]);
    },
  },
]);

// ---------------- webhook: route
// The webhook HTTP API has the one route POST /webhooks/stripe: another method matches no route.
add('webhook: route and method', [
  {
    name: 'GET',
    req: () => ({ method: 'GET', path: '/webhooks/stripe' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'PUT with a valid signature',
    req: () => ({ ...signed(genuinePayload), method: 'PUT' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'DELETE',
    req: () => ({ method: 'DELETE', path: '/webhooks/stripe' }),
    expect: { status: 404, kind: 'gateway', message: 'Not Found' },
  },
  {
    name: 'POST to a sibling path with a valid signature',
    req: () => ({ ...signed(genuinePayload), path: '/webhooks/stripe/extra' }),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
  {
    name: 'POST to /webhooks/Stripe (case)',
    req: () => ({ ...signed(genuinePayload), path: '/webhooks/Stripe' }),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
]);

// ---------------- webhook: the control that proves the corpus used an effective event
add('webhook: control', [
  {
    name: 'the genuine event the corpus replayed and tampered with, freshly signed → paid, one charge',
    req: () => signed(genuinePayload),
    expect: ack(),
    accepted: { enqueued: 1, writes: true, mutates: () => [order('replay').id], chargesCreated: 1, stripeWebhooks: 1 },
    check: async () => {
      const o = await until('replay to be paid', async () => {
        const x = await orderNow('replay');
        return x.status === 'paid' ? x : undefined;
      });
      expect(o.chargeId).toMatch(/^ch_/);
      expect(chargesOfOrder('replay')).toHaveLength(1);
    },
  },
]);

// ---------------- API: authentication
add('api: API key', [
  { name: 'GET an order without a key', req: () => apiGet(`/orders/${order('target').id}`, {}), expect: forbidden },
  {
    name: 'GET an order with a wrong key',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': 'not-the-key' }),
    expect: forbidden,
  },
  {
    name: 'GET an order with the key upper-cased',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': sandbox.apiKey.toUpperCase() }),
    expect: forbidden,
  },
  {
    name: 'GET an order with the key plus a suffix',
    req: () => apiGet(`/orders/${order('target').id}`, { 'x-api-key': `${sandbox.apiKey}x` }),
    expect: forbidden,
  },
  {
    name: 'the key as a bearer token instead of x-api-key',
    req: () => apiGet(`/orders/${order('target').id}`, { authorization: `Bearer ${sandbox.apiKey}` }),
    expect: forbidden,
  },
  {
    name: 'the key in the query string',
    req: () => apiGet(`/orders/${order('target').id}?x-api-key=${sandbox.apiKey}`, {}),
    expect: forbidden,
  },
  { name: 'list orders without a key', req: () => apiGet('/orders', {}), expect: forbidden },
  {
    name: 'create an order without a key',
    req: () => ({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(WECHAT),
    }),
    expect: forbidden,
  },
  {
    name: 'cancel an order without a key',
    req: () => ({ method: 'POST', path: `/orders/${order('target').id}/cancel` }),
    expect: forbidden,
  },
  {
    name: 'cancel an order with an empty key',
    req: () => ({ method: 'POST', path: `/orders/${order('target').id}/cancel`, headers: { 'x-api-key': '' } }),
    expect: forbidden,
  },
]);

// ---------------- API: hostile order ids
const ids: [string, string][] = [
  ['traversal ../../etc/passwd (encoded)', '..%2F..%2Fetc%2Fpasswd'],
  ['traversal after a real prefix', 'ord_..%2F..%2F..%2Fetc%2Fpasswd'],
  ['NUL byte after a well-formed id', `${NONEXISTENT}%00`],
  ["SQL injection ' OR 1=1 --", '%27%20OR%201%3D1%20--'],
  ['NoSQL operator', '%7B%22%24ne%22%3Anull%7D'],
  ['<script> tag', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
  ['2 KB id', `ord_${'A'.repeat(2048)}`],
  ['unicode (emoji)', `ord_${'%F0%9F%92%A9'.repeat(26)}`],
  ['Cyrillic homoglyph of "o"', `%D0%BErd_${NONEXISTENT.slice(4)}`],
  ['lower-case ULID', NONEXISTENT.toLowerCase()],
  ['ULID with the excluded letter U', `ord_${'U'.repeat(26)}`],
  ['invalid percent-encoding', 'ord_%E0%A4%A'],
  ['a space', '%20'],
  ['CRLF header injection', `${NONEXISTENT}%0D%0ASet-Cookie%3A%20x%3D1`],
];
add('api: hostile order ids', [
  ...ids.map(([what, raw]) => ({ name: `GET ${what}`, req: () => apiGet(`/orders/${raw}`), expect: badId })),
  ...ids
    .filter((_, i) => i % 2 === 0)
    .map(([what, raw]) => ({
      name: `cancel ${what}`,
      req: () => apiPost(`/orders/${raw}/cancel`, undefined),
      expect: badId,
    })),
  ...ids
    .filter((_, i) => i % 2 === 1)
    .map(([what, raw]) => ({
      name: `status ${what}`,
      req: () => apiGet(`/orders/${raw}/status?client_secret=${encodeURIComponent(order('target').clientSecret)}`, {}),
      expect: badId,
    })),
  {
    name: 'unencoded ../ in the path: normalised away before any route',
    req: () => apiGet('/orders/../../etc/passwd'),
    expect: { status: 404, kind: 'gateway-error', code: 'NOT_FOUND' },
  },
  { name: 'GET a well-formed id that does not exist', req: () => apiGet(`/orders/${NONEXISTENT}`), expect: notFound },
  {
    name: 'cancel a well-formed id that does not exist',
    req: () => apiPost(`/orders/${NONEXISTENT}/cancel`, undefined),
    expect: notFound,
  },
]);

// ---------------- API: the status route's client secret
const statusOf = (name: string, query: string): Req => apiGet(`/orders/${order(name).id}/status${query}`, {});
add('api: status route client_secret', [
  { name: 'missing', req: () => statusOf('target', ''), expect: invalid('client_secret') },
  { name: 'empty', req: () => statusOf('target', '?client_secret='), expect: invalid('client_secret') },
  { name: 'wrong', req: () => statusOf('target', '?client_secret=src_client_secret_guess'), expect: notFound },
  {
    name: 'another order’s secret',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('alipay').clientSecret)}`),
    expect: notFound,
  },
  {
    name: 'the right secret with one character changed',
    req: () => {
      const s = order('target').clientSecret;
      return statusOf(
        'target',
        `?client_secret=${encodeURIComponent(`${s.slice(0, -1)}${s.endsWith('a') ? 'b' : 'a'}`)}`,
      );
    },
    expect: notFound,
  },
  {
    name: 'the right secret as a prefix of a longer one',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(`${order('target').clientSecret}x`)}`),
    expect: notFound,
  },
  {
    name: 'overlong (201 characters)',
    req: () => statusOf('target', `?client_secret=${'a'.repeat(201)}`),
    expect: invalid('client_secret'),
  },
  {
    name: 'an extra query parameter',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('target').clientSecret)}&debug=1`),
    expect: invalid(),
  },
  {
    name: 'the right secret for a well-formed id that does not exist',
    req: () =>
      apiGet(`/orders/${NONEXISTENT}/status?client_secret=${encodeURIComponent(order('target').clientSecret)}`, {}),
    expect: notFound,
  },
  {
    name: 'control: the right secret → the status, without the secret or the API key',
    req: () => statusOf('target', `?client_secret=${encodeURIComponent(order('target').clientSecret)}`),
    expect: { status: 200, kind: 'json' },
    check: (res) => {
      expect((JSON.parse(res.text) as { status: string }).status).toBe('pending');
      expect(res.text).not.toContain(order('target').clientSecret);
      expect(res.text).not.toContain('metadata');
    },
  },
]);

// ---------------- API: amounts
const amountCase = (name: string, amount: unknown): Omit<Case, 'category'> => ({
  name,
  req: () => createReq({ ...WECHAT, amount }),
  expect: invalid('amount'),
});
add('api: amount', [
  amountCase('negative', -1099),
  amountCase('zero', 0),
  amountCase('negative zero', -0),
  amountCase('fractional', 10.5),
  amountCase('1e9 (over Stripe’s eight digits)', 1e9),
  amountCase('1e20', 1e20),
  amountCase('the string "Infinity"', 'Infinity'),
  amountCase('a numeric string', '1099'),
  amountCase('null', null),
  amountCase('true', true),
  amountCase('an array', [1099]),
  amountCase('a NoSQL operator object', { $gt: 0 }),
  amountCase('below the currency minimum (1 cent)', 1),
  { name: 'missing', req: () => createReq({ currency: 'usd', paymentMethod: 'wechat' }), expect: invalid('amount') },
  {
    name: '1e400 in the raw JSON (Infinity once parsed)',
    req: () => createReq('{"amount": 1e400, "currency": "usd", "paymentMethod": "wechat"}'),
    expect: invalid('amount'),
  },
  {
    name: 'duplicate key, the last one negative',
    req: () => createReq('{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "amount": -5}'),
    expect: invalid('amount'),
  },
]);

// ---------------- API: currency, payment method, URLs
const createdOk = (check?: (o: OrderJson) => void): Pick<Case, 'expect' | 'accepted' | 'check'> => ({
  expect: { status: 201, kind: 'json' },
  accepted: { writes: true, sourcesCreated: 1 },
  check: async (res) => {
    const o = JSON.parse(res.text) as OrderJson;
    expect(o.id).toMatch(/^ord_[0-9A-HJKMNP-TV-Z]{26}$/);
    check?.(o);
    // The same order, read back.
    expect(await client.order(o.id)).toMatchObject({ id: o.id, amount: o.amount, currency: o.currency });
  },
});
add('api: currency, payment method and URLs', [
  { name: 'cny for wechat', req: () => createReq({ ...WECHAT, currency: 'cny' }), expect: invalid('currency') },
  { name: 'xxx', req: () => createReq({ ...WECHAT, currency: 'xxx' }), expect: invalid('currency') },
  { name: 'four letters', req: () => createReq({ ...WECHAT, currency: 'usdd' }), expect: invalid('currency') },
  { name: 'empty', req: () => createReq({ ...WECHAT, currency: '' }), expect: invalid('currency') },
  { name: 'a symbol', req: () => createReq({ ...WECHAT, currency: 'u$d' }), expect: invalid('currency') },
  { name: 'numeric ISO code', req: () => createReq({ ...WECHAT, currency: 840 }), expect: invalid('currency') },
  {
    name: 'USD in upper case: accepted and stored lower-case',
    req: () => createReq({ ...WECHAT, currency: 'USD' }),
    ...createdOk((o) => expect(o.currency).toBe('usd')),
  },
  {
    name: 'payment method card',
    req: () => createReq({ ...WECHAT, paymentMethod: 'card' }),
    expect: invalid('paymentMethod'),
  },
  {
    name: 'alipay without returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: undefined }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'javascript: returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: 'javascript:alert(document.cookie)' }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'file: returnUrl',
    req: () => createReq({ ...ALIPAY, returnUrl: 'file:///etc/passwd' }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'returnUrl over 2048 characters',
    req: () => createReq({ ...ALIPAY, returnUrl: `https://shop.example/${'a'.repeat(2100)}` }),
    expect: invalid('returnUrl'),
  },
  {
    name: 'statement descriptor of 33 characters',
    req: () => createReq({ ...WECHAT, statementDescriptor: 'S'.repeat(33) }),
    expect: invalid('statementDescriptor'),
  },
]);

// ---------------- API: metadata
const INJECTIONS: Record<string, string> = {
  sql: "'; DROP TABLE orders; --",
  xss: '<script>alert("x")</script><img src=x onerror=alert(1)>',
  template: ['$', '{7*7} {{7*7}} #{7*7} <%= 7*7 %>'].join(''),
  nosql: '{"$gt": ""}',
  ddb: 'attribute_exists(id) OR #s = :v',
  shell: '$(rm -rf /) `id` | cat /etc/passwd',
  crlf: 'a\r\nSet-Cookie: x=1',
  nul: 'before\u0000after',
  unicode: 'ñ 中文 😀 \u202E right-to-left \uFEFF',
  quotes: `"'\\`,
  empty: '',
};
add('api: metadata', [
  {
    name: 'injection strings are stored verbatim and returned as JSON strings (exact round-trip)',
    req: () => createReq({ ...WECHAT, metadata: INJECTIONS }),
    ...createdOk(),
    check: async (res) => {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      const o = JSON.parse(res.text) as OrderJson & { metadata: Record<string, string> };
      expect(o.metadata).toEqual(INJECTIONS);
      // Escaped the JSON way: quotes, backslashes and control characters never appear raw.
      expect(res.text).toContain('before\\u0000after');
      expect(res.text).toContain('a\\r\\nSet-Cookie');
      expect(res.text).toContain('\\"\'\\\\');
      const again = (await client.api('GET', `/orders/${o.id}`)).body as { metadata: Record<string, string> };
      expect(again.metadata).toEqual(INJECTIONS);
    },
  },
  {
    name: 'a 41-character key',
    req: () => createReq({ ...WECHAT, metadata: { [`k${'e'.repeat(40)}`]: 'v' } }),
    expect: invalid('metadata'),
  },
  {
    name: 'a 501-character value',
    req: () => createReq({ ...WECHAT, metadata: { note: 'v'.repeat(501) } }),
    expect: invalid('metadata'),
  },
  {
    name: '51 keys',
    req: () =>
      createReq({ ...WECHAT, metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }),
    expect: invalid('metadata'),
  },
  {
    name: 'the reserved key order_id (would hijack webhook routing)',
    req: () => createReq({ ...WECHAT, metadata: { order_id: order('target').id } }),
    expect: invalid('metadata'),
  },
  {
    name: 'a key with brackets (form-encoding injection into Stripe)',
    req: () => createReq({ ...WECHAT, metadata: { 'a][order_id': 'x' } }),
    expect: invalid('metadata'),
  },
  { name: 'an empty key', req: () => createReq({ ...WECHAT, metadata: { '': 'v' } }), expect: invalid('metadata') },
  { name: 'a numeric value', req: () => createReq({ ...WECHAT, metadata: { n: 1 } }), expect: invalid('metadata') },
  {
    name: 'a nested object value',
    req: () => createReq({ ...WECHAT, metadata: { n: { a: 'b' } } }),
    expect: invalid('metadata'),
  },
  { name: 'an array', req: () => createReq({ ...WECHAT, metadata: ['a', 'b'] }), expect: invalid('metadata') },
  { name: 'null', req: () => createReq({ ...WECHAT, metadata: null }), expect: invalid('metadata') },
]);

// ---------------- API: unknown fields and mass assignment
const extra = (name: string, fields: Record<string, unknown>): Omit<Case, 'category'> => ({
  name,
  req: () => createReq({ ...WECHAT, ...fields }),
  expect: invalid(),
});
add('api: unknown fields', [
  extra('status: paid', { status: 'paid' }),
  extra('id of an existing order', { id: NONEXISTENT }),
  extra('livemode: true', { livemode: true }),
  extra('clientSecret', { clientSecret: 'mine' }),
  extra('admin: true', { admin: true }),
  extra('a snake_case alias (payment_method)', { payment_method: 'wechat' }),
  {
    name: '__proto__ with a polluting payload',
    req: () =>
      createReq(`{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "__proto__": {"admin": true}}`),
    expect: invalid(),
  },
  {
    name: 'constructor.prototype',
    req: () =>
      createReq(
        '{"amount": 1099, "currency": "usd", "paymentMethod": "wechat", "constructor": {"prototype": {"x": 1}}}',
      ),
    expect: invalid(),
  },
]);

// ---------------- API: malformed bodies
const malformed: Expect = { status: 400, kind: 'error', code: 'MALFORMED_JSON' };
add('api: malformed body', [
  { name: 'an opening brace', req: () => createReq('{'), expect: malformed },
  { name: 'trailing comma', req: () => createReq('{"amount": 1099,}'), expect: malformed },
  { name: 'plain text', req: () => createReq('amount=1099'), expect: malformed },
  { name: 'empty body', req: () => apiPost('/orders', undefined), expect: malformed },
  { name: 'a UTF-8 BOM before the JSON', req: () => createReq(`\uFEFF${JSON.stringify(WECHAT)}`), expect: malformed },
  { name: 'invalid UTF-8 bytes', req: () => createReq(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), expect: malformed },
  { name: 'JSON array', req: () => createReq('[]'), expect: invalid() },
  { name: 'JSON array of an order', req: () => createReq(`[${JSON.stringify(WECHAT)}]`), expect: invalid() },
  { name: 'JSON number', req: () => createReq('1099'), expect: invalid() },
  { name: 'JSON string', req: () => createReq('"order"'), expect: invalid() },
  { name: 'JSON null', req: () => createReq('null'), expect: invalid() },
  { name: 'an empty object', req: () => createReq('{}'), expect: invalid('amount', 'currency', 'paymentMethod') },
  { name: '8,000 nested arrays', req: () => createReq(`${'['.repeat(8000)}${']'.repeat(8000)}`), expect: invalid() },
]);

// ---------------- API: content type
const createAs = (contentType: string | undefined, body = JSON.stringify(WECHAT)): Req => ({
  method: 'POST',
  path: '/orders',
  headers: { 'x-api-key': sandbox.apiKey, ...(contentType !== undefined ? { 'content-type': contentType } : {}) },
  body,
});
add('api: content type', [
  { name: 'text/plain', req: () => createAs('text/plain'), expect: unsupported },
  { name: 'no Content-Type', req: () => createAs(undefined), expect: unsupported },
  {
    name: 'form-encoded',
    req: () => createAs('application/x-www-form-urlencoded', 'amount=1099&currency=usd&paymentMethod=wechat'),
    expect: unsupported,
  },
  { name: 'multipart/form-data', req: () => createAs('multipart/form-data; boundary=x'), expect: unsupported },
  { name: 'application/json-patch+json', req: () => createAs('application/json-patch+json'), expect: unsupported },
  { name: 'text/html', req: () => createAs('text/html'), expect: unsupported },
]);

// ---------------- API: size
const apiTooLarge: Expect = { status: 413, kind: 'error', code: 'PAYLOAD_TOO_LARGE' };
add('api: oversized body', [
  {
    name: '16 KB + 1 byte',
    req: () => {
      const base = JSON.stringify({ ...WECHAT, metadata: { note: '' } });
      return createReq(base.replace('"note":""', `"note":"${'x'.repeat(16 * 1024 + 1 - base.length)}"`));
    },
    expect: apiTooLarge,
  },
  {
    name: '1 MB of whitespace around a valid order',
    req: () => createReq(`${' '.repeat(1024 * 1024)}${JSON.stringify(WECHAT)}`),
    expect: apiTooLarge,
  },
  {
    name: 'over API Gateway’s 10 MB: refused by the gateway',
    req: () => createReq(Buffer.alloc(10 * 1024 * 1024 + 1, 0x20)),
    expect: { status: 413, kind: 'gateway', message: 'Request Too Long' },
  },
]);

// ---------------- API: Idempotency-Key
const withKey = (key: string): Req => createReq(WECHAT, { 'idempotency-key': key });
add('api: Idempotency-Key', [
  { name: '256 characters', req: () => withKey('k'.repeat(256)), expect: invalid('Idempotency-Key') },
  { name: 'empty', req: () => withKey(''), expect: invalid('Idempotency-Key') },
  { name: 'a tab inside', req: () => withKey('key\twith\ttabs'), expect: invalid('Idempotency-Key') },
  { name: 'a space inside', req: () => withKey('key with spaces'), expect: invalid('Idempotency-Key') },
  {
    name: 'a non-ASCII byte',
    req: () => withKey('caf\u00e9'),
    expect: invalid('Idempotency-Key'),
  },
  {
    name: 'reused with another amount → 409, nothing of the first order disclosed',
    req: () => createReq({ ...WECHAT, amount: 5000 }, { 'idempotency-key': IDEMPOTENCY_KEY }),
    expect: { status: 409, kind: 'error', code: 'IDEMPOTENCY_KEY_REUSED' },
    check: (res) => {
      expect(res.text).not.toContain(order('idempotent').id);
      expect(res.text).not.toContain(order('idempotent').clientSecret);
      expect(res.text).not.toContain(order('idempotent').payment.sourceId);
    },
  },
]);

// ---------------- API: list query and routes
add('api: list query and routes', [
  { name: 'limit=1000', req: () => apiGet('/orders?limit=1000'), expect: invalid('limit') },
  { name: 'limit=-1', req: () => apiGet('/orders?limit=-1'), expect: invalid('limit') },
  { name: 'limit=abc', req: () => apiGet('/orders?limit=abc'), expect: invalid('limit') },
  { name: 'an unknown query parameter', req: () => apiGet('/orders?status=paid'), expect: invalid() },
  {
    name: 'DELETE an order',
    req: () => ({ method: 'DELETE', path: `/orders/${order('target').id}`, headers: API_HEADERS() }),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'PUT /orders',
    req: () => ({ ...createReq(WECHAT), method: 'PUT' }),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'GET the cancel route',
    req: () => apiGet(`/orders/${order('target').id}/cancel`),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
  {
    name: 'an extra path segment',
    req: () => apiPost(`/orders/${order('target').id}/cancel/now`, undefined),
    expect: { status: 404, kind: 'error', code: 'NOT_FOUND' },
  },
]);

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
  refunds: number;
  sources: number;
  events: number;
}

async function snapshot(): Promise<Snapshot> {
  const orders = new Map<string, string>();
  for (const o of fx.values()) {
    const r = await client.api('GET', `/orders/${o.id}`);
    expect(r.status).toBe(200);
    orders.set(o.id, JSON.stringify(r.body));
  }
  const s = stripeSim();
  return {
    orders,
    charges: s.charges().map((c) => JSON.stringify([c.id, c.status, c.refunded, c.amount_refunded])),
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
      // Side effects of the request itself: only an accepted webhook enqueues, and only once.
      expect(during.filter((n) => n === 'sqs:SendMessageCommand')).toHaveLength(a?.enqueued ?? 0);
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
      expect(after.refunds).toBe(before.refunds);
      expect(after.sources).toBe(before.sources + (a?.sourcesCreated ?? 0));
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
    expect(fixtureOrders.orders.size).toBe(fx.size);
    expect(sandbox.events.stats().failed).toBe(0);
    expect(sandbox.events.stats().records - processedAtStart).toBe(expectedProcessed);
    const n = CASES.length;
    const passed = [...results.values()].filter(Boolean).length;
    const failed = CASES.map(label).filter((l) => results.get(l) !== true);
    console.log(`security corpus: ${n} cases, ${passed} passed`);
    const perCategory = new Map<string, number>();
    for (const c of CASES) perCategory.set(c.category, (perCategory.get(c.category) ?? 0) + 1);
    console.log([...perCategory].map(([k, v]) => `  ${v.toString().padStart(3)}  ${k}`).join('\n'));
    expect(failed, `failed cases:\n${failed.join('\n')}`).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(100);
    expect(passed).toBe(n);
    expect(expectedProcessed).toBeGreaterThan(0);
  });
});
