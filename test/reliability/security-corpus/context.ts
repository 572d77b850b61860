/**
 * The hostile-input corpus (security.test.ts runs it): what a case is, the sandbox and the
 * fixture orders the cases use (set by the runner before any case runs), and the builders of
 * requests and Stripe events. The cases themselves are in webhook.ts and api.ts.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import Stripe from 'stripe';
import type { Sandbox } from '../../../scripts/sandbox/start.js';
import type { EventObj, PaymentIntentObj, SourceObj } from '../../../scripts/stripe-sim/index.js';
import type { IntentOrderJson, IntentPaymentJson, OrderJson, SandboxClient } from '../../support/sandbox-client.js';

// ------------------------------------------------------------------ types

export interface Req {
  method: string;
  /** Sent as-is on the request line (no normalisation, no re-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export type Expect =
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
export interface Accepted {
  /** SendMessage calls the request itself makes (the ingress enqueueing the event). */
  enqueued?: number;
  /** AWS writes are expected (creating an order, the worker applying an event). */
  writes?: boolean;
  /** Orders of this file that may change (by id, resolved when the case runs). */
  mutates?: () => string[];
  sourcesCreated?: number;
  /** PaymentIntents created (an accepted POST /orders on payment_intents). */
  intentsCreated?: number;
  chargesCreated?: number;
  /** Refunds Stripe makes in consequence (money that does not match the order). */
  refundsCreated?: number;
  /** Webhooks Stripe (the simulator) sends in consequence, which the worker also processes. */
  stripeWebhooks?: number;
}

export interface Case {
  category: string;
  name: string;
  req: () => Req;
  expect: Expect;
  accepted?: Accepted;
  /** Further assertions on the answer and the state once the worker is done. */
  check?: (res: Res, req: Req) => Promise<void> | void;
}

// ------------------------------------------------------------------ the sandbox

/** Set by the runner's beforeAll (`useSandbox`); the cases read them when they run. */
export let sandbox: Sandbox;
export let client: SandboxClient;
/** Only to sign webhooks with stripe-node's own generateTestHeaderString; no network. */
export const signer = new Stripe('sk_test_security_corpus', { telemetry: false });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const nowSec = () => Math.floor(sandbox.clock.now().getTime() / 1000);

export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------ fixtures

/** Sources orders name their API: the deployment default is payment_intents. */
export const WECHAT = { amount: 1099, currency: 'usd', paymentMethod: 'wechat', stripeApi: 'sources' };
export const ALIPAY = {
  amount: 1000,
  currency: 'cny',
  paymentMethod: 'alipay',
  returnUrl: 'https://shop.example/return',
  stripeApi: 'sources',
};
/** PaymentIntents orders: the default API, so the request names none. */
export const PI_WECHAT = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };
export const PI_ALIPAY = {
  amount: 1000,
  currency: 'cny',
  paymentMethod: 'alipay',
  returnUrl: 'https://shop.example/return',
};
export const IDEMPOTENCY_KEY = `sec-corpus-${randomUUID()}`;

/** Orders created for this file; `order(name)` throws before beforeAll. */
export const fx = new Map<string, OrderJson>();
export const order = (name: string): OrderJson => {
  const o = fx.get(name);
  if (!o) throw new Error(`fixture ${name} missing`);
  return o;
};
/** The `source.chargeable` the simulator emitted when the customer authorized order `replay`'s source; never delivered. */
export let genuine: EventObj;
export let genuinePayload: string;

/** PaymentIntents orders created for this file; `intentOrder(name)` throws before beforeAll. */
export const ifx = new Map<string, IntentOrderJson>();
export const intentOrder = (name: string): IntentOrderJson => {
  const o = ifx.get(name);
  if (!o) throw new Error(`fixture ${name} missing`);
  return o;
};
/** PaymentIntents fixtures the customer pays while the simulator delivers nothing. */
export const PAID_SILENTLY = ['piReplay', 'piAmount', 'piAmountString', 'piCurrency', 'piObjLivemode', 'piEvtLivemode'];
/** The `payment_intent.succeeded` of order `piReplay`, never delivered. */
export let genuinePi: EventObj;
export let genuinePiPayload: string;

export const NONEXISTENT = 'ord_01JZ0000000000000000000001';

/** The runner's beforeAll: the sandbox and its client, once started. */
export function useSandbox(s: Sandbox, c: SandboxClient): void {
  sandbox = s;
  client = c;
}

/** The runner's beforeAll: the genuine events it captured (never delivered). */
export function useGenuineEvents(source: EventObj, paymentIntent: EventObj): void {
  genuine = source;
  genuinePayload = JSON.stringify(source, null, 2);
  genuinePi = paymentIntent;
  genuinePiPayload = JSON.stringify(paymentIntent, null, 2);
}

export function stripeSim() {
  if (!sandbox.sim) throw new Error('the corpus needs the Stripe simulator');
  return sandbox.sim;
}

// ------------------------------------------------------------------ request builders

