import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargeDeadline, pendingExpiry } from '../../lambdas/domain/deadline.js';

const iso = (s: string) => new Date(s);
const d = (s: string) => chargeDeadline(iso(s)).toISOString();

/** An independent reference: China's wall clock read through Intl, not UTC arithmetic. */
function reference(t: Date): Date {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  })
    .formatToParts(t)
    .reduce<Record<string, string>>((acc, p) => {
      acc[p.type] = p.value;
      return acc;
    }, {});
  const cstDay = `${parts.year}-${parts.month}-${parts.day}`;
  let cutoff = new Date(`${cstDay}T23:45:00.000+08:00`);
  if (cutoff.getTime() <= t.getTime()) cutoff = new Date(cutoff.getTime() + 24 * 3600_000);
  return new Date(Math.min(t.getTime() + 6 * 3600_000, cutoff.getTime()));
}

describe('chargeDeadline: where the two rules meet (17:45 CST = 09:45 UTC)', () => {
  it.each([
    ['2026-03-10T09:44:59.999Z', '2026-03-10T15:44:59.999Z', 'just before 17:45 CST: six hours win'],
    ['2026-03-10T09:45:00.000Z', '2026-03-10T15:45:00.000Z', 'at 17:45 CST both rules give 23:45 CST'],
    ['2026-03-10T09:45:00.001Z', '2026-03-10T15:45:00.000Z', 'just after 17:45 CST: 23:45 CST wins'],
    ['2026-03-10T12:00:00.000Z', '2026-03-10T15:45:00.000Z', '20:00 CST: 23:45 CST the same evening'],
  ])('%s → %s (%s)', (from, to) => expect(d(from)).toBe(to));
});

describe('chargeDeadline: around 23:45 CST (15:45 UTC)', () => {
  it.each([
    ['2026-03-10T15:44:59.999Z', '2026-03-10T15:45:00.000Z', 'one millisecond before the cutoff'],
    [
      '2026-03-10T15:45:00.000Z',
      '2026-03-10T21:45:00.000Z',
      'exactly at the cutoff: strictly after, so the next one; six hours win',
    ],
    ['2026-03-10T15:45:00.001Z', '2026-03-10T21:45:00.001Z', 'just after the cutoff'],
  ])('%s → %s (%s)', (from, to) => expect(d(from)).toBe(to));
});

describe('chargeDeadline: across midnights, month and year ends, leap day', () => {
  it.each([
    ['2026-03-10T16:00:00.000Z', '2026-03-10T22:00:00.000Z', 'CST midnight'],
    ['2026-03-10T15:59:59.999Z', '2026-03-10T21:59:59.999Z', 'one ms before CST midnight'],
    ['2026-03-10T23:59:59.999Z', '2026-03-11T05:59:59.999Z', 'one ms before UTC midnight'],
    ['2026-03-11T00:00:00.000Z', '2026-03-11T06:00:00.000Z', 'UTC midnight (08:00 CST)'],
    ['2026-04-30T20:00:00.000Z', '2026-05-01T02:00:00.000Z', 'month end in UTC'],
    ['2026-04-30T10:00:00.000Z', '2026-04-30T15:45:00.000Z', 'last day of the month, cutoff wins'],
    ['2026-12-31T12:00:00.000Z', '2026-12-31T15:45:00.000Z', '23:45 CST on New Year’s Eve'],
    ['2026-12-31T16:30:00.000Z', '2026-12-31T22:30:00.000Z', 'already 1 January in China'],
    ['2026-12-31T20:00:00.000Z', '2027-01-01T02:00:00.000Z', 'year end in UTC'],
    ['2028-02-28T20:00:00.000Z', '2028-02-29T02:00:00.000Z', 'into leap day'],
    ['2028-02-29T10:00:00.000Z', '2028-02-29T15:45:00.000Z', 'leap day cutoff'],
    ['2028-02-29T21:00:00.000Z', '2028-03-01T03:00:00.000Z', 'out of leap day'],
    ['2027-02-28T21:00:00.000Z', '2027-03-01T03:00:00.000Z', 'no leap day in 2027'],
  ])('%s → %s (%s)', (from, to) => expect(d(from)).toBe(to));
});

describe('chargeDeadline: properties', () => {
  const instant = fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  });

  it('equals the Intl-based reference for any instant', () => {
    fc.assert(
      fc.property(instant, (t) => chargeDeadline(t).getTime() === reference(t).getTime()),
      { numRuns: 5000 },
    );
  });

  it('is strictly after the input, at most six hours later, and is either +6 h or 23:45:00.000 CST', () => {
    fc.assert(
      fc.property(instant, (t) => {
        const r = chargeDeadline(t).getTime();
        const isSix = r === t.getTime() + 6 * 3600_000;
        const isCutoff = new Date(r).toISOString().endsWith('T15:45:00.000Z');
        return r > t.getTime() && r <= t.getTime() + 6 * 3600_000 && (isSix || isCutoff);
      }),
      { numRuns: 5000 },
    );
  });

  it('is monotone: a later chargeable time never gives an earlier deadline', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 48 * 3600_000 }), (t, dt) => {
        return chargeDeadline(new Date(t.getTime() + dt)).getTime() >= chargeDeadline(t).getTime();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pendingExpiry', () => {
  it('is one hour later to the millisecond', () => {
    expect(pendingExpiry(iso('2026-12-31T23:30:00.123Z')).toISOString()).toBe('2027-01-01T00:30:00.123Z');
  });
  it('does not mutate its input', () => {
    const t = iso('2026-01-01T00:00:00.000Z');
    pendingExpiry(t);
    chargeDeadline(t);
    expect(t.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});
