/**
 * PaymentIntents for wechat_pay and alipay: `POST /v1/payment_intents`,
 * `GET /v1/payment_intents/{id}`, `POST /v1/payment_intents/{id}/confirm`,
 * `POST /v1/payment_intents/{id}/cancel`. What the customer and Stripe do afterwards
 * (authorize, decline, expiry, processing) is in payment-intent-attempts.ts.
 *
 * Rules, as Stripe applies them at API 2026-10-28.endive (the version stripe-node 23.1 pins):
 * - create with `amount`, `currency`, and either `payment_method_data[type]` or
 *   `allowed_payment_method_types[]` (`payment_method_types` is refused with
 *   `payment_method_types_no_longer_supported` before this runs: gaps.ts);
 *   `confirm=true` confirms at once, else the status is `requires_payment_method` (no payment
 *   method yet) or `requires_confirmation` (https://docs.stripe.com/api/payment_intents/create);
 * - confirming needs a payment method of an allowed type whose currencies include the
 *   PaymentIntent's; alipay needs `return_url`
 *   (https://docs.stripe.com/payments/alipay/accept-a-payment); wechat_pay takes
 *   `payment_method_options[wechat_pay][client]` web (default) / ios / android, and `app_id`
 *   for ios and android (https://docs.stripe.com/payments/wechat-pay/accept-a-payment);
 *   `return_url` only with `confirm=true` (https://docs.stripe.com/api/payment_intents/confirm);
 * - a confirmed PaymentIntent is `requires_action` with a `next_action` (next-actions.ts) and
 *   `payment_intent.requires_action` is sent;
 * - confirm is allowed from requires_payment_method, requires_confirmation and
 *   requires_action; cancel from requires_payment_method, requires_confirmation,
 *   requires_action and requires_capture, with an optional `cancellation_reason`
 *   (`payment_intent.canceled`, https://docs.stripe.com/api/payment_intents/cancel); otherwise
 *   400 `payment_intent_unexpected_state` with the PaymentIntent in `error.payment_intent`
 *   (https://docs.stripe.com/error-codes#payment-intent-unexpected-state);
 * - the parameter rules behind each refusal: payment-intent-params.ts.
 */

import { ApiError, noSuch, paramError } from '../errors.js';
import type { FormObject } from '../form.js';
import { clone, newId, randomAlnum } from '../objects.js';
import { type ApiCtx, type ApiResult, applyMetadata, ok, positiveAmount, requestInfo, str } from '../params.js';
import { PAYMENT_METHOD_TYPES, type PaymentIntentObj, type PaymentIntentStatus } from '../payment-intent-objects.js';
import type { PaymentIntentRec, SimState } from '../state.js';
import { startAttempt } from './payment-intent-attempts.js';
import {
  allowedTypes,
  attemptOptions,
  checkClientSecret,
  checkConfirmable,
  checkStatementDescriptor,
  compatibleTypes,
  optionsOf,
  refuseUnsupported,
  returnUrlOf,
} from './payment-intent-params.js';
import { type PaymentMethodChoice, paymentMethodOf } from './payment-methods.js';

const CONFIRMABLE: PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE: PaymentIntentStatus[] = [...CONFIRMABLE, 'requires_capture'];

export function getPaymentIntent(st: SimState, id: string, param = 'intent'): PaymentIntentRec {
  const rec = st.paymentIntents.get(id);
  if (!rec) throw noSuch('payment_intent', id, param);
  return rec;
}

/** A copy, with `latest_charge` / `payment_method` expanded when `expand[]` asks. */
export function renderPaymentIntent(st: SimState, pi: PaymentIntentObj, params: FormObject): unknown {
  const out: Record<string, unknown> = clone(pi) as unknown as Record<string, unknown>;
  const expand = Array.isArray(params.expand) ? params.expand : [];
  if (expand.includes('latest_charge') && pi.latest_charge) out.latest_charge = clone(st.charges.get(pi.latest_charge));
  if (expand.includes('payment_method') && pi.payment_method) {
    out.payment_method = clone(st.paymentMethods.get(pi.payment_method));
  }
  return out;
}

