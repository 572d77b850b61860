import { describe, expect, it } from 'vitest';
import {
  type CancelReason,
  type DomainErrorCode,
  decide,
  type FailureReason,
  ORDER_EVENT_TYPES,
  ORDER_STATUSES,
  type Order,
  type OrderEvent,
  type OrderEventType,
  type OrderStatus,
  type PaymentApi,
  summarize,
  type TimerKind,
} from '../../lambdas/domain/index.js';
import {
  applyAll,
  created,
  event,
  intentObservation,
  ORDER_ID,
  orderIn,
  PAYMENT_INTENT_ID,
  PI_EXPIRES_IN_SECONDS,
  piCreated,
  piEvent,
  T0,
} from '../support/orders.js';

/**
 * What the machine does with one event in one state: the state it moves to (with the failure or
 * cancel reason), a recorded no-op with its reason, or a rejection with its code.
 */
type Cell =
  | Exclude<OrderStatus, 'failed' | 'canceled'>
  | `failed:${FailureReason}`
  | `canceled:${CancelReason}`
  | `ignore:${string}`
  | `reject:${DomainErrorCode}`;
/** One row: every event type (the compiler checks none is missing). */
type Row = Record<OrderEventType, Cell>;

const NC = 'reject:ORDER_NOT_CANCELABLE' as const;
const NF = 'reject:ORDER_NOT_FOUND' as const;
const AGAIN = 'ignore:already_created' as const;
const OTHER = 'ignore:other_api' as const;
const REC = 'ignore:recorded' as const;

const sourceEvents = (c: Cell) => ({ 'source.chargeable': c, 'source.failed': c, 'source.canceled': c });
const intentEvents = (c: Cell) => ({
  'payment_intent.succeeded': c,
  'payment_intent.processing': c,
  'payment_intent.payment_failed': c,
  'payment_intent.canceled': c,
  'payment_intent.requires_action': c,
});
const noOrder = (): Row =>
  Object.fromEntries(ORDER_EVENT_TYPES.map((t) => [t, t === 'order.created' ? 'pending' : NF])) as Row;
/** A terminal state that records everything except what the overrides say. */
const terminal = (state: string, api: PaymentApi, overrides: Partial<Row>): Row => {
  const mine = `ignore:already_${state}` as Cell;
  return {
    'order.created': AGAIN,
    ...sourceEvents(api === 'sources' ? mine : OTHER),
    'charge.succeeded': api === 'sources' ? mine : REC,
    'charge.pending': api === 'sources' ? mine : REC,
    'charge.failed': api === 'sources' ? mine : REC,
    'charge.refunded': mine,
    'charge.dispute.created': REC,
    ...intentEvents(api === 'payment_intents' ? mine : OTHER),
    'timer.pending_expired': mine,
    'timer.deadline': api === 'sources' ? mine : OTHER,
    'timer.recheck': api === 'payment_intents' ? mine : OTHER,
    'merchant.cancel': NC,
    ...overrides,
  };
};

/**
 * Sources orders. Timers observe Stripe before deciding: the pending expiry sees the source
 * canceled, the deadline sees the source no longer chargeable; `timer.recheck` (a PaymentIntents
 * timer) carries a succeeded PaymentIntent and is still the other API's.
 */
