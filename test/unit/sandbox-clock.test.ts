import { describe, expect, it } from 'vitest';
import { clockStartOffsetSeconds } from '../../scripts/sandbox/start.js';

describe('SANDBOX_CLOCK_START', () => {
  const now = Date.parse('2026-11-22T03:00:00Z');

  it('is unset or blank: the clock is real time', () => {
    expect(clockStartOffsetSeconds(undefined, now)).toBe(0);
    expect(clockStartOffsetSeconds('  ', now)).toBe(0);
  });

  it.each([
    ['2026-11-22T15:30:00Z', 12.5 * 3600],
    ['2026-11-22T23:30:00+08:00', 12.5 * 3600],
    ['2026-11-22T02:59:59.500Z', -0.5],
  ])('%s starts the clock at that instant', (value, offset) => {
    expect(clockStartOffsetSeconds(value, now)).toBe(offset);
  });

  it.each(['nonsense', '2026-11-22', '2026-11-22T15:30:00', '2026-13-45T99:00:00Z'])(
    'refuses %j with the expected format in the message',
    (value) => {
      expect(() => clockStartOffsetSeconds(value, now)).toThrow(/SANDBOX_CLOCK_START must be an ISO 8601 instant/);
    },
  );
});
