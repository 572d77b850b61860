/**
 * In-memory implementations of every port, for unit tests of the use cases and as the
 * reference the contract suites hold the real adapters to. Each copies what it stores, so a
 * caller mutating an object it passed in cannot change the "database".
 */
import { type LifecycleEvent, type Order, paymentObjectId } from '../../domain/index.js';
import {
  type ChargeInput,
  type ChargeResult,
  type Clock,
  ConflictError,
  type CreatedPaymentIntent,
  type CreatedSource,
  type CreatePaymentIntentInput,
  type CreateSourceInput,
  type EventPublisher,
  type IdempotencyRecord,
  type IdGenerator,
  NotFoundError,
  type OrderStore,
  type PaymentGateway,
  type PaymentIntentState,
  type RefundInput,
  SourceNotChargeableError,
  type SourceStatus,
  type TimerSpec,
  type Timers,
  type WorkMessage,
  type WorkQueue,
} from '../../ports/index.js';

const copy = <T>(v: T): T => structuredClone(v);

export class MemoryOrderStore implements OrderStore {
  readonly orders = new Map<string, Order>();
  readonly idempotency = new Map<string, IdempotencyRecord>();

  async get(orderId: string, _options?: { consistent?: boolean }) {
    const o = this.orders.get(orderId);
    return o && copy(o);
  }
  async getByPaymentId(id: string) {
    for (const o of this.orders.values()) if (paymentObjectId(o.payment) === id) return copy(o);
    return undefined;
  }
  async getByIdempotencyKey(key: string) {
    const r = this.idempotency.get(key);
    return r && copy(r);
  }
  async create(order: Order, idempotency?: IdempotencyRecord) {
    if (this.orders.has(order.id)) throw new ConflictError(`Order ${order.id} exists.`);
    if (idempotency && this.idempotency.has(idempotency.key)) throw new ConflictError('Idempotency key used.');
    this.orders.set(order.id, copy(order));
    if (idempotency) this.idempotency.set(idempotency.key, copy(idempotency));
  }
  async update(order: Order, expectedVersion: number) {
    const current = this.orders.get(order.id);
    if (!current || current.version !== expectedVersion) throw new ConflictError();
    this.orders.set(order.id, copy(order));
  }
  async listRecent(limit: number) {
    return [...this.orders.values()]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .slice(0, limit)
      .map(copy);
  }
}

export class MemoryWorkQueue implements WorkQueue {
  readonly messages: WorkMessage[] = [];
  private readonly seen = new Set<string>();
  /** FIFO deduplication: a deduplication id seen before is accepted and dropped. */
  async enqueue(message: WorkMessage) {
    if (this.seen.has(message.dedupId)) return;
    this.seen.add(message.dedupId);
    this.messages.push(copy(message));
  }
}

export class MemoryTimers implements Timers {
  readonly timers = new Map<string, TimerSpec>();
  async schedule(timer: TimerSpec) {
    if (!this.timers.has(timer.name)) this.timers.set(timer.name, copy(timer));
  }
  async cancel(name: string) {
    this.timers.delete(name);
  }
  /** Removes and returns the timers due at `now`, as Scheduler fires and deletes them. */
  due(now: Date): TimerSpec[] {
    const out = [...this.timers.values()].filter((t) => t.at.getTime() <= now.getTime());
    for (const t of out) this.timers.delete(t.name);
    return out;
  }
}

export class MemoryPublisher implements EventPublisher {
  readonly events: LifecycleEvent[] = [];
  async publish(event: LifecycleEvent) {
    this.events.push(copy(event));
  }
}

export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string = '2026-11-21T08:00:00.000Z') {
    this.t = new Date(start).getTime();
  }
  now() {
    return new Date(this.t);
  }
  advance(ms: number) {
    this.t += ms;
  }
  set(at: Date | string) {
    this.t = new Date(at).getTime();
  }
}

/** Deterministic ids: `ord_` + a 26-character Crockford base32 counter. */
export class SequentialIds implements IdGenerator {
  private n = 0;
  orderId() {
    this.n += 1;
    return `ord_${this.n
      .toString(32)
      .toUpperCase()
      .replace(/[ILOU]/g, 'X')
      .padStart(26, '0')}`;
  }
  clientSecret(orderId: string) {
    return `${orderId}_secret_${this.n}`;
  }
}

interface MemSource {
  id: string;
  type: string;
  amount: number;
  currency: string;
  livemode: boolean;
  status: SourceStatus;
  orderId: string;
}

/**
 * Stripe as the use cases see it: single-use sources, idempotent charges and refunds keyed like
 * Stripe's idempotency keys, and switches to play the customer.
 */
export class MemoryPaymentGateway implements PaymentGateway {
  readonly sources = new Map<string, MemSource>();
  readonly charges = new Map<string, ChargeResult & { orderId: string }>();
  readonly refunds = new Map<string, { id: string; chargeId: string }>();
  readonly paymentIntents = new Map<string, PaymentIntentState & { orderId: string }>();
  private readonly byKey = new Map<string, unknown>();
  /** Next `charge` result when set ('declined' throws PaymentDeclinedError). */
  chargeOutcome: 'succeeded' | 'pending' | 'failed' = 'succeeded';
  private n = 0;

