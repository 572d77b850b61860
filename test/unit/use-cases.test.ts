import { describe, expect, it } from 'vitest';
import {
  cancelOrder,
  createOrder,
  getOrder,
  getOrderForCustomer,
  handleEvent,
  type OrderSettings,
} from '../../lambdas/app/index.js';
import {
  isDomainError,
  type NewOrderInput,
  type Order,
  type OrderEvent,
  timerEventId,
  ValidationError,
} from '../../lambdas/domain/index.js';
import { ConflictError, type CreatePaymentIntentInput, TransientError } from '../../lambdas/ports/index.js';
import { paymentIntentIdOf, sourceIdOf } from '../support/orders.js';
import { Crash, fireTimer, makeWorld, type World } from '../support/world.js';

const WECHAT: NewOrderInput = { amount: 1099, currency: 'usd', paymentMethod: 'wechat', statementDescriptor: 'ACME' };

async function newOrder(w: World, input: NewOrderInput = WECHAT): Promise<Order> {
  return (await createOrder(w.deps, input)).order;
}

const chargeable = (o: Order, id = 'evt_chargeable'): OrderEvent => ({
  type: 'source.chargeable',
  id,
  at: new Date(new Date(o.createdAt).getTime() + 120_000).toISOString(),
  orderId: o.id,
  sourceId: sourceIdOf(o),
  amount: o.amount,
  currency: o.currency,
  livemode: false,
});

const timer = (o: Order, kind: 'pending_expired' | 'deadline'): OrderEvent => ({
  type: kind === 'pending_expired' ? 'timer.pending_expired' : 'timer.deadline',
  id: timerEventId(o.id, kind),
  at: (kind === 'pending_expired' ? o.pendingExpiresAt : o.deadline) ?? o.createdAt,
  orderId: o.id,
});

