/** The real clock, id generator and secret comparer (the sandbox swaps the clock for one it can advance). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from 'ulid';
import type { Clock, IdGenerator, SecretComparer } from '../ports/index.js';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}

export class UlidIds implements IdGenerator {
  constructor(private readonly clock: Clock = new SystemClock()) {}
  /** `ord_` + ULID: sortable by creation, 30 characters, so `<id>-deadline` fits Scheduler's 64. */
  orderId(): string {
    return `ord_${ulid(this.clock.now().getTime())}`;
  }
  /** 192 random bits, URL-safe; the customer's browser holds it, never the API key. */
  clientSecret(orderId: string): string {
    return `${orderId}_secret_${randomBytes(24).toString('base64url')}`;
  }
}

/**
 * `crypto.timingSafeEqual` on SHA-256 digests: the digests always have the same length (the
 * function throws on different lengths), so neither the length nor the content of the secret
 * shows in the time taken. https://nodejs.org/api/crypto.html#cryptotimingsafeequala-b
 */
export class DigestSecretComparer implements SecretComparer {
  equal(expected: string, given: string): boolean {
    const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
    return timingSafeEqual(digest(expected), digest(given));
  }
}