  private once<T>(key: string, make: () => T): T {
    if (this.byKey.has(key)) return copy(this.byKey.get(key) as T);
    const v = make();
    this.byKey.set(key, v);
    return copy(v);
  }

  async createSource(input: CreateSourceInput): Promise<CreatedSource> {
    return this.once(input.idempotencyKey, () => {
      this.n += 1;
      const id = `src_mem${this.n}`;
      this.sources.set(id, {
        id,
        type: input.type,
        amount: input.amount,
        currency: input.currency,
        livemode: false,
        status: 'pending',
        orderId: input.orderId,
      });
      return input.type === 'wechat'
        ? { id, livemode: false, status: 'pending', qrCodeUrl: `https://sim.example/qr/${id}` }
        : { id, livemode: false, status: 'pending', redirectUrl: `https://sim.example/redirect/${id}` };
    });
  }

  setSourceStatus(sourceId: string, status: SourceStatus) {
    const s = this.sources.get(sourceId);
    if (!s) throw new Error(`no source ${sourceId}`);
    s.status = status;
  }

  async getSourceStatus(sourceId: string) {
    const s = this.sources.get(sourceId);
    if (!s) throw new NotFoundError(`No such source: ${sourceId}`);
    return s.status;
  }

  async charge(input: ChargeInput): Promise<ChargeResult> {
    if (this.byKey.has(input.idempotencyKey)) return copy(this.byKey.get(input.idempotencyKey) as ChargeResult);
    const s = this.sources.get(input.sourceId);
    if (!s) throw new NotFoundError(`No such source: ${input.sourceId}`);
    if (s.status !== 'chargeable') throw new SourceNotChargeableError(`Source ${s.id} is ${s.status}.`);
    return this.once(input.idempotencyKey, () => {
      this.n += 1;
      s.status = 'consumed';
      const r = {
        id: `ch_mem${this.n}`,
        status: this.chargeOutcome,
        amount: input.amount,
        currency: input.currency,
        sourceId: s.id,
        orderId: input.orderId,
      };
      this.charges.set(r.id, r);
      const { orderId: _o, ...result } = r;
      return result;
    });
  }

  async getCharge(chargeId: string) {
    const c = this.charges.get(chargeId);
    if (!c) throw new NotFoundError(`No such charge: ${chargeId}`);
    const { orderId: _o, ...result } = c;
    return copy(result);
  }

  async refund(input: RefundInput) {
    const chargeId = input.chargeId ?? this.paymentIntents.get(input.paymentIntentId ?? '')?.chargeId;
    if (!chargeId || !this.charges.has(chargeId)) throw new NotFoundError(`No such charge: ${chargeId}`);
    return this.once(input.idempotencyKey, () => {
      this.n += 1;
      const r = { id: `re_mem${this.n}`, chargeId };
      this.refunds.set(r.id, r);
      return { id: r.id };
    });
  }

  async createPaymentIntent(input: CreatePaymentIntentInput): Promise<CreatedPaymentIntent> {
    return this.once(input.idempotencyKey, () => {
      this.n += 1;
      const id = `pi_mem${this.n}`;
      this.paymentIntents.set(id, {
        id,
        status: 'requires_action',
        amount: input.amount,
        currency: input.currency,
        livemode: false,
        orderId: input.orderId,
      });
      return {
        livemode: false,
        status: 'requires_action' as const,
        payment:
          input.method === 'wechat'
            ? {
                api: 'payment_intents' as const,
                paymentIntentId: id,
                client: input.client ?? 'web',
                qrCodeData: `weixin://wxpay/bizpayurl?pr=${id}`,
                qrCodeImageDataUrl: 'data:image/png;base64,iVBORw0KGgo=',
                hostedInstructionsUrl: `https://sim.example/wechat/${id}`,
              }
            : { api: 'payment_intents' as const, paymentIntentId: id, redirectUrl: `https://sim.example/alipay/${id}` },
      };
    });
  }

  /** Plays the customer: the PaymentIntent succeeds (with a charge), or is left processing. */
  setPaymentIntentStatus(id: string, status: PaymentIntentState['status']) {
    const pi = this.paymentIntents.get(id);
    if (!pi) throw new Error(`no payment intent ${id}`);
    pi.status = status;
    if (status === 'succeeded' && !pi.chargeId) {
      this.n += 1;
      pi.chargeId = `ch_mem${this.n}`;
      this.charges.set(pi.chargeId, {
        id: pi.chargeId,
        status: 'succeeded',
        amount: pi.amount,
        currency: pi.currency,
        orderId: pi.orderId,
      });
    }
    return this.state(pi);
  }

  private state(pi: PaymentIntentState & { orderId: string }): PaymentIntentState {
    const { orderId: _o, ...rest } = pi;
    return copy(rest);
  }

  async getPaymentIntent(id: string) {
    const pi = this.paymentIntents.get(id);
    if (!pi) throw new NotFoundError(`No such payment_intent: ${id}`);
    return this.state(pi);
  }

  async cancelPaymentIntent(id: string) {
    const pi = this.paymentIntents.get(id);
    if (!pi) throw new NotFoundError(`No such payment_intent: ${id}`);
    if (pi.status !== 'succeeded' && pi.status !== 'processing') pi.status = 'canceled';
    return this.state(pi);
  }
}
