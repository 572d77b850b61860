import { describe, expect, it } from 'vitest';
import {
  decide,
  ORDER_EVENT_TYPES,
  ORDER_STATUSES,
  type OrderEvent,
  type OrderEventType,
  type OrderStatus,
} from '../../lambdas/domain/index.js';
import { created, event, orderIn, T0 } from '../support/orders.js';

type Expected = OrderStatus | 'ignore' | 'reject:ORDER_NOT_CANCELABLE' | 'reject:ORDER_NOT_FOUND';

const COLUMNS: OrderEventType[] = [
  'order.created',
  'source.chargeable',
  'source.failed',
  'source.canceled',
  'charge.succeeded',
  'charge.pending',
  'charge.failed',
  'charge.refunded',
  'charge.dispute.created',
  'timer.pending_expired',
  'timer.deadline',
  'merchant.cancel',
];

const NC = 'reject:ORDER_NOT_CANCELABLE' as const;
const NF = 'reject:ORDER_NOT_FOUND' as const;
const I = 'ignore' as const;

/** Every state × event pair (columns in the order above). Timers observe: source canceled / source not chargeable. */
// biome-ignore format: the table reads best as a grid
const TABLE: Record<OrderStatus | 'none', Expected[]> = {
  none:       ['pending', NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF],
  pending:    [I, 'chargeable', 'failed', 'canceled', 'paid', 'charging', 'failed', 'refunded', I, 'canceled', I, 'canceled'],
  chargeable: [I, I, I, 'canceled', 'paid', 'charging', 'failed', 'refunded', I, I, 'canceled', 'canceled'],
  charging:   [I, I, I, I, 'paid', I, 'failed', 'refunded', I, I, 'canceled', NC],
  paid:       [I, I, I, I, I, I, I, 'refunded', I, I, I, NC],
  failed:     [I, I, I, I, 'refunded', I, I, I, I, I, I, NC],
  canceled:   [I, I, I, I, 'refunded', I, I, I, I, I, I, I],
  refunded:   [I, I, I, I, I, I, I, I, I, I, I, NC],
};

function freshEvent(type: OrderEventType): OrderEvent {
  if (type === 'order.created') return { ...created(), id: 'evt_created_again' };
  const e = event(type);
  const observation =
    type === 'timer.pending_expired'
      ? { kind: 'source', status: 'canceled' }
      : type === 'timer.deadline'
        ? { kind: 'charge', outcome: 'source_not_chargeable' }
        : undefined;
  return { ...e, id: `${e.id}_table`, ...(observation ? { observation } : {}) } as OrderEvent;
}

describe('state machine: every state × event pair', () => {
  it('covers every state and every event type', () => {
    expect(new Set(COLUMNS)).toEqual(new Set(ORDER_EVENT_TYPES));
    expect(Object.keys(TABLE).sort()).toEqual([...ORDER_STATUSES, 'none'].sort());
    for (const row of Object.values(TABLE)) expect(row).toHaveLength(COLUMNS.length);
  });

  for (const [state, row] of Object.entries(TABLE) as [OrderStatus | 'none', Expected[]][]) {
    COLUMNS.forEach((type, i) => {
      const expected = row[i];
      it(`${state} × ${type} → ${expected}`, () => {
        const order = state === 'none' ? undefined : orderIn(state);
        const d = decide(order, freshEvent(type), T0);
        if (expected === undefined) throw new Error('table row too short');
        if (expected.startsWith('reject:')) {
          expect(d.kind).toBe('rejected');
          if (d.kind === 'rejected') expect(d.error.code).toBe(expected.slice('reject:'.length));
          if (order) expect(order.version).toBe(orderIn(state as OrderStatus).version);
        } else if (expected === 'ignore') {
          expect(d.kind).toBe('applied');
          if (d.kind !== 'applied' || !order) throw new Error('expected a recorded no-op');
          expect(d.ignored).toBeTypeOf('string');
          expect(d.order.status).toBe(order.status);
          expect(d.effects).toEqual([]);
          expect(d.order.version).toBe(order.version + 1);
          expect(d.order.history.at(-1)?.ignored).toBe(d.ignored);
        } else {
          expect(d.kind).toBe('applied');
          if (d.kind !== 'applied') return;
          expect(d.ignored).toBeUndefined();
          expect(d.order.status).toBe(expected);
          expect(d.order.version).toBe((order?.version ?? 0) + 1);
          const charges = d.effects.filter((e) => e.type === 'charge');
          expect(charges.length).toBe(state === 'pending' && type === 'source.chargeable' ? 1 : 0);
          const refunds = d.effects.filter((e) => e.type === 'refund');
          expect(refunds.length).toBe(expected === 'refunded' && type === 'charge.succeeded' ? 1 : 0);
        }
      });
    });
  }
});

