/**
 * The PaymentIntents API objects the simulator hands out: PaymentIntents, PaymentMethods and
 * the charges of PaymentIntents, as Stripe shapes them at the API version stripe-node 23.1
 * pins (2026-10-28.endive).
 *
 * Why: the orchestrator reads `status`, `next_action`, `last_payment_error`, `latest_charge`
 * and `metadata.order_id` from these objects, in API answers and webhook payloads. The shapes
 * follow the `payment_intent`, `payment_method` and `charge` schemas of
 * `scripts/stripe-sim/spec/stripe-payment-intents-subset.openapi.json` (API 2023-08-16) and its
 * `x-known-gaps`: the fields added since (`allowed_payment_method_types`, `customer_account`,
 * `source`...) are present, `invoice` (removed) is not. Examples: the same folder's
 * `stripe-payment-intents-fixtures.json`.
 * https://docs.stripe.com/api/payment_intents/object · https://docs.stripe.com/api/payment_methods/object
 * https://docs.stripe.com/payments/wechat-pay/accept-a-payment · https://docs.stripe.com/payments/alipay/accept-a-payment
 */

import type { AddressObj, ChargeObj } from './objects.js';

/** The payment method types the simulator implements. */
export type PaymentMethodType = 'wechat_pay' | 'alipay';
export const PAYMENT_METHOD_TYPES: readonly PaymentMethodType[] = ['wechat_pay', 'alipay'];

export type WechatPayClient = 'web' | 'ios' | 'android';

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

/** User-given reasons, plus `expired` (set by Stripe; a known gap of the 2023 spec). */
export type CancellationReason = 'duplicate' | 'fraudulent' | 'requested_by_customer' | 'abandoned' | 'expired';

export interface BillingDetailsObj {
  address: AddressObj;
  email: string | null;
  name: string | null;
  phone: string | null;
}

export interface PaymentMethodObj {
  id: string;
  object: 'payment_method';
  billing_details: BillingDetailsObj;
  created: number;
  customer: null;
  livemode: false;
  metadata: Record<string, string>;
  type: PaymentMethodType;
  wechat_pay?: Record<string, never>;
  alipay?: Record<string, never>;
}

export interface WechatPayDisplayQrCode {
  data: string;
  hosted_instructions_url: string;
  image_data_url: string;
  image_url_png: string;
  image_url_svg: string;
}

export interface WechatPayRedirectToAndroidApp {
  app_id: string;
  nonce_str: string;
  package: string;
  partner_id: string;
  prepay_id: string;
  sign: string;
  timestamp: string;
}

export interface AlipayHandleRedirect {
  native_data: string | null;
  native_url: string | null;
  return_url: string | null;
  url: string | null;
}

/**
 * `next_action` of a PaymentIntent in `requires_action` (schema `payment_intent_next_action`):
 * `type` names the one hash present, as in stripe-node's `PaymentIntent.NextAction`.
 */
export interface NextActionObj {
  type:
    | 'wechat_pay_display_qr_code'
    | 'wechat_pay_redirect_to_ios_app'
    | 'wechat_pay_redirect_to_android_app'
    | 'alipay_handle_redirect';
  wechat_pay_display_qr_code?: WechatPayDisplayQrCode;
  wechat_pay_redirect_to_ios_app?: { native_url: string };
  wechat_pay_redirect_to_android_app?: WechatPayRedirectToAndroidApp;
  alipay_handle_redirect?: AlipayHandleRedirect;
}

/** `last_payment_error` (schema `api_errors`). */
export interface PaymentErrorObj {
  type: 'card_error';
  code: 'payment_intent_payment_attempt_failed' | 'payment_intent_payment_attempt_expired';
  doc_url: string;
  message: string;
  payment_method: PaymentMethodObj;
  charge?: string;
}

export interface PaymentIntentObj {
  id: string;
  object: 'payment_intent';
  allowed_payment_method_types: string[] | null;
  amount: number;
  amount_capturable: number;
  amount_details: { tip: Record<string, never> };
  amount_received: number;
  application: null;
  application_fee_amount: null;
  automatic_payment_methods: null;
  canceled_at: number | null;
  cancellation_reason: CancellationReason | null;
  capture_method: 'automatic' | 'automatic_async';
  client_secret: string;
  confirmation_method: 'automatic' | 'manual';
  created: number;
  currency: string;
  customer: null;
  customer_account: null;
  description: string | null;
  excluded_payment_method_types: null;
  last_payment_error: PaymentErrorObj | null;
  latest_charge: string | null;
  livemode: false;
  managed_payments: null;
  metadata: Record<string, string>;
  next_action: NextActionObj | null;
  on_behalf_of: null;
  payment_method: string | null;
  payment_method_configuration_details: null;
  payment_method_options: {
    wechat_pay?: { app_id: string | null; client: WechatPayClient | null };
    alipay?: Record<string, never>;
  } | null;
  payment_method_types: string[];
  payment_record: null;
  processing: null;
  receipt_email: string | null;
  review: null;
  setup_future_usage: null;
  shipping: null;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: PaymentIntentStatus;
  transfer_data: null;
  transfer_group: string | null;
}

/** A charge created by a PaymentIntent: no `source`, no `invoice` (removed at the pinned version). */
export type PaymentIntentChargeObj = Omit<ChargeObj, 'invoice' | 'payment_intent' | 'payment_method' | 'source'> & {
  payment_intent: string;
  payment_method: string;
  source: null;
};