describe('createOrder', () => {
  it('creates the source, stores a pending order and schedules its pending expiry', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect(o).toMatchObject({ status: 'pending', amount: 1099, currency: 'usd', paymentMethod: 'wechat', version: 1 });
    expect(o.id).toMatch(/^ord_[0-9A-Z]{26}$/);
    expect(o.payment).toMatchObject({ api: 'sources', qrCodeUrl: expect.stringContaining(sourceIdOf(o)) });
    expect(await w.store.get(o.id)).toEqual(o);
    const t = w.timers.timers.get(`${o.id}-pending`);
    expect(t?.at.toISOString()).toBe(o.pendingExpiresAt);
    expect(t?.message).toMatchObject({ groupId: o.id, event: { type: 'timer.pending_expired', orderId: o.id } });
    expect(new Date(o.pendingExpiresAt).getTime() - new Date(o.createdAt).getTime()).toBe(3600_000);
  });

  it.each<[string, Partial<NewOrderInput>, string]>([
    ['zero amount', { amount: 0 }, 'amount'],
    ['negative amount', { amount: -5 }, 'amount'],
    ['fractional amount', { amount: 10.5 }, 'amount'],
    ['amount above eight digits', { amount: 100_000_000 }, 'amount'],
    ['amount below the currency minimum', { amount: 49 }, 'amount'],
    ['unsupported currency for WeChat Pay', { currency: 'cny' }, 'currency'],
    ['unknown currency', { currency: 'xxx' }, 'currency'],
    ['unknown method', { paymentMethod: 'paypal' as never }, 'paymentMethod'],
    ['statement descriptor over 32 characters', { statementDescriptor: 'x'.repeat(33) }, 'statementDescriptor'],
    ['Alipay without returnUrl', { paymentMethod: 'alipay', currency: 'cny', amount: 1000 }, 'returnUrl'],
    ['returnUrl that is not http(s)', { returnUrl: 'javascript:alert(1)' }, 'returnUrl'],
    ['reserved metadata key', { metadata: { order_id: 'x' } }, 'metadata.order_id'],
    ['overlong metadata value', { metadata: { note: 'x'.repeat(501) } }, 'metadata.note'],
  ])('rejects %s with the field named, before calling Stripe', async (_name, patch, field) => {
    const w = makeWorld();
    await expect(createOrder(w.deps, { ...WECHAT, ...patch })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: expect.arrayContaining([expect.objectContaining({ field })]),
    });
    expect(w.gateway.sources.size).toBe(0);
    expect(w.store.orders.size).toBe(0);
  });

  it('accepts Alipay in CNY with a return URL, and normalises the currency case', async () => {
    const w = makeWorld();
    const o = await newOrder(w, {
      amount: 1000,
      currency: 'CNY',
      paymentMethod: 'alipay',
      returnUrl: 'https://shop.example/return',
    });
    expect(o.currency).toBe('cny');
    expect(o.payment.redirectUrl).toBeDefined();
  });

  it('replays the first response for the same Idempotency-Key and refuses other parameters', async () => {
    const w = makeWorld();
    const first = await createOrder(w.deps, WECHAT, 'key-1');
    const again = await createOrder(w.deps, { ...WECHAT }, 'key-1');
    const { qrCodeImageDataUrl: _png, ...payment } = first.order.payment as typeof first.order.payment & {
      qrCodeImageDataUrl?: string;
    };
    expect(again).toEqual({ order: { ...first.order, payment }, replayed: true });
    expect(w.gateway.sources.size).toBe(1);
    await expect(createOrder(w.deps, { ...WECHAT, amount: 2000 }, 'key-1')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
});

describe('handleEvent', () => {
  it('charges a chargeable source once and ends paid, with timers cleaned up and order.paid published', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const r = await handleEvent(w.deps, chargeable(o));
    expect(r.outcome).toBe('applied');
    const final = await getOrder(w.deps, o.id);
    expect(final.status).toBe('paid');
    expect(final.chargeId).toMatch(/^ch_/);
    expect(w.gateway.charges.size).toBe(1);
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
    expect(final.history.map((h) => h.type)).toEqual(['order.created', 'source.chargeable', 'charge.succeeded']);
    // The webhook that follows is recorded and changes nothing.
    await handleEvent(w.deps, {
      type: 'charge.succeeded',
      id: 'evt_cs',
      at: final.updatedAt,
      orderId: o.id,
      chargeId: final.chargeId ?? '',
    });
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('finds the order by source id when the event has no order id', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    const { orderId: _drop, ...e } = {
      type: 'source.failed' as const,
      id: 'evt_f',
      at: o.createdAt,
      orderId: o.id,
      sourceId: sourceIdOf(o),
    };
    await handleEvent(w.deps, e);
    expect((await getOrder(w.deps, o.id)).status).toBe('failed');
  });

  it('acknowledges events for orders it does not know', async () => {
    const w = makeWorld();
    const r = await handleEvent(w.deps, {
      type: 'source.failed',
      id: 'evt_x',
      at: '2026-11-21T00:00:00Z',
      sourceId: 'src_unknown',
    });
    expect(r.outcome).toBe('unknown_order');
  });

  it('re-reads and re-applies when a conditional write loses a race', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    const update = w.store.update.bind(w.store);
    let raced = false;
    w.store.update = async (order, expected) => {
      if (!raced) {
        raced = true;
        // Another writer records a dispute first.
        const cur = (await w.store.get(o.id)) as Order;
        await update(
          {
            ...cur,
            version: cur.version + 1,
            history: [
              ...cur.history,
              { ...cur.history[0], eventId: 'other', type: 'charge.dispute.created' } as Order['history'][0],
            ],
          },
          cur.version,
        );
      }
      return update(order, expected);
    };
    await handleEvent(w.deps, { type: 'source.failed', id: 'evt_f', at: o.createdAt, orderId: o.id });
    const final = await getOrder(w.deps, o.id);
    expect(final.status).toBe('failed');
    expect(final.version).toBe(3);
    expect(final.history.map((h) => h.eventId)).toEqual([`${o.id}_created`, 'other', 'evt_f']);
  });

  it('gives up with a TransientError (SQS retries) when every write conflicts', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.store.update = async () => {
      throw new ConflictError();
    };
    await expect(
      handleEvent(w.deps, { type: 'source.failed', id: 'evt_f', at: o.createdAt, orderId: o.id }),
    ).rejects.toBeInstanceOf(TransientError);
  });

  it('a failing charge stays chargeable for SQS to retry, then completes on redelivery', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const charge = w.gateway.charge.bind(w.gateway);
    w.gateway.charge = async () => {
      throw new TransientError('Stripe 500');
    };
    await expect(handleEvent(w.deps, chargeable(o))).rejects.toBeInstanceOf(TransientError);
    expect((await getOrder(w.deps, o.id)).status).toBe('chargeable');
    w.gateway.charge = charge;
    const r = await handleEvent(w.deps, chargeable(o));
    expect(r.outcome).toBe('duplicate');
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('a declined charge fails the order', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    w.gateway.chargeOutcome = 'failed';
    await handleEvent(w.deps, chargeable(o));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'failed', failureReason: 'charge_failed' });
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.failed']);
  });

  it('pending expiry asks Stripe first: still pending → canceled', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    await handleEvent(w.deps, timer(o, 'pending_expired'));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'pending_expired' });
  });

  it('pending expiry asks Stripe first: chargeable (webhook late) → charged and paid', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    await handleEvent(w.deps, timer(o, 'pending_expired'));
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('the deadline re-sends the charge: the source expired at Stripe → canceled, no charge', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'canceled');
    await handleEvent(w.deps, chargeable(o)); // the charge fails: not chargeable any more
    const c = await getOrder(w.deps, o.id);
    expect(c.status).toBe('chargeable');
    await handleEvent(w.deps, timer(c, 'deadline'));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'deadline_passed' });
    expect(w.gateway.charges.size).toBe(0);
  });

  it('merchant cancel: pending → canceled; twice → same answer; charging → ORDER_NOT_CANCELABLE', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect((await cancelOrder(w.deps, o.id)).status).toBe('canceled');
    expect((await cancelOrder(w.deps, o.id)).status).toBe('canceled');
    expect(w.timers.timers.size).toBe(0);

    const p = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(p), 'chargeable');
    w.gateway.chargeOutcome = 'pending';
    await handleEvent(w.deps, chargeable(p));
    expect((await getOrder(w.deps, p.id)).status).toBe('charging');
    await expect(cancelOrder(w.deps, p.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELABLE' });
    await expect(cancelOrder(w.deps, 'ord_nope')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });

  it('a charge that succeeds after a merchant cancel is refunded', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const charge = await w.gateway.charge({
      orderId: o.id,
      sourceId: sourceIdOf(o),
      amount: o.amount,
      currency: o.currency,
      idempotencyKey: `charge-${o.id}`,
    });
    await cancelOrder(w.deps, o.id);
    await handleEvent(w.deps, {
      type: 'charge.succeeded',
      id: 'evt_late',
      at: o.createdAt,
      orderId: o.id,
      chargeId: charge.id,
      chargeSourceId: sourceIdOf(o),
    });
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'refunded', chargeId: charge.id });
    expect([...w.gateway.refunds.values()]).toEqual([expect.objectContaining({ chargeId: charge.id })]);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.canceled', 'order.refunded']);
  });

  it('the status for the customer needs the order’s own client secret', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect((await getOrderForCustomer(w.deps, o.id, o.clientSecret)).id).toBe(o.id);
    await expect(getOrderForCustomer(w.deps, o.id, `${o.clientSecret}x`)).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
    });
    await expect(getOrderForCustomer(w.deps, o.id, '')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });
});

