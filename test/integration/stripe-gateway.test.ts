/**
 * The Stripe gateway (lambdas/adapters/stripe/gateway.ts) against the offline simulator over
 * real HTTP, with the stripe-node client the wiring builds: sources, charges and refunds with
 * their idempotency keys (https://docs.stripe.com/api/idempotent_requests); PaymentIntents
 * created and confirmed for each WeChat Pay client and Alipay, with what `next_action` gives the
 * storefront (https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 * https://docs.stripe.com/payments/alipay/accept-a-payment), read, canceled in every state
 * (https://docs.stripe.com/api/payment_intents/cancel) and refunded; the mapping of every
 * Stripe error the use cases branch on to the port's errors (https://docs.stripe.com/api/errors);
 * every request the simulator accepted checked against the OpenAPI subsets; and the signature
 * check of the webhooks the simulator really sends (https://docs.stripe.com/webhooks#verify-manually).
 */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient, StripeGateway } from '../../lambdas/adapters/stripe/gateway.js';
import { SignatureVerificationError, verifyStripeSignature } from '../../lambdas/adapters/stripe/signature.js';
import {
  type CreatePaymentIntentInput,
  type CreateSourceInput,
  NotFoundError,
  PaymentDeclinedError,
  ProviderRejectedError,
  SourceNotChargeableError,
  TransientError,
} from '../../lambdas/ports/index.js';
import {
  nonConformingRequests,
  type SimForTest,
  startSimForTest,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '../support/stripe-sim.js';

let t: SimForTest;
let hooks: WebhookReceiver;
let gateway: StripeGateway;

const SECRET_KEY = 'sk_test_gateway';

function gatewayWith(timeoutMs: number): StripeGateway {
  return new StripeGateway(
    createStripeClient({
      secretKey: SECRET_KEY,
      timeoutMs,
      maxNetworkRetries: 0,
      endpoint: { host: '127.0.0.1', port: t.sim.port, protocol: 'http' },
    }),
  );
}

beforeAll(async () => {
  hooks = await startWebhookReceiver();
  t = await startSimForTest({ webhookUrl: hooks.url });
  gateway = gatewayWith(5000);
});

afterEach(() => {
  t.sim.setFaults({ rate: 0, modes: ['500'], hangMs: 30_000, paths: [], sources: [], paymentIntents: [] });
});

afterAll(async () => {
  await t?.close();
  await hooks?.close();
});

let seq = 0;
/** A fresh order id per call, so idempotency keys never collide between tests. */
const nextOrderId = () => {
  seq += 1;
  return `ord_gw_${Date.now().toString(36)}_${seq}`;
};

function wechatInput(orderId = nextOrderId(), extra: Partial<CreateSourceInput> = {}): CreateSourceInput {
  return {
    orderId,
    type: 'wechat',
    amount: 1099,
    currency: 'usd',
    statementDescriptor: 'GATEWAY TEST',
    metadata: { order_id: orderId, cart: 'c-1' },
    idempotencyKey: `source-${orderId}`,
    ...extra,
  };
}

/** A chargeable WeChat source (authorized in the simulator) and its order id. */
async function chargeableSource(outcome?: 'succeeded' | 'failed' | 'pending') {
  const orderId = nextOrderId();
  const src = await gateway.createSource(wechatInput(orderId));
  t.sim.authorizeSource(src.id, outcome ? { chargeOutcome: outcome } : {});
  return { orderId, sourceId: src.id };
}

const chargeInput = (orderId: string, sourceId: string, key = `charge-${orderId}`) => ({
  orderId,
  sourceId,
  amount: 1099,
  currency: 'usd',
  idempotencyKey: key,
});

describe('StripeGateway: sources', () => {
  it('creates a WeChat Pay source with a QR code URL, the order id in its metadata', async () => {
    const orderId = nextOrderId();
    const created = await gateway.createSource(wechatInput(orderId));
    expect(created.id).toMatch(/^src_/);
    expect(created.status).toBe('pending');
    expect(created.livemode).toBe(false);
    expect(created.qrCodeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/authorize\/src_/);
    expect(created.redirectUrl).toBeUndefined();
    const inSim = t.sim.sources().find((s) => s.id === created.id);
    expect(inSim).toMatchObject({
      type: 'wechat',
      amount: 1099,
      currency: 'usd',
      statement_descriptor: 'GATEWAY TEST',
      metadata: { order_id: orderId, cart: 'c-1' },
    });
  });

  it('creates an Alipay source with a redirect URL and passes return_url', async () => {
    const orderId = nextOrderId();
    const created = await gateway.createSource({
      orderId,
      type: 'alipay',
      amount: 5000,
      currency: 'cny',
      returnUrl: 'https://shop.example/return?order=1',
      metadata: { order_id: orderId },
      idempotencyKey: `source-${orderId}`,
    });
    expect(created.redirectUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/authorize\/src_/);
    expect(created.qrCodeUrl).toBeUndefined();
    const inSim = t.sim.sources().find((s) => s.id === created.id);
    expect(inSim?.type).toBe('alipay');
    expect(inSim?.redirect?.return_url).toBe('https://shop.example/return?order=1');
    expect(inSim?.metadata.order_id).toBe(orderId);
  });

  it('the same idempotency key twice returns the same source, and Stripe holds one', async () => {
    const input = wechatInput();
    const first = await gateway.createSource(input);
    const second = await gateway.createSource(input);
    expect(second.id).toBe(first.id);
    expect(t.sim.sources().filter((s) => s.metadata.order_id === input.orderId)).toHaveLength(1);
  });

  it('reads the source status: pending, then chargeable once authorized', async () => {
    const src = await gateway.createSource(wechatInput());
    expect(await gateway.getSourceStatus(src.id)).toBe('pending');
    t.sim.authorizeSource(src.id);
    expect(await gateway.getSourceStatus(src.id)).toBe('chargeable');
  });
});

describe('StripeGateway: charges and refunds', () => {
  it('charges a chargeable source: succeeded, with the source id; the source is consumed', async () => {
    const { orderId, sourceId } = await chargeableSource();
    const charge = await gateway.charge(chargeInput(orderId, sourceId));
    expect(charge).toMatchObject({ status: 'succeeded', amount: 1099, currency: 'usd', sourceId });
    expect(charge.id).toMatch(/^ch_/);
    expect(t.sim.charges().find((c) => c.id === charge.id)?.metadata.order_id).toBe(orderId);
    expect(await gateway.getSourceStatus(sourceId)).toBe('consumed');
  });

  it('is idempotent: the same key twice gives the same charge, and Stripe holds one', async () => {
    const { orderId, sourceId } = await chargeableSource();
    const first = await gateway.charge(chargeInput(orderId, sourceId));
    const second = await gateway.charge(chargeInput(orderId, sourceId));
    expect(second.id).toBe(first.id);
    expect(second.status).toBe('succeeded');
    expect(t.sim.charges().filter((c) => c.source.id === sourceId)).toHaveLength(1);
  });

  it('getCharge reads a charge back', async () => {
    const { orderId, sourceId } = await chargeableSource();
    const charged = await gateway.charge(chargeInput(orderId, sourceId));
    expect(await gateway.getCharge(charged.id)).toEqual(charged);
  });

  it('getCharge reports a pending charge as pending', async () => {
    const { orderId, sourceId } = await chargeableSource('pending');
    const charged = await gateway.charge(chargeInput(orderId, sourceId));
    expect(charged.status).toBe('pending');
    t.sim.succeedCharge(charged.id);
    expect((await gateway.getCharge(charged.id)).status).toBe('succeeded');
  });

  it('refunds a charge, idempotently: the same key twice gives one refund', async () => {
    const { orderId, sourceId } = await chargeableSource();
    const charged = await gateway.charge(chargeInput(orderId, sourceId));
    const input = { orderId, chargeId: charged.id, idempotencyKey: `refund-${orderId}` };
    const first = await gateway.refund(input);
    const second = await gateway.refund(input);
    expect(first.id).toMatch(/^re_/);
    expect(second.id).toBe(first.id);
    const refunds = t.sim.refunds().filter((r) => r.charge === charged.id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 1099, metadata: { order_id: orderId } });
  });

  it('a charge refunded already (by hand in the Dashboard) counts as refunded: its refund, no error', async () => {
    const { orderId, sourceId } = await chargeableSource();
    const charged = await gateway.charge(chargeInput(orderId, sourceId));
    const byHand = await gateway.refund({ orderId, chargeId: charged.id, idempotencyKey: `dashboard-${orderId}` });
    const ours = await gateway.refund({ orderId, chargeId: charged.id, idempotencyKey: `refund-${orderId}` });
    expect(ours.id).toBe(byHand.id);
    expect(t.sim.refunds().filter((r) => r.charge === charged.id)).toHaveLength(1);
  });
});

