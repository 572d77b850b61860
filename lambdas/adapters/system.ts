/** The real clock and id generator (the sandbox swaps the clock for one it can advance). */
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import type { Clock, IdGenerator } from '../ports/index.js';

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