export function createPaymentIntent(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  refuseUnsupported(p);
  checkStatementDescriptor(p);
  const amount = positiveAmount(p.amount ?? '', 'amount');
  const currency = (str(p.currency) ?? '').toLowerCase();
  const allowed = allowedTypes(p);
  const pm = paymentMethodOf(st, p);
  const types = compatibleTypes(allowed ?? (pm ? [pm.type] : PAYMENT_METHOD_TYPES), currency, pm);
  const confirm = p.confirm === 'true';
  const returnUrl = returnUrlOf(p);
  if (returnUrl !== null && !confirm) {
    throw paramError('The parameter return_url can only be used with confirm=true.', 'return_url');
  }
  const options = optionsOf(p, types, undefined);
  const attempt = attemptOptions(options, returnUrl);
  if (confirm) checkConfirmable(pm, attempt);

  const id = newId('pi');
  const pi: PaymentIntentObj = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: allowed,
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: p.capture_method === 'automatic' ? 'automatic' : 'automatic_async',
    client_secret: `${id}_secret_${randomAlnum(25)}`,
    confirmation_method: p.confirmation_method === 'manual' ? 'manual' : 'automatic',
    created: st.nowSeconds(),
    currency,
    customer: null,
    customer_account: null,
    description: str(p.description) || null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: applyMetadata({}, p.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: options,
    payment_method_types: types,
    payment_record: null,
    processing: null,
    receipt_email: str(p.receipt_email) || null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: str(p.statement_descriptor) || null,
    statement_descriptor_suffix: str(p.statement_descriptor_suffix) || null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: str(p.transfer_group) || null,
  };
  const rec: PaymentIntentRec = { obj: pi, returnUrl };
  if (pm) pi.payment_method = pm.get().id;
  st.paymentIntents.set(id, rec);
  if (confirm && pm) startAttempt(st, rec, pm.get(), attempt, requestInfo(ctx));
  return ok(renderPaymentIntent(st, pi, p));
}

export function retrievePaymentIntent(st: SimState, ctx: ApiCtx, id: string): ApiResult {
  const rec = getPaymentIntent(st, id);
  checkClientSecret(rec.obj, ctx.params);
  return ok(renderPaymentIntent(st, rec.obj, ctx.params));
}

export function confirmPaymentIntent(st: SimState, ctx: ApiCtx, id: string): ApiResult {
  const rec = getPaymentIntent(st, id);
  const pi = rec.obj;
  const p = ctx.params;
  if (!CONFIRMABLE.includes(pi.status)) {
    throw unexpectedState(pi, 'confirm', CONFIRMABLE);
  }
  checkClientSecret(pi, p);
  refuseUnsupported(p);
  const allowed = allowedTypes(p) ?? pi.allowed_payment_method_types;
  const chosen = paymentMethodOf(st, p);
  const existing = pi.payment_method !== null ? st.paymentMethods.get(pi.payment_method) : undefined;
  const pm: PaymentMethodChoice | undefined =
    chosen ?? (existing ? { type: existing.type, get: () => existing } : undefined);
  const types = compatibleTypes(allowed ?? pi.payment_method_types, pi.currency, pm);
  const options = optionsOf(p, types, pi.payment_method_options);
  const returnUrl = returnUrlOf(p) ?? rec.returnUrl;
  const attempt = attemptOptions(options, returnUrl);
  checkConfirmable(pm, attempt);

  pi.allowed_payment_method_types = allowed;
  pi.payment_method_types = types;
  pi.payment_method_options = options;
  if (p.receipt_email !== undefined) pi.receipt_email = str(p.receipt_email) || null;
  rec.returnUrl = returnUrl;
  startAttempt(st, rec, pm.get(), attempt, requestInfo(ctx));
  return ok(renderPaymentIntent(st, pi, p));
}

export function cancelPaymentIntent(st: SimState, ctx: ApiCtx, id: string): ApiResult {
  const rec = getPaymentIntent(st, id);
  const pi = rec.obj;
  if (!CANCELABLE.includes(pi.status)) throw unexpectedState(pi, 'cancel', CANCELABLE);
  const reason = str(ctx.params.cancellation_reason);
  pi.status = 'canceled';
  pi.cancellation_reason = (reason as PaymentIntentObj['cancellation_reason']) ?? null;
  pi.canceled_at = st.nowSeconds();
  pi.next_action = null;
  rec.actionSinceMs = undefined;
  st.emit('payment_intent.canceled', pi, pi.id, requestInfo(ctx));
  return ok(renderPaymentIntent(st, pi, ctx.params));
}

/** 400 `payment_intent_unexpected_state`, with the PaymentIntent, as Stripe answers. */
export function unexpectedState(pi: PaymentIntentObj, action: string, allowed: PaymentIntentStatus[]): ApiError {
  return new ApiError(400, {
    type: 'invalid_request_error',
    code: 'payment_intent_unexpected_state',
    message: `You cannot ${action} this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be ${action === 'cancel' ? 'canceled' : 'confirmed'}: ${allowed.join(', ')}.`,
    payment_intent: clone(pi),
  });
}
