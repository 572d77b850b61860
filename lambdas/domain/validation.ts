/**
 * Rules for a new order, from Stripe's documented limits. Pure: the API handler and the
 * createOrder use case both rely on it.
 */
import { type FieldError, ValidationError } from './errors.js';
import {
  PAYMENT_APIS,
  PAYMENT_METHODS,
  type PaymentApi,
  type PaymentMethod,
  WECHAT_CLIENTS,
  type WechatClient,
} from './order.js';

/** Presentment currencies per source type.
 * https://docs.stripe.com/sources/wechat-pay (aud, cad, eur, gbp, hkd, jpy, sgd, usd)
 * https://docs.stripe.com/sources/alipay (aud, cad, cny, eur, gbp, hkd, jpy, nzd, sgd, usd) */
export const CURRENCIES: Record<PaymentMethod, readonly string[]> = {
  wechat: ['aud', 'cad', 'eur', 'gbp', 'hkd', 'jpy', 'sgd', 'usd'],
  alipay: ['aud', 'cad', 'cny', 'eur', 'gbp', 'hkd', 'jpy', 'nzd', 'sgd', 'usd'],
};

/** Amounts are in the currency's minor unit; Stripe accepts up to eight digits.
 * https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts */
export const MAX_AMOUNT = 99_999_999;
/** Minimum charge per currency (minor units), from the same table. CNY is absent there; we use
 * the HKD floor (4.00), which is above any minimum Stripe applies. */
export const MIN_AMOUNT: Record<string, number> = {
  aud: 50,
  cad: 50,
  cny: 400,
  eur: 50,
  gbp: 30,
  hkd: 400,
  jpy: 50,
  nzd: 50,
  sgd: 50,
  usd: 50,
};

/** https://docs.stripe.com/sources/wechat-pay: statement_descriptor up to 32 characters. */
export const MAX_STATEMENT_DESCRIPTOR = 32;
/**
 * PaymentIntents: a non-card statement descriptor is 22 characters at most, has at least one
 * letter and none of `< > \ ' " *` (POST /v1/payment_intents in scripts/stripe-sim/spec/;
 * https://docs.stripe.com/get-started/account/statement-descriptors).
 */
export const MAX_INTENT_STATEMENT_DESCRIPTOR = 22;
const DESCRIPTOR_FORBIDDEN = /[<>\\'"*]/;
/** Stripe metadata: 50 keys, keys up to 40 characters, values up to 500. https://docs.stripe.com/api/metadata */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;
/** Key this system sets on every source and charge to find the order of a webhook. */
export const ORDER_ID_METADATA_KEY = 'order_id';

export interface NewOrderInput {
  amount: number;
  currency: string;
  paymentMethod: PaymentMethod;
  returnUrl?: string;
  statementDescriptor?: string;
  metadata?: Record<string, string>;
  /** The Stripe API for this order; the deployment's default when absent. */
  stripeApi?: PaymentApi;
  /** WeChat Pay on PaymentIntents: in a browser (QR code, the default) or the merchant's app. */
  client?: WechatClient;
}

/** What the deployment allows, for the rules that depend on it. */
export interface OrderRules {
  /** A WeChat Open Platform app id is configured: WeChat Pay inside the merchant's app is possible. */
  wechatAppId?: string | undefined;
}

const isHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
};

