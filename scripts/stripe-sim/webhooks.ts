/**
 * Signed webhook delivery, the way Stripe does it.
 *
 * Why: the orchestrator's ingress verifies `Stripe-Signature` on the raw body and relies on
 * retries (Stripe delivers at least once, retrying failed deliveries with exponential
 * backoff). The simulator signs exactly as Stripe does — `t=<unix seconds>,v1=<hex
 * HMAC-SHA256("<t>.<raw body>", key = the whole whsec_... secret)>` — so
 * `stripe.webhooks.constructEvent` accepts its deliveries, and it retries non-2xx answers and
 * network errors (base delay doubling, capped at 30 s) so the ingress's error paths run.
 * https://docs.stripe.com/webhooks#verify-manually · https://docs.stripe.com/webhooks#retries
 *
 * The signature timestamp comes from a real-time clock by default (the receiver checks its
 * 300 s tolerance against its own clock), not from the simulator's advanceable clock.
 * Delivery never blocks an API answer. Per ordering key (the source id) events go out in the
 * order they were created: by default each event waits until the previous one was delivered
 * or given up on (`strictOrder`); with `strictOrder: false` only first attempts are ordered
 * and retries may overtake, as with real Stripe.
 *
 * `chaos` (reliability tests) goes further than Stripe's "at least once, in no guaranteed
 * order": every event is POSTed 1..maxCopies times, each copy after its own random delay and
 * with its own retries, with no ordering at all.
 */

import { createHmac } from 'node:crypto';
import type { SimClock } from './clock.js';
import type { EventObj } from './objects.js';

export interface DeliveryRecord {
  eventId: string;
  type: string;
  status: number | 'error';
  attempt: number;
  url: string;
  /** Real time of the attempt (ISO). */
  at: string;
  error?: string;
  /** With `chaos`: which copy of the event this attempt belongs to (1-based). */
  copy?: number;
}

/** Duplicated, delayed, unordered delivery (see the header). */
export interface WebhookChaos {
  /** Each event is sent 1..maxCopies times (uniformly). */
  maxCopies: number;
  /** Each copy waits 0..maxDelayMs (uniformly) before its first attempt. */
  maxDelayMs: number;
  /** Source of randomness, in [0, 1). */
  random: () => number;
}

/** A small deterministic PRNG (mulberry32), so a chaos run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WebhookSenderOptions {
  url: () => string | undefined;
  secret: string;
  signatureClock: SimClock;
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  strictOrder: boolean;
  onAttempt: (record: DeliveryRecord) => void;
  onDelivered: (event: EventObj) => void;
  /** Called when the last attempt failed. */
  onGiveUp: (event: EventObj) => void;
  /** Duplicated, delayed, unordered delivery instead of the ordered one. */
  chaos?: WebhookChaos;
  /** At most this many POSTs in flight at once (the others wait their turn); unlimited when absent. */
  concurrency?: number;
}

export const USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';

/** The `Stripe-Signature` header value for a payload. */
export function signPayload(payload: string, secret: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

export class WebhookSender {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly loose = new Set<Promise<void>>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly abort = new AbortController();
  private closed = false;

  constructor(private readonly opts: WebhookSenderOptions) {}

  /** Queues an event behind earlier events with the same ordering key. Never throws. */
  enqueue(event: EventObj, orderKey: string): void {
    if (this.closed) return;
    const chaos = this.opts.chaos;
    if (chaos) {
      const max = Math.max(1, Math.floor(chaos.maxCopies));
      const copies = Math.min(max, 1 + Math.floor(chaos.random() * max));
      for (let copy = 1; copy <= copies; copy++) {
        const delay = Math.max(0, chaos.random() * chaos.maxDelayMs);
        const p: Promise<void> = this.sleep(delay)
          .then(() => this.deliver(event, 1, copy))
          .catch(() => undefined)
          .finally(() => this.loose.delete(p));
        this.loose.add(p);
      }
      return;
    }
    const prev = this.chains.get(orderKey) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        if (this.opts.strictOrder) {
          await this.deliver(event, 1);
          return;
        }
        const ok = await this.attempt(event, 1);
        if (!ok) void this.deliver(event, 2);
      })
      .catch(() => undefined);
    this.chains.set(orderKey, next);
    void next.then(() => {
      if (this.chains.get(orderKey) === next) this.chains.delete(orderKey);
    });
  }

  /** Resolves when every queued delivery has finished (delivered or given up). */
  async idle(): Promise<void> {
    while (this.chains.size > 0 || this.loose.size > 0) await Promise.all([...this.chains.values(), ...this.loose]);
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const wake of this.waiting.splice(0)) wake();
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleepers.clear();
  }

  /** Attempts `from`..maxAttempts with backoff until one succeeds. */
  private async deliver(event: EventObj, from: number, copy?: number): Promise<void> {
    for (let attempt = from; attempt <= this.opts.maxAttempts; attempt++) {
      if (this.closed) return;
      if (attempt > 1) {
        await this.sleep(this.delayBefore(attempt));
        if (this.closed) return;
      }
      if (await this.attempt(event, attempt, copy)) return;
    }
    if (!this.closed) this.opts.onGiveUp(event);
  }

  /** Delay before attempt n (n >= 2): base, 2·base, 4·base... capped at 30 s. */
  delayBefore(attempt: number): number {
    return Math.min(this.opts.retryBaseMs * 2 ** (attempt - 2), 30_000);
  }

  /** One POST within the concurrency limit; true on 2xx. */
  private async attempt(event: EventObj, attempt: number, copy?: number): Promise<boolean> {
    const limit = this.opts.concurrency;
    if (limit === undefined) return this.post(event, attempt, copy);
    while (this.inFlight >= limit && !this.closed) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight += 1;
    try {
      return await this.post(event, attempt, copy);
    } finally {
      this.inFlight -= 1;
      this.waiting.shift()?.();
    }
  }

  /** One POST; true on 2xx. Records the attempt. */
  private async post(event: EventObj, attempt: number, copy?: number): Promise<boolean> {
    const url = this.opts.url();
    if (!url || this.closed) return false;
    const payload = JSON.stringify(event, null, 2);
    const t = Math.floor(this.opts.signatureClock.now().getTime() / 1000);
    const record: DeliveryRecord = {
      eventId: event.id,
      type: event.type,
      status: 'error',
      attempt,
      url,
      at: new Date().toISOString(),
      ...(copy !== undefined ? { copy } : {}),
    };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': USER_AGENT,
          'Stripe-Signature': signPayload(payload, this.opts.secret, t),
          'Cache-Control': 'no-cache',
        },
        body: payload,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined);
      record.status = res.status;
    } catch (e) {
      const cause =
        e instanceof Error && e.cause instanceof Error
          ? ` (${(e.cause as { code?: string }).code ?? e.cause.message})`
          : '';
      record.error = e instanceof Error ? `${e.name}: ${e.message}${cause}` : String(e);
    }
    if (this.closed && record.status === 'error') return false;
    this.opts.onAttempt(record);
    const ok = typeof record.status === 'number' && record.status >= 200 && record.status < 300;
    if (ok) this.opts.onDelivered(event);
    return ok;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      entry.timer.unref();
      this.sleepers.add(entry);
    });
  }
}
