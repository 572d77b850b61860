import type { OrderSummary, PaymentInfo, PaymentMethod, TimerKind } from './order.js';

/** Common to every event: a unique id (duplicate detection) and when it happened (ISO 8601). */
interface Base {
  id: string;
  at: string;
  /** Order the event belongs to, when known (Stripe `metadata.order_id`, timers, API). */
  orderId?: string;
  /** Stripe source id, used to find the order when `orderId` is missing. */
  sourceId?: string;
  /** Stripe PaymentIntent id, likewise. */
  paymentIntentId?: string;
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
  /** PaymentIntents: seconds until the unpaid order expires (the deployment's setting). */
  expiresInSeconds?: number;
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
  /** The PaymentIntent the charge belongs to; a charge of another PaymentIntent is not ours. */
  chargePaymentIntentId?: string;
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

/** The PaymentIntent's own view of the money (from its webhook or a retrieve). */
export interface IntentInfo {
  paymentIntentId: string;
  amount: number;
  currency: string;
  livemode: boolean;
  /** `latest_charge`: the charge a refund goes to. */
  chargeId?: string;
}

/** Stripe captured the customer's payment (automatic capture). */
export interface PaymentIntentSucceeded extends Base, Omit<IntentInfo, 'paymentIntentId'> {
  type: 'payment_intent.succeeded';
  paymentIntentId: string;
}

/** The payment is confirmed but its result is not known yet. */
export interface PaymentIntentProcessing extends Base {
  type: 'payment_intent.processing';
  paymentIntentId: string;
}

/** The customer's attempt failed or expired; the PaymentIntent is back to `requires_payment_method`. */
export interface PaymentIntentFailed extends Base {
  type: 'payment_intent.payment_failed';
  paymentIntentId: string;
  /** `last_payment_error.code`, e.g. payment_intent_payment_attempt_failed | …_expired. */
  failureCode?: string;
}

export interface PaymentIntentCanceled extends Base {
  type: 'payment_intent.canceled';
  paymentIntentId: string;
  cancellationReason?: string;
}

/** The customer has to act (scan, redirect): recorded for the timeline only. */
export interface PaymentIntentRequiresAction extends Base {
  type: 'payment_intent.requires_action';
  paymentIntentId: string;
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
/**
 * A PaymentIntent after the expiry, a re-check or a merchant cancel tried to cancel it: still
 * open ones were canceled, so what is left is `canceled`, `succeeded` (the customer paid first:
 * the cancel was refused) or `processing` (cannot be canceled; its result comes later).
 */
export type IntentObservation = {
  kind: 'payment_intent';
  status: 'canceled' | 'succeeded' | 'processing';
} & Omit<IntentInfo, 'paymentIntentId'>;
export type Observation = SourceObservation | ChargeObservation | IntentObservation;

export interface PendingExpired extends Base {
  type: 'timer.pending_expired';
  orderId: string;
  /** Sources: the source's status. PaymentIntents: the PaymentIntent after a cancel attempt. */
  observation?: SourceObservation | IntentObservation;
}

export interface DeadlineReached extends Base {
  type: 'timer.deadline';
  orderId: string;
  observation?: ChargeObservation;
}

export interface RecheckDue extends Base {
  type: 'timer.recheck';
  orderId: string;
  observation?: IntentObservation;
}

export type TimerFired = PendingExpired | DeadlineReached | RecheckDue;

export interface MerchantCancel extends Base {
  type: 'merchant.cancel';
  orderId: string;
  /** PaymentIntents: the PaymentIntent after the cancel attempt (Sources orders need none). */
  observation?: IntentObservation;
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
  | PaymentIntentSucceeded
  | PaymentIntentProcessing
  | PaymentIntentFailed
  | PaymentIntentCanceled
  | PaymentIntentRequiresAction
  | PendingExpired
  | DeadlineReached
  | RecheckDue
  | MerchantCancel;

/** The event type → its interface: rules are typed by their own event. */
export type OrderEventOf<T extends OrderEventType> = Extract<OrderEvent, { type: T }>;

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
  'payment_intent.succeeded',
  'payment_intent.processing',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'timer.pending_expired',
  'timer.deadline',
  'timer.recheck',
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
  'payment_intent.succeeded',
  'payment_intent.processing',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
] as const;
export type HandledStripeEventType = (typeof HANDLED_STRIPE_EVENT_TYPES)[number];

export const timerKindOf = (type: TimerFired['type']): TimerKind =>
  type === 'timer.pending_expired' ? 'pending_expired' : type === 'timer.deadline' ? 'deadline' : 'recheck';

export const timerEventType = (kind: TimerKind): TimerFired['type'] =>
  kind === 'pending_expired' ? 'timer.pending_expired' : kind === 'deadline' ? 'timer.deadline' : 'timer.recheck';

/** The Stripe API an event type belongs to; events of the other API are not about an order's payment. */
export const apiOfEventType = (t: OrderEventType): 'sources' | 'payment_intents' | undefined =>
  t.startsWith('source.') ? 'sources' : t.startsWith('payment_intent.') ? 'payment_intents' : undefined;

export type LifecycleEventType = 'order.paid' | 'order.failed' | 'order.canceled' | 'order.refunded';

export interface LifecycleEvent {
  type: LifecycleEventType;
  order: OrderSummary;
}
