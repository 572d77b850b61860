/**
 * Stripe webhook events → the domain's OrderEvent. Only the fields the state machine needs are
 * kept, so a queue message stays small and independent of Stripe's API version.
 * Event object: https://docs.stripe.com/api/events/object
 */
import {
  HANDLED_STRIPE_EVENT_TYPES,
  type HandledStripeEventType,
  ORDER_ID_METADATA_KEY,
  type OrderEvent,
} from '../../domain/index.js';

export interface StripeEventLike {
  id?: unknown;
  type?: unknown;
  created?: unknown;
  livemode?: unknown;
  data?: { object?: Record<string, unknown> | null } | null;
}

export type Translation =
  | { kind: 'event'; event: OrderEvent; livemode: boolean }
  | { kind: 'ignored'; reason: 'unhandled_type' | 'not_an_event' | 'no_order_reference' };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export const isHandledType = (t: string): t is HandledStripeEventType =>
  (HANDLED_STRIPE_EVENT_TYPES as readonly string[]).includes(t);

/** The PaymentIntent of a charge (PaymentIntents API). */
const chargeIntentId = (obj: Record<string, unknown>): string | undefined => {
  const pi = obj.payment_intent;
  if (typeof pi === 'string') return str(pi);
  if (pi && typeof pi === 'object') return str((pi as Record<string, unknown>).id);
  return undefined;
};

/** A `payment_intent.*` event: its object is the PaymentIntent. https://docs.stripe.com/api/payment_intents/object */
function translateIntentEvent(
  type: Extract<HandledStripeEventType, `payment_intent.${string}`>,
  base: { id: string; at: string; orderId?: string },
  obj: Record<string, unknown>,
): OrderEvent | undefined {
  const paymentIntentId = str(obj.id);
  if (!paymentIntentId) return undefined;
  const e = { ...base, paymentIntentId };
  switch (type) {
    case 'payment_intent.succeeded': {
      const charge = obj.latest_charge;
      const chargeId = typeof charge === 'string' ? str(charge) : str((charge as Record<string, unknown> | null)?.id);
      return {
        ...e,
        type,
        // What Stripe took: amount_received on a succeeded PaymentIntent (equal to amount with automatic capture).
        amount: num(obj.amount_received) ?? num(obj.amount) ?? -1,
        currency: str(obj.currency) ?? '',
        livemode: obj.livemode === true,
        ...(chargeId ? { chargeId } : {}),
      };
    }
    case 'payment_intent.payment_failed': {
      const err = (obj.last_payment_error ?? {}) as Record<string, unknown>;
      // `code` says what happened to the attempt (payment_intent_payment_attempt_failed | _expired);
      // `decline_code`, when a card network gives one, is a detail of a decline.
      const failureCode = str(err.code) ?? str(err.decline_code);
      return { ...e, type, ...(failureCode ? { failureCode } : {}) };
    }
    case 'payment_intent.canceled': {
      const reason = str(obj.cancellation_reason);
      return { ...e, type, ...(reason ? { cancellationReason: reason } : {}) };
    }
    case 'payment_intent.processing':
    case 'payment_intent.requires_action':
      return { ...e, type };
  }
}

/** The source id of a charge: `charge.source.id` (Sources API) or `payment_method`. */
function chargeSourceId(obj: Record<string, unknown>): string | undefined {
  const source = obj.source;
  if (typeof source === 'string') return str(source);
  if (source && typeof source === 'object') return str((source as Record<string, unknown>).id);
  const pm = str(obj.payment_method);
  return pm?.startsWith('src_') ? pm : undefined;
}

export function translateStripeEvent(e: StripeEventLike): Translation {
  const id = str(e.id);
  const type = str(e.type);
  const created = num(e.created);
  const obj = e.data?.object;
  if (!id || !type || created === undefined || !obj || typeof obj !== 'object')
    return { kind: 'ignored', reason: 'not_an_event' };
  if (!isHandledType(type)) return { kind: 'ignored', reason: 'unhandled_type' };

  const livemode = e.livemode === true;
  const at = new Date(created * 1000).toISOString();
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  const orderId = str(metadata[ORDER_ID_METADATA_KEY]);
  const ref = (sourceId: string | undefined) => ({
    ...(orderId ? { orderId } : {}),
    ...(sourceId ? { sourceId } : {}),
  });

  if (type.startsWith('source.')) {
    const sourceId = str(obj.id);
    if (!orderId && !sourceId) return { kind: 'ignored', reason: 'no_order_reference' };
    if (type === 'source.chargeable') {
      return {
        kind: 'event',
        livemode,
        event: {
          type,
          id,
          at,
          ...ref(sourceId),
          sourceId: sourceId ?? '',
          amount: num(obj.amount) ?? -1,
          currency: str(obj.currency) ?? '',
          livemode: obj.livemode === true,
        },
      };
    }
    return {
      kind: 'event',
      livemode,
      event: { type: type as 'source.failed' | 'source.canceled', id, at, ...ref(sourceId) },
    };
  }

  if (type.startsWith('payment_intent.')) {
    const event = translateIntentEvent(
      type as Extract<HandledStripeEventType, `payment_intent.${string}`>,
      { id, at, ...(orderId ? { orderId } : {}) },
      obj,
    );
    return event ? { kind: 'event', livemode, event } : { kind: 'ignored', reason: 'no_order_reference' };
  }

  // charge.* and charge.dispute.created (whose object is a dispute that names its charge and,
  // on the PaymentIntents API, its PaymentIntent).
  const isDispute = type === 'charge.dispute.created';
  const chargeId = isDispute ? str(obj.charge) : str(obj.id);
  const sourceId = isDispute ? undefined : chargeSourceId(obj);
  const paymentIntentId = chargeIntentId(obj);
  if (!chargeId || (!orderId && !sourceId && !paymentIntentId))
    return { kind: 'ignored', reason: 'no_order_reference' };
  const amount = num(obj.amount);
  const currency = str(obj.currency);
  const event = {
    type: type as Exclude<HandledStripeEventType, `source.${string}` | `payment_intent.${string}`>,
    id,
    at,
    ...ref(sourceId),
    ...(paymentIntentId ? { paymentIntentId, chargePaymentIntentId: paymentIntentId } : {}),
    chargeId,
    ...(sourceId ? { chargeSourceId: sourceId } : {}),
    ...(amount !== undefined ? { amount } : {}),
    ...(currency ? { currency } : {}),
    ...(type === 'charge.failed' && str(obj.failure_code) ? { failureCode: str(obj.failure_code) } : {}),
  } as OrderEvent;
  return { kind: 'event', livemode, event };
}

/** FIFO group of an event: the order id, else the source or PaymentIntent id (docs/architecture.md, Queue). */
export const groupIdOf = (e: OrderEvent): string => e.orderId ?? e.sourceId ?? e.paymentIntentId ?? e.id;