// ------------------------------------------------------------------------------ PaymentIntents

const PI_WECHAT: NewOrderInput = { ...WECHAT, stripeApi: 'payment_intents' };
const PI_ALIPAY: NewOrderInput = {
  amount: 1000,
  currency: 'cny',
  paymentMethod: 'alipay',
  returnUrl: 'https://shop.example/return',
  stripeApi: 'payment_intents',
};
const APP_ID = 'wx0123456789abcdef';

/** Records what createPaymentIntent was asked, and still creates it. */
function recordIntents(w: World): CreatePaymentIntentInput[] {
  const calls: CreatePaymentIntentInput[] = [];
  const create = w.gateway.createPaymentIntent.bind(w.gateway);
  w.gateway.createPaymentIntent = async (input) => {
    calls.push(structuredClone(input));
    return create(input);
  };
  return calls;
}

const intentOf = (w: World, o: Order) => {
  const pi = w.gateway.paymentIntents.get(paymentIntentIdOf(o));
  if (!pi) throw new Error(`no PaymentIntent for ${o.id}`);
  return pi;
};

/** A payment_intent.* webhook about the order's PaymentIntent, as the ingress translates it from Stripe's. */
function intentWebhook(
  w: World,
  o: Order,
  type:
    | 'payment_intent.succeeded'
    | 'payment_intent.processing'
    | 'payment_intent.payment_failed'
    | 'payment_intent.canceled',
  extra: Record<string, unknown> = {},
): OrderEvent {
  const pi = intentOf(w, o);
  const base = { id: `evt_${type}_${o.id}`, at: w.clock.now().toISOString(), orderId: o.id, paymentIntentId: pi.id };
  if (type === 'payment_intent.succeeded')
    return {
      ...base,
      type,
      amount: pi.amount,
      currency: pi.currency,
      livemode: pi.livemode,
      ...(pi.chargeId ? { chargeId: pi.chargeId } : {}),
      ...extra,
    } as OrderEvent;
  return { ...base, type, ...extra } as OrderEvent;
}

/** The customer pays: the PaymentIntent succeeds (with its charge) in the memory gateway. */
const customerPays = (w: World, o: Order) => w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'succeeded');