const SOURCES: Record<OrderStatus | 'none', Row> = {
  none: noOrder(),
  pending: {
    'order.created': AGAIN,
    'source.chargeable': 'chargeable',
    'source.failed': 'failed:declined',
    'source.canceled': 'canceled:source_canceled',
    'charge.succeeded': 'paid',
    'charge.pending': 'charging',
    'charge.failed': 'failed:charge_failed',
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    ...intentEvents(OTHER),
    'timer.pending_expired': 'canceled:pending_expired',
    'timer.deadline': 'ignore:not_chargeable_yet',
    'timer.recheck': OTHER,
    'merchant.cancel': 'canceled:merchant',
  },
  chargeable: {
    'order.created': AGAIN,
    'source.chargeable': 'ignore:already_chargeable',
    'source.failed': 'ignore:already_chargeable',
    'source.canceled': 'canceled:source_canceled',
    'charge.succeeded': 'paid',
    'charge.pending': 'charging',
    'charge.failed': 'failed:charge_failed',
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    ...intentEvents(OTHER),
    'timer.pending_expired': 'ignore:no_longer_pending',
    'timer.deadline': 'canceled:deadline_passed',
    'timer.recheck': OTHER,
    'merchant.cancel': 'canceled:merchant',
  },
  charging: {
    'order.created': AGAIN,
    ...sourceEvents('ignore:already_charging'),
    'charge.succeeded': 'paid',
    'charge.pending': 'ignore:already_charging',
    'charge.failed': 'failed:charge_failed',
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    ...intentEvents(OTHER),
    'timer.pending_expired': 'ignore:no_longer_pending',
    'timer.deadline': 'canceled:deadline_passed',
    'timer.recheck': OTHER,
    'merchant.cancel': NC,
  },
  paid: terminal('paid', 'sources', { 'charge.refunded': 'refunded' }),
  failed: terminal('failed', 'sources', { 'charge.succeeded': 'refunded' }),
  canceled: terminal('canceled', 'sources', {
    'charge.succeeded': 'refunded',
    'merchant.cancel': 'ignore:already_canceled',
  }),
  refunded: terminal('refunded', 'sources', {}),
};

/**
 * PaymentIntents orders. Timers and the merchant cancel carry what the PaymentIntent is after the
 * cancel attempt (canceled); `timer.deadline` (a Sources timer) carries a succeeded charge and is
 * still the other API's. Charge results are the timeline only: the PaymentIntent's events decide.
 */
const PAYMENT_INTENTS: Record<OrderStatus | 'none', Row> = {
  none: noOrder(),
  pending: {
    'order.created': AGAIN,
    ...sourceEvents(OTHER),
    'charge.succeeded': REC,
    'charge.pending': REC,
    'charge.failed': REC,
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    'payment_intent.succeeded': 'paid',
    'payment_intent.processing': 'charging',
    'payment_intent.payment_failed': 'failed:declined',
    'payment_intent.canceled': 'canceled:payment_intent_canceled',
    'payment_intent.requires_action': REC,
    'timer.pending_expired': 'canceled:pending_expired',
    'timer.deadline': OTHER,
    'timer.recheck': 'ignore:not_processing',
    'merchant.cancel': 'canceled:merchant',
  },
  // Unreachable (see "no PaymentIntents order ever becomes chargeable" below): what the rules give
  // for a hand-built one, so that a PaymentIntents order wrongly stored as chargeable is still safe.
  chargeable: {
    'order.created': AGAIN,
    ...sourceEvents(OTHER),
    'charge.succeeded': REC,
    'charge.pending': REC,
    'charge.failed': REC,
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    ...intentEvents(OTHER),
    'timer.pending_expired': 'ignore:no_longer_pending',
    'timer.deadline': OTHER,
    'timer.recheck': OTHER,
    'merchant.cancel': 'canceled:merchant',
  },
  charging: {
    'order.created': AGAIN,
    ...sourceEvents(OTHER),
    'charge.succeeded': REC,
    'charge.pending': REC,
    'charge.failed': REC,
    'charge.refunded': 'refunded',
    'charge.dispute.created': REC,
    'payment_intent.succeeded': 'paid',
    'payment_intent.processing': 'ignore:already_charging',
    'payment_intent.payment_failed': 'failed:declined',
    'payment_intent.canceled': 'canceled:payment_intent_canceled',
    'payment_intent.requires_action': REC,
    'timer.pending_expired': 'ignore:no_longer_pending',
    'timer.deadline': OTHER,
    'timer.recheck': 'canceled:pending_expired',
    'merchant.cancel': NC,
  },
  paid: terminal('paid', 'payment_intents', { 'charge.refunded': 'refunded' }),
  failed: terminal('failed', 'payment_intents', { 'payment_intent.succeeded': 'refunded' }),
  canceled: terminal('canceled', 'payment_intents', {
    'payment_intent.succeeded': 'refunded',
    'merchant.cancel': 'ignore:already_canceled',
  }),
  refunded: terminal('refunded', 'payment_intents', {}),
};

