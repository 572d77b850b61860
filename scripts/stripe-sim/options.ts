/**
 * The simulator's public types: its options, its fault settings and the `StripeSim` interface
 * tests and the sandbox drive it through. sim.ts implements it; index.ts re-exports it.
 *
 * Stripe behaviour behind the methods: https://docs.stripe.com/sources/wechat-pay ,
 * https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 * https://docs.stripe.com/payments/alipay/accept-a-payment , https://docs.stripe.com/webhooks#retries .
 */

import type { SimClock } from './clock.js';
import type { ChargeObj, EventObj, RefundObj, SourceObj } from './objects.js';
import type { Spec } from './openapi.js';
import type { PaymentIntentChargeObj, PaymentIntentObj, PaymentMethodObj } from './payment-intent-objects.js';
import type { DeliveryRecord } from './webhooks.js';

/**
 * '500', '429', 'hang' and 'reset' fail before the request runs. 'lost' runs it (a charge is
 * created, the answer is stored under its idempotency key) and then closes the socket without
 * answering: the request reached Stripe but its response was lost on the way back.
 */
export type FaultMode = '500' | '429' | 'hang' | 'reset' | 'lost';
export const FAULT_MODES: readonly FaultMode[] = ['500', '429', 'hang', 'reset', 'lost'];

export interface FaultSettings {
  /** Share of matching `/v1/*` calls that fail, 0..1 (0 = off). */
  rate: number;
  /** Picked at random per failing call: 500 api_error, 429 rate_limit, hang, or reset (socket closed). */
  modes: FaultMode[];
  /** How long a hung call is held before its socket is closed. */
  hangMs: number;
  /** Only calls whose path starts with one of these (optionally "METHOD /path") fail; all when absent. */
  paths?: string[];
  /**
   * Only calls about one of these sources fail; all when absent. A call is about a source when
   * it names it: `/v1/sources/{id}`, the `source` parameter of a charge, the source of the charge
   * of `/v1/charges/{id}` or of a refund's `charge`.
   */
  sources?: string[];
  /**
   * Only calls about one of these PaymentIntents fail. A call is about a PaymentIntent when it
   * names it: `/v1/payment_intents/{id}[/confirm|/cancel]`, the `payment_intent` of a refund, or
   * a charge of it (`/v1/charges/{id}`, a refund's `charge`). Creating a PaymentIntent names
   * none (scope that with `paths`). With both `sources` and `paymentIntents`, a call about any
   * of the listed objects may fail.
   */
  paymentIntents?: string[];
}

export type ChargeOutcome = 'succeeded' | 'failed' | 'pending';

/** One `/v1` request that reached a route (after auth and faults), for tests and `/_sim/state`. */
export interface ApiRequestRecord {
  requestId: string;
  method: string;
  path: string;
  /** The operation of the OpenAPI subset that validated it, e.g. `/v1/payment_intents/{intent}/confirm`. */
  specPath: string;
  /** The parameters as received (form or query), before validation. */
  params: Record<string, unknown>;
  idempotencyKey: string | null;
  status: number;
  replayed: boolean;
}

export interface StripeSimOptions {
  /** 0 = a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The simulator's clock; share it with the sandbox. Default: a new OffsetClock. */
  clock?: SimClock & { advance?(seconds: number): void };
  webhookUrl?: string;
  /** Default `whsec_local_sandbox`. */
  webhookSecret?: string;
  /** Base of the QR code / redirect pages. Default: the simulator's own URL. */
  publicBaseUrl?: string;
  /** Clock for the `t=` of `Stripe-Signature`. Default: real time. */
  signatureClock?: SimClock;
  /** First retry delay; doubles per attempt, capped at 30 s. Default 500 ms. */
  webhookRetryBaseMs?: number;
  /** Attempts per event, first included. Default 8. */
  webhookMaxAttempts?: number;
  /** Per-attempt timeout. Default 10 s. */
  webhookTimeoutMs?: number;
  /** Each event waits for the previous one of the same source / PaymentIntent to finish. Default true. */
  webhookStrictOrder?: boolean;
  /**
   * At-least-once and disorder at their worst (reliability tests): every event is POSTed 1..maxCopies
   * times, each copy after its own random delay of 0..maxDelayMs (real time) and with its own
   * retries, in no order at all (`webhookStrictOrder` is ignored). `seed` makes the copies and
   * delays reproducible. Default: off.
   */
  webhookChaos?: { maxCopies: number; maxDelayMs: number; seed?: number };
  /** At most this many webhook POSTs in flight at once. Default: unlimited. */
  webhookConcurrency?: number;
  /** Path of the Sources OpenAPI subset. Default: STRIPE_OPENAPI_PATH or `scripts/stripe-sim/spec/`. */
  specPath?: string;
  /** Path of the PaymentIntents OpenAPI subset. Default: STRIPE_PI_OPENAPI_PATH or `scripts/stripe-sim/spec/`. */
  paymentIntentsSpecPath?: string;
  /**
   * Seconds (simulator clock) after which a payment attempt nobody authorized or declined
   * expires: the PaymentIntent goes back to `requires_payment_method` with
   * `payment_intent_payment_attempt_expired` (as `expirePaymentAttempt`). Default: never.
   */
  paymentAttemptExpirySeconds?: number;
  /** Real-time period of the expiry sweep. Default 1000 ms. */
  expiryIntervalMs?: number;
  /** Randomness for fault injection (tests pass a deterministic one). */
  random?: () => number;
  /** Check every object answered against the OpenAPI schemas; 500 on a mismatch. Default true. */
  validateResponses?: boolean;
  /** One line per notable thing (webhook attempts, faults). Default: silent. */
  log?: (line: string) => void;
}

