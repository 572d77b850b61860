/** The simulator's copy of Stripe's reference data must be the shared original, byte for byte. */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findSpecPath, PAYMENT_INTENTS_SPEC_FILE, SPEC_FILE } from '../../scripts/stripe-sim/openapi.js';

const FILES = [
  'stripe-sources-subset.openapi.json',
  'stripe-fixtures-subset.json',
  'stripe-payment-intents-subset.openapi.json',
  'stripe-payment-intents-fixtures.json',
];
const copy = (f: string) => new URL(`../../scripts/stripe-sim/spec/${f}`, import.meta.url);
const shared = (f: string) => new URL(`../../../shared/stripe/${f}`, import.meta.url);

describe('Stripe reference data kept in the repository', () => {
  it('is what the simulator loads', () => {
    expect(findSpecPath({})).toBe(copy(SPEC_FILE).pathname);
    expect(findSpecPath({}, PAYMENT_INTENTS_SPEC_FILE)).toBe(copy(PAYMENT_INTENTS_SPEC_FILE).pathname);
  });

  it.each(FILES)('%s equals ../shared/stripe/ when that folder is present', (f) => {
    const copied = readFileSync(copy(f));
    expect(copied.length).toBeGreaterThan(1000);
    if (existsSync(shared(f))) expect(copied.equals(readFileSync(shared(f)))).toBe(true);
  });
});