const TABLES: Record<PaymentApi, Record<OrderStatus | 'none', Row>> = {
  sources: SOURCES,
  payment_intents: PAYMENT_INTENTS,
};
const API_LABEL: Record<PaymentApi, string> = { sources: 'Sources', payment_intents: 'PaymentIntents' };

/** The event of the column, with a fresh id (not a duplicate of the path's events). */
function freshEvent(api: PaymentApi, type: OrderEventType): OrderEvent {
  if (type === 'order.created') return { ...(api === 'sources' ? created() : piCreated()), id: 'evt_created_again' };
  const e = api === 'sources' ? event(type) : piEvent(type);
  let observation: unknown;
  if (type === 'timer.pending_expired')
    observation = api === 'sources' ? { kind: 'source', status: 'canceled' } : intentObservation('canceled');
  if (type === 'timer.deadline')
    observation =
      api === 'sources'
        ? { kind: 'charge', outcome: 'source_not_chargeable' }
        : { kind: 'charge', outcome: 'succeeded', chargeId: 'ch_1' };
  if (type === 'timer.recheck')
    observation = api === 'sources' ? intentObservation('succeeded') : intentObservation('canceled');
  if (type === 'merchant.cancel' && api === 'payment_intents') observation = intentObservation('canceled');
  return { ...e, id: `${e.id}_table`, ...(observation ? { observation } : {}) } as OrderEvent;
}

/** The order a row starts from; a PaymentIntents order is never chargeable, so that one is built by hand. */
function startingOrder(api: PaymentApi, state: OrderStatus | 'none'): Order | undefined {
  if (state === 'none') return undefined;
  if (api === 'payment_intents' && state === 'chargeable') return { ...orderIn('pending', api), status: 'chargeable' };
  return orderIn(state, api);
}

/** Timers that exist while an order is in a state (docs/architecture.md, Timers). */
function timersIn(api: PaymentApi, status: OrderStatus | undefined): TimerKind[] {
  if (status === 'pending') return ['pending_expired'];
  if (api === 'payment_intents') return status === 'charging' ? ['recheck'] : [];
  return status === 'chargeable' || status === 'charging' ? ['deadline'] : [];
}
const firedBy = (type: OrderEventType): TimerKind | undefined =>
  type === 'timer.pending_expired'
    ? 'pending_expired'
    : type === 'timer.deadline'
      ? 'deadline'
      : type === 'timer.recheck'
        ? 'recheck'
        : undefined;

/** The order without its bookkeeping: what a recorded no-op must leave untouched. */
const body = ({ version: _v, updatedAt: _u, history: _h, ...rest }: Order) => rest;

