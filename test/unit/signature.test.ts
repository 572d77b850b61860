import fc from 'fast-check';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { SignatureVerificationError, verifyStripeSignature } from '../../lambdas/adapters/stripe/signature.js';

const stripe = new Stripe('sk_test_unit', { telemetry: false });
const SECRET = 'whsec_test_secret';
const NOW = 1_790_000_000;
const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'source.chargeable' });
const sign = (body: string, secret = SECRET, timestamp = NOW) =>
  stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });

/** stripe-node's own verdict (the check inside constructEvent), for the same inputs and the same "now". */
function stripeAccepts(body: string, header: string, secrets: string[], now: number): boolean {
  return secrets.some((s) => {
    try {
      // constructEvent = this check, then JSON.parse of the body.
      return stripe.webhooks.signature?.verifyHeader(body, header, s, 300, undefined, now * 1000) === true;
    } catch {
      return false;
    }
  });
}
function oursAccepts(body: string, header: string, secrets: string[], now: number): boolean {
  try {
    verifyStripeSignature(body, header, secrets, now);
    return true;
  } catch (e) {
    if (e instanceof SignatureVerificationError) return false;
    throw e;
  }
}

describe('verifyStripeSignature', () => {
  it('accepts an event signed with stripe-node’s generateTestHeaderString', () => {
    expect(() => verifyStripeSignature(payload, sign(payload), [SECRET], NOW)).not.toThrow();
  });

  it.each([
    ['a missing header', undefined, 'missing_header'],
    ['an empty header', '', 'missing_header'],
    ['a header without a timestamp', 'v1=abc', 'malformed_header'],
    ['a header without v1', `t=${NOW}`, 'no_matching_signature'],
    ['a wrong secret', sign(payload, 'whsec_other'), 'no_matching_signature'],
    ['an old timestamp (replay)', sign(payload, SECRET, NOW - 301), 'timestamp_out_of_tolerance'],
  ])('rejects %s', (_name, header, problem) => {
    expect(() => verifyStripeSignature(payload, header, [SECRET], NOW)).toThrow(expect.objectContaining({ problem }));
  });

  it('accepts the edge of the tolerance, 300 s, and refuses 301 s', () => {
    expect(() => verifyStripeSignature(payload, sign(payload, SECRET, NOW - 300), [SECRET], NOW + 0.999)).not.toThrow();
    expect(() => verifyStripeSignature(payload, sign(payload, SECRET, NOW - 301), [SECRET], NOW)).toThrow(
      SignatureVerificationError,
    );
  });

  it('is stricter than stripe-node on one point: a timestamp that is not all digits', () => {
    const fractional = sign(payload).replace(/t=(\d+)/, 't=$1.5');
    expect(stripe.webhooks.signature?.verifyHeader(payload, fractional, SECRET, 300, undefined, NOW * 1000)).toBe(true);
    expect(() => verifyStripeSignature(payload, fractional, [SECRET], NOW)).toThrow(
      expect.objectContaining({ problem: 'malformed_header' }),
    );
  });

  it('rejects a body altered after signing', () => {
    expect(() => verifyStripeSignature(payload.replace('evt_1', 'evt_2'), sign(payload), [SECRET], NOW)).toThrow(
      SignatureVerificationError,
    );
  });

  it('accepts any of several secrets (rotation) and a header with several v1 signatures', () => {
    expect(() => verifyStripeSignature(payload, sign(payload, 'whsec_new'), [SECRET, 'whsec_new'], NOW)).not.toThrow();
    const twoSigs = `${sign(payload, 'whsec_old')},v1=${sign(payload).split('v1=')[1]}`;
    expect(() => verifyStripeSignature(payload, twoSigs, [SECRET], NOW)).not.toThrow();
  });

  it('verifies raw bytes, so a UTF-8 body signed as received verifies as a Buffer', () => {
    const body = JSON.stringify({ id: 'evt_ü', note: '微信支付' });
    expect(() => verifyStripeSignature(Buffer.from(body, 'utf8'), sign(body), [SECRET], NOW)).not.toThrow();
  });

  it('agrees with stripe-node’s verification on random bodies, secrets, times and tampering', () => {
    const secret = fc.constantFrom(SECRET, 'whsec_a', 'whsec_b');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        secret,
        fc.array(secret, { minLength: 1, maxLength: 2 }),
        fc.integer({ min: -400, max: 400 }),
        fc.constantFrom('none', 'body', 'sig', 'scheme', 'ts', 'spaces', 'upper', 'extra'),
        (body, signer, accepted, skew, tamper) => {
          let header = sign(body, signer, NOW + skew);
          let sent = body;
          if (tamper === 'body') sent = `${body} `;
          if (tamper === 'sig') header = header.replace(/v1=(.)/, (_m, c: string) => `v1=${c === '0' ? '1' : '0'}`);
          if (tamper === 'scheme') header = header.replace('v1=', 'v0=');
          if (tamper === 'ts') header = header.replace(/t=\d+/, `t=${NOW + skew + 1}`);
          if (tamper === 'spaces') header = header.replace(',', ', ');
          if (tamper === 'upper') header = header.replace(/v1=(\w+)/, (_m, h: string) => `v1=${h.toUpperCase()}`);
          if (tamper === 'extra') header = `${header},v0=abc,v1=${'0'.repeat(64)}`;
          return oursAccepts(sent, header, accepted, NOW) === stripeAccepts(sent, header, accepted, NOW);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