describe('createOrder on the PaymentIntents API', () => {
  it('WeChat Pay in a browser: creates and confirms a PaymentIntent (key pi-<orderId>), shows its QR code, expires after the setting', async () => {
    const w = makeWorld({ paymentApi: 'payment_intents', paymentExpirySeconds: 900 });
    const calls = recordIntents(w);
    const o = await newOrder(w, WECHAT);
    expect(o).toMatchObject({ status: 'pending', amount: 1099, currency: 'usd', version: 1 });
    expect(o.payment).toEqual({
      api: 'payment_intents',
      paymentIntentId: expect.stringMatching(/^pi_/),
      client: 'web',
      qrCodeData: expect.stringContaining(paymentIntentIdOf(o)),
      qrCodeImageDataUrl: expect.stringMatching(/^data:image\/png;base64,/),
      hostedInstructionsUrl: expect.any(String),
    });
    expect(calls).toEqual([
      {
        orderId: o.id,
        method: 'wechat',
        client: 'web',
        amount: 1099,
        currency: 'usd',
        statementDescriptor: 'ACME',
        metadata: { order_id: o.id },
        idempotencyKey: `pi-${o.id}`,
      },
    ]);
    expect(intentOf(w, o)).toMatchObject({ status: 'requires_action', amount: 1099, currency: 'usd', orderId: o.id });
    expect(w.gateway.sources.size).toBe(0);
    // Stored without the QR code's PNG (answered once: see the PNG test below).
    const { qrCodeImageDataUrl: _png, ...storedPayment } = o.payment as typeof o.payment & {
      qrCodeImageDataUrl?: string;
    };
    const stored = { ...o, payment: storedPayment };
    expect(await w.store.get(o.id)).toEqual(stored);
    expect(await w.store.getByPaymentId(paymentIntentIdOf(o))).toEqual(stored);
    // The expiry timer: <id>-pending at createdAt + paymentExpirySeconds.
    const expiry = new Date(new Date(o.createdAt).getTime() + 900_000);
    expect(o.pendingExpiresAt).toBe(expiry.toISOString());
    expect([...w.timers.timers.keys()]).toEqual([`${o.id}-pending`]);
    const t = w.timers.timers.get(`${o.id}-pending`);
    expect(t?.at).toEqual(expiry);
    expect(t?.message).toMatchObject({ groupId: o.id, event: { type: 'timer.pending_expired', orderId: o.id } });
  });

  it('Alipay: the redirect URL, no QR code and no WeChat client', async () => {
    const w = makeWorld();
    const calls = recordIntents(w);
    const o = await newOrder(w, PI_ALIPAY);
    expect(o.payment).toEqual({
      api: 'payment_intents',
      paymentIntentId: expect.stringMatching(/^pi_/),
      redirectUrl: expect.stringContaining(paymentIntentIdOf(o)),
    });
    expect(calls[0]).toMatchObject({ method: 'alipay', returnUrl: 'https://shop.example/return', currency: 'cny' });
    expect(calls[0]).not.toHaveProperty('client');
    expect(new Date(o.pendingExpiresAt).getTime() - new Date(o.createdAt).getTime()).toBe(3600_000);
  });

  it('the request’s stripeApi overrides the deployment’s default, both ways', async () => {
    const sourcesByDefault = makeWorld({ paymentApi: 'sources' });
    const a = await newOrder(sourcesByDefault, { ...WECHAT, stripeApi: 'payment_intents' });
    const b = await newOrder(sourcesByDefault, WECHAT);
    expect([a.payment.api, b.payment.api]).toEqual(['payment_intents', 'sources']);
    expect([sourcesByDefault.gateway.paymentIntents.size, sourcesByDefault.gateway.sources.size]).toEqual([1, 1]);

    const intentsByDefault = makeWorld({ paymentApi: 'payment_intents' });
    const c = await newOrder(intentsByDefault, { ...WECHAT, stripeApi: 'sources' });
    const d = await newOrder(intentsByDefault, WECHAT);
    expect([c.payment.api, d.payment.api]).toEqual(['sources', 'payment_intents']);
    expect(c.payment).toMatchObject({ sourceId: expect.stringMatching(/^src_/), qrCodeUrl: expect.any(String) });
    // A Sources order keeps the Sources hour whatever the PaymentIntents setting.
    expect(new Date(c.pendingExpiresAt).getTime() - new Date(c.createdAt).getTime()).toBe(3600_000);
  });

  it.each(['ios', 'android'] as const)(
    'client %s is refused without the merchant’s WeChat app id (field client), before calling Stripe',
    async (client) => {
      const w = makeWorld({ paymentApi: 'payment_intents' });
      const attempt = createOrder(w.deps, { ...WECHAT, client });
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
      await expect(attempt).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        fields: [expect.objectContaining({ field: 'client', message: expect.stringContaining('WECHAT_APP_ID') })],
      });
      expect(w.gateway.paymentIntents.size).toBe(0);
      expect(w.store.orders.size).toBe(0);
    },
  );

  it.each(['ios', 'android'] as const)(
    'client %s is accepted with the app id, which goes to Stripe',
    async (client) => {
      const w = makeWorld({ paymentApi: 'payment_intents', wechatAppId: APP_ID });
      const calls = recordIntents(w);
      const o = await newOrder(w, { ...WECHAT, client });
      expect(o.payment).toMatchObject({ api: 'payment_intents', client });
      expect(calls[0]).toMatchObject({ method: 'wechat', client, wechatAppId: APP_ID });
    },
  );

  it('client web needs no app id, and the app id is not sent for it', async () => {
    const w = makeWorld({ paymentApi: 'payment_intents', wechatAppId: APP_ID });
    const calls = recordIntents(w);
    const o = await newOrder(w, { ...WECHAT, client: 'web' });
    expect(o.payment).toMatchObject({ client: 'web' });
    expect(calls[0]).not.toHaveProperty('wechatAppId');
  });

  it.each<[string, Partial<OrderSettings>, NewOrderInput]>([
    ['an Alipay order', { paymentApi: 'payment_intents', wechatAppId: APP_ID }, { ...PI_ALIPAY, client: 'web' }],
    [
      'a Sources order (request)',
      { paymentApi: 'payment_intents', wechatAppId: APP_ID },
      { ...WECHAT, stripeApi: 'sources', client: 'web' },
    ],
    ['a Sources order (default)', { paymentApi: 'sources', wechatAppId: APP_ID }, { ...WECHAT, client: 'ios' }],
    [
      'an unknown client',
      { paymentApi: 'payment_intents', wechatAppId: APP_ID },
      { ...WECHAT, client: 'watch' as never },
    ],
  ])('client is refused for %s', async (_name, settings, input) => {
    const w = makeWorld(settings);
    await expect(createOrder(w.deps, input)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: expect.arrayContaining([expect.objectContaining({ field: 'client' })]),
    });
    expect(w.gateway.paymentIntents.size + w.gateway.sources.size).toBe(0);
  });

  it('an Idempotency-Key replays the PaymentIntents order, even after the deployment’s default changes', async () => {
    const w = makeWorld({ paymentApi: 'payment_intents' });
    const first = await createOrder(w.deps, WECHAT, 'key-pi');
    w.deps.settings.paymentApi = 'sources';
    const again = await createOrder(w.deps, WECHAT, 'key-pi');
    const { qrCodeImageDataUrl: _png, ...payment } = first.order.payment as typeof first.order.payment & {
      qrCodeImageDataUrl?: string;
    };
    expect(again).toEqual({ order: { ...first.order, payment }, replayed: true });
    expect(w.gateway.paymentIntents.size).toBe(1);
    expect(w.gateway.sources.size).toBe(0);
    await expect(createOrder(w.deps, { ...WECHAT, stripeApi: 'sources' }, 'key-pi')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
  it('the QR code’s PNG is in the create answer only: the stored order (and a replay) carry qrCodeData', async () => {
    const w = makeWorld({ paymentApi: 'payment_intents' });
    const created = await createOrder(w.deps, WECHAT, 'key-png');
    expect(created.order.payment).toMatchObject({ qrCodeImageDataUrl: expect.stringMatching(/^data:image\/png/) });
    const stored = await getOrder(w.deps, created.order.id);
    expect(stored.payment).not.toHaveProperty('qrCodeImageDataUrl');
    expect(stored.payment).toMatchObject({ qrCodeData: expect.stringMatching(/^weixin:/) });
    expect((await createOrder(w.deps, WECHAT, 'key-png')).order.payment).not.toHaveProperty('qrCodeImageDataUrl');
  });

  it('two concurrent creates with one Idempotency-Key: one order, and the loser’s PaymentIntent is canceled', async () => {
    const w = makeWorld({ paymentApi: 'payment_intents' });
    const [a, b] = await Promise.all([
      createOrder(w.deps, WECHAT, 'key-race'),
      createOrder(w.deps, WECHAT, 'key-race'),
    ]);
    expect(a.order.id).toBe(b.order.id);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(w.store.orders.size).toBe(1);
    const intents = [...w.gateway.paymentIntents.values()];
    expect(intents.map((pi) => pi.status).sort()).toEqual(['canceled', 'requires_action']);
    expect(intents.find((pi) => pi.status === 'requires_action')?.id).toBe(paymentIntentIdOf(a.order));
  });
});

describe('handleEvent and cancelOrder on PaymentIntents orders', () => {
  const world = () => makeWorld({ paymentApi: 'payment_intents', paymentExpirySeconds: 1200 });

  it('the expiry timer cancels the PaymentIntent first, then the order (pending_expired)', async () => {
    const w = world();
    const o = await newOrder(w);
    const r = await handleEvent(w.deps, fireTimer(w, `${o.id}-pending`));
    expect(r.outcome).toBe('applied');
    expect(w.clock.now().toISOString()).toBe(o.pendingExpiresAt);
    expect(intentOf(w, o).status).toBe('canceled');
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'pending_expired' });
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.canceled']);
    expect(w.steps).toContain('gateway.cancelPaymentIntent');
  });

  it('the expiry timer when the customer has just paid: paid, the PaymentIntent left succeeded, nothing refunded', async () => {
    const w = world();
    const o = await newOrder(w);
    const paid = customerPays(w, o);
    await handleEvent(w.deps, fireTimer(w, `${o.id}-pending`));
    expect(intentOf(w, o).status).toBe('succeeded');
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'paid', chargeId: paid.chargeId });
    expect(w.gateway.refunds.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
    // Its webhook, late, is recorded and changes nothing.
    const late = await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.succeeded'));
    expect(late).toMatchObject({ outcome: 'ignored', reason: 'already_paid' });
  });

  it('the success webhook pays the order; its charge events are the timeline only', async () => {
    const w = world();
    const o = await newOrder(w);
    const paid = customerPays(w, o);
    expect(await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.succeeded'))).toMatchObject({
      outcome: 'applied',
      order: { status: 'paid', chargeId: paid.chargeId },
    });
    expect(w.timers.timers.size).toBe(0);
    const charge = await handleEvent(w.deps, {
      type: 'charge.succeeded',
      id: 'evt_ch',
      at: o.createdAt,
      orderId: o.id,
      chargeId: paid.chargeId ?? '',
      chargePaymentIntentId: paid.id,
    });
    expect(charge).toMatchObject({ outcome: 'ignored', reason: 'recorded' });
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
  });

  it('finds the order by its PaymentIntent when the event has no order id', async () => {
    const w = world();
    const o = await newOrder(w);
    const { orderId: _drop, ...e } = intentWebhook(w, o, 'payment_intent.canceled');
    await handleEvent(w.deps, e as OrderEvent);
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'payment_intent_canceled' });
  });

  it('processing → charging with a re-check timer → the re-check finds it succeeded → paid', async () => {
    const w = world();
    const o = await newOrder(w);
    w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.processing'));
    const charging = await getOrder(w.deps, o.id);
    expect(charging.status).toBe('charging');
    expect(charging.recheckAt).toBe(new Date(w.clock.now().getTime() + 30 * 60_000).toISOString());
    expect([...w.timers.timers.keys()]).toEqual([`${o.id}-recheck`]);
    // A processing PaymentIntent cannot be canceled; it succeeds before the re-check.
    const paid = customerPays(w, o);
    await handleEvent(w.deps, fireTimer(w, `${o.id}-recheck`));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'paid', chargeId: paid.chargeId });
    expect(intentOf(w, o).status).toBe('succeeded');
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
  });

  it('a re-check that finds the payment failed back to requires_payment_method cancels it and the order', async () => {
    const w = world();
    const o = await newOrder(w);
    w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.processing'));
    w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'requires_payment_method');
    await handleEvent(w.deps, fireTimer(w, `${o.id}-recheck`));
    expect(intentOf(w, o).status).toBe('canceled');
    expect((await getOrder(w.deps, o.id)).status).toBe('canceled');
  });

  it('merchant cancel cancels the PaymentIntent; twice gives the same answer', async () => {
    const w = world();
    const o = await newOrder(w);
    expect(await cancelOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'merchant' });
    expect(intentOf(w, o).status).toBe('canceled');
    expect((await cancelOrder(w.deps, o.id)).status).toBe('canceled');
    expect(w.timers.timers.size).toBe(0);
    // The second cancel is a redelivery of the first: its effects re-run (lifecycle events are at-least-once).
    expect(new Set(w.publisher.events.map((e) => e.type))).toEqual(new Set(['order.canceled']));
    expect(w.steps.filter((s) => s === 'gateway.cancelPaymentIntent')).toHaveLength(1);
  });

  it('merchant cancel after the customer paid: ORDER_NOT_CANCELABLE, and the order is written paid', async () => {
    const w = world();
    const o = await newOrder(w);
    const paid = customerPays(w, o);
    await expect(cancelOrder(w.deps, o.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELABLE' });
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'paid', chargeId: paid.chargeId });
    expect(intentOf(w, o).status).toBe('succeeded');
    expect(w.gateway.refunds.size).toBe(0);
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
    await expect(cancelOrder(w.deps, o.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELABLE' });
  });

  it('merchant cancel while the payment is processing: ORDER_NOT_CANCELABLE, charging with a re-check', async () => {
    const w = world();
    const o = await newOrder(w);
    w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
    await expect(cancelOrder(w.deps, o.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELABLE' });
    expect((await getOrder(w.deps, o.id)).status).toBe('charging');
    expect([...w.timers.timers.keys()]).toEqual([`${o.id}-recheck`]);
    expect(intentOf(w, o).status).toBe('processing');
  });

  it.each([
    ['payment_intent_payment_attempt_failed', 'declined'],
    ['payment_intent_payment_attempt_expired', 'payment_expired'],
  ])('payment_failed (%s) → failed %s, and the PaymentIntent is canceled', async (code, reason) => {
    const w = world();
    const o = await newOrder(w);
    w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'requires_payment_method');
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.payment_failed', { failureCode: code }));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'failed', failureReason: reason, failureCode: code });
    expect(intentOf(w, o).status).toBe('canceled');
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.failed']);
  });

  it.each([
    ['with its charge', true],
    ['without its charge (refunded through the PaymentIntent)', false],
  ])('a success after the order was canceled is refunded, %s', async (_n, withCharge) => {
    const w = world();
    const o = await newOrder(w);
    await cancelOrder(w.deps, o.id);
    // The customer's payment raced the cancel (the webhook comes late).
    const paid = customerPays(w, o);
    const e = intentWebhook(w, o, 'payment_intent.succeeded', withCharge ? {} : { chargeId: undefined });
    await handleEvent(w.deps, e);
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'refunded' });
    expect([...w.gateway.refunds.values()]).toEqual([expect.objectContaining({ chargeId: paid.chargeId })]);
    expect(w.publisher.events.map((x) => x.type)).toEqual(['order.canceled', 'order.refunded']);
  });

  it('a success after the payment failed is refunded too', async () => {
    const w = world();
    const o = await newOrder(w);
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.payment_failed'));
    const paid = customerPays(w, o);
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.succeeded'));
    expect((await getOrder(w.deps, o.id)).status).toBe('refunded');
    expect([...w.gateway.refunds.values()]).toEqual([expect.objectContaining({ chargeId: paid.chargeId })]);
  });

  it.each([
    ['amount', (pi: { amount: number }) => Object.assign(pi, { amount: 1000 }), 'amount_mismatch'],
    ['currency', (pi: { currency: string }) => Object.assign(pi, { currency: 'eur' }), 'currency_mismatch'],
    ['livemode', (pi: { livemode: boolean }) => Object.assign(pi, { livemode: true }), 'livemode_mismatch'],
  ])('a success with another %s fails the order and refunds it, once', async (_f, change, reason) => {
    const w = world();
    const o = await newOrder(w);
    change(intentOf(w, o));
    const paid = customerPays(w, o);
    await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.succeeded'));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'failed', failureReason: reason });
    expect([...w.gateway.refunds.values()]).toEqual([expect.objectContaining({ chargeId: paid.chargeId })]);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.failed']);
    // The expiry finding the same success later refunds nothing more.
    await handleEvent(w.deps, timer(await getOrder(w.deps, o.id), 'pending_expired'));
    expect(w.gateway.refunds.size).toBe(1);
  });

  it('the expiry finding a success with another amount fails the order and refunds it', async () => {
    const w = world();
    const o = await newOrder(w);
    intentOf(w, o).amount = 1;
    customerPays(w, o);
    await handleEvent(w.deps, fireTimer(w, `${o.id}-pending`));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'failed', failureReason: 'amount_mismatch' });
    expect(w.gateway.refunds.size).toBe(1);
  });

  it('events about another PaymentIntent, or of the Sources API, are recorded and change nothing', async () => {
    const w = world();
    const o = await newOrder(w);
    const foreign = await handleEvent(w.deps, {
      ...intentWebhook(w, o, 'payment_intent.succeeded'),
      id: 'evt_foreign',
      paymentIntentId: 'pi_not_ours',
    } as OrderEvent);
    expect(foreign).toMatchObject({ outcome: 'ignored', reason: 'foreign_payment_intent' });
    const other = await handleEvent(w.deps, { type: 'source.failed', id: 'evt_sf', at: o.createdAt, orderId: o.id });
    expect(other).toMatchObject({ outcome: 'ignored', reason: 'other_api' });
    expect((await getOrder(w.deps, o.id)).status).toBe('pending');
    expect(w.publisher.events).toEqual([]);
  });
});