function check(api: PaymentApi, state: OrderStatus | 'none', type: OrderEventType, cell: Cell): void {
  const order = startingOrder(api, state);
  const e = freshEvent(api, type);
  const d = decide(order, e, T0);
  if (cell.startsWith('reject:')) {
    expect(d.kind).toBe('rejected');
    if (d.kind === 'rejected') expect(d.error.code).toBe(cell.slice('reject:'.length));
    // decide() is pure: the order it was given is untouched.
    expect(order).toEqual(startingOrder(api, state));
    return;
  }
  if (d.kind !== 'applied') throw new Error(`expected applied, got ${d.kind}`);
  if (cell.startsWith('ignore:')) {
    if (!order) throw new Error('a recorded no-op needs an order');
    expect(d.ignored).toBe(cell.slice('ignore:'.length));
    expect(d.effects).toEqual([]);
    expect(d.order.version).toBe(order.version + 1);
    expect(body(d.order)).toEqual(body(order));
    expect(d.order.history.at(-1)).toMatchObject({ eventId: e.id, from: order.status, to: order.status });
    expect(d.order.history.at(-1)?.ignored).toBe(d.ignored);
    return;
  }
  const [status, reason] = cell.split(':') as [OrderStatus, string | undefined];
  expect(d.ignored).toBeUndefined();
  expect(d.order.status).toBe(status);
  expect(d.order.version).toBe((order?.version ?? 0) + 1);
  if (status === 'failed') expect(d.order.failureReason).toBe(reason);
  if (status === 'canceled') expect(d.order.cancelReason).toBe(reason);
  const count = (t: string) => d.effects.filter((x) => x.type === t).length;
  // Money: a charge only when a source becomes chargeable; a refund only for money that arrived
  // for an order that will not be paid; the PaymentIntent canceled when its attempt failed.
  expect(count('charge')).toBe(status === 'chargeable' ? 1 : 0);
  const moneyIn = type === 'charge.succeeded' || type === 'payment_intent.succeeded';
  expect(count('refund')).toBe((status === 'refunded' && moneyIn) || reason?.endsWith('_mismatch') ? 1 : 0);
  expect(count('cancelPaymentIntent')).toBe(type === 'payment_intent.payment_failed' ? 1 : 0);
  // The lifecycle event of a new terminal state, once.
  const published = d.effects.flatMap((x) => (x.type === 'publish' ? [x.event] : []));
  expect(published).toEqual(['paid', 'failed', 'canceled', 'refunded'].includes(status) ? [`order.${status}`] : []);
  // Timers follow the state: the new state's are scheduled at its instants; the old state's are
  // deleted, except the one that fired (Scheduler deletes it).
  const before = timersIn(api, order?.status);
  const after = timersIn(api, status);
  const scheduled = d.effects.flatMap((x) => (x.type === 'scheduleTimer' ? [x] : []));
  expect(scheduled.map((x) => x.kind)).toEqual(after.filter((k) => !before.includes(k)));
  const instants: Record<TimerKind, string | undefined> = {
    pending_expired: d.order.pendingExpiresAt,
    deadline: d.order.deadline,
    recheck: d.order.recheckAt,
  };
  for (const x of scheduled) expect(x.at).toBe(instants[x.kind]);
  const deleted = d.effects.flatMap((x) => (x.type === 'deleteTimer' ? [x.kind] : []));
  expect(deleted).toEqual(before.filter((k) => !after.includes(k) && k !== firedBy(type)));
}

const CASES = (Object.keys(TABLES) as PaymentApi[]).flatMap((api) =>
  (Object.entries(TABLES[api]) as [OrderStatus | 'none', Row][]).flatMap(([state, row]) =>
    ORDER_EVENT_TYPES.map((type) => ({ api, state, type, cell: row[type] })),
  ),
);
const PAIRS_PER_API = (ORDER_STATUSES.length + 1) * ORDER_EVENT_TYPES.length;

describe('state machine: every state × event pair, for both APIs', () => {
  it(`covers every state and every event type: ${PAIRS_PER_API} pairs per API`, () => {
    for (const api of Object.keys(TABLES) as PaymentApi[]) {
      const table = TABLES[api];
      expect(Object.keys(table).sort()).toEqual([...ORDER_STATUSES, 'none'].sort());
      for (const row of Object.values(table)) expect(Object.keys(row).sort()).toEqual([...ORDER_EVENT_TYPES].sort());
      const cases = CASES.filter((c) => c.api === api);
      expect(cases.every((c) => typeof c.cell === 'string')).toBe(true);
      expect(new Set(cases.map((c) => `${c.state}×${c.type}`)).size).toBe(PAIRS_PER_API);
    }
    expect(PAIRS_PER_API).toBe(8 * 18);
    expect(CASES).toHaveLength(2 * PAIRS_PER_API);
  });

  for (const api of Object.keys(TABLES) as PaymentApi[]) {
    const cases = CASES.filter((c) => c.api === api);
    describe(`${API_LABEL[api]} orders: ${cases.length} pairs`, () => {
      for (const { state, type, cell } of cases) {
        const label = api === 'payment_intents' && state === 'chargeable' ? 'chargeable (hand-built)' : state;
        it(`${label} × ${type} → ${cell}`, () => check(api, state, type, cell));
      }
    });
  }
});

