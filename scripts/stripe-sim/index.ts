/**
 * Public entry of the offline Stripe simulator (library use: tests and the local sandbox).
 *
 * Why: tests and `npm start` need a Stripe that runs on loopback, shares the sandbox clock,
 * answers like Stripe's legacy Sources API and like PaymentIntents with wechat_pay / alipay
 * (validated against the OpenAPI subsets in `scripts/stripe-sim/spec/`) and sends signed
 * webhooks. sim.ts says where each behaviour lives; the Stripe docs behind them:
 * https://docs.stripe.com/sources/wechat-pay , https://docs.stripe.com/sources/alipay ,
 * https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 * https://docs.stripe.com/payments/alipay/accept-a-payment ,
 * https://docs.stripe.com/api/idempotent_requests , https://docs.stripe.com/webhooks#verify-manually.
 * The CLI (`npm run stripe:sim`) is cli.ts.
 *
 * ```ts
 * const sim = await startStripeSim({ port: 0, webhookUrl: 'http://127.0.0.1:3000/webhooks/stripe' });
 * const stripe = new Stripe('sk_test_sim', { host: '127.0.0.1', port: sim.port, protocol: 'http' });
 * await sim.advance(3601); // pending sources are canceled
 * await sim.close();
 * ```
 */

export type { AdvanceableClock, SimClock } from './clock.js';
export { chargeableCancelAt, ManualOffsetClock, OffsetClock, pendingCancelAt } from './clock.js';
export { encodeForm, parseForm } from './form.js';
export type {
  AnyChargeObj,
  ChargeObj,
  ChargeStatus,
  EventObj,
  EventType,
  OwnerObj,
  RefundObj,
  SourceObj,
  SourceStatus,
  SourceType,
} from './objects.js';
export { Spec } from './openapi.js';
export type {
  CancellationReason,
  NextActionObj,
  PaymentErrorObj,
  PaymentIntentChargeObj,
  PaymentIntentObj,
  PaymentIntentStatus,
  PaymentMethodObj,
  PaymentMethodType,
  WechatPayClient,
} from './payment-intent-objects.js';
export type {
  ApiRequestRecord,
  ChargeOutcome,
  FaultMode,
  FaultSettings,
  StripeSim,
  StripeSimOptions,
} from './sim.js';
export { FAULT_MODES, startStripeSim } from './sim.js';
export type { DeliveryRecord, WebhookChaos } from './webhooks.js';
export { seededRandom, signPayload } from './webhooks.js';