/** What must be the same with and without a crash. Lifecycle events are at-least-once: compared as a set. */
function snapshot(w: World, orderId: string) {
  const o = w.store.orders.get(orderId);
  return {
    status: o?.status,
    chargeId: o?.chargeId,
    failureReason: o?.failureReason,
    cancelReason: o?.cancelReason,
    charges: [...w.gateway.charges.values()].map((c) => c.status),
    refunds: [...w.gateway.refunds.values()].map((r) => r.chargeId),
    paymentIntents: [...w.gateway.paymentIntents.values()].map((p) => p.status),
    timers: [...w.timers.timers.keys()].sort(),
    published: [...new Set(w.publisher.events.map((e) => e.type))].sort(),
  };
}

interface Scenario {
  name: string;
  /** Brings a fresh world to the moment before the event; returns the order id. */
  setup(w: World): Promise<string>;
  /** The delivery that may crash, redelivered until it succeeds. */
  deliver(w: World, orderId: string): Promise<unknown>;
  /** The caller's answer (a merchant cancel's) must be the same too. */
  sameAnswer?: boolean;
}

/** What cancelOrder answers: the order's status, or the domain error's code. */
const answerOf = (p: Promise<Order>): Promise<string> =>
  p.then(
    (o) => o.status,
    (e: unknown) => {
      if (isDomainError(e)) return e.code;
      throw e;
    },
  );

