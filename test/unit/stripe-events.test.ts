import { describe, expect, it } from 'vitest';
import { groupIdOf, translateStripeEvent } from '../../lambdas/adapters/stripe/events.js';
import { decide } from '../../lambdas/domain/index.js';
import { piCreated, T0 } from '../support/orders.js';
import { example } from './payment-intent-fixtures.js';

const ORDER = 'ord_01JZ0000000000000000000001';
const base = { id: 'evt_1', created: 1_790_000_000, livemode: false };
const source = (extra: Record<string, unknown> = {}) => ({
  id: 'src_1',
  object: 'source',
  amount: 1099,
  currency: 'usd',
  livemode: false,
  metadata: { order_id: ORDER },
  ...extra,
});

describe('translateStripeEvent', () => {
  it('turns source.chargeable into the domain event, with Stripe’s created time as `at`', () => {
    const t = translateStripeEvent({ ...base, type: 'source.chargeable', data: { object: source() } });
    expect(t).toEqual({
      kind: 'event',
      livemode: false,
      event: {
        type: 'source.chargeable',
        id: 'evt_1',
        at: new Date(1_790_000_000_000).toISOString(),
        orderId: ORDER,
        sourceId: 'src_1',
        amount: 1099,
        currency: 'usd',
        livemode: false,
      },
    });
  });

  it('takes a charge’s source from charge.source (Sources API)', () => {
    const t = translateStripeEvent({
      ...base,
      type: 'charge.succeeded',
      data: {
        object: {
          id: 'ch_1',
          object: 'charge',
          amount: 1099,
          currency: 'usd',
          metadata: { order_id: ORDER },
          source: source(),
        },
      },
    });
    expect(t).toMatchObject({
      kind: 'event',
      event: { type: 'charge.succeeded', chargeId: 'ch_1', chargeSourceId: 'src_1', orderId: ORDER },
    });
  });

  it('keeps the failure code of a failed charge', () => {
    const t = translateStripeEvent({
      ...base,
      type: 'charge.failed',
      data: {
        object: { id: 'ch_1', failure_code: 'charge_declined', metadata: { order_id: ORDER }, source: { id: 'src_1' } },
      },
    });
    expect(t).toMatchObject({ event: { type: 'charge.failed', failureCode: 'charge_declined' } });
  });

  it.each([
    ['an unhandled type', { ...base, type: 'customer.created', data: { object: {} } }, 'unhandled_type'],
    ['no id', { type: 'source.failed', created: 1, data: { object: source() } }, 'not_an_event'],
    ['no data.object', { ...base, type: 'source.failed', data: null }, 'not_an_event'],
    ['a string created', { ...base, created: 'x', type: 'source.failed', data: { object: source() } }, 'not_an_event'],
    [
      'a charge without source nor order',
      { ...base, type: 'charge.succeeded', data: { object: { id: 'ch_1' } } },
      'no_order_reference',
    ],
  ])('ignores %s', (_n, e, reason) => {
    expect(translateStripeEvent(e as never)).toEqual({ kind: 'ignored', reason });
  });

  it('falls back to the source id when metadata has no order id', () => {
    const t = translateStripeEvent({ ...base, type: 'source.canceled', data: { object: source({ metadata: {} }) } });
    expect(t).toMatchObject({ kind: 'event', event: { type: 'source.canceled', sourceId: 'src_1' } });
    expect(t.kind === 'event' ? t.event.orderId : 'x').toBeUndefined();
  });
});

