/**
 * Contract suites of the ports: the same vitest blocks run against the in-memory adapters
 * (test/unit/memory-contracts.test.ts) and the AWS adapters over moto
 * (test/integration/aws-adapters.test.ts), so the fakes the use-case tests rely on behave like
 * the real thing.
 */
import { describe, expect, it } from 'vitest';
import { type Order, type OrderEvent, summarize } from '../../lambdas/domain/index.js';
import {
  ConflictError,
  type EventPublisher,
  type IdempotencyRecord,
  type OrderStore,
  type TimerSpec,
  type Timers,
  type WorkMessage,
  type WorkQueue,
} from '../../lambdas/ports/index.js';
import { orderIn, paymentIntentIdOf, sourceIdOf } from './orders.js';

let seq = 0;
/** A unique suffix per call, so suites never collide on shared resources. */
export const unique = (label: string): string => {
  seq += 1;
  return `${label}${Date.now().toString(36)}${seq.toString().padStart(4, '0')}`.toUpperCase();
};

/** A valid order (through the state machine) with a fresh id and source id. */
export function sampleOrder(overrides: Partial<Order> = {}): Order {
  const base = orderIn('pending');
  const id = `ord_${unique('C')}`;
  return {
    ...base,
    id,
    payment: { api: 'sources', sourceId: `src_${unique('S')}` },
    ...overrides,
  };
}

/** A valid PaymentIntents order (through the state machine) with a fresh id and PaymentIntent id. */
export function sampleIntentOrder(overrides: Partial<Order> = {}): Order {
  const base = orderIn('pending', 'payment_intents');
  const id = `ord_${unique('P')}`;
  const paymentIntentId = `pi_${unique('I')}`;
  return {
    ...base,
    id,
    payment: {
      api: 'payment_intents',
      paymentIntentId,
      client: 'web',
      qrCodeData: `weixin://wxpay/bizpayurl?pr=${paymentIntentId}`,
    },
    ...overrides,
  };
}

/** The next version of `o`, as the worker would write it. */
function nextVersion(o: Order, patch: Partial<Order> = {}): Order {
  return { ...o, version: o.version + 1, updatedAt: new Date(Date.parse(o.updatedAt) + 1000).toISOString(), ...patch };
}

