/**
 * The parameter rules of creating and confirming a wechat_pay / alipay PaymentIntent, shared
 * by `POST /v1/payment_intents` and `POST /v1/payment_intents/{id}/confirm`
 * (payment-intents.ts). Each refusal is the answer Stripe gives before anything changes:
 * - parameters the simulator does not model (customers, Connect, mandates, shipping...) are
 *   refused by name; so is `capture_method=manual` (wechat_pay and alipay capture at once) and
 *   `error_on_requires_action` (they always need the customer);
 * - `allowed_payment_method_types` (added at 2026-07-29.dahlia, x-known-gaps) lists wechat_pay /
 *   alipay; the payment method must be one of them, and its currencies must include the
 *   PaymentIntent's (https://docs.stripe.com/payments/wechat-pay , https://docs.stripe.com/payments/alipay);
 * - alipay needs `return_url` to confirm (https://docs.stripe.com/payments/alipay/accept-a-payment);
 *   wechat_pay's `client` ios / android needs `app_id`
 *   (https://docs.stripe.com/payments/wechat-pay/accept-a-payment);
 * - `payment_method_options` may only name the PaymentIntent's payment method types;
 * - `statement_descriptor` (at most 22 characters, by the schema) has at least one letter and
 *   none of < > \ ' " * (https://docs.stripe.com/get-started/account/statement-descriptors);
 * - a `client_secret`, when given, must be the PaymentIntent's.
 */

import { invalidRequest, missingParameter, paramError } from '../errors.js';
import type { FormObject } from '../form.js';
import { obj, PRESENTMENT_CURRENCIES, str } from '../params.js';
import {
  PAYMENT_METHOD_TYPES,
  type PaymentIntentObj,
  type PaymentMethodType,
  type WechatPayClient,
} from '../payment-intent-objects.js';
import type { AttemptOptions } from './next-actions.js';
import type { PaymentMethodChoice } from './payment-methods.js';

const UNSUPPORTED = [
  'application_fee_amount',
  'automatic_payment_methods',
  'customer',
  'mandate',
  'mandate_data',
  'off_session',
  'on_behalf_of',
  'setup_future_usage',
  'shipping',
  'transfer_data',
];

export function refuseUnsupported(p: FormObject): void {
  for (const k of UNSUPPORTED) {
    if (p[k] !== undefined) {
      throw invalidRequest(`The Stripe simulator does not support '${k}' on payment intents.`, { param: k });
    }
  }
  if (p.capture_method === 'manual') {
    throw invalidRequest('wechat_pay and alipay do not support capture_method=manual: they capture at once.', {
      param: 'capture_method',
    });
  }
  if (p.error_on_requires_action === 'true') {
    throw invalidRequest('wechat_pay and alipay always require a customer action: omit error_on_requires_action.', {
      param: 'error_on_requires_action',
    });
  }
}

export function allowedTypes(p: FormObject): string[] | null {
  const list = p.allowed_payment_method_types;
  if (!Array.isArray(list)) return null;
  if (list.length === 0) {
    throw paramError('allowed_payment_method_types must not be empty.', 'allowed_payment_method_types');
  }
  list.forEach((t, i) => {
    if (!PAYMENT_METHOD_TYPES.includes(t as PaymentMethodType)) {
      throw invalidRequest(`The Stripe simulator supports wechat_pay and alipay only, not ${String(t)}.`, {
        param: `allowed_payment_method_types[${i}]`,
        code: 'payment_method_unsupported_type',
      });
    }
  });
  return [...new Set(list as string[])];
}