describe('translateStripeEvent: PaymentIntents events (Stripe’s wechat_pay / alipay examples)', () => {
  type Obj = Record<string, unknown> & { id: string; metadata: { order_id: string } };
  type Ev = { id: string; type: string; created: number; livemode: boolean; data: { object: Obj } };
  const at = (e: Ev) => new Date(e.created * 1000).toISOString();
  /** An event of `type` around the example PaymentIntent `object`. */
  const wrap = (type: string, object: string | Obj): Ev => ({
    ...example<Ev>('event_payment_intent_succeeded'),
    id: `evt_${type}`,
    type,
    data: { object: typeof object === 'string' ? example<Obj>(object) : object },
  });

  it('payment_intent.succeeded: the money Stripe took (amount_received), its charge, the order and the PaymentIntent', () => {
    const e = example<Ev>('event_payment_intent_succeeded');
    const pi = e.data.object;
    expect(translateStripeEvent(e)).toEqual({
      kind: 'event',
      livemode: e.livemode,
      event: {
        type: 'payment_intent.succeeded',
        id: e.id,
        at: at(e),
        orderId: pi.metadata.order_id,
        paymentIntentId: pi.id,
        amount: pi.amount_received,
        currency: pi.currency,
        livemode: pi.livemode,
        chargeId: pi.latest_charge,
      },
    });
    expect(pi.id).toMatch(/^pi_/);
    expect(pi.latest_charge).toMatch(/^ch_/);
  });

  it('payment_intent.succeeded: amount_received wins over amount; an expanded latest_charge gives its id', () => {
    const e = example<Ev>('event_payment_intent_succeeded');
    e.data.object.amount_received = 1000;
    e.data.object.latest_charge = example<Obj>('charge_wechat_pay_succeeded');
    const t = translateStripeEvent(e);
    expect(t).toMatchObject({ event: { amount: 1000, chargeId: example<Obj>('charge_wechat_pay_succeeded').id } });
    e.data.object.latest_charge = null;
    const none = translateStripeEvent(e);
    expect(none.kind === 'event' && 'chargeId' in none.event).toBe(false);
  });

  it('payment_intent.succeeded of Alipay in live mode: the PaymentIntent’s own livemode is the money’s', () => {
    const pi: Obj = { ...example<Obj>('payment_intent_alipay_succeeded'), livemode: true };
    const t = translateStripeEvent({ ...wrap('payment_intent.succeeded', pi), livemode: true });
    expect(t).toMatchObject({
      kind: 'event',
      livemode: true,
      event: { paymentIntentId: pi.id, livemode: true, amount: pi.amount_received, chargeId: pi.latest_charge },
    });
  });

  it.each([
    ['event_payment_intent_payment_failed', 'payment_intent_payment_attempt_failed'],
    ['payment_intent_wechat_pay_expired', 'payment_intent_payment_attempt_expired'],
  ])('payment_intent.payment_failed (%s): failureCode is last_payment_error.code', (name, code) => {
    const e = name.startsWith('event_') ? example<Ev>(name) : wrap('payment_intent.payment_failed', name);
    const err = e.data.object.last_payment_error as { code: string };
    expect(err.code).toBe(code);
    expect(translateStripeEvent(e)).toEqual({
      kind: 'event',
      livemode: false,
      event: {
        type: 'payment_intent.payment_failed',
        id: e.id,
        at: at(e),
        orderId: e.data.object.metadata.order_id,
        paymentIntentId: e.data.object.id,
        failureCode: code,
      },
    });
  });

  it('payment_intent.canceled keeps the cancellation reason', () => {
    const e = example<Ev>('event_payment_intent_canceled');
    expect(translateStripeEvent(e)).toEqual({
      kind: 'event',
      livemode: false,
      event: {
        type: 'payment_intent.canceled',
        id: e.id,
        at: at(e),
        orderId: e.data.object.metadata.order_id,
        paymentIntentId: e.data.object.id,
        cancellationReason: e.data.object.cancellation_reason,
      },
    });
    expect(e.data.object.cancellation_reason).toBe('abandoned');
  });

  it.each([
    ['payment_intent.requires_action', 'event_payment_intent_requires_action'],
    ['payment_intent.processing', 'payment_intent_wechat_pay_requires_action'],
  ])('%s carries the order and the PaymentIntent only', (type, name) => {
    const e = name.startsWith('event_')
      ? example<Ev>(name)
      : wrap(type, { ...example<Obj>(name), status: 'processing', next_action: null });
    expect(translateStripeEvent(e)).toEqual({
      kind: 'event',
      livemode: false,
      event: { type, id: e.id, at: at(e), orderId: e.data.object.metadata.order_id, paymentIntentId: e.data.object.id },
    });
  });

  it('charge.succeeded of a PaymentIntent names the PaymentIntent (chargePaymentIntentId), and no source', () => {
    const e = example<Ev>('event_charge_succeeded');
    const ch = e.data.object;
    expect(ch.payment_method).toMatch(/^pm_/);
    expect(translateStripeEvent(e)).toEqual({
      kind: 'event',
      livemode: false,
      event: {
        type: 'charge.succeeded',
        id: e.id,
        at: at(e),
        orderId: ch.metadata.order_id,
        paymentIntentId: ch.payment_intent,
        chargePaymentIntentId: ch.payment_intent,
        chargeId: ch.id,
        amount: ch.amount,
        currency: ch.currency,
      },
    });
  });

  it('a charge with its PaymentIntent expanded, and no order id, is found by the PaymentIntent', () => {
    const e = example<Ev>('event_charge_succeeded');
    const pi = example<Obj>('payment_intent_wechat_pay_succeeded');
    e.data.object = { ...e.data.object, payment_intent: pi, metadata: {} } as unknown as Obj;
    const t = translateStripeEvent(e);
    expect(t).toMatchObject({ kind: 'event', event: { paymentIntentId: pi.id, chargePaymentIntentId: pi.id } });
    if (t.kind !== 'event') throw new Error(t.reason);
    expect(t.event.orderId).toBeUndefined();
    expect(groupIdOf(t.event)).toBe(pi.id);
  });

  it('groupIdOf: the order id when the metadata has it, else the PaymentIntent id', () => {
    const withOrder = translateStripeEvent(example<Ev>('event_payment_intent_succeeded'));
    if (withOrder.kind !== 'event') throw new Error(withOrder.reason);
    expect(groupIdOf(withOrder.event)).toBe('ord_example_0001');

    const e = example<Ev>('event_payment_intent_payment_failed');
    e.data.object.metadata = {} as Obj['metadata'];
    const t = translateStripeEvent(e);
    if (t.kind !== 'event') throw new Error(t.reason);
    expect(t.event.orderId).toBeUndefined();
    expect(groupIdOf(t.event)).toBe(e.data.object.id);
  });

  it.each([
    ['charge.refund.updated (not acted on)', example<Ev>('event_charge_refund_updated'), 'unhandled_type'],
    [
      'a PaymentIntent event whose object has no id',
      (() => {
        const e = example<Ev>('event_payment_intent_succeeded');
        e.data.object = { ...e.data.object, id: '' };
        return e;
      })(),
      'no_order_reference',
    ],
  ])('ignores %s', (_n, e, reason) => {
    expect(translateStripeEvent(e)).toEqual({ kind: 'ignored', reason });
  });

  it('the translated success pays the order of that PaymentIntent, and another PaymentIntent’s is ignored', () => {
    const e = example<Ev>('event_payment_intent_succeeded');
    const t = translateStripeEvent(e);
    if (t.kind !== 'event') throw new Error(t.reason);
    const ours = piOrder(e.data.object.id);
    expect(decide(ours, t.event, T0)).toMatchObject({
      kind: 'applied',
      order: { status: 'paid', chargeId: e.data.object.latest_charge },
    });
    expect(decide(piOrder('pi_someone_else'), t.event, T0)).toMatchObject({ ignored: 'foreign_payment_intent' });
  });
});

function piOrder(paymentIntentId: string) {
  const d = decide(
    undefined,
    piCreated({ orderId: 'ord_example_0001', payment: { api: 'payment_intents', paymentIntentId } }),
    T0,
  );
  if (d.kind !== 'applied') throw new Error(d.kind);
  return d.order;
}