/** Returns the input normalised (currency lowercased), or throws a ValidationError listing every field. */
export function validateNewOrder(input: NewOrderInput, rules: OrderRules = {}): NewOrderInput {
  const errors: FieldError[] = [];
  if (input.stripeApi !== undefined && !PAYMENT_APIS.includes(input.stripeApi)) {
    errors.push({ field: 'stripeApi', message: `must be one of ${PAYMENT_APIS.join(', ')}` });
  }
  if (input.client !== undefined) {
    if (!WECHAT_CLIENTS.includes(input.client)) {
      errors.push({ field: 'client', message: `must be one of ${WECHAT_CLIENTS.join(', ')}` });
    } else if (input.paymentMethod !== 'wechat' || input.stripeApi !== 'payment_intents') {
      errors.push({ field: 'client', message: 'applies to WeChat Pay orders on the payment_intents API only' });
    } else if (input.client !== 'web' && !rules.wechatAppId) {
      errors.push({
        field: 'client',
        message: `${input.client} needs the merchant's WeChat app id, which this deployment does not configure (WECHAT_APP_ID)`,
      });
    }
  }
  const method = input.paymentMethod;
  const currency = typeof input.currency === 'string' ? input.currency.toLowerCase() : '';
  if (!PAYMENT_METHODS.includes(method)) {
    errors.push({ field: 'paymentMethod', message: `must be one of ${PAYMENT_METHODS.join(', ')}` });
  } else if (!CURRENCIES[method].includes(currency)) {
    errors.push({ field: 'currency', message: `${method} supports ${CURRENCIES[method].join(', ')}` });
  }
  const a = input.amount;
  if (typeof a !== 'number' || !Number.isSafeInteger(a) || a <= 0) {
    errors.push({ field: 'amount', message: 'must be a positive integer in the currency minor unit' });
  } else if (a > MAX_AMOUNT) {
    errors.push({ field: 'amount', message: `must be at most ${MAX_AMOUNT}` });
  } else if (MIN_AMOUNT[currency] !== undefined && a < (MIN_AMOUNT[currency] ?? 0)) {
    errors.push({ field: 'amount', message: `must be at least ${MIN_AMOUNT[currency]} for ${currency}` });
  }
  if (method === 'alipay' && input.returnUrl === undefined) {
    errors.push({ field: 'returnUrl', message: 'is required for alipay' });
  }
  if (input.returnUrl !== undefined && (input.returnUrl.length > 2048 || !isHttpUrl(input.returnUrl))) {
    errors.push({ field: 'returnUrl', message: 'must be an http(s) URL of at most 2048 characters' });
  }
  const sd = input.statementDescriptor;
  if (sd !== undefined && input.stripeApi === 'payment_intents') {
    if (sd.length === 0 || sd.length > MAX_INTENT_STATEMENT_DESCRIPTOR)
      errors.push({
        field: 'statementDescriptor',
        message: `must be 1 to ${MAX_INTENT_STATEMENT_DESCRIPTOR} characters on the payment_intents API`,
      });
    else if (!/[A-Za-z]/.test(sd) || DESCRIPTOR_FORBIDDEN.test(sd))
      errors.push({
        field: 'statementDescriptor',
        message: 'must contain a letter and none of < > \\ \' " *',
      });
  } else if (sd !== undefined && (sd.length === 0 || sd.length > MAX_STATEMENT_DESCRIPTOR)) {
    errors.push({ field: 'statementDescriptor', message: `must be 1 to ${MAX_STATEMENT_DESCRIPTOR} characters` });
  }
  const md = input.metadata ?? {};
  const keys = Object.keys(md);
  if (keys.length > METADATA_LIMITS.keys) {
    errors.push({ field: 'metadata', message: `at most ${METADATA_LIMITS.keys} keys` });
  }
  for (const k of keys) {
    const v = md[k];
    if (k === ORDER_ID_METADATA_KEY) errors.push({ field: `metadata.${k}`, message: 'is reserved' });
    else if (k.length === 0 || k.length > METADATA_LIMITS.keyLength || k.includes('[') || k.includes(']'))
      errors.push({
        field: 'metadata',
        message: `keys are 1 to ${METADATA_LIMITS.keyLength} characters without brackets`,
      });
    else if (typeof v !== 'string' || v.length > METADATA_LIMITS.valueLength)
      errors.push({
        field: `metadata.${k}`,
        message: `must be a string of at most ${METADATA_LIMITS.valueLength} characters`,
      });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  const out: NewOrderInput = { ...input, currency };
  return out;
}

/** Order ids are `ord_` + a ULID: Scheduler names built from them stay within 64 characters. */
export const ORDER_ID_PATTERN = /^ord_[0-9A-HJKMNP-TV-Z]{26}$/;
export const isOrderId = (s: string): boolean => ORDER_ID_PATTERN.test(s);
