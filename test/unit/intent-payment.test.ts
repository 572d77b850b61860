/**
 * intentPayment(): what the storefront gets from a confirmed PaymentIntent's `next_action`, for
 * WeChat Pay in a browser, an iOS app, an Android app, and for Alipay. Pure: no Stripe call.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { intentPayment } from '../../lambdas/adapters/stripe/gateway.js';
import { example } from './payment-intent-fixtures.js';

const intent = (name: string, patch: Record<string, unknown> = {}): Stripe.PaymentIntent =>
  ({ ...example<Record<string, unknown>>(name), ...patch }) as unknown as Stripe.PaymentIntent;

/** The WeChat Pay example, confirmed for the merchant's app instead of a browser. */
const inApp = (client: 'ios' | 'android', nextAction: Record<string, unknown>) =>
  intent('payment_intent_wechat_pay_requires_action', {
    next_action: nextAction,
    payment_method_options: { wechat_pay: { app_id: 'wx0123456789abcdef', client } },
  });

describe('intentPayment', () => {
  it('WeChat Pay in a browser: the QR code’s own data, its PNG and the hosted page as a fallback', () => {
    const pi = intent('payment_intent_wechat_pay_requires_action');
    const qr = pi.next_action?.wechat_pay_display_qr_code;
    if (!qr) throw new Error('the example has no QR code');
    expect(intentPayment(pi, 'web')).toEqual({
      api: 'payment_intents',
      paymentIntentId: pi.id,
      client: 'web',
      qrCodeData: qr.data,
      qrCodeImageDataUrl: qr.image_data_url,
      hostedInstructionsUrl: qr.hosted_instructions_url,
    });
    expect(qr.data).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(qr.image_data_url).toMatch(/^data:image\/png;base64,/);
  });

  it('WeChat Pay in an iOS app: the URL that opens WeChat, and no QR code', () => {
    const nativeUrl = 'weixin://app/wx0123456789abcdef/pay/?nonceStr=abc&package=Sign%3DWXPay&prepayId=wx01&sign=S';
    const pi = inApp('ios', {
      type: 'wechat_pay_redirect_to_ios_app',
      wechat_pay_redirect_to_ios_app: { native_url: nativeUrl },
    });
    expect(intentPayment(pi, 'ios')).toEqual({
      api: 'payment_intents',
      paymentIntentId: pi.id,
      client: 'ios',
      nativeUrl,
    });
  });

  it('WeChat Pay in an Android app: every field of the WeChat SDK’s PayReq', () => {
    const android = {
      app_id: 'wx0123456789abcdef',
      nonce_str: 'nonce123',
      package: 'Sign=WXPay',
      partner_id: '1900000109',
      prepay_id: 'wx201410272009395522657a690389285100',
      sign: 'C380BEC2BFD727A4B6845133519F3AD6',
      timestamp: '1414561699',
    };
    const pi = inApp('android', {
      type: 'wechat_pay_redirect_to_android_app',
      wechat_pay_redirect_to_android_app: android,
    });
    expect(intentPayment(pi, 'android')).toEqual({
      api: 'payment_intents',
      paymentIntentId: pi.id,
      client: 'android',
      wechatAndroid: {
        appId: android.app_id,
        nonceStr: android.nonce_str,
        package: android.package,
        partnerId: android.partner_id,
        prepayId: android.prepay_id,
        sign: android.sign,
        timestamp: android.timestamp,
      },
    });
  });

  it('Alipay in a browser: the redirect URL only (native_url and native_data are null)', () => {
    const pi = intent('payment_intent_alipay_requires_action');
    const redirect = pi.next_action?.alipay_handle_redirect;
    expect(redirect).toMatchObject({ native_url: null, native_data: null });
    expect(intentPayment(pi)).toEqual({ api: 'payment_intents', paymentIntentId: pi.id, redirectUrl: redirect?.url });
  });

  it('Alipay in an app: the native URL and data beside the redirect', () => {
    const base = intent('payment_intent_alipay_requires_action');
    const pi = intent('payment_intent_alipay_requires_action', {
      next_action: {
        type: 'alipay_handle_redirect',
        alipay_handle_redirect: {
          ...base.next_action?.alipay_handle_redirect,
          native_url: 'alipays://platformapi/startapp?appId=20000067&url=EXAMPLE',
          native_data: 'app_id=2021000000000000&biz_content=EXAMPLE',
        },
      },
    });
    expect(intentPayment(pi)).toEqual({
      api: 'payment_intents',
      paymentIntentId: pi.id,
      redirectUrl: base.next_action?.alipay_handle_redirect?.url,
      nativeUrl: 'alipays://platformapi/startapp?appId=20000067&url=EXAMPLE',
      nativeData: 'app_id=2021000000000000&biz_content=EXAMPLE',
    });
  });

  it.each([
    'payment_intent_wechat_pay_succeeded',
    'payment_intent_alipay_succeeded',
    'payment_intent_wechat_pay_canceled',
  ])('%s (no next_action): the PaymentIntent id alone', (name) => {
    const pi = intent(name);
    expect(pi.next_action).toBeNull();
    expect(intentPayment(pi)).toEqual({ api: 'payment_intents', paymentIntentId: pi.id });
  });
});
