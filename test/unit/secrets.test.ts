import { describe, expect, it } from 'vitest';
import { DigestSecretComparer } from '../../lambdas/adapters/system.js';

describe('DigestSecretComparer (client secrets, compared with crypto.timingSafeEqual on digests)', () => {
  const c = new DigestSecretComparer();
  it('equal secrets are equal', () => {
    expect(c.equal('ord_1_secret_abc', 'ord_1_secret_abc')).toBe(true);
    expect(c.equal('', '')).toBe(true);
  });
  it('a secret differing anywhere, or in length, is not equal (and nothing throws)', () => {
    expect(c.equal('ord_1_secret_abc', 'ord_1_secret_abd')).toBe(false);
    expect(c.equal('ord_1_secret_abc', 'xrd_1_secret_abc')).toBe(false);
    expect(c.equal('ord_1_secret_abc', 'ord_1_secret_ab')).toBe(false);
    expect(c.equal('ord_1_secret_abc', '')).toBe(false);
    expect(c.equal('秘密', '秘蜜')).toBe(false);
  });
});
