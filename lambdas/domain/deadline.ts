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
