import type { Effect } from './effects.js';

export const PAYMENT_METHODS = ['wechat', 'alipay'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/**
 * The Stripe API an order's payment lives on: PaymentIntents (Stripe's current API, the default)
 * or the legacy Sources API, closed to new Stripe accounts but still run by existing merchants.
 * An order keeps the API it was created with for its whole life (docs/architecture.md).
 */
export const PAYMENT_APIS = ['payment_intents', 'sources'] as const;
export type PaymentApi = (typeof PAYMENT_APIS)[number];

/** Where the customer's WeChat Pay runs: a browser (QR code) or the merchant's own app. */
export const WECHAT_CLIENTS = ['web', 'ios', 'android'] as const;
export type WechatClient = (typeof WECHAT_CLIENTS)[number];

export const ORDER_STATUSES = ['pending', 'chargeable', 'charging', 'paid', 'failed', 'canceled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['paid', 'failed', 'canceled', 'refunded'];
export const isTerminal = (s: OrderStatus): boolean => TERMINAL_STATUSES.includes(s);

export type FailureReason =
  | 'declined'
  | 'charge_failed'
  | 'amount_mismatch'
  | 'currency_mismatch'
  | 'livemode_mismatch'
  /** PaymentIntents: the customer's payment attempt expired before they paid (Stripe's code). */
  | 'payment_expired';

export type CancelReason =
  | 'source_canceled'
  /** PaymentIntents: the PaymentIntent was canceled outside this system (Dashboard, Stripe). */
  | 'payment_intent_canceled'
  | 'pending_expired'
  | 'deadline_passed'
  | 'merchant';

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

/** A Sources-API payment: one single-use source, charged by this system when chargeable. */
export interface SourcePayment {
  api: 'sources';
  sourceId: string;
  qrCodeUrl?: string;
  redirectUrl?: string;
}

/** WeChat Pay inside the merchant's Android app: the fields the WeChat SDK's PayReq takes. */
export interface WechatAndroidApp {
  appId: string;
  nonceStr: string;
  package: string;
  partnerId: string;
  prepayId: string;
  sign: string;
  timestamp: string;
}

/**
 * A PaymentIntents payment, created and confirmed server side; Stripe captures when the customer
 * authorizes. What the storefront shows comes from the PaymentIntent's `next_action`.
 */
export interface IntentPayment {
  api: 'payment_intents';
  paymentIntentId: string;
  /** WeChat Pay, web: the string to encode as the QR code (`wechat_pay_display_qr_code.data`). */
  qrCodeData?: string;
  /** WeChat Pay, web: the same QR code as a PNG data URL. */
  qrCodeImageDataUrl?: string;
  /** WeChat Pay, web: Stripe's hosted page showing the QR code (a second scan: a fallback only). */
  hostedInstructionsUrl?: string;
  /** Alipay: send the customer here. */
  redirectUrl?: string;
  /** WeChat Pay in an iOS app, or Alipay in an app: the URL that opens the wallet app. */
  nativeUrl?: string;
  /** Alipay in an app: the data the Alipay SDK takes. */
  nativeData?: string;
  /** WeChat Pay in an Android app. */
  wechatAndroid?: WechatAndroidApp;
  /** WeChat Pay: the client the PaymentIntent was confirmed for. */
  client?: WechatClient;
}

export type PaymentInfo = SourcePayment | IntentPayment;

/** The Stripe object that carries the order's money: the source or the PaymentIntent. */
export const paymentObjectId = (p: PaymentInfo): string => (p.api === 'sources' ? p.sourceId : p.paymentIntentId);

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
  /** Stripe's own code for the failure (`decline_code`, `last_payment_error.code`), when it gave one. */
  failureCode?: string;
  cancelReason?: CancelReason;
  /** PaymentIntents: when a `processing` payment is looked at again. */
  recheckAt?: string;
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
  api: PaymentApi;
  /** Sources API orders. */
  sourceId?: string;
  /** PaymentIntents orders. */
  paymentIntentId?: string;
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
    api: o.payment.api,
    ...(o.payment.api === 'sources'
      ? { sourceId: o.payment.sourceId }
      : { paymentIntentId: o.payment.paymentIntentId }),
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

/**
 * Scheduler names: `<orderId>-pending`, `<orderId>-deadline`, `<orderId>-recheck`
 * (docs/architecture.md, Timers).
 */
export const timerName = (orderId: string, kind: TimerKind): string =>
  `${orderId}-${kind === 'pending_expired' ? 'pending' : kind}`;

/**
 * `pending_expired`: the unpaid order expires (both APIs). `deadline`: Sources only, the charge
 * deadline of a chargeable source. `recheck`: PaymentIntents only, a `processing` payment is
 * looked at again.
 */
export type TimerKind = 'pending_expired' | 'deadline' | 'recheck';

/** Event id of a timer firing; stable, so a schedule fired twice is a duplicate. */
export const timerEventId = (orderId: string, kind: TimerKind): string => `tmr_${orderId}_${kind}`;
