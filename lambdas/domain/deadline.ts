/**
 * Charge and pending deadlines of WeChat Pay and Alipay sources.
 *
 * Stripe: a chargeable WeChat Pay / Alipay source must be charged within 6 hours of becoming
 * chargeable or before 23:45 China Standard Time, whichever comes first; pending sources are
 * canceled after 1 hour.
 * https://docs.stripe.com/sources/wechat-pay#charge-request
 * https://docs.stripe.com/sources/alipay#charge-request
 *
 * China Standard Time is UTC+8 with no daylight saving time (IANA Asia/Shanghai), so 23:45 CST
 * is 15:45 UTC on the same calendar day, every day of the year.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** 23:45 CST expressed in UTC (15:45). */
const CUTOFF_UTC_HOUR = 15;
const CUTOFF_UTC_MINUTE = 45;

/** The earlier of `chargeableAt + 6 h` and the first 23:45:00 CST strictly after `chargeableAt`. */
export function chargeDeadline(chargeableAt: Date): Date {
  const t = chargeableAt.getTime();
  const sixHours = t + 6 * HOUR_MS;
  let cutoff = Date.UTC(
    chargeableAt.getUTCFullYear(),
    chargeableAt.getUTCMonth(),
    chargeableAt.getUTCDate(),
    CUTOFF_UTC_HOUR,
    CUTOFF_UTC_MINUTE,
  );
  if (cutoff <= t) cutoff += DAY_MS;
  return new Date(Math.min(sixHours, cutoff));
}

/** Stripe cancels a source still pending one hour after it was created. */
export function pendingExpiry(createdAt: Date): Date {
  return new Date(createdAt.getTime() + HOUR_MS);
}

/**
 * PaymentIntents: Stripe captures as soon as the customer authorizes, so there is no charge
 * deadline; the order instead expires unpaid after a merchant-chosen time (setting
 * PAYMENT_EXPIRY_SECONDS), when its timer cancels the PaymentIntent.
 */
export const PAYMENT_EXPIRY_SECONDS = { default: 3600, min: 300, max: 7200 } as const;

export function paymentExpiry(createdAt: Date, seconds: number): Date {
  return new Date(createdAt.getTime() + seconds * 1000);
}

/**
 * A PaymentIntent that is `processing` cannot be canceled and ends by itself with a
 * `payment_intent.succeeded` or `payment_intent.payment_failed` webhook; this is when we look
 * again in case those are slow. https://docs.stripe.com/payments/paymentintents/lifecycle
 */
export const PAYMENT_RECHECK_MS = 30 * 60 * 1000;

export function recheckAt(from: Date): Date {
  return new Date(from.getTime() + PAYMENT_RECHECK_MS);
}
