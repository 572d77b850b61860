import type { IntentPayment, LifecycleEvent, Order, OrderEvent, PaymentMethod, WechatClient } from '../domain/index.js';

export * from './errors.js';

/** Orders, read strongly consistent by id. */
export interface OrderStore {
  /**
   * Strongly consistent by default (a decision depends on it). `{ consistent: false }` for reads
   * that only display (the customer's status polls): half the read cost, at most a second stale.
   */
  get(orderId: string, options?: { consistent?: boolean }): Promise<Order | undefined>;
  /** By the id of its source or PaymentIntent, through the payment-object index; eventually consistent. */
  getByPaymentId(paymentObjectId: string): Promise<Order | undefined>;
  /** The order an API `Idempotency-Key` created, with the request it was created for. */
  getByIdempotencyKey(key: string): Promise<IdempotencyRecord | undefined>;
  /** Fails with ConflictError when the id (or the idempotency key) exists. */
  create(order: Order, idempotency?: IdempotencyRecord): Promise<void>;
  /** Writes `order` if the stored version is still `expectedVersion`, else ConflictError. */
  update(order: Order, expectedVersion: number): Promise<void>;
  /** Most recent first, for the operator view; bounded by `limit`. */
  listRecent(limit: number): Promise<Order[]>;
}

export interface IdempotencyRecord {
  key: string;
  orderId: string;
  /** Canonical JSON of the request, to refuse the same key with other parameters. */
  request: string;
}

/** What travels on the work queue, versioned on the wire by the adapter. */
export interface WorkMessage {
  /** FIFO group: the order id, else the source id. */
  groupId: string;
  /** FIFO deduplication: the Stripe event id. */
  dedupId: string;
  event: OrderEvent;
}

export interface WorkQueue {
  enqueue(message: WorkMessage): Promise<void>;
}

export interface TimerSpec {
  /** `<orderId>-pending` | `<orderId>-deadline`. */
  name: string;
  /** The instant to fire at. */
  at: Date;
  /** Delivered to the worker when the timer fires. */
  message: WorkMessage;
}

export interface Timers {
  /** Creating a name that exists is success. */
  schedule(timer: TimerSpec): Promise<void>;
  /** Deleting a name that does not exist is success. */
  cancel(name: string): Promise<void>;
}

export interface CreateSourceInput {
  orderId: string;
  type: PaymentMethod;
  amount: number;
  currency: string;
  returnUrl?: string;
  statementDescriptor?: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface CreatedSource {
  id: string;
  livemode: boolean;
  status: string;
  qrCodeUrl?: string;
  redirectUrl?: string;
}

export type SourceStatus = 'pending' | 'chargeable' | 'consumed' | 'canceled' | 'failed';

export interface ChargeInput {
  orderId: string;
  sourceId: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
}

export interface ChargeResult {
  id: string;
  status: 'succeeded' | 'pending' | 'failed';
  amount: number;
  currency: string;
  sourceId?: string;
  failureCode?: string;
}

export interface CreatePaymentIntentInput {
  orderId: string;
  method: PaymentMethod;
  amount: number;
  currency: string;
  returnUrl?: string;
  statementDescriptor?: string;
  /** WeChat Pay: web (QR code, default), ios or android (with `wechatAppId`). */
  client?: WechatClient;
  wechatAppId?: string;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface CreatedPaymentIntent {
  livemode: boolean;
  status: PaymentIntentStatus;
  /** What the storefront shows, from the PaymentIntent's `next_action`. */
  payment: IntentPayment;
}

/** https://docs.stripe.com/payments/paymentintents/lifecycle */
export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntentState {
  id: string;
  status: PaymentIntentStatus;
  amount: number;
  currency: string;
  livemode: boolean;
  /** `latest_charge`. */
  chargeId?: string;
}

export interface RefundInput {
  orderId: string;
  /** The charge to refund; else the PaymentIntent's (PaymentIntents orders). */
  chargeId?: string;
  paymentIntentId?: string;
  idempotencyKey: string;
}

/**
 * Stripe, as the use cases need it. Errors: PaymentDeclinedError, SourceNotChargeableError, NotFoundError,
 * TransientError (retry later).
 */
export interface PaymentGateway {
  createSource(input: CreateSourceInput): Promise<CreatedSource>;
  getSourceStatus(sourceId: string): Promise<SourceStatus>;
  charge(input: ChargeInput): Promise<ChargeResult>;
  getCharge(chargeId: string): Promise<ChargeResult>;
  refund(input: RefundInput): Promise<{ id: string }>;
  /** Creates and confirms a PaymentIntent in one call (idempotency key `pi-<orderId>`). */
  createPaymentIntent(input: CreatePaymentIntentInput): Promise<CreatedPaymentIntent>;
  getPaymentIntent(id: string): Promise<PaymentIntentState>;
  /**
   * Cancels the PaymentIntent if it can still be canceled (`cancellation_reason=abandoned`) and
   * answers it as it is afterwards: `canceled`, or `succeeded` / `processing` when Stripe refused
   * because the customer got there first. Canceling a canceled PaymentIntent is success.
   */
  cancelPaymentIntent(id: string): Promise<PaymentIntentState>;
}

export interface EventPublisher {
  publish(event: LifecycleEvent): Promise<void>;
}

/**
 * Compares a secret a caller presents (the order's client secret) with the stored one in time
 * that does not depend on where they differ, so response timings do not reveal it.
 */
export interface SecretComparer {
  equal(expected: string, given: string): boolean;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** `ord_` + ULID. */
  orderId(): string;
  /** An unguessable secret for the customer's status page. */
  clientSecret(orderId: string): string;
}