export const API_HEADERS = (): Record<string, string> => ({ 'x-api-key': sandbox.apiKey });
export const apiGet = (path: string, headers: Record<string, string> = API_HEADERS()): Req => ({
  method: 'GET',
  path,
  headers,
});
export const apiPost = (
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string> = {},
): Req => ({
  method: 'POST',
  path,
  headers: { ...API_HEADERS(), 'content-type': 'application/json', ...headers },
  ...(body !== undefined ? { body } : {}),
});
export const createReq = (body: unknown, headers: Record<string, string> = {}): Req =>
  apiPost('/orders', typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers);

export const sign = (payload: string, o: { secret?: string; t?: number } = {}) =>
  signer.webhooks.generateTestHeaderString({
    payload,
    secret: o.secret ?? sandbox.webhookSecret,
    timestamp: o.t ?? nowSec(),
  });
export const hook = (body: string | Buffer, headers: Record<string, string>): Req => ({
  method: 'POST',
  path: '/webhooks/stripe',
  headers,
  body,
});
/** `payload` signed now with the endpoint's secret, as Stripe sends it. */
export const signed = (payload: string, headers: Record<string, string> = {}): Req =>
  hook(payload, { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': sign(payload), ...headers });
export const unsigned = (body: string | Buffer, headers: Record<string, string>): Req =>
  hook(body, { 'content-type': 'application/json; charset=utf-8', ...headers });

export const hex = (n: number) =>
  Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
export const evtId = () => `evt_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`;

export function stripeEvent(type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}) {
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
export const wire = (e: unknown) => JSON.stringify(e, null, 2);

/** The simulator's source of a fixture order, as a `source.chargeable` would carry it. */
export function sourceOf(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const s = stripeSim()
    .sources()
    .find((x: SourceObj) => x.id === order(name).payment.sourceId);
  if (!s) throw new Error(`no source for ${name}`);
  return { ...(JSON.parse(JSON.stringify(s)) as Record<string, unknown>), status: 'chargeable', ...overrides };
}
/** A source nobody here created, shaped like ours. */
export const strangerSource = (metadata: unknown) =>
  sourceOf('target', { id: `src_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`, metadata });
/** A charge of a source nobody here created. */
export const strangerCharge = (metadata: unknown) => ({
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

export const ack = (extra: Record<string, unknown> = {}): Expect => ({
  status: 200,
  kind: 'json',
  body: { received: true, ...extra },
});
export const badSig: Expect = { status: 400, kind: 'error', code: 'INVALID_SIGNATURE' };
export const badEvent: Expect = { status: 400, kind: 'error', code: 'MALFORMED_EVENT' };
export const invalid = (...fields: string[]): Expect => ({
  status: 400,
  kind: 'error',
  code: 'VALIDATION_FAILED',
  fields,
});
export const badId: Expect = { status: 400, kind: 'error', code: 'INVALID_ORDER_ID' };
export const notFound: Expect = { status: 404, kind: 'error', code: 'ORDER_NOT_FOUND' };
export const unsupported: Expect = { status: 415, kind: 'error', code: 'UNSUPPORTED_MEDIA_TYPE' };
export const forbidden: Expect = { status: 403, kind: 'gateway', message: 'Forbidden' };

/** Checks for an event the ingress accepted and the worker processed. */
export const orderNow = (name: string) => client.order(order(name).id);
export const chargesOfOrder = (name: string) =>
  stripeSim()
    .charges()
    .filter((c) => c.source.id === order(name).payment.sourceId);

/** The simulator's PaymentIntent of a PaymentIntents fixture, as a `payment_intent.*` event carries it. */
export function intentOf(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const pi = stripeSim()
    .paymentIntents()
    .find((x: PaymentIntentObj) => x.id === intentOrder(name).payment.paymentIntentId);
  if (!pi) throw new Error(`no PaymentIntent for ${name}`);
  return { ...(JSON.parse(JSON.stringify(pi)) as Record<string, unknown>), ...overrides };
}
export const strangerIntentId = () => `pi_sec${randomUUID().replaceAll('-', '').slice(0, 18)}`;
/** A PaymentIntent nobody here created, shaped like ours, in `status`. */
export const strangerIntent = (metadata: unknown, status: string, extra: Record<string, unknown> = {}) =>
  intentOf('piTarget', { id: strangerIntentId(), metadata, status, ...extra });
/** A succeeded PaymentIntent nobody here created, with its (made-up) charge. */
export const strangerPaidIntent = (metadata: unknown) =>
  strangerIntent(metadata, 'succeeded', {
    amount_received: 1099,
    latest_charge: `ch_sec${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    next_action: null,
  });
export const intentOrderNow = (name: string) => client.order<IntentPaymentJson>(intentOrder(name).id);
export const refundsOfIntent = (name: string) =>
  stripeSim()
    .refunds()
    .filter((r) => r.payment_intent === intentOrder(name).payment.paymentIntentId);
export const intentStatus = (name: string) => intentOf(name).status;

export function signedWith(payload: string, secret: string): Req {
  return unsigned(payload, { 'stripe-signature': sign(payload, { secret }) });
}

// ------------------------------------------------------------------ the corpus

export const CASES: Case[] = [];
export const add = (category: string, cases: Omit<Case, 'category'>[]) => {
  for (const c of cases) CASES.push({ category, ...c });
};
