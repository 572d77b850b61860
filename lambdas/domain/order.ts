import type { Effect } from './effects.js';

export const PAYMENT_METHODS = ['wechat', 'alipay'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const ORDER_STATUSES = ['pending', 'chargeable', 'charging', 'paid', 'failed', 'canceled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['paid', 'failed', 'canceled', 'refunded'];
export const isTerminal = (s: OrderStatus): boolean => TERMINAL_STATUSES.includes(s);

export type FailureReason =
  | 'declined'
  | 'charge_failed'
  | 'amount_mismatch'
  | 'currency_mismatch'
  | 'livemode_mismatch';

export type CancelReason = 'source_canceled' | 'pending_expired' | 'deadline_passed' | 'merchant';

/** One line of the order's timeline. `ignored` is set for events recorded without effect. */
export interface HistoryEntry {
  type: string;
  eventId: string;
  /** When the event happened (Stripe's `created`, the timer's instant, the API call). ISO 8601. */
  at: string;
  /** When this system recorded it. ISO 8601. */
  recordedAt: string;
  from: OrderStatus | null;
  to: OrderStatus;
  ignored?: string;
}

/**
 * Effects of the latest write and the chain of event ids that produced it. A redelivered
 * event in `chain` re-runs `effects` (all idempotent), so a crash between the write and the
 * effects loses nothing.
 */
export interface Outbox {
  chain: string[];
  effects: Effect[];
}

export interface PaymentInfo {
  sourceId: string;
  qrCodeUrl?: string;
  redirectUrl?: string;
}

export interface Order {
  id: string;
  status: OrderStatus;
  amount: number;
  currency: string;
  paymentMethod: PaymentMethod;
  livemode: boolean;
  /** Secret the customer's browser presents to read the order status (never the API key). */
  clientSecret: string;
  payment: PaymentInfo;
  returnUrl?: string;
  statementDescriptor?: string;
  metadata: Record<string, string>;
  chargeId?: string;
  chargeableAt?: string;
  deadline?: string;
  pendingExpiresAt: string;
  failureReason?: FailureReason;
  cancelReason?: CancelReason;
  version: number;
  history: HistoryEntry[];
  outbox: Outbox;
  createdAt: string;
  updatedAt: string;
}

/** What lifecycle events and the status API expose: no history, no secrets. */
export interface OrderSummary {
  id: string;
  status: OrderStatus;
  amount: number;
  currency: string;
  paymentMethod: PaymentMethod;
  sourceId: string;
  chargeId?: string;
  chargeableAt?: string;
  deadline?: string;
  failureReason?: FailureReason;
  cancelReason?: CancelReason;
  metadata: Record<string, string>;
  updatedAt: string;
}

export function summarize(o: Order): OrderSummary {
  const s: OrderSummary = {
    id: o.id,
    status: o.status,
    amount: o.amount,
    currency: o.currency,
    paymentMethod: o.paymentMethod,
    sourceId: o.payment.sourceId,
    metadata: o.metadata,
    updatedAt: o.updatedAt,
  };
  if (o.chargeId !== undefined) s.chargeId = o.chargeId;
  if (o.chargeableAt !== undefined) s.chargeableAt = o.chargeableAt;
  if (o.deadline !== undefined) s.deadline = o.deadline;
  if (o.failureReason !== undefined) s.failureReason = o.failureReason;
  if (o.cancelReason !== undefined) s.cancelReason = o.cancelReason;
  return s;
}

/** Scheduler names: `<orderId>-pending`, `<orderId>-deadline` (see DESIGN.md, Timers). */
export const timerName = (orderId: string, kind: TimerKind): string =>
  `${orderId}-${kind === 'pending_expired' ? 'pending' : 'deadline'}`;

export type TimerKind = 'pending_expired' | 'deadline';

/** Event id of a timer firing; stable, so a schedule fired twice is a duplicate. */
export const timerEventId = (orderId: string, kind: TimerKind): string => `tmr_${orderId}_${kind}`;
