/**
 * The Stripe gateway (lambdas/adapters/stripe/gateway.ts) against the offline simulator over
 * real HTTP, with the stripe-node client the wiring builds: sources, charges and refunds with
 * their idempotency keys (https://docs.stripe.com/api/idempotent_requests), the mapping of
 * every Stripe error the use cases branch on to the port's errors
 * (https://docs.stripe.com/api/errors), and the signature check of the webhooks the simulator
 * really sends (https://docs.stripe.com/webhooks#verify-manually).
 */
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStripeClient, StripeGateway } from '../../lambdas/adapters/stripe/gateway.js';
import { SignatureVerificationError, verifyStripeSignature } from '../../lambdas/adapters/stripe/signature.js';
import {
  type CreateSourceInput,
  NotFound,
  PaymentDeclined,
  SourceNotChargeable,
  TransientError,
} from '../../lambdas/ports/index.js';
import {
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
  t.sim.setFaults({ rate: 0, modes: ['500'], hangMs: 30_000, paths: [] });
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
  it('a declined charge is PaymentDeclined, carrying the id of the failed charge', async () => {
    const { orderId, sourceId } = await chargeableSource('failed');
    const err = await gateway.charge(chargeInput(orderId, sourceId)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaymentDeclined);
    const failed = t.sim.charges().find((c) => c.source.id === sourceId);
    expect(failed?.status).toBe('failed');
    expect((err as PaymentDeclined).chargeId).toBe(failed?.id);
    expect((err as PaymentDeclined).code).toBe('generic_decline');
  });

  it('charging a pending source is SourceNotChargeable', async () => {
    const orderId = nextOrderId();
    const src = await gateway.createSource(wechatInput(orderId));
    await expect(gateway.charge(chargeInput(orderId, src.id))).rejects.toBeInstanceOf(SourceNotChargeable);
    expect(t.sim.charges().filter((c) => c.source.id === src.id)).toHaveLength(0);
  });

  it('charging a consumed source again (another key) is SourceNotChargeable', async () => {
    const { orderId, sourceId } = await chargeableSource();
    await gateway.charge(chargeInput(orderId, sourceId));
    await expect(gateway.charge(chargeInput(orderId, sourceId, `charge-${orderId}-again`))).rejects.toBeInstanceOf(
      SourceNotChargeable,
    );
    expect(t.sim.charges().filter((c) => c.source.id === sourceId)).toHaveLength(1);
  });

  it('unknown sources and charges are NotFound', async () => {
    await expect(gateway.getSourceStatus('src_doesnotexist')).rejects.toBeInstanceOf(NotFound);
    await expect(gateway.getCharge('ch_doesnotexist')).rejects.toBeInstanceOf(NotFound);
    const orderId = nextOrderId();
    await expect(gateway.charge(chargeInput(orderId, 'src_doesnotexist'))).rejects.toBeInstanceOf(NotFound);
    await expect(
      gateway.refund({ orderId, chargeId: 'ch_doesnotexist', idempotencyKey: `refund-${orderId}` }),
    ).rejects.toBeInstanceOf(NotFound);
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

  it('an unrelated invalid request (unsupported currency) is not transient: the Stripe error as is', async () => {
    const err = await gateway.createSource(wechatInput(undefined, { currency: 'xyz' })).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(TransientError);
    expect(err).not.toBeInstanceOf(NotFound);
    expect(err).not.toBeInstanceOf(SourceNotChargeable);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(400);
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
