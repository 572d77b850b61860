/**
 * PaymentIntents (wechat_pay, alipay) in the offline Stripe simulator, driven through
 * stripe-node 23.1 (API 2026-10-28.endive) over real HTTP, webhooks verified with stripe-node's
 * own `stripe.webhooks.constructEvent`.
 *
 * Why: the orchestrator's PaymentIntents path trusts the simulator to behave like Stripe:
 * create + confirm with the next action of each WeChat Pay client and of Alipay
 * (https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 * https://docs.stripe.com/payments/alipay/accept-a-payment), `payment_method_types` refused at
 * the pinned version, idempotent replays, the customer authorizing or declining, Stripe
 * expiring the attempt, cancel and its `payment_intent_unexpected_state`
 * (https://docs.stripe.com/api/payment_intents/cancel), refunds by PaymentIntent, Alipay's
 * return redirect, faults, and every accepted request conforming to the OpenAPI subset in
 * scripts/stripe-sim/spec/ plus its x-known-gaps.
 */

import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readKnownGaps } from '../../scripts/stripe-sim/gaps.js';
import type { ApiRequestRecord, EventObj, PaymentIntentObj, SimClock } from '../../scripts/stripe-sim/index.js';
import { encodeForm } from '../../scripts/stripe-sim/index.js';
import { findSpecPath, loadSpec, PAYMENT_INTENTS_SPEC_FILE } from '../../scripts/stripe-sim/openapi.js';
import {
  nonConformingRequests,
  type SimForTest,
  startSimForTest,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '../support/stripe-sim.js';

class ManualClock implements SimClock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

const gaps = readKnownGaps(loadSpec(findSpecPath({}, PAYMENT_INTENTS_SPEC_FILE)));

let t: SimForTest;
let hooks: WebhookReceiver;

async function start(opts: Parameters<typeof startSimForTest>[0] = {}): Promise<void> {
  hooks = await startWebhookReceiver();
  t = await startSimForTest({ webhookUrl: hooks.url, ...opts });
}

afterEach(async () => {
  if (t) await expectAcceptedRequestsConform();
  await t?.close();
  await hooks?.close();
});

/** Every request the simulator accepted conforms to its OpenAPI subset plus exactly the known gaps. */
async function expectAcceptedRequestsConform(): Promise<void> {
  expect(await nonConformingRequests(t.sim)).toEqual([]);
}

function verified(): EventObj[] {
  return hooks.received.map(
    (r) => t.stripe.webhooks.constructEvent(r.rawBody, r.signature ?? '', t.webhookSecret) as unknown as EventObj,
  );
}

/** The PaymentIntent an event is about. */
function piOf(e: EventObj): string | undefined {
  const o = e.data.object as { object: string; id: string; payment_intent?: string | null };
  return o.object === 'payment_intent' ? o.id : (o.payment_intent ?? undefined);
}

function eventTypesOf(piId: string): string[] {
  return verified()
    .filter((e) => piOf(e) === piId)
    .map((e) => e.type);
}

function waitForEvent(type: string, piId: string): Promise<EventObj> {
  return waitFor(() => verified().find((e) => e.type === type && piOf(e) === piId), 5000, `${type} for ${piId}`);
}

async function caught(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (e) {
    return e as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

function control(path: string, body?: unknown) {
  return fetch(`${t.sim.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

function rawPost(path: string, form: Record<string, unknown>) {
  return fetch(`${t.sim.url}${path}`, {
    method: 'POST',
    headers: { Authorization: 'Bearer sk_test_sim', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: encodeForm(form),
  });
}

function pagePost(pi: { id: string; client_secret: string | null }, action: 'authorize' | 'decline') {
  return fetch(`${t.sim.url}/authorize/${pi.id}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `client_secret=${pi.client_secret}&action=${action}`,
    redirect: 'manual',
  });
}

function wechatPay(
  extra: Partial<Stripe.PaymentIntentCreateParams> = {},
  opts?: Stripe.RequestOptions,
): Promise<Stripe.Response<Stripe.PaymentIntent>> {
  return t.stripe.paymentIntents.create(
    {
      amount: 1099,
      currency: 'cny',
      confirm: true,
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
      payment_method_options: { wechat_pay: { client: 'web' } },
      metadata: { order_id: 'ord_pi_1' },
      ...extra,
    },
    opts,
  );
}

const RETURN_URL = 'http://shop.test/orders/ord_pi_2/return?from=alipay';

function alipay(extra: Partial<Stripe.PaymentIntentCreateParams> = {}): Promise<Stripe.Response<Stripe.PaymentIntent>> {
  return t.stripe.paymentIntents.create({
    amount: 5000,
    currency: 'cny',
    confirm: true,
    allowed_payment_method_types: ['alipay'],
    payment_method_data: { type: 'alipay' },
    return_url: RETURN_URL,
    metadata: { order_id: 'ord_pi_2' },
    ...extra,
  });
}

const pageOf = (pi: { id: string; client_secret: string | null }) =>
  `${t.sim.url}/authorize/${pi.id}?client_secret=${pi.client_secret}`;

/** The QR code in a PNG, as dark/light modules, found from the top-left finder pattern. */
function modulesOfPng(png: Buffer): boolean[][] {
  let at = 8;
  let width = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      expect([data[8], data[9]]).toEqual([1, 0]); // 1-bit grayscale
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = Math.ceil(width / 8);
  const dark = (x: number, y: number) => ((raw[y * (rowBytes + 1) + 1 + (x >> 3)] ?? 0) & (0x80 >> (x & 7))) === 0;
  let origin = 0;
  while (!dark(origin, origin)) origin++;
  let finder = 0;
  while (dark(origin + finder, origin)) finder++;
  const scale = finder / 7;
  const size = Math.round((width - 2 * origin) / scale);
  return Array.from({ length: size }, (_, r) =>
    Array.from({ length: size }, (_, c) => dark(origin + c * scale + scale / 2, origin + r * scale + scale / 2)),
  );
}

function qrModules(text: string): boolean[][] {
  const m = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  return Array.from({ length: m.size }, (_, r) => Array.from({ length: m.size }, (_, c) => m.get(r, c) === 1));
}

describe('create and confirm', () => {
  beforeEach(() => start());

  it('wechat_pay on the web: requires_action with a QR code of the simulator’s authorization page', async () => {
    const pi = await wechatPay();
    expect(pi.id).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_[A-Za-z0-9]+$`));
    expect(pi).toMatchObject({
      object: 'payment_intent',
      status: 'requires_action',
      amount: 1099,
      amount_received: 0,
      currency: 'cny',
      livemode: false,
      metadata: { order_id: 'ord_pi_1' },
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_types: ['wechat_pay'],
      payment_method_options: { wechat_pay: { app_id: null, client: 'web' } },
      last_payment_error: null,
      latest_charge: null,
      canceled_at: null,
    });
    expect(pi).not.toHaveProperty('invoice');
    expect(pi.payment_method).toMatch(/^pm_[A-Za-z0-9]{24}$/);
    const qr = pi.next_action?.wechat_pay_display_qr_code;
    expect(pi.next_action?.type).toBe('wechat_pay_display_qr_code');
    expect(qr).toEqual({
      data: pageOf(pi),
      hosted_instructions_url: pageOf(pi),
      image_data_url: expect.stringMatching(/^data:image\/png;base64,/),
      image_url_png: `${t.sim.url}/qr/${pi.id}.png`,
      image_url_svg: `${t.sim.url}/qr/${pi.id}.svg`,
    });
    expect(qr?.image_data_url.length).toBeLessThanOrEqual(5000);
    // The image is a real QR code of `data`, and the served PNG / SVG are the same code.
    const png = Buffer.from(qr?.image_data_url.split(',')[1] ?? '', 'base64');
    expect(modulesOfPng(png)).toEqual(qrModules(qr?.data ?? ''));
    const served = await fetch(qr?.image_url_png ?? '');
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(modulesOfPng(Buffer.from(await served.arrayBuffer()))).toEqual(qrModules(qr?.data ?? ''));
    const svg = await fetch(qr?.image_url_svg ?? '');
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(await svg.text()).toMatch(/^<svg /);
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', pi)).toEqual([]);

    const again = await t.stripe.paymentIntents.retrieve(pi.id);
    expect(again.status).toBe('requires_action');
    expect(again.next_action).toEqual(pi.next_action);
    const pm = await t.stripe.paymentMethods.retrieve(pi.payment_method as string);
    expect(pm).toMatchObject({ id: pi.payment_method, object: 'payment_method', type: 'wechat_pay', wechat_pay: {} });
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_method', pm)).toEqual([]);

    const event = await waitForEvent('payment_intent.requires_action', pi.id);
    expect(event.request.id).toBe(pi.lastResponse.requestId);
    expect(event.data.object).toMatchObject({
      id: pi.id,
      status: 'requires_action',
      metadata: { order_id: 'ord_pi_1' },
    });

    const page = await (await fetch(qr?.data ?? '')).text();
    expect(page).toMatch(/<button[^>]*id="authorize"/);
    expect(page).toMatch(/<button[^>]*id="decline"/);
    expect(page).toContain('10.99 CNY');
  });

  it('wechat_pay without a client is the web flow (the client is optional at the pinned version)', async () => {
    const pi = await wechatPay({ payment_method_options: undefined });
    expect(pi.next_action?.type).toBe('wechat_pay_display_qr_code');
    expect(pi.payment_method_options?.wechat_pay).toEqual({ app_id: null, client: null });
  });

  it('wechat_pay in an iOS or Android app: the app redirect next actions, app_id required', async () => {
    const ios = await wechatPay({ payment_method_options: { wechat_pay: { client: 'ios', app_id: 'wx_app_1' } } });
    expect(ios.next_action).toEqual({
      type: 'wechat_pay_redirect_to_ios_app',
      wechat_pay_redirect_to_ios_app: { native_url: pageOf(ios) },
    });
    const android = await wechatPay({
      payment_method_options: { wechat_pay: { client: 'android', app_id: 'wx_app_1' } },
    });
    expect(android.next_action?.type).toBe('wechat_pay_redirect_to_android_app');
    expect(android.next_action?.wechat_pay_redirect_to_android_app).toEqual({
      app_id: 'wx_app_1',
      nonce_str: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
      package: 'Sign=WXPay',
      partner_id: expect.stringMatching(/^\d{10}$/),
      prepay_id: expect.stringMatching(/^wx\d{14}[a-z0-9]+$/),
      sign: expect.stringMatching(/^[0-9A-F]{64}$/),
      timestamp: expect.stringMatching(/^\d+$/),
    });
    expect(android.payment_method_options?.wechat_pay).toEqual({ app_id: 'wx_app_1', client: 'android' });
    for (const pi of [ios, android]) expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', pi)).toEqual([]);

    const noApp = await caught(wechatPay({ payment_method_options: { wechat_pay: { client: 'android' } } }));
    expect(noApp).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(noApp.code).toBe('parameter_missing');
    expect(noApp.param).toBe('payment_method_options[wechat_pay][app_id]');
    expect(t.sim.paymentIntents()).toHaveLength(2);
  });

  it('alipay: alipay_handle_redirect to the simulator’s page, return_url required', async () => {
    const pi = await alipay();
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action).toEqual({
      type: 'alipay_handle_redirect',
      alipay_handle_redirect: { native_data: null, native_url: null, return_url: RETURN_URL, url: pageOf(pi) },
    });
    expect(pi.payment_method_options).toEqual({ alipay: {} });
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', pi)).toEqual([]);
    const pm = await t.stripe.paymentMethods.retrieve(pi.payment_method as string);
    expect(pm).toMatchObject({ type: 'alipay', alipay: {} });

    const noReturn = await caught(alipay({ return_url: undefined }));
    expect(noReturn.code).toBe('parameter_missing');
    expect(noReturn.param).toBe('return_url');
    expect(t.sim.paymentIntents()).toHaveLength(1);
  });

  it('refuses payment_method_types (removed at 2026-09-30.endive) on create and confirm; accepts no unknown parameter', async () => {
    const params = {
      amount: 1099,
      currency: 'cny',
      payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
      confirm: true,
    } as unknown as Stripe.PaymentIntentCreateParams;
    const err = await caught(t.stripe.paymentIntents.create(params));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.type).toBe('StripeInvalidRequestError');
    expect(err.code).toBe('payment_method_types_no_longer_supported');
    expect(err.param).toBe('payment_method_types');
    expect(err.message).toContain('allowed_payment_method_types');
    expect(t.sim.paymentIntents()).toEqual([]);

    const pi = await t.stripe.paymentIntents.create({ amount: 1099, currency: 'cny' });
    const onConfirm = await rawPost(`/v1/payment_intents/${pi.id}/confirm`, { payment_method_types: ['alipay'] });
    expect(onConfirm.status).toBe(400);
    expect(((await onConfirm.json()) as { error: unknown }).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'payment_method_types_no_longer_supported',
    });

    // In stripe-node 23.1's types but in neither the 2023 subset nor its known gaps.
    const unknown = await rawPost('/v1/payment_intents', {
      amount: 1,
      currency: 'cny',
      excluded_payment_method_types: ['card'],
    });
    expect(((await unknown.json()) as { error: unknown }).error).toMatchObject({
      code: 'parameter_unknown',
      param: 'excluded_payment_method_types',
    });
  });

  it('confirm=false, then POST /v1/payment_intents/{id}/confirm', async () => {
    const bare = await t.stripe.paymentIntents.create({ amount: 2000, currency: 'cny', metadata: { order_id: 'o3' } });
    expect(bare).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      next_action: null,
      allowed_payment_method_types: null,
      payment_method_types: ['wechat_pay', 'alipay'],
    });
    const noMethod = await caught(t.stripe.paymentIntents.confirm(bare.id));
    expect(noMethod.code).toBe('parameter_missing');
    const confirmed = await t.stripe.paymentIntents.confirm(bare.id, {
      payment_method_data: { type: 'alipay' },
      return_url: RETURN_URL,
    });
    expect(confirmed.status).toBe('requires_action');
    expect(confirmed.next_action?.type).toBe('alipay_handle_redirect');
    await waitForEvent('payment_intent.requires_action', bare.id);

    const withMethod = await t.stripe.paymentIntents.create({
      amount: 2000,
      currency: 'cny',
      allowed_payment_method_types: ['wechat_pay'],
      payment_method_data: { type: 'wechat_pay' },
    });
    expect(withMethod.status).toBe('requires_confirmation');
    expect(withMethod.payment_method).toMatch(/^pm_/);
    expect(eventTypesOf(withMethod.id)).toEqual([]);
    const wrongType = await caught(
      t.stripe.paymentIntents.confirm(withMethod.id, {
        payment_method_data: { type: 'alipay' },
        return_url: RETURN_URL,
      }),
    );
    expect(wrongType.code).toBe('payment_intent_incompatible_payment_method');
    const ok = await t.stripe.paymentIntents.confirm(withMethod.id, {
      payment_method_options: { wechat_pay: { client: 'web' } },
    });
    expect(ok).toMatchObject({ status: 'requires_action', payment_method: withMethod.payment_method });

    const early = await caught(t.stripe.paymentIntents.create({ amount: 1, currency: 'cny', return_url: RETURN_URL }));
    expect(early.param).toBe('return_url');
    const currency = await caught(wechatPay({ currency: 'myr' }));
    expect(currency.param).toBe('currency');
  });

  it('statement_descriptor: kept on the PaymentIntent and its charge, within Stripe’s rules', async () => {
    const pi = await wechatPay({ statement_descriptor: 'ORCHESTRATOR TEST' });
    expect(pi.statement_descriptor).toBe('ORCHESTRATOR TEST');
    t.sim.authorizePaymentIntent(pi.id);
    expect(t.sim.paymentIntentCharges()[0]).toMatchObject({
      statement_descriptor: 'ORCHESTRATOR TEST',
      calculated_statement_descriptor: 'ORCHESTRATOR TEST',
    });
    for (const bad of ['12345', 'SHOP *SALE', 'A'.repeat(23)]) {
      const err = await caught(wechatPay({ statement_descriptor: bad }));
      expect(err.param, bad).toBe('statement_descriptor');
      expect(err.statusCode, bad).toBe(400);
    }
    expect(t.sim.paymentIntents()).toHaveLength(1);
  });

  it('replays an idempotent create and refuses the key with other parameters', async () => {
    const first = await wechatPay({}, { idempotencyKey: 'pi-ord_pi_1' });
    const again = await wechatPay({}, { idempotencyKey: 'pi-ord_pi_1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(t.sim.paymentIntents()).toHaveLength(1);
    expect(t.sim.paymentMethods()).toHaveLength(1);

    const other = await caught(wechatPay({ amount: 2000 }, { idempotencyKey: 'pi-ord_pi_1' }));
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(other.statusCode).toBe(400);

    const cancel = () =>
      t.stripe.paymentIntents.cancel(first.id, { cancellation_reason: 'abandoned' }, { idempotencyKey: 'cancel-1' });
    const canceled = await cancel();
    const replayed = await cancel();
    expect(replayed.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(replayed.canceled_at).toBe(canceled.canceled_at);
    await waitForEvent('payment_intent.canceled', first.id);
    expect(eventTypesOf(first.id)).toEqual(['payment_intent.requires_action', 'payment_intent.canceled']);
  });
});

describe('the customer and Stripe after confirmation', () => {
  beforeEach(() => start());

  it('authorize → succeeded with one charge, then payment_intent.succeeded and charge.succeeded', async () => {
    const pi = await wechatPay();
    const res = await control(`/_sim/payment_intents/${pi.id}/authorize`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as PaymentIntentObj).status).toBe('succeeded');

    const paid = await t.stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    expect(paid).toMatchObject({ status: 'succeeded', amount_received: 1099, next_action: null });
    const charge = paid.latest_charge as Stripe.Charge;
    expect(charge.id).toMatch(/^ch_[A-Za-z0-9]{24}$/);
    expect(charge).toMatchObject({
      object: 'charge',
      amount: 1099,
      amount_captured: 1099,
      currency: 'cny',
      paid: true,
      captured: true,
      status: 'succeeded',
      payment_intent: pi.id,
      payment_method: pi.payment_method,
      metadata: { order_id: 'ord_pi_1' },
      source: null,
      payment_method_details: { type: 'wechat_pay', wechat_pay: { fingerprint: null } },
    });
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', paid)).toEqual([]);
    expect(t.sim.paymentIntentsSpec.conformsTo('charge', charge)).toEqual([]);
    expect((await t.stripe.charges.retrieve(charge.id)).payment_intent).toBe(pi.id);
    expect((await t.stripe.charges.list({ payment_intent: pi.id })).data.map((c) => c.id)).toEqual([charge.id]);
    expect(t.sim.paymentIntentCharges()).toHaveLength(1);
    expect(t.sim.charges()).toEqual([]);

    await waitForEvent('charge.succeeded', pi.id);
    expect(eventTypesOf(pi.id)).toEqual([
      'payment_intent.requires_action',
      'payment_intent.succeeded',
      'charge.succeeded',
    ]);
    const succeeded = verified().find((e) => e.type === 'payment_intent.succeeded');
    expect(succeeded?.data.object).toMatchObject({ status: 'succeeded', latest_charge: charge.id });
    expect((await control(`/_sim/payment_intents/${pi.id}/authorize`)).status).toBe(409);
  });

  it('the authorization page plays the customer too', async () => {
    const pi = await wechatPay();
    const res = await pagePost(pi, 'authorize');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-status="succeeded"');
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(await (await fetch(pageOf(pi))).text()).not.toContain('id="authorize"');
    expect((await fetch(`${t.sim.url}/authorize/${pi.id}?client_secret=nope`)).status).toBe(403);
  });

  it('through processing: pending charge, then succeeded or failed', async () => {
    const a = await wechatPay();
    expect(t.sim.authorizePaymentIntent(a.id, { processing: true }).status).toBe('processing');
    const pending = t.sim.paymentIntentCharges()[0];
    expect(pending).toMatchObject({ status: 'pending', paid: false, payment_intent: a.id });
    const settled = await control(`/_sim/payment_intents/${a.id}/succeed`);
    expect(((await settled.json()) as PaymentIntentObj).status).toBe('succeeded');
    expect((await t.stripe.charges.retrieve(pending?.id ?? '')).status).toBe('succeeded');
    await waitForEvent('charge.succeeded', a.id);
    expect(eventTypesOf(a.id)).toEqual([
      'payment_intent.requires_action',
      'payment_intent.processing',
      'charge.pending',
      'payment_intent.succeeded',
      'charge.succeeded',
    ]);

    const b = await alipay();
    await control(`/_sim/payment_intents/${b.id}/authorize`, { processing: true });
    const failed = await control(`/_sim/payment_intents/${b.id}/fail_processing`);
    const body = (await failed.json()) as PaymentIntentObj;
    expect(body).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      last_payment_error: { code: 'payment_intent_payment_attempt_failed', type: 'card_error' },
    });
    expect((await t.stripe.charges.retrieve(body.last_payment_error?.charge ?? '')).status).toBe('failed');
    await waitForEvent('charge.failed', b.id);
    expect(eventTypesOf(b.id).slice(-2)).toEqual(['payment_intent.payment_failed', 'charge.failed']);
  });

  it('decline → requires_payment_method with payment_intent_payment_attempt_failed; a new attempt can follow', async () => {
    const pi = await wechatPay();
    const res = await control(`/_sim/payment_intents/${pi.id}/fail`);
    expect(res.status).toBe(200);
    const failed = await t.stripe.paymentIntents.retrieve(pi.id);
    expect(failed).toMatchObject({
      status: 'requires_payment_method',
      next_action: null,
      payment_method: null,
      latest_charge: null,
      last_payment_error: {
        type: 'card_error',
        code: 'payment_intent_payment_attempt_failed',
        doc_url: 'https://stripe.com/docs/error-codes/payment-intent-payment-attempt-failed',
        message: expect.any(String),
        payment_method: { id: pi.payment_method, object: 'payment_method', type: 'wechat_pay' },
      },
    });
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', failed)).toEqual([]);
    const event = await waitForEvent('payment_intent.payment_failed', pi.id);
    expect(event.data.object).toMatchObject({ status: 'requires_payment_method' });
    expect(t.sim.paymentIntentCharges()).toEqual([]);

    const retry = await t.stripe.paymentIntents.confirm(pi.id, { payment_method_data: { type: 'wechat_pay' } });
    expect(retry).toMatchObject({ status: 'requires_action', last_payment_error: null });
    expect(retry.payment_method).not.toBe(pi.payment_method);
  });

  it('Stripe expires the attempt: by control, and by the sweep after paymentAttemptExpirySeconds', async () => {
    const pi = await wechatPay();
    const expired = (await (await control(`/_sim/payment_intents/${pi.id}/expire`)).json()) as PaymentIntentObj;
    expect(expired).toMatchObject({
      status: 'requires_payment_method',
      next_action: null,
      last_payment_error: { type: 'card_error', code: 'payment_intent_payment_attempt_expired' },
    });
    await waitForEvent('payment_intent.payment_failed', pi.id);

    await expectAcceptedRequestsConform();
    await t.close();
    await hooks.close();
    await start({
      clock: new ManualClock(Date.parse('2026-11-02T10:00:00Z')),
      paymentAttemptExpirySeconds: 3600,
      expiryIntervalMs: 0,
    });
    const late = await alipay();
    await t.sim.advance(3599);
    expect((await t.stripe.paymentIntents.retrieve(late.id)).status).toBe('requires_action');
    await t.sim.advance(1);
    const after = await t.stripe.paymentIntents.retrieve(late.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('payment_intent_payment_attempt_expired');
    const event = await waitForEvent('payment_intent.payment_failed', late.id);
    expect(event.created).toBe(late.created + 3600);
  });

  it('cancel: canceled with reason and time; after success refused with payment_intent_unexpected_state', async () => {
    const open = await wechatPay();
    const canceled = await t.stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned', next_action: null });
    expect(canceled.canceled_at).toBeGreaterThanOrEqual(open.created);
    expect(canceled.canceled_at).toBeLessThanOrEqual(Math.floor(t.sim.now().getTime() / 1000));
    await waitForEvent('payment_intent.canceled', open.id);
    const twice = await caught(t.stripe.paymentIntents.cancel(open.id));
    expect(twice.code).toBe('payment_intent_unexpected_state');
    const confirmCanceled = await caught(t.stripe.paymentIntents.confirm(open.id));
    expect(confirmCanceled.code).toBe('payment_intent_unexpected_state');
    expect((await control(`/_sim/payment_intents/${open.id}/authorize`)).status).toBe(409);

    const unconfirmed = await t.stripe.paymentIntents.create({ amount: 10, currency: 'cny' });
    expect((await t.stripe.paymentIntents.cancel(unconfirmed.id)).cancellation_reason).toBeNull();

    const paid = await wechatPay();
    t.sim.authorizePaymentIntent(paid.id);
    const refused = await caught(t.stripe.paymentIntents.cancel(paid.id, { cancellation_reason: 'duplicate' }));
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe('payment_intent_unexpected_state');
    expect(refused.doc_url).toBe('https://stripe.com/docs/error-codes/payment-intent-unexpected-state');
    expect(refused.payment_intent).toMatchObject({ id: paid.id, status: 'succeeded' });
    expect(t.sim.paymentIntentsSpec.conformsTo('payment_intent', refused.payment_intent)).toEqual([]);
    expect((await t.stripe.paymentIntents.retrieve(paid.id)).status).toBe('succeeded');
  });

  it('Alipay returns the customer to return_url with payment_intent, its client secret and redirect_status', async () => {
    const ok = await alipay();
    const res = await pagePost(ok, 'authorize');
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('http://shop.test/orders/ord_pi_2/return');
    expect(Object.fromEntries(back.searchParams)).toEqual({
      from: 'alipay',
      payment_intent: ok.id,
      payment_intent_client_secret: ok.client_secret,
      redirect_status: 'succeeded',
    });
    expect((await t.stripe.paymentIntents.retrieve(ok.id)).status).toBe('succeeded');

    const no = await alipay();
    const declined = await pagePost(no, 'decline');
    expect(declined.status).toBe(303);
    const failedBack = new URL(declined.headers.get('location') ?? '');
    expect(failedBack.searchParams.get('redirect_status')).toBe('failed');
    expect(failedBack.searchParams.get('payment_intent')).toBe(no.id);
    expect((await t.stripe.paymentIntents.retrieve(no.id)).status).toBe('requires_payment_method');
    await waitForEvent('payment_intent.payment_failed', no.id);
  });
});

describe('state and reset', () => {
  beforeEach(() => start());

  it('/_sim/state lists PaymentIntents, their charges and payment methods; reset() forgets them', async () => {
    const pi = await wechatPay();
    t.sim.authorizePaymentIntent(pi.id);
    const state = (await (await fetch(`${t.sim.url}/_sim/state`)).json()) as Record<string, { id: string }[]>;
    expect(state.payment_intents?.map((x) => x.id)).toEqual([pi.id]);
    expect(state.payment_intent_charges?.map((x) => x.id)).toEqual([t.sim.paymentIntentCharges()[0]?.id]);
    expect(state.payment_methods?.map((x) => x.id)).toEqual([pi.payment_method]);
    expect(state.charges).toEqual([]);
    expect(state.requests?.length).toBeGreaterThan(0);
    expect((await control('/_sim/reset')).status).toBe(200);
    expect(t.sim.paymentIntents()).toEqual([]);
    expect(t.sim.paymentMethods()).toEqual([]);
    expect(t.sim.paymentIntentCharges()).toEqual([]);
    expect(t.sim.requests()).toEqual([]);
    expect((await caught(t.stripe.paymentIntents.retrieve(pi.id))).statusCode).toBe(404);
  });
});

describe('refunds by payment_intent', () => {
  beforeEach(() => start());

  async function paidIntent(): Promise<Stripe.PaymentIntent> {
    const pi = await wechatPay();
    t.sim.authorizePaymentIntent(pi.id);
    return t.stripe.paymentIntents.retrieve(pi.id);
  }

  it('refunds the whole latest charge', async () => {
    const pi = await paidIntent();
    const refund = await t.stripe.refunds.create({ payment_intent: pi.id, metadata: { order_id: 'ord_pi_1' } });
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 1099,
      currency: 'cny',
      charge: pi.latest_charge,
      payment_intent: pi.id,
      payment_method: pi.payment_method,
      status: 'succeeded',
      metadata: { order_id: 'ord_pi_1' },
    });
    expect(t.sim.paymentIntentsSpec.conformsTo('refund', refund)).toEqual([]);
    const charge = await t.stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 1099, refunded: true });
    const event = await waitForEvent('charge.refunded', pi.id);
    expect(event.data.object).toMatchObject({ id: charge.id, refunded: true, metadata: { order_id: 'ord_pi_1' } });
    expect(eventTypesOf(pi.id)).toEqual([
      'payment_intent.requires_action',
      'payment_intent.succeeded',
      'charge.succeeded',
      'charge.refunded',
    ]);
    expect((await t.stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('partially, then the rest, then refuses; refuses a PaymentIntent without a successful charge', async () => {
    const pi = await paidIntent();
    const part = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 300 }, { idempotencyKey: 'r-1' });
    const replay = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 300 }, { idempotencyKey: 'r-1' });
    expect(replay.id).toBe(part.id);
    const tooMuch = await caught(t.stripe.refunds.create({ payment_intent: pi.id, amount: 800 }));
    expect(tooMuch.code).toBe('amount_too_large');
    const rest = await t.stripe.refunds.create({ charge: pi.latest_charge as string });
    expect(rest).toMatchObject({ amount: 799, payment_intent: pi.id });
    expect((await t.stripe.charges.retrieve(pi.latest_charge as string)).amount_refunded).toBe(1099);
    const again = await caught(t.stripe.refunds.create({ payment_intent: pi.id }));
    expect(again.code).toBe('charge_already_refunded');
    expect(t.sim.refunds().map((r) => r.amount)).toEqual([300, 799]);

    const open = await wechatPay();
    const notPaid = await caught(t.stripe.refunds.create({ payment_intent: open.id }));
    expect(notPaid.code).toBe('charge_not_refundable');
    const missing = await caught(t.stripe.refunds.create({ payment_intent: 'pi_nope' }));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('resource_missing');
  });
});

describe('faults on PaymentIntent endpoints', () => {
  beforeEach(() => start());

  it('apply by path, and can be scoped to PaymentIntent ids', async () => {
    t.sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/payment_intents'] });
    const err = await caught(wechatPay());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(t.sim.paymentIntents()).toEqual([]);
    t.sim.setFaults({ rate: 0, paths: [] });

    const a = await wechatPay();
    const b = await wechatPay();
    t.sim.authorizePaymentIntent(a.id);
    const set = await control('/_sim/faults', { rate: 1, modes: ['429'], payment_intents: [a.id] });
    expect(await set.json()).toMatchObject({ rate: 1, paymentIntents: [a.id] });
    const limited = await caught(t.stripe.paymentIntents.retrieve(a.id));
    expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((await caught(t.stripe.refunds.create({ payment_intent: a.id }))).statusCode).toBe(429);
    const charge = t.sim.paymentIntentCharges()[0]?.id ?? '';
    expect((await caught(t.stripe.charges.retrieve(charge))).statusCode).toBe(429);
    expect((await caught(t.stripe.refunds.create({ charge }))).statusCode).toBe(429);
    expect((await t.stripe.paymentIntents.retrieve(b.id)).status).toBe('requires_action');
    expect((await t.stripe.paymentIntents.cancel(b.id)).status).toBe('canceled');
    expect(t.sim.refunds()).toEqual([]);
  });

  it('a lost answer ran the request: the retry with the same key replays it', async () => {
    t.sim.setFaults({ rate: 1, modes: ['lost'], paths: ['POST /v1/payment_intents'] });
    const lost = await caught(wechatPay({}, { idempotencyKey: 'create-lost' }));
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(t.sim.paymentIntents()).toHaveLength(1);
    t.sim.setFaults({ rate: 0 });
    const retried = await wechatPay({}, { idempotencyKey: 'create-lost' });
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(retried.id).toBe(t.sim.paymentIntents()[0]?.id);
  });
});

describe('reference data', () => {
  beforeEach(() => start());

  it('the request check lets through the known gaps and nothing else', async () => {
    const record = (params: Record<string, unknown>): ApiRequestRecord => ({
      requestId: 'req_1',
      method: 'POST',
      path: '/v1/payment_intents',
      specPath: '/v1/payment_intents',
      params,
      idempotencyKey: null,
      status: 200,
      replayed: false,
    });
    const base = { amount: '100', currency: 'cny' };
    expect(
      await nonConformingRequests(t.sim, [
        record({ ...base, allowed_payment_method_types: { 0: 'alipay' } }),
        record({ ...base, payment_method_options: { wechat_pay: { app_id: 'wx1' } } }),
      ]),
    ).toEqual([]);
    expect(
      await nonConformingRequests(t.sim, [
        record({ ...base, allowed_payment_method_types: { 0: 'card' } }),
        record({ ...base, excluded_payment_method_types: { 0: 'card' } }),
        record({ ...base, payment_method_options: { wechat_pay: { client: 'mini_program' } } }),
        { ...record({ ...base, colour: 'red' }), status: 400 },
      ]),
    ).toHaveLength(3);
  });

  it('every x-known-gaps entry is understood', () => {
    expect(gaps.unrecognized).toEqual([]);
    expect(gaps.refused.map((r) => r.param)).toEqual(['payment_method_types', 'payment_method_types']);
  });

  it('objects have the fixtures’ fields, minus what the pinned version removed, plus only gap-listed ones', async () => {
    const fixtures = JSON.parse(
      readFileSync(
        new URL('../../scripts/stripe-sim/spec/stripe-payment-intents-fixtures.json', import.meta.url),
        'utf8',
      ),
    ) as { examples: Record<string, Record<string, unknown>> };
    const keysOf = (o: object) => Object.keys(o).filter((k) => !k.startsWith('x-'));
    const pi = await wechatPay();
    const pm = await t.stripe.paymentMethods.retrieve(pi.payment_method as string);
    t.sim.authorizePaymentIntent(pi.id);
    const charge = await t.stripe.charges.retrieve(
      (await t.stripe.paymentIntents.retrieve(pi.id)).latest_charge as string,
    );
    const refund = await t.stripe.refunds.create({ payment_intent: pi.id });
    const pairs: [string, object, string][] = [
      ['payment_intent', pi, 'payment_intent_wechat_pay_requires_action'],
      ['payment_method', pm, 'payment_method_wechat_pay'],
      ['charge', charge, 'charge_wechat_pay_succeeded'],
      ['refund', refund, 'refund_wechat_pay_pending'],
    ];
    for (const [schema, ours, example] of pairs) {
      const fixture = fixtures.examples[example] ?? {};
      const theirs = keysOf(fixture);
      const mine = keysOf(ours).filter((k) => k !== 'lastResponse');
      expect(theirs.filter((k) => !mine.includes(k)).sort(), `${schema}: missing`).toEqual(
        (gaps.removed[schema] ?? []).filter((k) => theirs.includes(k)).sort(),
      );
      const extra = mine.filter((k) => !theirs.includes(k));
      expect(
        extra.filter((k) => !(gaps.tolerated[schema] ?? []).includes(k) && k !== 'refunds'),
        `${schema}: extra`,
      ).toEqual([]);
    }
  });
});
