import { describe, expect, it } from 'vitest';
import { cancelOrder, createOrder, getOrder, getOrderForCustomer, handleEvent } from '../../lambdas/app/index.js';
import { type NewOrderInput, type Order, type OrderEvent, timerEventId } from '../../lambdas/domain/index.js';
import { ConflictError, TransientError } from '../../lambdas/ports/index.js';
import { sourceIdOf } from '../support/orders.js';
import { Crash, makeWorld, type World } from '../support/world.js';

const WECHAT: NewOrderInput = { amount: 1099, currency: 'usd', paymentMethod: 'wechat', statementDescriptor: 'ACME' };

async function newOrder(w: World, input: NewOrderInput = WECHAT): Promise<Order> {
  return (await createOrder(w.deps, input)).order;
}

const chargeable = (o: Order, id = 'evt_chargeable'): OrderEvent => ({
  type: 'source.chargeable',
  id,
  at: new Date(new Date(o.createdAt).getTime() + 120_000).toISOString(),
  orderId: o.id,
  sourceId: sourceIdOf(o),
  amount: o.amount,
  currency: o.currency,
  livemode: false,
});

const timer = (o: Order, kind: 'pending_expired' | 'deadline'): OrderEvent => ({
  type: kind === 'pending_expired' ? 'timer.pending_expired' : 'timer.deadline',
  id: timerEventId(o.id, kind),
  at: (kind === 'pending_expired' ? o.pendingExpiresAt : o.deadline) ?? o.createdAt,
  orderId: o.id,
});