export function orderStoreContract(name: string, makeStore: () => Promise<OrderStore>): void {
  describe(`OrderStore contract: ${name}`, () => {
    it('create then get returns an equal order; unknown ids are undefined', async () => {
      const store = await makeStore();
      const o = sampleOrder();
      await store.create(o);
      expect(await store.get(o.id)).toEqual(o);
      expect(await store.get(`ord_${unique('MISSING')}`)).toBeUndefined();
    });

    it('create of an existing id is a ConflictError and keeps the first', async () => {
      const store = await makeStore();
      const o = sampleOrder();
      await store.create(o);
      await expect(store.create({ ...o, amount: o.amount + 1 })).rejects.toBeInstanceOf(ConflictError);
      expect((await store.get(o.id))?.amount).toBe(o.amount);
    });

    it('update with the stored version succeeds; a stale or missing version is a ConflictError', async () => {
      const store = await makeStore();
      const o = sampleOrder();
      await store.create(o);
      const v2 = nextVersion(o, { status: 'chargeable', chargeableAt: o.createdAt });
      await store.update(v2, o.version);
      expect(await store.get(o.id)).toEqual(v2);

      const stale = nextVersion(o, { status: 'canceled', cancelReason: 'merchant' });
      await expect(store.update(stale, o.version)).rejects.toBeInstanceOf(ConflictError);
      await expect(store.update(nextVersion(v2), v2.version + 5)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(o.id)).toEqual(v2);

      const never = sampleOrder();
      await expect(store.update(nextVersion(never), never.version)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(never.id)).toBeUndefined();
    });

    it('two writers racing on one version: exactly one wins, the other gets a ConflictError', async () => {
      const store = await makeStore();
      for (let round = 0; round < 5; round++) {
        const o = sampleOrder();
        await store.create(o);
        const a = nextVersion(o, { status: 'chargeable' });
        const b = nextVersion(o, { status: 'canceled', cancelReason: 'merchant' });
        const results = await Promise.allSettled([store.update(a, o.version), store.update(b, o.version)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
        const winner = results[0]?.status === 'fulfilled' ? a : b;
        expect(await store.get(o.id)).toEqual(winner);
      }
    });

    it('getByPaymentId finds the order; an unknown source is undefined', async () => {
      const store = await makeStore();
      const o = sampleOrder();
      await store.create(o);
      expect(await store.getByPaymentId(sourceIdOf(o))).toEqual(o);
      expect(await store.getByPaymentId(`src_${unique('NONE')}`)).toBeUndefined();
    });

    it('PaymentIntents orders: stored and read back as written; getByPaymentId finds each order by its own payment object', async () => {
      const store = await makeStore();
      const pi = sampleIntentOrder({ metadata: { cart: 'c-pi' } });
      const src = sampleOrder();
      await store.create(pi);
      await store.create(src);
      expect(await store.get(pi.id)).toEqual(pi);
      expect(await store.getByPaymentId(paymentIntentIdOf(pi))).toEqual(pi);
      expect(await store.getByPaymentId(sourceIdOf(src))).toEqual(src);
      expect(await store.getByPaymentId(`pi_${unique('NONE')}`)).toBeUndefined();
      // The next version of a PaymentIntents order, as the worker writes it (paid with its charge).
      const paid = nextVersion(pi, { status: 'paid', chargeId: 'ch_pi_contract' });
      await store.update(paid, pi.version);
      expect(await store.get(pi.id)).toEqual(paid);
      expect(await store.getByPaymentId(paymentIntentIdOf(pi))).toEqual(paid);
    });

    it('an idempotency record is created with its order, read back, and a reused key is a ConflictError', async () => {
      const store = await makeStore();
      const o = sampleOrder();
      const idem: IdempotencyRecord = { key: unique('key-'), orderId: o.id, request: '{"amount":1099}' };
      expect(await store.getByIdempotencyKey(idem.key)).toBeUndefined();
      await store.create(o, idem);
      expect(await store.getByIdempotencyKey(idem.key)).toEqual(idem);
      expect(await store.get(o.id)).toEqual(o);

      // Same key, another order: refused, and the other order is not written either.
      const other = sampleOrder();
      await expect(store.create(other, { ...idem, orderId: other.id })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get(other.id)).toBeUndefined();
      expect(await store.getByIdempotencyKey(idem.key)).toEqual(idem);

      // Same order id, fresh key: refused, and the fresh key is not recorded.
      const fresh = unique('key-');
      await expect(store.create(o, { key: fresh, orderId: o.id, request: '{}' })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getByIdempotencyKey(fresh)).toBeUndefined();
    });

    it('listRecent returns the newest orders first, bounded by limit', async () => {
      const store = await makeStore();
      const now = Date.now();
      const orders = [0, 1, 2, 3, 4].map((i) =>
        sampleOrder({ createdAt: new Date(now - i * 60_000).toISOString(), updatedAt: new Date(now).toISOString() }),
      );
      // Written oldest first, with an idempotency record that must not show up as an order.
      for (const o of [...orders].reverse()) await store.create(o);
      await store.create(sampleOrder({ createdAt: new Date(now - 10 * 60_000).toISOString() }), {
        key: unique('key-'),
        orderId: 'x',
        request: '{}',
      });
      const three = await store.listRecent(3);
      expect(three.map((o) => o.id)).toEqual(orders.slice(0, 3).map((o) => o.id));
      expect(three[0]).toEqual(orders[0]);
      const all = await store.listRecent(100);
      expect(all).toHaveLength(6);
      expect(all.slice(0, 5).map((o) => o.id)).toEqual(orders.map((o) => o.id));
      expect(await store.listRecent(0)).toEqual([]);
    });
  });
}

export interface ReceivedWork {
  message: WorkMessage;
  /** The FIFO group the queue delivered it in. */
  groupId: string;
}

export interface QueueHarness {
  queue: WorkQueue;
  /** Everything enqueued since the harness was made, in delivery order (removing it from the queue). */
  drain(): Promise<ReceivedWork[]>;
}

export function workMessage(overrides: Partial<WorkMessage> = {}): WorkMessage {
  const orderId = `ord_${unique('Q')}`;
  const eventId = `evt_${unique('E')}`;
  const event: OrderEvent = {
    type: 'source.chargeable',
    id: eventId,
    at: '2026-11-21T08:05:00.000Z',
    orderId,
    sourceId: 'src_1',
    amount: 1099,
    currency: 'usd',
    livemode: false,
  };
  return { groupId: orderId, dedupId: eventId, event, ...overrides };
}

export function workQueueContract(name: string, makeQueue: () => Promise<QueueHarness>): void {
  describe(`WorkQueue contract: ${name}`, () => {
    it('delivers the message as sent, in its group, in order', async () => {
      const h = await makeQueue();
      const first = workMessage();
      const second = workMessage({ groupId: first.groupId });
      await h.queue.enqueue(first);
      await h.queue.enqueue(second);
      const got = await h.drain();
      expect(got).toEqual([
        { message: first, groupId: first.groupId },
        { message: second, groupId: first.groupId },
      ]);
    });

    it('PaymentIntent events travel as sent, in the order’s group', async () => {
      const h = await makeQueue();
      const orderId = `ord_${unique('Q')}`;
      const events: OrderEvent[] = [
        {
          type: 'payment_intent.succeeded',
          id: `evt_${unique('E')}`,
          at: '2026-11-21T08:05:00.000Z',
          orderId,
          paymentIntentId: 'pi_1',
          amount: 1099,
          currency: 'usd',
          livemode: false,
          chargeId: 'ch_pi_1',
        },
        {
          type: 'payment_intent.payment_failed',
          id: `evt_${unique('E')}`,
          at: '2026-11-21T08:06:00.000Z',
          orderId,
          paymentIntentId: 'pi_1',
          failureCode: 'payment_intent_payment_attempt_failed',
        },
        { type: 'timer.recheck', id: `tmr_${orderId}_recheck`, at: '2026-11-21T08:35:00.000Z', orderId },
      ];
      for (const event of events) await h.queue.enqueue({ groupId: orderId, dedupId: event.id, event });
      expect(await h.drain()).toEqual(
        events.map((event) => ({ message: { groupId: orderId, dedupId: event.id, event }, groupId: orderId })),
      );
    });

    it('FIFO deduplication: the same dedupId twice is delivered once', async () => {
      const h = await makeQueue();
      const m = workMessage();
      await h.queue.enqueue(m);
      await h.queue.enqueue({ ...m, event: { ...m.event, at: '2026-11-21T09:00:00.000Z' } });
      const got = await h.drain();
      expect(got).toHaveLength(1);
      expect(got[0]?.message).toEqual(m);
    });
  });
}

export interface TimersHarness {
  timers: Timers;
  /** Whether a timer of that name is scheduled. */
  exists(name: string): Promise<boolean>;
}

export function timerSpec(overrides: Partial<TimerSpec> = {}): TimerSpec {
  const orderId = `ord_${unique('T')}`;
  return {
    name: `${orderId}-deadline`,
    at: new Date('2026-11-21T15:45:00.000Z'),
    message: workMessage({
      groupId: orderId,
      dedupId: `tmr_${orderId}_deadline`,
      event: { type: 'timer.deadline', id: `tmr_${orderId}_deadline`, at: '2026-11-21T15:45:00.000Z', orderId },
    }),
    ...overrides,
  };
}

export function timersContract(name: string, makeTimers: () => Promise<TimersHarness>): void {
  describe(`Timers contract: ${name}`, () => {
    it('schedule creates the timer; scheduling the same name again is success', async () => {
      const h = await makeTimers();
      const t = timerSpec();
      await h.timers.schedule(t);
      expect(await h.exists(t.name)).toBe(true);
      await expect(h.timers.schedule(t)).resolves.toBeUndefined();
      expect(await h.exists(t.name)).toBe(true);
    });

    it('cancel removes the timer; cancelling a missing one is success', async () => {
      const h = await makeTimers();
      const t = timerSpec();
      await h.timers.schedule(t);
      await h.timers.cancel(t.name);
      expect(await h.exists(t.name)).toBe(false);
      await expect(h.timers.cancel(t.name)).resolves.toBeUndefined();
      await expect(h.timers.cancel(`ord_${unique('NEVER')}-pending`)).resolves.toBeUndefined();
    });
  });
}

export interface PublisherHarness {
  publisher: EventPublisher;
  /** Lifecycle events that reached subscribers, as `{ type, order }`. */
  delivered(): Promise<{ type: string; order: unknown }[]>;
}

export function publisherContract(name: string, makePublisher: () => Promise<PublisherHarness>): void {
  describe(`EventPublisher contract: ${name}`, () => {
    it('publishes a lifecycle event with its type and the order summary', async () => {
      const h = await makePublisher();
      const order = summarize(sampleOrder({ status: 'paid', chargeId: 'ch_1', metadata: { cart: '42' } }));
      await h.publisher.publish({ type: 'order.paid', order });
      expect(await h.delivered()).toEqual([{ type: 'order.paid', order }]);
    });
  });
}