/** Events of every kind a PaymentIntents order can meet, including the other API's and odd observations. */
function everyIntentOrderEvent(n: number): OrderEvent[] {
  const fresh = (e: OrderEvent): OrderEvent => ({ ...e, id: `${e.id}_${n}` });
  const observed = (type: 'timer.pending_expired' | 'timer.recheck' | 'merchant.cancel'): OrderEvent[] =>
    (['canceled', 'succeeded', 'processing'] as const).flatMap((status) => [
      fresh({ ...piEvent(type), observation: intentObservation(status) } as OrderEvent),
      fresh({ ...piEvent(type), observation: intentObservation(status, { amount: 1 }) } as OrderEvent),
    ]);
  const types = ORDER_EVENT_TYPES.filter((t) => t !== 'order.created');
  return [
    ...types.map((t) => fresh(piEvent(t))),
    fresh(piEvent('payment_intent.succeeded', { amount: 1 })),
    fresh(piEvent('payment_intent.payment_failed', { failureCode: 'payment_intent_payment_attempt_expired' })),
    ...observed('timer.pending_expired'),
    ...observed('timer.recheck'),
    ...observed('merchant.cancel'),
    ...(['succeeded', 'pending', 'failed', 'source_not_chargeable'] as const).map((outcome) =>
      fresh({ ...event('timer.deadline'), observation: { kind: 'charge', outcome, chargeId: 'ch_1' } } as OrderEvent),
    ),
    ...(['pending', 'chargeable', 'consumed', 'canceled', 'failed'] as const).map((status) =>
      fresh({ ...event('timer.pending_expired'), observation: { kind: 'source', status } } as OrderEvent),
    ),
  ];
}

