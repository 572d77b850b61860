/**
 * `next_action` of a confirmed wechat_pay / alipay PaymentIntent: what the customer does next.
 *
 * Stripe (schemas `payment_intent_next_action_*` of
 * `scripts/stripe-sim/spec/stripe-payment-intents-subset.openapi.json`):
 * - wechat_pay, `payment_method_options[wechat_pay][client]` web (or none) →
 *   `wechat_pay_display_qr_code` {data, hosted_instructions_url, image_data_url,
 *   image_url_png, image_url_svg}; ios → `wechat_pay_redirect_to_ios_app` {native_url};
 *   android → `wechat_pay_redirect_to_android_app` {app_id, nonce_str, package, partner_id,
 *   prepay_id, sign, timestamp} (https://docs.stripe.com/payments/wechat-pay/accept-a-payment);
 * - alipay → `alipay_handle_redirect` {native_data, native_url, return_url, url}
 *   (https://docs.stripe.com/payments/alipay/accept-a-payment).
 * The simulator's values: the QR `data`, `hosted_instructions_url`, the iOS `native_url` and
 * the Alipay `url` are all the simulator's authorization page for the PaymentIntent
 * (`<base>/authorize/<pi id>?client_secret=<client secret>`), so a browser or a test can play
 * the customer; the QR images are served at `<base>/qr/<pi id>.png|.svg`; the Android values
 * are WeChat-shaped and signed with the simulator's own key.
 */

import { createHmac } from 'node:crypto';
import { randomAlnum } from '../objects.js';
import type { NextActionObj, PaymentIntentObj, PaymentMethodType, WechatPayClient } from '../payment-intent-objects.js';
import { qrPngDataUrl } from '../qr.js';
import type { SimState } from '../state.js';

/** The simulator's WeChat Pay merchant number and signing key (Android app payments). */
export const SIM_WECHAT_PARTNER_ID = '1900000109';
const SIM_WECHAT_KEY = 'stripe-sim-wechat-pay-key';

export interface AttemptOptions {
  /** WeChat Pay client; null = not given (treated as web). */
  client: WechatPayClient | null;
  appId: string | null;
  returnUrl: string | null;
}

/** The simulator's authorization page for a PaymentIntent. */
export function authorizeUrl(st: SimState, pi: PaymentIntentObj): string {
  return `${st.baseUrl()}/authorize/${pi.id}?client_secret=${encodeURIComponent(pi.client_secret)}`;
}

export function nextActionFor(
  st: SimState,
  pi: PaymentIntentObj,
  type: PaymentMethodType,
  o: AttemptOptions,
): NextActionObj {
  const page = authorizeUrl(st, pi);
  if (type === 'alipay') {
    return {
      type: 'alipay_handle_redirect',
      alipay_handle_redirect: { native_data: null, native_url: null, return_url: o.returnUrl, url: page },
    };
  }
  if (o.client === 'ios') {
    return { type: 'wechat_pay_redirect_to_ios_app', wechat_pay_redirect_to_ios_app: { native_url: page } };
  }
  if (o.client === 'android') {
    const fields = {
      app_id: o.appId ?? '',
      nonce_str: randomAlnum(32),
      package: 'Sign=WXPay',
      partner_id: SIM_WECHAT_PARTNER_ID,
      prepay_id: `wx${new Date(st.nowMs()).toISOString().replace(/\D/g, '').slice(0, 14)}${randomAlnum(18).toLowerCase()}`,
      timestamp: String(st.nowSeconds()),
    };
    return {
      type: 'wechat_pay_redirect_to_android_app',
      wechat_pay_redirect_to_android_app: { ...fields, sign: signAndroid(fields) },
    };
  }
  const base = `${st.baseUrl()}/qr/${pi.id}`;
  return {
    type: 'wechat_pay_display_qr_code',
    wechat_pay_display_qr_code: {
      data: page,
      hosted_instructions_url: page,
      image_data_url: qrPngDataUrl(page),
      image_url_png: `${base}.png`,
      image_url_svg: `${base}.svg`,
    },
  };
}

/** WeChat Pay's APP signature shape: HMAC-SHA256 of the sorted `key=value` pairs, upper-case hex. */
function signAndroid(f: Record<string, string>): string {
  const text = `appid=${f.app_id}&noncestr=${f.nonce_str}&package=${f.package}&partnerid=${f.partner_id}&prepayid=${f.prepay_id}&timestamp=${f.timestamp}`;
  return createHmac('sha256', SIM_WECHAT_KEY).update(text).digest('hex').toUpperCase();
}