export interface StripeSim {
  url: string;
  port: number;
  /** The Sources subset (2023-08-16). */
  readonly spec: Spec;
  /** The PaymentIntents subset with its x-known-gaps applied, strict on responses. */
  readonly paymentIntentsSpec: Spec;
  close(): Promise<void>;
  /** Advances the clock and runs the expiries. */
  advance(seconds: number): Promise<void>;
  setWebhookUrl(url: string | undefined): void;
  now(): Date;
  /** Charges of sources (Sources API). Charges of PaymentIntents: `paymentIntentCharges()`. */
  charges(): ChargeObj[];
  sources(): SourceObj[];
  /** Every refund, of either API. */
  refunds(): RefundObj[];
  events(): EventObj[];
  deliveries(): DeliveryRecord[];
  /** `/v1` requests that reached a route, oldest first (the last 10,000). */
  requests(): ApiRequestRecord[];
  /** pending → chargeable (`source.chargeable`); `chargeOutcome` decides how its charge ends. */
  authorizeSource(id: string, opts?: { chargeOutcome?: ChargeOutcome; failureCode?: string }): SourceObj;
  /** pending → failed (`source.failed`). */
  failSource(id: string): SourceObj;
  /** pending | chargeable → canceled (`source.canceled`). */
  cancelSource(id: string): SourceObj;
  setChargeOutcome(id: string, outcome: ChargeOutcome, failureCode?: string): void;
  /** pending charge → succeeded (`charge.succeeded`). */
  succeedCharge(id: string): ChargeObj;
  /** pending charge → failed (`charge.failed`). */
  failCharge(id: string, failureCode?: string): ChargeObj;
  paymentIntents(): PaymentIntentObj[];
  paymentMethods(): PaymentMethodObj[];
  paymentIntentCharges(): PaymentIntentChargeObj[];
  /**
   * The customer pays: requires_action → succeeded with a new succeeded charge
   * (`payment_intent.succeeded`, `charge.succeeded`); with `processing`, requires_action →
   * processing with a pending charge (`payment_intent.processing`, `charge.pending`).
   */
  authorizePaymentIntent(id: string, opts?: { processing?: boolean }): PaymentIntentObj;
  /** The customer declines: requires_action → requires_payment_method (`payment_intent.payment_failed`). */
  failPaymentIntent(id: string): PaymentIntentObj;
  /** Stripe expires the attempt: requires_action → requires_payment_method (`payment_intent.payment_failed`). */
  expirePaymentAttempt(id: string): PaymentIntentObj;
  /** processing → succeeded (`payment_intent.succeeded`, `charge.succeeded`). */
  succeedPaymentIntent(id: string): PaymentIntentObj;
  /** processing → requires_payment_method, charge failed (`payment_intent.payment_failed`, `charge.failed`). */
  failProcessingPaymentIntent(id: string): PaymentIntentObj;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): FaultSettings;
  /** Cancels / expires what is due now. Runs by itself every second and before each request. */
  runExpiries(): void;
  /** Resolves when no webhook delivery is queued or retrying. */
  webhooksIdle(): Promise<void>;
  /** Forgets every object, key, event, delivery, request and fault. */
  reset(): void;
}
