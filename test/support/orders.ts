/** Builders of orders and events for tests of the domain and the use cases. */
import {
  type Decision,
  decide,
  type IntentObservation,
  type Order,
  type OrderEvent,
  type OrderEventType,
  type OrderStatus,
  type PaymentApi,
  timerEventId,
} from '../../lambdas/domain/index.js';

export const T0 = new Date('2026-11-21T02:00:00.000Z');
export const ORDER_ID = 'ord_01JZ0000000000000000000001';
export const SOURCE_ID = 'src_test_1';
export const PAYMENT_INTENT_ID = 'pi_test_1';

export function created(overrides: Partial<Extract<OrderEvent, { type: 'order.created' }>> = {}): OrderEvent {
  return {
    type: 'order.created',
    id: `${ORDER_ID}_created`,
    at: T0.toISOString(),
    orderId: ORDER_ID,
    amount: 1099,
    currency: 'usd',
    paymentMethod: 'wechat',
    livemode: false,
    clientSecret: 'secret_1',
    payment: { api: 'sources', sourceId: SOURCE_ID, qrCodeUrl: 'https://sim.example/qr' },
    metadata: {},
    ...overrides,
  } as OrderEvent;
}

/** The source id of a Sources-API order (throws for a PaymentIntents order: the test is wrong). */
export function sourceIdOf(o: Pick<Order, 'payment' | 'id'>): string {
  if (o.payment.api !== 'sources') throw new Error(`order ${o.id} is a ${o.payment.api} order, not a Sources order`);
  return o.payment.sourceId;
}

/** The PaymentIntent id of a PaymentIntents order. */
export function paymentIntentIdOf(o: Pick<Order, 'payment' | 'id'>): string {
  if (o.payment.api !== 'payment_intents') throw new Error(`order ${o.id} is a ${o.payment.api} order`);
  return o.payment.paymentIntentId;
}

const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000).toISOString();

/** One event of each type for the order above, with a fixed id (sending it twice is a duplicate). */
export function event(type: Exclude<OrderEventType, 'order.created'>, extra: Record<string, unknown> = {}): OrderEvent {
  const base = { orderId: ORDER_ID, sourceId: SOURCE_ID };
  switch (type) {
    case 'source.chargeable':
      return {
        type,
        id: 'evt_chargeable',
        at: later(5),
        ...base,
        amount: 1099,
        currency: 'usd',
        livemode: false,
        ...extra,
      };
    case 'source.failed':
    case 'source.canceled':
      return { type, id: `evt_${type}`, at: later(6), ...base, ...extra };
    case 'charge.succeeded':
    case 'charge.pending':
    case 'charge.failed':
    case 'charge.refunded':
    case 'charge.dispute.created':
      return {
        type,
        id: `evt_${type}`,
        at: later(7),
        ...base,
        chargeId: 'ch_1',
        chargeSourceId: SOURCE_ID,
        ...extra,
      } as OrderEvent;
    case 'timer.pending_expired':
      return {
        type,
        id: timerEventId(ORDER_ID, 'pending_expired'),
        at: later(60),
        orderId: ORDER_ID,
        ...extra,
      } as OrderEvent;
    case 'timer.deadline':
      return {
        type,
        id: timerEventId(ORDER_ID, 'deadline'),
        at: later(300),
        orderId: ORDER_ID,
        ...extra,
      } as OrderEvent;
    case 'timer.recheck':
      return {
        type,
        id: timerEventId(ORDER_ID, 'recheck'),
        at: later(90),
        orderId: ORDER_ID,
        ...extra,
      } as OrderEvent;
    case 'merchant.cancel':
      return { type, id: `mc_${ORDER_ID}`, at: later(8), orderId: ORDER_ID, ...extra } as OrderEvent;
    case 'payment_intent.succeeded':
      return {
        type,
        id: 'evt_pi_succeeded',
        at: later(5),
        orderId: ORDER_ID,
        paymentIntentId: PAYMENT_INTENT_ID,
        amount: 1099,
        currency: 'usd',
        livemode: false,
        chargeId: 'ch_pi_1',
        ...extra,
      } as OrderEvent;
    case 'payment_intent.processing':
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled':
    case 'payment_intent.requires_action':
      return {
        type,
        id: `evt_${type}`,
        at: later(4),
        orderId: ORDER_ID,
        paymentIntentId: PAYMENT_INTENT_ID,
        ...extra,
      } as OrderEvent;
  }
}

export function applyAll(events: OrderEvent[], now = T0): { order: Order | undefined; decisions: Decision[] } {
  let order: Order | undefined;
  const decisions: Decision[] = [];
  for (const e of events) {
    const d = decide(order, e, now);
    decisions.push(d);
    if (d.kind === 'applied') order = d.order;
  }
  return { order, decisions };
}