describe('state machine: rules that matter', () => {
  it('a duplicate is a no-op that replays the effects it wrote', () => {
    const order = orderIn('chargeable');
    const d = decide(order, event('source.chargeable'), T0);
    expect(d.kind).toBe('duplicate');
    if (d.kind !== 'duplicate') return;
    expect(d.order).toBe(order);
    expect(d.replay.map((e) => e.type)).toEqual(['deleteTimer', 'scheduleTimer', 'charge']);
  });

  it('a duplicate of an event superseded by another does not replay', () => {
    const order = orderIn('paid');
    const d = decide(order, event('source.chargeable'), T0);
    expect(d).toMatchObject({ kind: 'duplicate', replay: [] });
  });

  it('a charge result caused by an event extends its outbox chain, so the first event replays the latest effects', () => {
    const chargeable = orderIn('chargeable');
    const d = decide(
      chargeable,
      { ...event('charge.succeeded'), id: 'syn_ch_1_succeeded', causedBy: 'evt_chargeable' },
      T0,
    );
    if (d.kind !== 'applied') throw new Error(d.kind);
    expect(d.order.outbox.chain).toEqual(['evt_chargeable', 'syn_ch_1_succeeded']);
    const again = decide(d.order, event('source.chargeable'), T0);
    expect(again).toMatchObject({ kind: 'duplicate' });
    if (again.kind === 'duplicate') expect(again.replay.map((e) => e.type)).toEqual(['deleteTimer', 'publish']);
  });

  it.each([
    ['amount', { amount: 1098 }, 'amount_mismatch'],
    ['currency', { currency: 'eur' }, 'currency_mismatch'],
    ['livemode', { livemode: true }, 'livemode_mismatch'],
  ])('a chargeable source with another %s fails the order without a charge', (_f, patch, reason) => {
    const d = decide(orderIn('pending'), event('source.chargeable', patch), T0);
    if (d.kind !== 'applied') throw new Error(d.kind);
    expect(d.order.status).toBe('failed');
    expect(d.order.failureReason).toBe(reason);
    expect(d.effects.some((e) => e.type === 'charge')).toBe(false);
    expect(d.effects.map((e) => e.type)).toEqual(['deleteTimer', 'publish']);
  });

  it('currency comparison ignores case (Stripe returns lowercase)', () => {
    const d = decide(orderIn('pending'), event('source.chargeable', { currency: 'USD' }), T0);
    expect(d.kind === 'applied' && d.order.status).toBe('chargeable');
  });

  it('source.chargeable schedules the deadline from the event time, not the processing time', () => {
    const d = decide(
      orderIn('pending'),
      event('source.chargeable', { at: '2026-11-21T09:00:00.000Z' }),
      new Date('2026-11-21T12:00:00Z'),
    );
    if (d.kind !== 'applied') throw new Error(d.kind);
    expect(d.order.chargeableAt).toBe('2026-11-21T09:00:00.000Z');
    expect(d.order.deadline).toBe('2026-11-21T15:00:00.000Z');
    expect(d.effects).toContainEqual(
      expect.objectContaining({ type: 'scheduleTimer', kind: 'deadline', at: '2026-11-21T15:00:00.000Z' }),
    );
  });

  it('a charge succeeding on a canceled order is refunded with the refund idempotency key', () => {
    const d = decide(orderIn('canceled'), event('charge.succeeded', { id: 'evt_late' }), T0);
    if (d.kind !== 'applied') throw new Error(d.kind);
    expect(d.order.status).toBe('refunded');
    expect(d.effects).toContainEqual({
      type: 'refund',
      orderId: d.order.id,
      chargeId: 'ch_1',
      idempotencyKey: `refund-${d.order.id}`,
    });
    expect(d.effects).toContainEqual(expect.objectContaining({ type: 'publish', event: 'order.refunded' }));
  });

  it.each(['source.chargeable', 'source.failed', 'source.canceled'] as const)(
    '%s about another source (carrying our order id) is recorded and ignored',
    (type) => {
      const d = decide(orderIn('pending'), event(type, { id: 'evt_foreign', sourceId: 'src_not_ours' }), T0);
      expect(d).toMatchObject({ kind: 'applied', ignored: 'foreign_source', effects: [] });
      if (d.kind === 'applied') expect(d.order.status).toBe('pending');
    },
  );

  it('a charge of another source is not ours', () => {
    const d = decide(orderIn('pending'), event('charge.succeeded', { id: 'evt_x', chargeSourceId: 'src_other' }), T0);
    expect(d).toMatchObject({ kind: 'applied', ignored: 'foreign_charge' });
  });

  it.each([
    ['pending', 'canceled'],
    ['canceled', 'canceled'],
    ['failed', 'failed'],
    ['chargeable', 'chargeable'],
    ['consumed', 'chargeable'],
  ] as const)('pending expiry observing a %s source → %s', (status, expected) => {
    const d = decide(
      orderIn('pending'),
      { ...event('timer.pending_expired'), observation: { kind: 'source', status } } as OrderEvent,
      T0,
    );
    if (d.kind !== 'applied') throw new Error(d.kind);
    expect(d.order.status).toBe(expected);
    // The fired timer needs no delete: Scheduler deletes it after completion.
    expect(d.effects.some((e) => e.type === 'deleteTimer' && e.kind === 'pending_expired')).toBe(false);
    if (expected === 'chargeable') expect(d.effects.at(-1)?.type).toBe('charge');
  });

  it.each([
    ['succeeded', 'paid'],
    ['pending', 'charging'],
    ['failed', 'failed'],
    ['source_not_chargeable', 'canceled'],
  ] as const)('the deadline on a chargeable order observing %s → %s', (outcome, expected) => {
    const observation =
      outcome === 'source_not_chargeable' || outcome === 'failed'
        ? { kind: 'charge', outcome }
        : { kind: 'charge', outcome, chargeId: 'ch_9' };
    const d = decide(orderIn('chargeable'), { ...event('timer.deadline'), observation } as OrderEvent, T0);
    expect(d.kind === 'applied' && d.order.status).toBe(expected);
  });

  it('a timer without an observation is rejected, never a blind cancel', () => {
    const d = decide(orderIn('pending'), event('timer.pending_expired'), T0);
    expect(d).toMatchObject({ kind: 'rejected', error: { code: 'INVALID_TRANSITION' } });
  });
});