const SCENARIOS: Scenario[] = [
  {
    name: 'source.chargeable → paid',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, chargeable((await w.store.get(id)) as Order)),
  },
  {
    name: 'source.chargeable → charge declined → failed',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      w.gateway.chargeOutcome = 'failed';
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, chargeable((await w.store.get(id)) as Order)),
  },
  {
    name: 'source.failed → failed',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) =>
      handleEvent(w.deps, { type: 'source.failed', id: 'evt_sf', at: '2026-11-21T08:01:00Z', orderId: id }),
  },
  {
    name: 'source.canceled → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) =>
      handleEvent(w.deps, { type: 'source.canceled', id: 'evt_sc', at: '2026-11-21T08:01:00Z', orderId: id }),
  },
  {
    name: 'timer.pending_expired → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'timer.pending_expired with a chargeable source → paid',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'timer.deadline with the source expired → canceled',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'canceled');
      await handleEvent(w.deps, chargeable(o));
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'deadline')),
  },
  {
    name: 'merchant.cancel → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) => cancelOrder(w.deps, id),
  },
  {
    name: 'charge.succeeded after cancel → refunded',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      await w.gateway.charge({
        orderId: o.id,
        sourceId: sourceIdOf(o),
        amount: o.amount,
        currency: o.currency,
        idempotencyKey: `charge-${o.id}`,
      });
      await cancelOrder(w.deps, o.id);
      return o.id;
    },
    deliver: async (w, id) => {
      const chargeId = [...w.gateway.charges.values()][0]?.id ?? '';
      return handleEvent(w.deps, {
        type: 'charge.succeeded',
        id: 'evt_late',
        at: '2026-11-21T08:02:00Z',
        orderId: id,
        chargeId,
      });
    },
  },
  {
    name: 'charge.refunded on a paid order → refunded',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      await handleEvent(w.deps, chargeable(o));
      return o.id;
    },
    deliver: async (w, id) => {
      const o = (await w.store.get(id)) as Order;
      return handleEvent(w.deps, {
        type: 'charge.refunded',
        id: 'evt_rf',
        at: o.updatedAt,
        orderId: id,
        chargeId: o.chargeId ?? '',
      });
    },
  },
  // PaymentIntents orders: the same guarantee, with the PaymentIntent canceled or refunded at most
  // once whatever step the crash hit.
  {
    name: 'PaymentIntents: timer.pending_expired → PaymentIntent canceled, order canceled',
    setup: async (w) => (await newOrder(w, PI_WECHAT)).id,
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'PaymentIntents: timer.pending_expired after the customer paid → paid',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      customerPays(w, o);
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'PaymentIntents: timer.pending_expired while processing → charging, re-check scheduled',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'PaymentIntents: payment_intent.succeeded → paid',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      customerPays(w, o);
      return o.id;
    },
    deliver: async (w, id) =>
      handleEvent(w.deps, intentWebhook(w, (await w.store.get(id)) as Order, 'payment_intent.succeeded')),
  },
  {
    name: 'PaymentIntents: payment_intent.processing → charging',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
      return o.id;
    },
    deliver: async (w, id) =>
      handleEvent(w.deps, intentWebhook(w, (await w.store.get(id)) as Order, 'payment_intent.processing')),
  },
  {
    name: 'PaymentIntents: timer.recheck after processing → paid',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      w.gateway.setPaymentIntentStatus(paymentIntentIdOf(o), 'processing');
      await handleEvent(w.deps, intentWebhook(w, o, 'payment_intent.processing'));
      customerPays(w, o);
      return o.id;
    },
    deliver: async (w, id) => {
      const o = (await w.store.get(id)) as Order;
      return handleEvent(w.deps, {
        type: 'timer.recheck',
        id: timerEventId(id, 'recheck'),
        at: o.recheckAt ?? o.updatedAt,
        orderId: id,
      });
    },
  },
  {
    name: 'PaymentIntents: payment_intent.payment_failed → failed, PaymentIntent canceled',
    setup: async (w) => (await newOrder(w, PI_WECHAT)).id,
    deliver: async (w, id) =>
      handleEvent(
        w.deps,
        intentWebhook(w, (await w.store.get(id)) as Order, 'payment_intent.payment_failed', {
          failureCode: 'payment_intent_payment_attempt_expired',
        }),
      ),
  },
  {
    name: 'PaymentIntents: merchant.cancel → PaymentIntent canceled, order canceled',
    setup: async (w) => (await newOrder(w, PI_WECHAT)).id,
    deliver: (w, id) => answerOf(cancelOrder(w.deps, id)),
    sameAnswer: true,
  },
  {
    name: 'PaymentIntents: merchant.cancel after the customer paid → paid, ORDER_NOT_CANCELABLE',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      customerPays(w, o);
      return o.id;
    },
    deliver: (w, id) => answerOf(cancelOrder(w.deps, id)),
    sameAnswer: true,
  },
  {
    name: 'PaymentIntents: payment_intent.succeeded after cancel → refunded',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      await cancelOrder(w.deps, o.id);
      customerPays(w, o);
      return o.id;
    },
    deliver: async (w, id) =>
      handleEvent(w.deps, intentWebhook(w, (await w.store.get(id)) as Order, 'payment_intent.succeeded')),
  },
  {
    name: 'PaymentIntents: a success with another amount → failed, refunded',
    setup: async (w) => {
      const o = await newOrder(w, PI_WECHAT);
      intentOf(w, o).amount = 999;
      customerPays(w, o);
      return o.id;
    },
    deliver: async (w, id) =>
      handleEvent(w.deps, intentWebhook(w, (await w.store.get(id)) as Order, 'payment_intent.succeeded')),
  },
];

describe('crash after every I/O step, then redelivery: same outcome as without the crash', () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const clean = makeWorld();
      const id = await s.setup(clean);
      const before = clean.steps.length;
      const answer = await s.deliver(clean, id);
      const expected = snapshot(clean, id);
      const steps = clean.steps.length - before;
      expect(steps).toBeGreaterThan(1);

      for (let k = 1; k <= steps; k++) {
        const w = makeWorld();
        const wid = await s.setup(w);
        w.crashAfter = w.steps.length + k;
        await expect(s.deliver(w, wid)).rejects.toBeInstanceOf(Crash);
        w.crashAfter = undefined;
        // SQS redelivers the message (the API client retries the cancel).
        const again = await s.deliver(w, wid);
        expect({ k, ...snapshot(w, wid) }).toEqual({ k, ...expected });
        if (s.sameAnswer) expect({ k, again }).toEqual({ k, again: answer });
        expect(w.gateway.charges.size).toBeLessThanOrEqual(1);
        expect(w.gateway.refunds.size).toBeLessThanOrEqual(1);
      }
    });
  }
});