describe('createOrder', () => {
  it('creates the source, stores a pending order and schedules its pending expiry', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect(o).toMatchObject({ status: 'pending', amount: 1099, currency: 'usd', paymentMethod: 'wechat', version: 1 });
    expect(o.id).toMatch(/^ord_[0-9A-Z]{26}$/);
    expect(o.payment).toMatchObject({ api: 'sources', qrCodeUrl: expect.stringContaining(sourceIdOf(o)) });
    expect(await w.store.get(o.id)).toEqual(o);
    const t = w.timers.timers.get(`${o.id}-pending`);
    expect(t?.at.toISOString()).toBe(o.pendingExpiresAt);
    expect(t?.message).toMatchObject({ groupId: o.id, event: { type: 'timer.pending_expired', orderId: o.id } });
    expect(new Date(o.pendingExpiresAt).getTime() - new Date(o.createdAt).getTime()).toBe(3600_000);
  });

  it.each<[string, Partial<NewOrderInput>, string]>([
    ['zero amount', { amount: 0 }, 'amount'],
    ['negative amount', { amount: -5 }, 'amount'],
    ['fractional amount', { amount: 10.5 }, 'amount'],
    ['amount above eight digits', { amount: 100_000_000 }, 'amount'],
    ['amount below the currency minimum', { amount: 49 }, 'amount'],
    ['unsupported currency for WeChat Pay', { currency: 'cny' }, 'currency'],
    ['unknown currency', { currency: 'xxx' }, 'currency'],
    ['unknown method', { paymentMethod: 'paypal' as never }, 'paymentMethod'],
    ['statement descriptor over 32 characters', { statementDescriptor: 'x'.repeat(33) }, 'statementDescriptor'],
    ['Alipay without returnUrl', { paymentMethod: 'alipay', currency: 'cny', amount: 1000 }, 'returnUrl'],
    ['returnUrl that is not http(s)', { returnUrl: 'javascript:alert(1)' }, 'returnUrl'],
    ['reserved metadata key', { metadata: { order_id: 'x' } }, 'metadata.order_id'],
    ['overlong metadata value', { metadata: { note: 'x'.repeat(501) } }, 'metadata.note'],
  ])('rejects %s with the field named, before calling Stripe', async (_name, patch, field) => {
    const w = makeWorld();
    await expect(createOrder(w.deps, { ...WECHAT, ...patch })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: expect.arrayContaining([expect.objectContaining({ field })]),
    });
    expect(w.gateway.sources.size).toBe(0);
    expect(w.store.orders.size).toBe(0);
  });

  it('accepts Alipay in CNY with a return URL, and normalises the currency case', async () => {
    const w = makeWorld();
    const o = await newOrder(w, {
      amount: 1000,
      currency: 'CNY',
      paymentMethod: 'alipay',
      returnUrl: 'https://shop.example/return',
    });
    expect(o.currency).toBe('cny');
    expect(o.payment.redirectUrl).toBeDefined();
  });

  it('replays the first response for the same Idempotency-Key and refuses other parameters', async () => {
    const w = makeWorld();
    const first = await createOrder(w.deps, WECHAT, 'key-1');
    const again = await createOrder(w.deps, { ...WECHAT }, 'key-1');
    expect(again).toEqual({ order: first.order, replayed: true });
    expect(w.gateway.sources.size).toBe(1);
    await expect(createOrder(w.deps, { ...WECHAT, amount: 2000 }, 'key-1')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
});

describe('handleEvent', () => {
  it('charges a chargeable source once and ends paid, with timers cleaned up and order.paid published', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const r = await handleEvent(w.deps, chargeable(o));
    expect(r.outcome).toBe('applied');
    const final = await getOrder(w.deps, o.id);
    expect(final.status).toBe('paid');
    expect(final.chargeId).toMatch(/^ch_/);
    expect(w.gateway.charges.size).toBe(1);
    expect(w.timers.timers.size).toBe(0);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.paid']);
    expect(final.history.map((h) => h.type)).toEqual(['order.created', 'source.chargeable', 'charge.succeeded']);
    // The webhook that follows is recorded and changes nothing.
    await handleEvent(w.deps, {
      type: 'charge.succeeded',
      id: 'evt_cs',
      at: final.updatedAt,
      orderId: o.id,
      chargeId: final.chargeId ?? '',
    });
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('finds the order by source id when the event has no order id', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    const { orderId: _drop, ...e } = {
      type: 'source.failed' as const,
      id: 'evt_f',
      at: o.createdAt,
      orderId: o.id,
      sourceId: sourceIdOf(o),
    };
    await handleEvent(w.deps, e);
    expect((await getOrder(w.deps, o.id)).status).toBe('failed');
  });

  it('acknowledges events for orders it does not know', async () => {
    const w = makeWorld();
    const r = await handleEvent(w.deps, {
      type: 'source.failed',
      id: 'evt_x',
      at: '2026-11-21T00:00:00Z',
      sourceId: 'src_unknown',
    });
    expect(r.outcome).toBe('unknown_order');
  });

  it('re-reads and re-applies when a conditional write loses a race', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    const update = w.store.update.bind(w.store);
    let raced = false;
    w.store.update = async (order, expected) => {
      if (!raced) {
        raced = true;
        // Another writer records a dispute first.
        const cur = (await w.store.get(o.id)) as Order;
        await update(
          {
            ...cur,
            version: cur.version + 1,
            history: [
              ...cur.history,
              { ...cur.history[0], eventId: 'other', type: 'charge.dispute.created' } as Order['history'][0],
            ],
          },
          cur.version,
        );
      }
      return update(order, expected);
    };
    await handleEvent(w.deps, { type: 'source.failed', id: 'evt_f', at: o.createdAt, orderId: o.id });
    const final = await getOrder(w.deps, o.id);
    expect(final.status).toBe('failed');
    expect(final.version).toBe(3);
    expect(final.history.map((h) => h.eventId)).toEqual([`${o.id}_created`, 'other', 'evt_f']);
  });

  it('gives up with a TransientError (SQS retries) when every write conflicts', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.store.update = async () => {
      throw new ConflictError();
    };
    await expect(
      handleEvent(w.deps, { type: 'source.failed', id: 'evt_f', at: o.createdAt, orderId: o.id }),
    ).rejects.toBeInstanceOf(TransientError);
  });

  it('a failing charge stays chargeable for SQS to retry, then completes on redelivery', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const charge = w.gateway.charge.bind(w.gateway);
    w.gateway.charge = async () => {
      throw new TransientError('Stripe 500');
    };
    await expect(handleEvent(w.deps, chargeable(o))).rejects.toBeInstanceOf(TransientError);
    expect((await getOrder(w.deps, o.id)).status).toBe('chargeable');
    w.gateway.charge = charge;
    const r = await handleEvent(w.deps, chargeable(o));
    expect(r.outcome).toBe('duplicate');
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('a declined charge fails the order', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    w.gateway.chargeOutcome = 'failed';
    await handleEvent(w.deps, chargeable(o));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'failed', failureReason: 'charge_failed' });
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.failed']);
  });

  it('pending expiry asks Stripe first: still pending → canceled', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    await handleEvent(w.deps, timer(o, 'pending_expired'));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'pending_expired' });
  });

  it('pending expiry asks Stripe first: chargeable (webhook late) → charged and paid', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    await handleEvent(w.deps, timer(o, 'pending_expired'));
    expect((await getOrder(w.deps, o.id)).status).toBe('paid');
    expect(w.gateway.charges.size).toBe(1);
  });

  it('the deadline re-sends the charge: the source expired at Stripe → canceled, no charge', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'canceled');
    await handleEvent(w.deps, chargeable(o)); // the charge fails: not chargeable any more
    const c = await getOrder(w.deps, o.id);
    expect(c.status).toBe('chargeable');
    await handleEvent(w.deps, timer(c, 'deadline'));
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'canceled', cancelReason: 'deadline_passed' });
    expect(w.gateway.charges.size).toBe(0);
  });

  it('merchant cancel: pending → canceled; twice → same answer; charging → ORDER_NOT_CANCELABLE', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect((await cancelOrder(w.deps, o.id)).status).toBe('canceled');
    expect((await cancelOrder(w.deps, o.id)).status).toBe('canceled');
    expect(w.timers.timers.size).toBe(0);

    const p = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(p), 'chargeable');
    w.gateway.chargeOutcome = 'pending';
    await handleEvent(w.deps, chargeable(p));
    expect((await getOrder(w.deps, p.id)).status).toBe('charging');
    await expect(cancelOrder(w.deps, p.id)).rejects.toMatchObject({ code: 'ORDER_NOT_CANCELABLE' });
    await expect(cancelOrder(w.deps, 'ord_nope')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });

  it('a charge that succeeds after a merchant cancel is refunded', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
    const charge = await w.gateway.charge({
      orderId: o.id,
      sourceId: sourceIdOf(o),
      amount: o.amount,
      currency: o.currency,
      idempotencyKey: `charge-${o.id}`,
    });
    await cancelOrder(w.deps, o.id);
    await handleEvent(w.deps, {
      type: 'charge.succeeded',
      id: 'evt_late',
      at: o.createdAt,
      orderId: o.id,
      chargeId: charge.id,
      chargeSourceId: sourceIdOf(o),
    });
    expect(await getOrder(w.deps, o.id)).toMatchObject({ status: 'refunded', chargeId: charge.id });
    expect([...w.gateway.refunds.values()]).toEqual([expect.objectContaining({ chargeId: charge.id })]);
    expect(w.publisher.events.map((e) => e.type)).toEqual(['order.canceled', 'order.refunded']);
  });

  it('the status for the customer needs the order’s own client secret', async () => {
    const w = makeWorld();
    const o = await newOrder(w);
    expect((await getOrderForCustomer(w.deps, o.id, o.clientSecret)).id).toBe(o.id);
    await expect(getOrderForCustomer(w.deps, o.id, `${o.clientSecret}x`)).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
    });
    await expect(getOrderForCustomer(w.deps, o.id, '')).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });
});

