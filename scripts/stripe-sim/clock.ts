/**
 * Time for the Stripe simulator.
 *
 * Why: the orchestrator's 1 h (pending) and 6 h / 23:45 CST (chargeable) paths must run in
 * seconds in tests and in the local sandbox, so the simulator never reads the wall clock
 * itself: it asks a `SimClock`, which the sandbox can share with the rest of the system and
 * advance. The expiry rules are Stripe's, written here independently of `lambdas/domain` on
 * purpose: the simulator plays Stripe, and a copy of the code under test would agree with
 * that code by construction.
 *
 * Rules (Stripe docs):
 * - a pending WeChat Pay / Alipay source is canceled after 1 hour;
 * - a chargeable one must be charged within 6 hours of becoming chargeable or before
 *   23:45 China Standard Time (UTC+8, no daylight saving), whichever comes first.
 * https://docs.stripe.com/sources/wechat-pay#charge-request
 * https://docs.stripe.com/sources/alipay#charge-request
 */

/** The simulator's notion of "now". */
export interface SimClock {
  now(): Date;
}

/** A clock that can be moved forward (by tests, by the sandbox). */
export interface AdvanceableClock extends SimClock {
  advance(seconds: number): void;
}

/** Real time plus an offset that `advance()` grows: time keeps flowing, and can jump ahead. */
export class OffsetClock implements AdvanceableClock {
  private offsetMs = 0;

  constructor(initialOffsetSeconds = 0) {
    this.offsetMs = initialOffsetSeconds * 1000;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`advance() takes a finite number of seconds >= 0, got ${seconds}`);
    }
    this.offsetMs += seconds * 1000;
  }

  /** Seconds added to real time so far. */
  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}

/** The name used in the design notes; the same class. */
export const ManualOffsetClock = OffsetClock;

/** The real wall clock, used by default to timestamp webhook signatures. */
export const realClock: SimClock = { now: () => new Date() };

export const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** 23:45 CST is 15:45 UTC, every day (China has no daylight saving time). */
const CUTOFF_UTC_HOUR = 15;
const CUTOFF_UTC_MINUTE = 45;

/** Unix seconds of a date (Stripe's `created` fields). */
export function unixSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/** When Stripe cancels a source that is still pending: 1 hour after `created`. */
export function pendingCancelAt(createdMs: number): number {
  return createdMs + HOUR_MS;
}

/** The earlier of `chargeableAt + 6 h` and the first 23:45:00 CST strictly after `chargeableAt`. */
export function chargeableCancelAt(chargeableAtMs: number): number {
  const t = new Date(chargeableAtMs);
  let cutoff = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), CUTOFF_UTC_HOUR, CUTOFF_UTC_MINUTE);
  if (cutoff <= chargeableAtMs) cutoff += DAY_MS;
  return Math.min(chargeableAtMs + 6 * HOUR_MS, cutoff);
}