describe('state machine: reachable states of a PaymentIntents order', () => {
  it('no PaymentIntents order ever becomes chargeable; every other state is reachable', () => {
    const key = (o: Order) => `${o.status}|${o.failureReason ?? ''}|${o.cancelReason ?? ''}`;
    const start = orderIn('pending', 'payment_intents');
    const seen = new Map<string, Order>([[key(start), start]]);
    let frontier = [start];
    for (let depth = 1; frontier.length > 0; depth++) {
      const next: Order[] = [];
      for (const o of frontier) {
        for (const e of everyIntentOrderEvent(depth)) {
          const d = decide(o, e, T0);
          if (d.kind === 'applied' && !seen.has(key(d.order))) {
            seen.set(key(d.order), d.order);
            next.push(d.order);
          }
        }
      }
      frontier = next;
    }
    const statuses = new Set([...seen.values()].map((o) => o.status));
    expect([...statuses].sort()).toEqual(ORDER_STATUSES.filter((s) => s !== 'chargeable').sort());
    // Every failure and cancel reason a PaymentIntents order can end with.
    expect([...seen.keys()].filter((k) => k.startsWith('failed') || k.startsWith('canceled')).sort()).toEqual([
      'canceled||merchant',
      'canceled||payment_intent_canceled',
      'canceled||pending_expired',
      'failed|amount_mismatch|',
      'failed|declined|',
      'failed|payment_expired|',
    ]);
  });
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

describe('state machine: PaymentIntents rules that matter', () => {
  const pending = () => orderIn('pending', 'payment_intents');
  const applied = (d: ReturnType<typeof decide>) => {
    if (d.kind !== 'applied') throw new Error(`expected applied, got ${d.kind}`);
    return d;
  };

  it('creation expires the order at createdAt + expiresInSeconds (the setting), not a Sources hour', () => {
    const d = applied(decide(undefined, piCreated(), T0));
    const expiry = new Date(T0.getTime() + PI_EXPIRES_IN_SECONDS * 1000).toISOString();
    expect(d.order).toMatchObject({ status: 'pending', pendingExpiresAt: expiry, version: 1 });
    expect(d.effects).toEqual([
      { type: 'scheduleTimer', orderId: ORDER_ID, kind: 'pending_expired', name: `${ORDER_ID}-pending`, at: expiry },
    ]);
    // Without a setting: one hour, as for a source; a Sources order ignores the setting.
    const { expiresInSeconds: _drop, ...noSetting } = piCreated() as Extract<OrderEvent, { type: 'order.created' }>;
    const hour = new Date(T0.getTime() + 3600_000).toISOString();
    expect(applied(decide(undefined, noSetting, T0)).order.pendingExpiresAt).toBe(hour);
    expect(applied(decide(undefined, created({ expiresInSeconds: 300 }), T0)).order.pendingExpiresAt).toBe(hour);
  });

  it('its summary names the PaymentIntent, not a source', () => {
    const s = summarize(pending());
    expect(s).toMatchObject({ api: 'payment_intents', paymentIntentId: PAYMENT_INTENT_ID });
    expect(s).not.toHaveProperty('sourceId');
  });

  it.each([
    ['amount', { amount: 1098 }, 'amount_mismatch'],
    ['currency', { currency: 'eur' }, 'currency_mismatch'],
    ['livemode', { livemode: true }, 'livemode_mismatch'],
  ] as const)('a success with another %s fails the order and refunds the charge', (_f, patch, reason) => {
    for (const from of ['pending', 'charging'] as const) {
      const d = applied(decide(orderIn(from, 'payment_intents'), piEvent('payment_intent.succeeded', patch), T0));
      expect(d.order).toMatchObject({ status: 'failed', failureReason: reason, chargeId: 'ch_pi_1' });
      expect(d.effects.filter((e) => e.type === 'refund')).toEqual([
        { type: 'refund', orderId: ORDER_ID, chargeId: 'ch_pi_1', idempotencyKey: `refund-${ORDER_ID}` },
      ]);
      expect(d.effects).toContainEqual(expect.objectContaining({ type: 'publish', event: 'order.failed' }));
      // The success's own webhook, redelivered under another id later, does not refund twice.
      const again = applied(decide(d.order, piEvent('payment_intent.succeeded', { ...patch, id: 'evt_again' }), T0));
      expect(again).toMatchObject({ ignored: 'already_failed', effects: [] });
    }
  });

  it('a currency differing only in case is the same money', () => {
    const d = applied(decide(pending(), piEvent('payment_intent.succeeded', { currency: 'USD' }), T0));
    expect(d.order.status).toBe('paid');
  });

  it('a refund without a known charge goes to the PaymentIntent', () => {
    const canceled = orderIn('canceled', 'payment_intents');
    const { chargeId: _c, ...late } = piEvent('payment_intent.succeeded') as Extract<
      OrderEvent,
      { type: 'payment_intent.succeeded' }
    >;
    const d = applied(decide(canceled, late, T0));
    expect(d.order.status).toBe('refunded');
    expect(d.effects.filter((e) => e.type === 'refund')).toEqual([
      { type: 'refund', orderId: ORDER_ID, paymentIntentId: PAYMENT_INTENT_ID, idempotencyKey: `refund-${ORDER_ID}` },
    ]);
  });

  it.each([
    [undefined, 'declined'],
    ['payment_intent_payment_attempt_failed', 'declined'],
    ['payment_intent_payment_attempt_expired', 'payment_expired'],
  ] as const)('payment_failed with code %s → failed %s, and the PaymentIntent is canceled', (code, reason) => {
    const d = applied(
      decide(pending(), piEvent('payment_intent.payment_failed', code ? { failureCode: code } : {}), T0),
    );
    expect(d.order.status).toBe('failed');
    expect(d.order.failureReason).toBe(reason);
    expect(d.order.failureCode).toBe(code);
    expect(d.effects.map((e) => e.type)).toEqual(['deleteTimer', 'cancelPaymentIntent', 'publish']);
    expect(d.effects).toContainEqual({
      type: 'cancelPaymentIntent',
      orderId: ORDER_ID,
      paymentIntentId: PAYMENT_INTENT_ID,
    });
  });

  it('processing: charging, with a re-check 30 minutes after the event instead of the expiry', () => {
    const e = piEvent('payment_intent.processing', { at: '2026-11-21T02:10:00.000Z' });
    const d = applied(decide(pending(), e, new Date('2026-11-21T03:00:00Z')));
    expect(d.order).toMatchObject({ status: 'charging', recheckAt: '2026-11-21T02:40:00.000Z' });
    expect(d.effects).toEqual([
      { type: 'deleteTimer', orderId: ORDER_ID, kind: 'pending_expired', name: `${ORDER_ID}-pending` },
      {
        type: 'scheduleTimer',
        orderId: ORDER_ID,
        kind: 'recheck',
        name: `${ORDER_ID}-recheck`,
        at: '2026-11-21T02:40:00.000Z',
      },
    ]);
  });

  describe.each(['timer.pending_expired', 'merchant.cancel'] as const)(
    '%s decides on the PaymentIntent after the cancel',
    (type) => {
      const reason = type === 'merchant.cancel' ? 'merchant' : 'pending_expired';
      const fire = (o: Order, observation?: ReturnType<typeof intentObservation>) =>
        decide(o, { ...piEvent(type), ...(observation ? { observation } : {}) } as OrderEvent, T0);

      it(`canceled → canceled (${reason}), with no timer left`, () => {
        const d = applied(fire(pending(), intentObservation('canceled')));
        expect(d.order).toMatchObject({ status: 'canceled', cancelReason: reason });
        expect(d.effects.filter((e) => e.type === 'scheduleTimer')).toEqual([]);
        // A fired timer needs no delete (Scheduler deletes it); a merchant cancel deletes the expiry.
        expect(d.effects.filter((e) => e.type === 'deleteTimer').length).toBe(type === 'merchant.cancel' ? 1 : 0);
      });

      it('succeeded (the customer paid first) → paid with its charge, nothing refunded', () => {
        const d = applied(fire(pending(), intentObservation('succeeded')));
        expect(d.order).toMatchObject({ status: 'paid', chargeId: 'ch_pi_1' });
        expect(d.effects.some((e) => e.type === 'refund' || e.type === 'cancelPaymentIntent')).toBe(false);
      });

      it('succeeded with another amount → failed and refunded', () => {
        const d = applied(fire(pending(), intentObservation('succeeded', { amount: 5000 })));
        expect(d.order).toMatchObject({ status: 'failed', failureReason: 'amount_mismatch' });
        expect(d.effects.filter((e) => e.type === 'refund')).toHaveLength(1);
      });

      it('processing (cannot be canceled) → charging, re-checked 30 minutes later', () => {
        const e = { ...piEvent(type), observation: intentObservation('processing') } as OrderEvent;
        const d = applied(decide(pending(), e, T0));
        expect(d.order.status).toBe('charging');
        expect(d.order.recheckAt).toBe(new Date(new Date(e.at).getTime() + 30 * 60_000).toISOString());
        expect(d.effects).toContainEqual(expect.objectContaining({ type: 'scheduleTimer', kind: 'recheck' }));
      });

      it('without an observation it is rejected: never a blind cancel', () => {
        expect(fire(pending())).toMatchObject({ kind: 'rejected', error: { code: 'INVALID_TRANSITION' } });
      });
    },
  );

  it.each([
    ['succeeded', { status: 'paid', chargeId: 'ch_pi_1' }],
    ['canceled', { status: 'canceled', cancelReason: 'pending_expired' }],
  ] as const)('the re-check of a processing payment observing %s', (status, expected) => {
    const d = applied(
      decide(
        orderIn('charging', 'payment_intents'),
        { ...piEvent('timer.recheck'), observation: intentObservation(status) } as OrderEvent,
        T0,
      ),
    );
    expect(d.order).toMatchObject(expected);
    // The recheck timer fired: Scheduler deleted it.
    expect(d.effects.filter((e) => e.type === 'deleteTimer' || e.type === 'scheduleTimer')).toEqual([]);
  });

  it('the re-check still seeing processing records it and waits for the webhook', () => {
    const charging = orderIn('charging', 'payment_intents');
    const d = decide(
      charging,
      { ...piEvent('timer.recheck'), observation: intentObservation('processing') } as OrderEvent,
      T0,
    );
    expect(d).toMatchObject({ kind: 'applied', ignored: 'still_processing', effects: [] });
  });

  it.each([
    'payment_intent.succeeded',
    'payment_intent.processing',
    'payment_intent.payment_failed',
    'payment_intent.canceled',
    'payment_intent.requires_action',
  ] as const)('%s about another PaymentIntent (carrying our order id) is recorded and ignored', (type) => {
    for (const from of ['pending', 'charging', 'canceled'] as const) {
      const d = decide(
        orderIn(from, 'payment_intents'),
        piEvent(type, { id: 'evt_foreign', paymentIntentId: 'pi_not_ours' }),
        T0,
      );
      expect(d).toMatchObject({ kind: 'applied', ignored: 'foreign_payment_intent', effects: [] });
    }
  });

  it('a refund of a charge of another PaymentIntent is not ours', () => {
    const d = decide(
      orderIn('paid', 'payment_intents'),
      piEvent('charge.refunded', { id: 'evt_x', chargePaymentIntentId: 'pi_other' }),
      T0,
    );
    expect(d).toMatchObject({ kind: 'applied', ignored: 'foreign_charge' });
  });

  it('the echo of our own cancel (reason abandoned) is recorded only; a cancel from outside decides', () => {
    const pending = orderIn('pending', 'payment_intents');
    const echo = piEvent('payment_intent.canceled', { id: 'evt_echo', cancellationReason: 'abandoned' });
    expect(decide(pending, echo, T0)).toEqual({ kind: 'skipped', order: pending, reason: 'own_cancel' });
    const outside = piEvent('payment_intent.canceled', { id: 'evt_out', cancellationReason: 'requested_by_customer' });
    const d = decide(pending, outside, T0);
    expect(d).toMatchObject({
      kind: 'applied',
      order: { status: 'canceled', cancelReason: 'payment_intent_canceled' },
    });
  });

  it('events of the other API change nothing on either kind of order', () => {
    const intentOrder = orderIn('pending', 'payment_intents');
    for (const e of [event('source.chargeable'), event('source.failed'), event('source.canceled')]) {
      expect(decide(intentOrder, e, T0)).toMatchObject({ kind: 'applied', ignored: 'other_api', effects: [] });
    }
    const sourceOrder = orderIn('charging');
    const recheck = { ...event('timer.recheck'), observation: intentObservation('succeeded') } as OrderEvent;
    expect(decide(sourceOrder, recheck, T0)).toMatchObject({ kind: 'applied', ignored: 'other_api', effects: [] });
    expect(decide(sourceOrder, piEvent('payment_intent.succeeded'), T0)).toMatchObject({ ignored: 'other_api' });
  });

  it('a success redelivered is a duplicate that replays the effects it wrote', () => {
    const { order } = applyAll([piCreated(), piEvent('payment_intent.succeeded')]);
    if (!order) throw new Error('no order');
    const d = decide(order, piEvent('payment_intent.succeeded'), T0);
    expect(d).toMatchObject({ kind: 'duplicate' });
    if (d.kind === 'duplicate') expect(d.replay.map((e) => e.type)).toEqual(['deleteTimer', 'publish']);
  });
});
