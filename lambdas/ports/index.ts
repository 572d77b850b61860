import type { LifecycleEvent, Order, OrderEvent, PaymentMethod } from '../domain/index.js';

export * from './errors.js';

/** Orders, read strongly consistent by id. */
export interface OrderStore {
  /**
   * Strongly consistent by default (a decision depends on it). `{ consistent: false }` for reads
   * that only display (the customer's status polls): half the read cost, at most a second stale.
   */
  get(orderId: string, options?: { consistent?: boolean }): Promise<Order | undefined>;
  /** Through the source-id index; eventually consistent. */
  getBySourceId(sourceId: string): Promise<Order | undefined>;
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

/**
 * Stripe, as the use cases need it. Errors: PaymentDeclined, SourceNotChargeable, NotFound,
 * TransientError (retry later).
 */
export interface PaymentGateway {
  createSource(input: CreateSourceInput): Promise<CreatedSource>;
  getSourceStatus(sourceId: string): Promise<SourceStatus>;
  charge(input: ChargeInput): Promise<ChargeResult>;
  getCharge(chargeId: string): Promise<ChargeResult>;
  refund(input: { orderId: string; chargeId: string; idempotencyKey: string }): Promise<{ id: string }>;
}

export interface EventPublisher {
  publish(event: LifecycleEvent): Promise<void>;
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