describe('StripeGateway: error mapping', () => {
  it('a declined charge is PaymentDeclinedError, carrying the id of the failed charge', async () => {
    const { orderId, sourceId } = await chargeableSource('failed');
    const err = await gateway.charge(chargeInput(orderId, sourceId)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaymentDeclinedError);
    const failed = t.sim.charges().find((c) => c.source.id === sourceId);
    expect(failed?.status).toBe('failed');
    expect((err as PaymentDeclinedError).chargeId).toBe(failed?.id);
    expect((err as PaymentDeclinedError).code).toBe('generic_decline');
  });

  it('charging a pending source is SourceNotChargeableError', async () => {
    const orderId = nextOrderId();
    const src = await gateway.createSource(wechatInput(orderId));
    await expect(gateway.charge(chargeInput(orderId, src.id))).rejects.toBeInstanceOf(SourceNotChargeableError);
    expect(t.sim.charges().filter((c) => c.source.id === src.id)).toHaveLength(0);
  });

  it('charging a consumed source again (another key) is SourceNotChargeableError', async () => {
    const { orderId, sourceId } = await chargeableSource();
    await gateway.charge(chargeInput(orderId, sourceId));
    await expect(gateway.charge(chargeInput(orderId, sourceId, `charge-${orderId}-again`))).rejects.toBeInstanceOf(
      SourceNotChargeableError,
    );
    expect(t.sim.charges().filter((c) => c.source.id === sourceId)).toHaveLength(1);
  });

  it('unknown sources and charges are NotFoundError', async () => {
    await expect(gateway.getSourceStatus('src_doesnotexist')).rejects.toBeInstanceOf(NotFoundError);
    await expect(gateway.getCharge('ch_doesnotexist')).rejects.toBeInstanceOf(NotFoundError);
    const orderId = nextOrderId();
    await expect(gateway.charge(chargeInput(orderId, 'src_doesnotexist'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      gateway.refund({ orderId, chargeId: 'ch_doesnotexist', idempotencyKey: `refund-${orderId}` }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ['500 api_error', '500'],
    ['429 rate limit', '429'],
    ['a reset connection', 'reset'],
  ] as const)('%s is a TransientError', async (_name, mode) => {
    t.sim.setFaults({ rate: 1, modes: [mode] });
    await expect(gateway.createSource(wechatInput())).rejects.toBeInstanceOf(TransientError);
    await expect(gateway.getSourceStatus('src_any')).rejects.toBeInstanceOf(TransientError);
  });

  it('a call that hangs past the client timeout is a TransientError', async () => {
    const impatient = gatewayWith(200);
    t.sim.setFaults({ rate: 1, modes: ['hang'], hangMs: 300 });
    await expect(impatient.getSourceStatus('src_any')).rejects.toBeInstanceOf(TransientError);
  });

  it('a fault on charges only: the charge is transient, the retry with the same key charges once', async () => {
    const { orderId, sourceId } = await chargeableSource();
    t.sim.setFaults({ rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
    await expect(gateway.charge(chargeInput(orderId, sourceId))).rejects.toBeInstanceOf(TransientError);
    expect(await gateway.getSourceStatus(sourceId)).toBe('chargeable'); // GET unaffected, nothing charged
    t.sim.setFaults({ rate: 0 });
    const charged = await gateway.charge(chargeInput(orderId, sourceId));
    expect(charged.status).toBe('succeeded');
    expect(t.sim.charges().filter((c) => c.source.id === sourceId)).toHaveLength(1);
  });

  it('creating a source Stripe refuses (unsupported currency) is ProviderRejectedError with Stripe’s words, not transient', async () => {
    const input = wechatInput(undefined, { currency: 'xyz' });
    const err = await gateway.createSource(input).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TransientError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect(err).not.toBeInstanceOf(SourceNotChargeableError);
    expect(err).toBeInstanceOf(ProviderRejectedError);
    expect((err as ProviderRejectedError).message).toMatch(/currency/i);
    expect(t.sim.sources().filter((s) => s.metadata.order_id === input.orderId)).toEqual([]);
  });

  it('any other invalid request (a refund of a source charge that failed) is the Stripe error as is, not transient', async () => {
    const { orderId, sourceId } = await chargeableSource('failed');
    await gateway.charge(chargeInput(orderId, sourceId)).catch(() => undefined);
    const failed = t.sim.charges().find((c) => c.source.id === sourceId);
    const err = await gateway
      .refund({ orderId, chargeId: failed?.id ?? '', idempotencyKey: `refund-${orderId}` })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TransientError);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(400);
    expect((err as Stripe.errors.StripeError).code).toBe('charge_not_refundable');
  });
});

const APP_ID = 'wx1234567890abcdef';
const RETURN_URL = 'https://shop.example/return?order=pi';

function intentInput(
  method: 'wechat' | 'alipay' = 'wechat',
  extra: Partial<CreatePaymentIntentInput> = {},
): CreatePaymentIntentInput {
  const orderId = extra.orderId ?? nextOrderId();
  return {
    orderId,
    method,
    amount: method === 'wechat' ? 1099 : 5000,
    currency: method === 'wechat' ? 'usd' : 'cny',
    statementDescriptor: 'GATEWAY PI',
    metadata: { order_id: orderId, cart: 'c-pi' },
    idempotencyKey: `pi-${orderId}`,
    ...(method === 'wechat' ? { client: 'web' as const } : { returnUrl: RETURN_URL }),
    ...extra,
  };
}

const simIntent = (id: string) => t.sim.paymentIntents().find((pi) => pi.id === id);
const intentsOfOrder = (orderId: string) => t.sim.paymentIntents().filter((pi) => pi.metadata.order_id === orderId);
/** The simulator's customer page of a PaymentIntent: what its QR code, redirect and app links lead to. */
const pageOf = (id: string) => {
  const pi = simIntent(id);
  return `${t.sim.url}/authorize/${id}?client_secret=${pi?.client_secret}`;
};

/** A PaymentIntent created and confirmed through the gateway, with its id. */
async function openIntent(method: 'wechat' | 'alipay' = 'wechat') {
  const input = intentInput(method);
  const created = await gateway.createPaymentIntent(input);
  return { input, orderId: input.orderId, id: created.payment.paymentIntentId };
}

/** A PaymentIntent the customer paid (succeeded, one succeeded charge). */
async function paidIntent() {
  const o = await openIntent();
  t.sim.authorizePaymentIntent(o.id);
  return { ...o, chargeId: simIntent(o.id)?.latest_charge ?? '' };
}

describe('StripeGateway: PaymentIntents, create and confirm', () => {
  it('WeChat Pay in a browser: requires_action, the QR code’s data, its PNG and Stripe’s hosted page; the order id in metadata', async () => {
    const input = intentInput('wechat', { wechatAppId: APP_ID });
    const created = await gateway.createPaymentIntent(input);
    expect(created.status).toBe('requires_action');
    expect(created.livemode).toBe(false);
    const p = created.payment;
    expect(p.api).toBe('payment_intents');
    expect(p.paymentIntentId).toMatch(/^pi_/);
    expect(p.client).toBe('web');
    expect(p.qrCodeData).toBe(pageOf(p.paymentIntentId));
    expect(p.qrCodeImageDataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
    expect(p.hostedInstructionsUrl).toBe(pageOf(p.paymentIntentId));
    for (const absent of ['redirectUrl', 'nativeUrl', 'nativeData', 'wechatAndroid'] as const) {
      expect(p[absent], absent).toBeUndefined();
    }
    const inSim = simIntent(p.paymentIntentId);
    expect(inSim).toMatchObject({
      status: 'requires_action',
      amount: 1099,
      currency: 'usd',
      allowed_payment_method_types: ['wechat_pay'],
      statement_descriptor: 'GATEWAY PI',
      metadata: { order_id: input.orderId, cart: 'c-pi' },
      // A browser payment names no app, even when the deployment has one.
      payment_method_options: { wechat_pay: { client: 'web', app_id: null } },
    });
    expect(t.sim.paymentMethods().find((pm) => pm.id === inSim?.payment_method)?.type).toBe('wechat_pay');
  });

  it('WeChat Pay inside an iOS app: nativeUrl, with the merchant’s app id', async () => {
    const created = await gateway.createPaymentIntent(intentInput('wechat', { client: 'ios', wechatAppId: APP_ID }));
    const p = created.payment;
    expect(p.client).toBe('ios');
    expect(p.nativeUrl).toBe(pageOf(p.paymentIntentId));
    expect(p.qrCodeData).toBeUndefined();
    expect(p.wechatAndroid).toBeUndefined();
    expect(simIntent(p.paymentIntentId)?.payment_method_options).toEqual({
      wechat_pay: { client: 'ios', app_id: APP_ID },
    });
  });

  it('WeChat Pay inside an Android app: the PayReq fields of the WeChat SDK, for the merchant’s app id', async () => {
    const created = await gateway.createPaymentIntent(
      intentInput('wechat', { client: 'android', wechatAppId: APP_ID }),
    );
    const p = created.payment;
    expect(p.client).toBe('android');
    const fromStripe = simIntent(p.paymentIntentId)?.next_action?.wechat_pay_redirect_to_android_app;
    expect(fromStripe).toBeDefined();
    expect(p.wechatAndroid).toEqual({
      appId: APP_ID,
      nonceStr: fromStripe?.nonce_str,
      package: fromStripe?.package,
      partnerId: fromStripe?.partner_id,
      prepayId: fromStripe?.prepay_id,
      sign: fromStripe?.sign,
      timestamp: fromStripe?.timestamp,
    });
    expect(p.wechatAndroid?.package).toBe('Sign=WXPay');
    expect(p.qrCodeData).toBeUndefined();
    expect(p.nativeUrl).toBeUndefined();
  });

  it('Alipay: the redirect URL, return_url passed to Stripe; no WeChat client', async () => {
    const input = intentInput('alipay');
    const created = await gateway.createPaymentIntent(input);
    const p = created.payment;
    expect(p.redirectUrl).toBe(pageOf(p.paymentIntentId));
    expect(p.client).toBeUndefined();
    expect(p.qrCodeData).toBeUndefined();
    expect(p.nativeUrl).toBeUndefined();
    expect(p.nativeData).toBeUndefined();
    const inSim = simIntent(p.paymentIntentId);
    expect(inSim).toMatchObject({
      amount: 5000,
      currency: 'cny',
      allowed_payment_method_types: ['alipay'],
      metadata: { order_id: input.orderId },
      next_action: { alipay_handle_redirect: { return_url: RETURN_URL } },
    });
    expect(inSim?.payment_method_options).toEqual({ alipay: {} });
  });

  it('is idempotent: the same key twice gives the same PaymentIntent, and Stripe holds one', async () => {
    const input = intentInput();
    const first = await gateway.createPaymentIntent(input);
    const second = await gateway.createPaymentIntent(input);
    expect(second.payment).toEqual(first.payment);
    expect(intentsOfOrder(input.orderId)).toHaveLength(1);
    expect(
      t.sim.paymentMethods().filter((pm) => pm.id === simIntent(first.payment.paymentIntentId)?.payment_method),
    ).toHaveLength(1);
  });

  it('a create whose answer was lost (Stripe created it): the retry with the same key returns that PaymentIntent', async () => {
    const input = intentInput();
    t.sim.setFaults({ rate: 1, modes: ['lost'], paths: ['POST /v1/payment_intents'] });
    await expect(gateway.createPaymentIntent(input)).rejects.toBeInstanceOf(TransientError);
    expect(intentsOfOrder(input.orderId)).toHaveLength(1);
    t.sim.setFaults({ rate: 0, paths: [] });
    const retried = await gateway.createPaymentIntent(input);
    expect(retried.payment.paymentIntentId).toBe(intentsOfOrder(input.orderId)[0]?.id);
    expect(intentsOfOrder(input.orderId)).toHaveLength(1);
  });

  it.each([
    ['a currency WeChat Pay does not take', intentInput('wechat', { currency: 'myr' }), 'currency'],
    ['Android without an app id', intentInput('wechat', { client: 'android' }), 'parameter_missing'],
    ['a statement descriptor of 23 characters', intentInput('wechat', { statementDescriptor: 'A'.repeat(23) }), '22'],
  ])(
    'Stripe refusing the create (%s) is ProviderRejectedError with Stripe’s words; nothing created',
    async (_n, input, word) => {
      const err = await gateway.createPaymentIntent(input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderRejectedError);
      const e = err as ProviderRejectedError;
      expect(`${e.message} ${e.providerCode ?? ''}`.toLowerCase()).toContain(word);
      expect(intentsOfOrder(input.orderId)).toEqual([]);
    },
  );
});

describe('StripeGateway: PaymentIntents, read and cancel', () => {
  it('getPaymentIntent: requires_action, then succeeded with its charge once the customer paid', async () => {
    const { id, input } = await openIntent();
    expect(await gateway.getPaymentIntent(id)).toEqual({
      id,
      status: 'requires_action',
      amount: input.amount,
      currency: input.currency,
      livemode: false,
    });
    t.sim.authorizePaymentIntent(id);
    const paid = await gateway.getPaymentIntent(id);
    const charge = t.sim.paymentIntentCharges().find((c) => c.payment_intent === id);
    expect(charge?.status).toBe('succeeded');
    expect(paid).toEqual({
      id,
      status: 'succeeded',
      amount: input.amount,
      currency: input.currency,
      livemode: false,
      chargeId: charge?.id,
    });
  });

  it('getPaymentIntent after a decline: requires_payment_method, no charge', async () => {
    const { id } = await openIntent('alipay');
    t.sim.failPaymentIntent(id);
    const state = await gateway.getPaymentIntent(id);
    expect(state.status).toBe('requires_payment_method');
    expect(state.chargeId).toBeUndefined();
  });

  it('cancels an open PaymentIntent: canceled, reason abandoned', async () => {
    const { id } = await openIntent();
    const state = await gateway.cancelPaymentIntent(id);
    expect(state).toMatchObject({ id, status: 'canceled', amount: 1099, currency: 'usd', livemode: false });
    expect(simIntent(id)).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
  });

  it('cancels a PaymentIntent whose attempt failed (requires_payment_method): canceled', async () => {
    const { id } = await openIntent();
    t.sim.failPaymentIntent(id);
    expect((await gateway.cancelPaymentIntent(id)).status).toBe('canceled');
    expect(simIntent(id)?.status).toBe('canceled');
  });

  it('canceling a canceled PaymentIntent is success: canceled, no error', async () => {
    const { id } = await openIntent();
    await gateway.cancelPaymentIntent(id);
    const again = await gateway.cancelPaymentIntent(id);
    expect(again.status).toBe('canceled');
    expect(simIntent(id)?.status).toBe('canceled');
  });

  it('canceling a PaymentIntent the customer paid answers succeeded with its charge, no error; it stays paid', async () => {
    const { id, chargeId } = await paidIntent();
    const state = await gateway.cancelPaymentIntent(id);
    expect(state).toEqual({ id, status: 'succeeded', amount: 1099, currency: 'usd', livemode: false, chargeId });
    expect(simIntent(id)).toMatchObject({ status: 'succeeded', canceled_at: null });
    expect(t.sim.refunds().filter((r) => r.payment_intent === id)).toEqual([]);
  });

  it('canceling a processing PaymentIntent answers processing, no error; it can still succeed', async () => {
    const { id } = await openIntent();
    t.sim.authorizePaymentIntent(id, { processing: true });
    expect((await gateway.cancelPaymentIntent(id)).status).toBe('processing');
    expect(simIntent(id)?.status).toBe('processing');
    t.sim.succeedPaymentIntent(id);
    expect((await gateway.getPaymentIntent(id)).status).toBe('succeeded');
  });

  it('a cancel whose answer was lost (Stripe canceled it): the retry answers canceled', async () => {
    const { id } = await openIntent();
    t.sim.setFaults({ rate: 1, modes: ['lost'], paymentIntents: [id] });
    await expect(gateway.cancelPaymentIntent(id)).rejects.toBeInstanceOf(TransientError);
    expect(simIntent(id)?.status).toBe('canceled');
    t.sim.setFaults({ rate: 0, paymentIntents: [] });
    expect((await gateway.cancelPaymentIntent(id)).status).toBe('canceled');
  });

  it('an unknown PaymentIntent is NotFoundError, to read and to cancel', async () => {
    await expect(gateway.getPaymentIntent('pi_doesnotexist')).rejects.toBeInstanceOf(NotFoundError);
    await expect(gateway.cancelPaymentIntent('pi_doesnotexist')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('StripeGateway: PaymentIntents, refunds', () => {
  it('refunds by paymentIntentId: its latest charge, in full, idempotently', async () => {
    const { id, orderId, chargeId } = await paidIntent();
    const input = { orderId, paymentIntentId: id, idempotencyKey: `refund-${orderId}` };
    const first = await gateway.refund(input);
    const second = await gateway.refund(input);
    expect(first.id).toMatch(/^re_/);
    expect(second.id).toBe(first.id);
    const refunds = t.sim.refunds().filter((r) => r.payment_intent === id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ id: first.id, charge: chargeId, amount: 1099, metadata: { order_id: orderId } });
    expect(t.sim.paymentIntentCharges().find((c) => c.id === chargeId)).toMatchObject({ refunded: true });
  });

  it('refunds by chargeId (the latest_charge of a PaymentIntent)', async () => {
    const { id, orderId, chargeId } = await paidIntent();
    const r = await gateway.refund({ orderId, chargeId, idempotencyKey: `refund-${orderId}` });
    expect(t.sim.refunds().filter((x) => x.charge === chargeId)).toEqual([
      expect.objectContaining({ id: r.id, payment_intent: id, amount: 1099 }),
    ]);
  });

  it('a PaymentIntent refunded already (by hand in the Dashboard): its refund, no error, by either key', async () => {
    const { id, orderId, chargeId } = await paidIntent();
    const byHand = await gateway.refund({ orderId, chargeId, idempotencyKey: `dashboard-${orderId}` });
    const ours = await gateway.refund({ orderId, paymentIntentId: id, idempotencyKey: `refund-${orderId}` });
    expect(ours.id).toBe(byHand.id);
    const byCharge = await gateway.refund({ orderId, chargeId, idempotencyKey: `refund2-${orderId}` });
    expect(byCharge.id).toBe(byHand.id);
    expect(t.sim.refunds().filter((r) => r.payment_intent === id)).toHaveLength(1);
  });

  it('refunding a PaymentIntent nobody paid is Stripe’s refusal as is (not transient); nothing refunded', async () => {
    const { id, orderId } = await openIntent();
    const err = await gateway
      .refund({ orderId, paymentIntentId: id, idempotencyKey: `refund-${orderId}` })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TransientError);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((err as Stripe.errors.StripeError).code).toBe('charge_not_refundable');
    await expect(
      gateway.refund({ orderId, paymentIntentId: 'pi_doesnotexist', idempotencyKey: `refund-x-${orderId}` }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(t.sim.refunds().filter((r) => r.payment_intent === id)).toEqual([]);
  });
});

describe('StripeGateway: PaymentIntents, transient errors', () => {
  it.each([
    ['500 api_error', '500'],
    ['429 rate limit', '429'],
    ['a reset connection', 'reset'],
  ] as const)('%s on every call is a TransientError, and nothing changes at Stripe', async (_name, mode) => {
    const paid = await paidIntent();
    const open = await openIntent();
    const input = intentInput();
    t.sim.setFaults({ rate: 1, modes: [mode] });
    await expect(gateway.createPaymentIntent(input)).rejects.toBeInstanceOf(TransientError);
    await expect(gateway.getPaymentIntent(open.id)).rejects.toBeInstanceOf(TransientError);
    await expect(gateway.cancelPaymentIntent(open.id)).rejects.toBeInstanceOf(TransientError);
    await expect(
      gateway.refund({ orderId: paid.orderId, paymentIntentId: paid.id, idempotencyKey: `refund-${paid.orderId}` }),
    ).rejects.toBeInstanceOf(TransientError);
    t.sim.setFaults({ rate: 0 });
    expect(intentsOfOrder(input.orderId)).toEqual([]);
    expect(simIntent(open.id)?.status).toBe('requires_action');
    expect(t.sim.refunds().filter((r) => r.payment_intent === paid.id)).toEqual([]);
  });

  it('a call that hangs past the client timeout is a TransientError', async () => {
    const { id } = await openIntent();
    const impatient = gatewayWith(200);
    t.sim.setFaults({ rate: 1, modes: ['hang'], hangMs: 300 });
    await expect(impatient.getPaymentIntent(id)).rejects.toBeInstanceOf(TransientError);
  });

  it('faults scoped to one PaymentIntent: its calls are transient, another’s go through; the retry refunds once', async () => {
    const a = await paidIntent();
    const b = await openIntent();
    t.sim.setFaults({ rate: 1, modes: ['429'], paymentIntents: [a.id] });
    await expect(gateway.getPaymentIntent(a.id)).rejects.toBeInstanceOf(TransientError);
    const refund = { orderId: a.orderId, paymentIntentId: a.id, idempotencyKey: `refund-${a.orderId}` };
    await expect(gateway.refund(refund)).rejects.toBeInstanceOf(TransientError);
    await expect(
      gateway.refund({ orderId: a.orderId, chargeId: a.chargeId, idempotencyKey: `refund-${a.orderId}` }),
    ).rejects.toBeInstanceOf(TransientError);
    expect((await gateway.getPaymentIntent(b.id)).status).toBe('requires_action');
    expect((await gateway.cancelPaymentIntent(b.id)).status).toBe('canceled');
    t.sim.setFaults({ rate: 0, paymentIntents: [] });
    const done = await gateway.refund(refund);
    expect(
      t.sim
        .refunds()
        .filter((r) => r.payment_intent === a.id)
        .map((r) => r.id),
    ).toEqual([done.id]);
  });
});

describe('webhook signatures of the events the simulator delivers', () => {
  let rawBody: string;
  let header: string;
  let timestamp: number;

  beforeAll(async () => {
    const src = await gateway.createSource(wechatInput());
    t.sim.authorizeSource(src.id);
    const delivery = await waitFor(
      () => hooks.received.find((r) => r.rawBody.includes(src.id) && r.rawBody.includes('source.chargeable')),
      5000,
      'the source.chargeable webhook',
    );
    rawBody = delivery.rawBody;
    header = delivery.signature ?? '';
    timestamp = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
    expect(Number.isInteger(timestamp)).toBe(true);
  });

  const nowSeconds = () => Date.now() / 1000;

  it('verify with the signing secret, as stripe-node does', () => {
    expect(() => verifyStripeSignature(rawBody, header, [t.webhookSecret], nowSeconds())).not.toThrow();
    expect(() =>
      verifyStripeSignature(Buffer.from(rawBody, 'utf8'), header, [t.webhookSecret], nowSeconds()),
    ).not.toThrow();
    const event = t.stripe.webhooks.constructEvent(rawBody, header, t.webhookSecret);
    expect(event.type).toBe('source.chargeable');
  });

  it('verify while rolling secrets (the right one among several)', () => {
    expect(() =>
      verifyStripeSignature(rawBody, header, ['whsec_old_rotated_out', t.webhookSecret], nowSeconds()),
    ).not.toThrow();
  });

  it('a wrong secret is rejected', () => {
    expect(() => verifyStripeSignature(rawBody, header, ['whsec_wrong'], nowSeconds())).toThrow(
      expect.objectContaining({ problem: 'no_matching_signature' }),
    );
  });

  it('a tampered body is rejected', () => {
    const tampered = rawBody.replace('"amount": 1099', '"amount": 1');
    expect(tampered).not.toBe(rawBody);
    expect(() => verifyStripeSignature(tampered, header, [t.webhookSecret], nowSeconds())).toThrow(
      SignatureVerificationError,
    );
  });

  it('a signature older than 300 s is rejected; 300 s is still accepted', () => {
    expect(() => verifyStripeSignature(rawBody, header, [t.webhookSecret], timestamp + 300)).not.toThrow();
    expect(() => verifyStripeSignature(rawBody, header, [t.webhookSecret], timestamp + 301)).toThrow(
      expect.objectContaining({ problem: 'timestamp_out_of_tolerance' }),
    );
  });
});

describe('the requests the gateway sent', () => {
  it('the conformance check itself: lets the known gaps through and flags anything else', async () => {
    const record = (path: string, specPath: string, params: Record<string, unknown>, status = 200) => ({
      requestId: 'req_check',
      method: 'POST',
      path,
      specPath,
      params,
      idempotencyKey: null,
      status,
      replayed: false,
    });
    const pi = { amount: '1099', currency: 'usd', confirm: 'true', payment_method_data: { type: 'wechat_pay' } };
    const fine = [
      record('/v1/payment_intents', '/v1/payment_intents', {
        ...pi,
        allowed_payment_method_types: { 0: 'wechat_pay' },
      }),
      record('/v1/payment_intents', '/v1/payment_intents', {
        ...pi,
        payment_method_options: { wechat_pay: { app_id: 'wx1' } },
      }),
      record('/v1/sources', '/v1/sources', { type: 'wechat', amount: '1099', currency: 'usd' }),
    ];
    expect(await nonConformingRequests(t.sim, fine)).toEqual([]);
    const wrong = [
      record('/v1/payment_intents', '/v1/payment_intents', { ...pi, allowed_payment_method_types: { 0: 'card' } }),
      record('/v1/payment_intents', '/v1/payment_intents', { ...pi, colour: 'red' }),
      record('/v1/sources', '/v1/sources', { type: 'wechat', amount: '1099', currency: 'usd', colour: 'red' }),
      record('/v1/payment_intents', '/v1/payment_intents', { ...pi, colour: 'red' }, 400),
    ];
    expect(await nonConformingRequests(t.sim, wrong)).toHaveLength(3);
  });

  it('every request the simulator accepted conforms to its OpenAPI subset (PaymentIntents: plus exactly the known gaps)', async () => {
    const accepted = t.sim.requests().filter((r) => r.status < 300);
    const onIntents = accepted.filter((r) => r.path.startsWith('/v1/payment_intents'));
    // The suite above did create, read and cancel PaymentIntents and refund them.
    expect(onIntents.some((r) => r.method === 'POST' && r.path === '/v1/payment_intents')).toBe(true);
    expect(onIntents.some((r) => r.path.endsWith('/cancel'))).toBe(true);
    expect(accepted.some((r) => r.path === '/v1/refunds' && r.params.payment_intent !== undefined)).toBe(true);
    expect(await nonConformingRequests(t.sim)).toEqual([]);
  });
});
