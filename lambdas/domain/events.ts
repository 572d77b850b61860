import type { OrderSummary, PaymentInfo, PaymentMethod, TimerKind } from './order.js';

/** Common to every event: a unique id (duplicate detection) and when it happened (ISO 8601). */
interface Base {
  id: string;
  at: string;
  /** Order the event belongs to, when known (Stripe `metadata.order_id`, timers, API). */
  orderId?: string;
  /** Stripe source id, used to find the order when `orderId` is missing. */
  sourceId?: string;
  /** Id of the event whose effect produced this one (a charge result after `source.chargeable`). */
  causedBy?: string;
}

export interface OrderCreated extends Base {
  type: 'order.created';
  orderId: string;
  amount: number;
  currency: string;
  paymentMethod: PaymentMethod;
  livemode: boolean;
  clientSecret: string;
  payment: PaymentInfo;
  returnUrl?: string;
  statementDescriptor?: string;
  metadata: Record<string, string>;
}

export interface SourceChargeable extends Base {
  type: 'source.chargeable';
  sourceId: string;
  amount: number;
  currency: string;
  livemode: boolean;
}

export interface SourceFailed extends Base {
  type: 'source.failed';
}

export interface SourceCanceled extends Base {
  type: 'source.canceled';
}

export interface ChargeInfo {
  chargeId: string;
  /** The source the charge was made from; a charge of another source is not ours. */
  chargeSourceId?: string;
  amount?: number;
  currency?: string;
}

export interface ChargeSucceeded extends Base, ChargeInfo {
  type: 'charge.succeeded';
}

/** A charge accepted by Stripe whose result is not known yet (status `pending`). */
export interface ChargePending extends Base, ChargeInfo {
  type: 'charge.pending';
}

export interface ChargeFailed extends Base, ChargeInfo {
  type: 'charge.failed';
  failureCode?: string;
}

export interface ChargeRefunded extends Base, ChargeInfo {
  type: 'charge.refunded';
}

export interface ChargeDisputed extends Base, ChargeInfo {
  type: 'charge.dispute.created';
}

/**
 * What a timer learned from Stripe before deciding ("timers do not cancel blindly").
 * Pending expiry looks at the source; the deadline re-sends the charge with its idempotency
 * key (or reads the known charge).
 */
export type SourceObservation = {
  kind: 'source';
  status: 'pending' | 'chargeable' | 'consumed' | 'canceled' | 'failed';
};
export type ChargeObservation =
  | { kind: 'charge'; outcome: 'succeeded' | 'pending'; chargeId: string }
  | { kind: 'charge'; outcome: 'failed'; chargeId?: string; failureCode?: string }
  | { kind: 'charge'; outcome: 'source_not_chargeable' };
export type Observation = SourceObservation | ChargeObservation;

export interface TimerFired extends Base {
  type: 'timer.pending_expired' | 'timer.deadline';
  orderId: string;
  observation?: Observation;
}

export interface MerchantCancel extends Base {
  type: 'merchant.cancel';
  orderId: string;
}

export type OrderEvent =
  | OrderCreated
  | SourceChargeable
  | SourceFailed
  | SourceCanceled
  | ChargeSucceeded
  | ChargePending
  | ChargeFailed
  | ChargeRefunded
  | ChargeDisputed
  | TimerFired
  | MerchantCancel;

export type OrderEventType = OrderEvent['type'];

export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'order.created',
  'source.chargeable',
  'source.failed',
  'source.canceled',
  'charge.succeeded',
  'charge.pending',
  'charge.failed',
  'charge.refunded',
  'charge.dispute.created',
  'timer.pending_expired',
  'timer.deadline',
  'merchant.cancel',
];

/** Stripe webhook event types this system acts on; everything else is acknowledged and dropped. */
export const HANDLED_STRIPE_EVENT_TYPES = [
  'source.chargeable',
  'source.failed',
  'source.canceled',
  'charge.succeeded',
  'charge.pending',
  'charge.failed',
  'charge.refunded',
  'charge.dispute.created',
] as const;
export type HandledStripeEventType = (typeof HANDLED_STRIPE_EVENT_TYPES)[number];

export const timerKindOf = (type: TimerFired['type']): TimerKind =>
  type === 'timer.pending_expired' ? 'pending_expired' : 'deadline';

export type LifecycleEventType = 'order.paid' | 'order.failed' | 'order.canceled' | 'order.refunded';

export interface LifecycleEvent {
  type: LifecycleEventType;
  order: OrderSummary;
}