/** The types of `candidates` that take `currency`; the chosen payment method's must be one. */
export function compatibleTypes(
  candidates: readonly string[],
  currency: string,
  pm: PaymentMethodChoice | undefined,
): PaymentMethodType[] {
  const key = (t: string) => (t === 'wechat_pay' ? 'wechat' : 'alipay');
  if (pm && !candidates.includes(pm.type)) {
    throw invalidRequest(
      `The PaymentMethod type ${pm.type} is not allowed for this PaymentIntent; allowed: ${candidates.join(', ')}.`,
      { code: 'payment_intent_incompatible_payment_method', param: 'payment_method_data[type]' },
    );
  }
  if (pm && !PRESENTMENT_CURRENCIES[key(pm.type)].has(currency)) {
    throw invalidRequest(
      `The currency provided (${currency}) is invalid for ${pm.type}, which supports ${[...PRESENTMENT_CURRENCIES[key(pm.type)]].join(', ')}.`,
      { code: 'payment_intent_invalid_parameter', param: 'currency' },
    );
  }
  const types = candidates.filter(
    (t): t is PaymentMethodType =>
      PAYMENT_METHOD_TYPES.includes(t as PaymentMethodType) && PRESENTMENT_CURRENCIES[key(t)].has(currency),
  );
  if (types.length === 0) {
    throw invalidRequest(`None of the payment method types ${candidates.join(', ')} supports ${currency}.`, {
      code: 'payment_intent_invalid_parameter',
      param: 'currency',
    });
  }
  return types;
}

export function returnUrlOf(p: FormObject): string | null {
  const url = str(p.return_url);
  if (url === undefined) return null;
  try {
    new URL(url);
  } catch {
    throw invalidRequest(`Invalid URL: ${url}`, { param: 'return_url', code: 'url_invalid' });
  }
  return url;
}

/** `payment_method_options` of the PaymentIntent: given values over `base`, for each allowed type. */
export function optionsOf(
  p: FormObject,
  types: PaymentMethodType[],
  base: PaymentIntentObj['payment_method_options'] | undefined,
): NonNullable<PaymentIntentObj['payment_method_options']> {
  const given = obj(p.payment_method_options) ?? {};
  for (const key of Object.keys(given)) {
    if (!types.includes(key as PaymentMethodType)) {
      throw invalidRequest(
        `payment_method_options[${key}] is not valid: ${key} is not among this PaymentIntent's payment method types (${types.join(', ')}).`,
        { param: `payment_method_options[${key}]` },
      );
    }
  }
  const out: NonNullable<PaymentIntentObj['payment_method_options']> = {};
  if (types.includes('alipay')) out.alipay = {};
  if (types.includes('wechat_pay')) {
    const w = obj(given.wechat_pay);
    const prior = base?.wechat_pay;
    out.wechat_pay = {
      app_id: str(w?.app_id) ?? prior?.app_id ?? null,
      client: (str(w?.client) as WechatPayClient | undefined) ?? prior?.client ?? null,
    };
  }
  return out;
}

export function attemptOptions(
  options: NonNullable<PaymentIntentObj['payment_method_options']>,
  returnUrl: string | null,
): AttemptOptions {
  return { client: options.wechat_pay?.client ?? null, appId: options.wechat_pay?.app_id ?? null, returnUrl };
}

/** What confirming needs: a payment method, alipay's return_url, the app_id of a WeChat app client. */
export function checkConfirmable(pm: PaymentMethodChoice | undefined, o: AttemptOptions): asserts pm {
  if (!pm) {
    throw invalidRequest(
      'You cannot confirm this PaymentIntent because it has no payment method: pass payment_method_data[type] (wechat_pay or alipay).',
      { code: 'parameter_missing', param: 'payment_method_data[type]' },
    );
  }
  if (pm.type === 'alipay' && o.returnUrl === null) {
    throw missingParameter('return_url');
  }
  if (pm.type === 'wechat_pay' && (o.client === 'ios' || o.client === 'android') && !o.appId) {
    throw paramError(
      `payment_method_options[wechat_pay][app_id] is required when payment_method_options[wechat_pay][client] is ${o.client}.`,
      'payment_method_options[wechat_pay][app_id]',
      'parameter_missing',
    );
  }
}

export function checkClientSecret(pi: PaymentIntentObj, p: FormObject): void {
  const secret = str(p.client_secret);
  if (secret !== undefined && secret !== pi.client_secret) {
    throw invalidRequest(
      'The client_secret provided does not match the client_secret associated with the PaymentIntent.',
      {
        param: 'client_secret',
      },
    );
  }
}

export function checkStatementDescriptor(p: FormObject): void {
  const d = str(p.statement_descriptor);
  if (d === undefined || d === '') return;
  if (!/[A-Za-z]/.test(d) || /[<>\\'"*]/.test(d)) {
    throw invalidRequest(
      `Invalid statement_descriptor: ${d}. It must contain at least one letter and none of the characters < > \\ ' " *.`,
      { param: 'statement_descriptor' },
    );
  }
}