/** What must be the same with and without a crash. Lifecycle events are at-least-once: compared as a set. */
function snapshot(w: World, orderId: string) {
  const o = w.store.orders.get(orderId);
  return {
    status: o?.status,
    chargeId: o?.chargeId,
    failureReason: o?.failureReason,
    cancelReason: o?.cancelReason,
    charges: [...w.gateway.charges.values()].map((c) => c.status),
    refunds: w.gateway.refunds.size,
    timers: [...w.timers.timers.keys()].sort(),
    published: [...new Set(w.publisher.events.map((e) => e.type))].sort(),
  };
}

interface Scenario {
  name: string;
  /** Brings a fresh world to the moment before the event; returns the order id. */
  setup(w: World): Promise<string>;
  /** The delivery that may crash, redelivered until it succeeds. */
  deliver(w: World, orderId: string): Promise<unknown>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'source.chargeable → paid',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, chargeable((await w.store.get(id)) as Order)),
  },
  {
    name: 'source.chargeable → charge declined → failed',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      w.gateway.chargeOutcome = 'failed';
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, chargeable((await w.store.get(id)) as Order)),
  },
  {
    name: 'source.failed → failed',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) =>
      handleEvent(w.deps, { type: 'source.failed', id: 'evt_sf', at: '2026-11-21T08:01:00Z', orderId: id }),
  },
  {
    name: 'source.canceled → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) =>
      handleEvent(w.deps, { type: 'source.canceled', id: 'evt_sc', at: '2026-11-21T08:01:00Z', orderId: id }),
  },
  {
    name: 'timer.pending_expired → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'timer.pending_expired with a chargeable source → paid',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'pending_expired')),
  },
  {
    name: 'timer.deadline with the source expired → canceled',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'canceled');
      await handleEvent(w.deps, chargeable(o));
      return o.id;
    },
    deliver: async (w, id) => handleEvent(w.deps, timer((await w.store.get(id)) as Order, 'deadline')),
  },
  {
    name: 'merchant.cancel → canceled',
    setup: async (w) => (await newOrder(w)).id,
    deliver: (w, id) => cancelOrder(w.deps, id),
  },
  {
    name: 'charge.succeeded after cancel → refunded',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      await w.gateway.charge({
        orderId: o.id,
        sourceId: sourceIdOf(o),
        amount: o.amount,
        currency: o.currency,
        idempotencyKey: `charge-${o.id}`,
      });
      await cancelOrder(w.deps, o.id);
      return o.id;
    },
    deliver: async (w, id) => {
      const chargeId = [...w.gateway.charges.values()][0]?.id ?? '';
      return handleEvent(w.deps, {
        type: 'charge.succeeded',
        id: 'evt_late',
        at: '2026-11-21T08:02:00Z',
        orderId: id,
        chargeId,
      });
    },
  },
  {
    name: 'charge.refunded on a paid order → refunded',
    setup: async (w) => {
      const o = await newOrder(w);
      w.gateway.setSourceStatus(sourceIdOf(o), 'chargeable');
      await handleEvent(w.deps, chargeable(o));
      return o.id;
    },
    deliver: async (w, id) => {
      const o = (await w.store.get(id)) as Order;
      return handleEvent(w.deps, {
        type: 'charge.refunded',
        id: 'evt_rf',
        at: o.updatedAt,
        orderId: id,
        chargeId: o.chargeId ?? '',
      });
    },
  },
];

describe('crash after every I/O step, then redelivery: same outcome as without the crash', () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const clean = makeWorld();
      const id = await s.setup(clean);
      const before = clean.steps.length;
      await s.deliver(clean, id);
      const expected = snapshot(clean, id);
      const steps = clean.steps.length - before;
      expect(steps).toBeGreaterThan(1);

      for (let k = 1; k <= steps; k++) {
        const w = makeWorld();
        const wid = await s.setup(w);
        w.crashAfter = w.steps.length + k;
        await expect(s.deliver(w, wid)).rejects.toBeInstanceOf(Crash);
        w.crashAfter = undefined;
        // SQS redelivers the message (the API client retries the cancel).
        await s.deliver(w, wid);
        expect({ k, ...snapshot(w, wid) }).toEqual({ k, ...expected });
        expect(w.gateway.charges.size).toBeLessThanOrEqual(1);
      }
    });
  }
});