/** The shortest path to each state through the machine itself. */
export const PATH_TO: Record<OrderStatus, OrderEvent[]> = {
  pending: [created()],
  chargeable: [created(), event('source.chargeable')],
  charging: [created(), event('source.chargeable'), event('charge.pending')],
  paid: [created(), event('source.chargeable'), event('charge.succeeded')],
  failed: [created(), event('source.failed')],
  canceled: [created(), event('merchant.cancel')],
  refunded: [created(), event('merchant.cancel'), event('charge.succeeded')],
};

/** Seconds a PaymentIntents order of these builders waits before it expires (not the 1-hour default). */
export const PI_EXPIRES_IN_SECONDS = 1800;

/** The creation of a PaymentIntents order: WeChat Pay in a browser, its QR code from `next_action`. */
export function piCreated(overrides: Partial<Extract<OrderEvent, { type: 'order.created' }>> = {}): OrderEvent {
  return created({
    payment: {
      api: 'payment_intents',
      paymentIntentId: PAYMENT_INTENT_ID,
      client: 'web',
      qrCodeData: `weixin://wxpay/bizpayurl?pr=${PAYMENT_INTENT_ID}`,
    },
    expiresInSeconds: PI_EXPIRES_IN_SECONDS,
    ...overrides,
  });
}

/** The order's money as Stripe reports it (equal to the order's unless overridden). */
export const MONEY = { amount: 1099, currency: 'usd', livemode: false } as const;

/** The PaymentIntent after a cancel attempt (expiry, re-check, merchant cancel). */
export function intentObservation(
  status: IntentObservation['status'],
  extra: Partial<Omit<IntentObservation, 'kind' | 'status'>> = {},
): IntentObservation {
  return {
    kind: 'payment_intent',
    status,
    ...MONEY,
    ...(status === 'succeeded' ? { chargeId: 'ch_pi_1' } : {}),
    ...extra,
  };
}

/**
 * One event of each type for the PaymentIntents order: as `event()`, except that charge events
 * belong to the PaymentIntent (no source), as Stripe sends them on that API.
 */
export function piEvent(
  type: Exclude<OrderEventType, 'order.created'>,
  extra: Record<string, unknown> = {},
): OrderEvent {
  switch (type) {
    case 'charge.succeeded':
    case 'charge.pending':
    case 'charge.failed':
    case 'charge.refunded':
    case 'charge.dispute.created': {
      const { sourceId: _s, chargeSourceId: _c, ...e } = event(type) as OrderEvent & { chargeSourceId?: string };
      return {
        ...e,
        chargeId: 'ch_pi_1',
        paymentIntentId: PAYMENT_INTENT_ID,
        chargePaymentIntentId: PAYMENT_INTENT_ID,
        ...extra,
      } as OrderEvent;
    }
    default:
      return event(type, extra);
  }
}

/**
 * The shortest path to each state of a PaymentIntents order. `chargeable` is absent: it belongs to
 * the Sources API (a source authorized, waiting for our charge); Stripe captures a PaymentIntent
 * itself, so no PaymentIntents order is ever chargeable (test/unit/machine.table.test.ts shows it).
 */
export const PI_PATH_TO: Record<Exclude<OrderStatus, 'chargeable'>, OrderEvent[]> = {
  pending: [piCreated()],
  charging: [piCreated(), piEvent('payment_intent.processing')],
  paid: [piCreated(), piEvent('payment_intent.succeeded')],
  failed: [piCreated(), piEvent('payment_intent.payment_failed')],
  canceled: [piCreated(), piEvent('merchant.cancel', { observation: intentObservation('canceled') })],
  refunded: [
    piCreated(),
    piEvent('merchant.cancel', { observation: intentObservation('canceled') }),
    piEvent('payment_intent.succeeded'),
  ],
};

/** The path to `status` for an order on `api`, or undefined when no such path exists. */
export function pathTo(status: OrderStatus, api: PaymentApi = 'sources'): OrderEvent[] | undefined {
  if (api === 'sources') return PATH_TO[status];
  return status === 'chargeable' ? undefined : PI_PATH_TO[status];
}

export function orderIn(status: OrderStatus, api: PaymentApi = 'sources'): Order {
  const path = pathTo(status, api);
  if (!path) throw new Error(`no ${api} order is ever ${status}`);
  const { order } = applyAll(path);
  if (!order || order.status !== status) throw new Error(`could not reach ${status} on ${api}`);
  return order;
}
