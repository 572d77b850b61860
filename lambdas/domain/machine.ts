/**
 * The order state machine of DESIGN.md, as one pure function:
 * `decide(order | undefined, event, now)` → the next order and the effects to run, a recorded
 * no-op, a duplicate, or a typed rejection. No I/O, no clock: `now` is an argument.
 *
 * Every (state × event) pair is spelled out in `RULES`; the table test enumerates them all.
 */
import { chargeDeadline, pendingExpiry } from './deadline.js';
import { chargeKey, type Effect, refundKey } from './effects.js';
import { DomainError } from './errors.js';
import type {
  ChargeInfo,
  ChargeObservation,
  LifecycleEventType,
  OrderCreated,
  OrderEvent,
  OrderEventType,
  SourceChargeable,
  SourceObservation,
} from './events.js';
import {
  type CancelReason,
  type FailureReason,
  type HistoryEntry,
  type Order,
  type OrderStatus,
  summarize,
  type TimerKind,
  timerName,
} from './order.js';

/** A rule's verdict before bookkeeping (version, history, effects of timers and publishing). */
export type Outcome =
  | { kind: 'to'; status: OrderStatus; patch?: Partial<Order>; extra?: Effect[] }
  | { kind: 'ignore'; reason: string }
  | { kind: 'reject'; error: DomainError };

export type Decision =
  /** The event was written: `order.version` is one more, `history` has the event. */
  | { kind: 'applied'; order: Order; effects: Effect[]; ignored?: string }
  /** The event id is already recorded: nothing to write; `replay` re-runs the latest effects. */
  | { kind: 'duplicate'; order: Order; replay: Effect[] }
  | { kind: 'rejected'; error: DomainError };

type Rule = (order: Order, event: OrderEvent) => Outcome;
type ExistingEventType = Exclude<OrderEventType, 'order.created'>;

const to = (status: OrderStatus, patch?: Partial<Order>, extra?: Effect[]): Outcome => {
  const o: Outcome = { kind: 'to', status };
  if (patch) o.patch = patch;
  if (extra) o.extra = extra;
  return o;
};
const ignore = (reason: string): Outcome => ({ kind: 'ignore', reason });
const notCancelable = (o: Order): Outcome => ({
  kind: 'reject',
  error: new DomainError(
    'ORDER_NOT_CANCELABLE',
    `Order ${o.id} is ${o.status}; only pending or chargeable orders can be canceled.`,
  ),
});
const fail = (reason: FailureReason): Outcome => to('failed', { failureReason: reason });
const cancel = (reason: CancelReason): Outcome => to('canceled', { cancelReason: reason });

const sameCurrency = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A charge event about another source is not about this order's payment. */
const foreign = (o: Order, e: OrderEvent): boolean => {
  const c = e as Partial<ChargeInfo>;
  return c.chargeSourceId !== undefined && c.chargeSourceId !== o.payment.sourceId;
};
/** Likewise a source event about another source (one carrying our order id that we never created). */
const foreignSource = (o: Order, e: OrderEvent): boolean =>
  e.type.startsWith('source.') && e.sourceId !== undefined && e.sourceId !== o.payment.sourceId;
const chargeIdOf = (e: OrderEvent): Partial<Order> => {
  const c = e as Partial<ChargeInfo>;
  return c.chargeId ? { chargeId: c.chargeId } : {};
};
const withDeadline = (chargeableAt: Date): Partial<Order> => ({
  chargeableAt: chargeableAt.toISOString(),
  deadline: chargeDeadline(chargeableAt).toISOString(),
});

/** `source.chargeable` on a pending order: check the source against the order, then charge. */
const becomeChargeable: Rule = (o, e) => {
  const s = e as SourceChargeable;
  if (s.amount !== o.amount) return fail('amount_mismatch');
  if (!sameCurrency(s.currency, o.currency)) return fail('currency_mismatch');
  if (s.livemode !== o.livemode) return fail('livemode_mismatch');
  return to('chargeable', withDeadline(new Date(s.at)), [chargeEffect(o)]);
};

const chargeEffect = (o: Order): Effect => ({
  type: 'charge',
  orderId: o.id,
  sourceId: o.payment.sourceId,
  amount: o.amount,
  currency: o.currency,
  idempotencyKey: chargeKey(o.id),
});

/** Money moved for an order we will not fulfil: refund it. */
const refundLateCharge: Rule = (o, e) => {
  if (foreign(o, e)) return ignore('foreign_charge');
  const { chargeId } = e as ChargeInfo;
  return to('refunded', { chargeId }, [{ type: 'refund', orderId: o.id, chargeId, idempotencyKey: refundKey(o.id) }]);
};

const succeed: Rule = (o, e) => (foreign(o, e) ? ignore('foreign_charge') : to('paid', chargeIdOf(e)));
const chargeFailed: Rule = (o, e) =>
  foreign(o, e) ? ignore('foreign_charge') : to('failed', { ...chargeIdOf(e), failureReason: 'charge_failed' });
const refunded: Rule = (o, e) => (foreign(o, e) ? ignore('foreign_charge') : to('refunded', chargeIdOf(e)));

/**
 * Pending expiry reconciles with the source first. A source that became chargeable (or was
 * consumed) while its webhook is late is charged now; its deadline is computed from the
 * order's creation, a lower bound of the real `chargeableAt`, so it is never later than Stripe's.
 */
const pendingExpired: Rule = (o, e) => {
  const obs = (e as { observation?: SourceObservation }).observation;
  if (obs?.kind !== 'source') return missingObservation(e);
  switch (obs.status) {
    case 'pending':
    case 'canceled':
      return cancel('pending_expired');
    case 'failed':
      return fail('declined');
    case 'chargeable':
    case 'consumed':
      return to('chargeable', withDeadline(new Date(o.createdAt)), [chargeEffect(o)]);
  }
};

/** The deadline re-sent the charge with its idempotency key (or read the known charge). */
const deadlineReached =
  (pendingMeans: 'charging' | 'ignore'): Rule =>
  (_o, e) => {
    const obs = (e as { observation?: ChargeObservation }).observation;
    if (obs?.kind !== 'charge') return missingObservation(e);
    switch (obs.outcome) {
      case 'succeeded':
        return to('paid', { chargeId: obs.chargeId });
      case 'pending':
        return pendingMeans === 'charging' ? to('charging', { chargeId: obs.chargeId }) : ignore('charge_pending');
      case 'failed':
        return to('failed', { ...(obs.chargeId ? { chargeId: obs.chargeId } : {}), failureReason: 'charge_failed' });
      case 'source_not_chargeable':
        return cancel('deadline_passed');
    }
  };

const missingObservation = (e: OrderEvent): Outcome => ({
  kind: 'reject',
  error: new DomainError('INVALID_TRANSITION', `${e.type} needs an observation of Stripe to decide.`),
});

const RULES: Record<OrderStatus, Record<ExistingEventType, Rule>> = {
  pending: {
    'source.chargeable': becomeChargeable,
    'source.failed': () => fail('declined'),
    'source.canceled': () => cancel('source_canceled'),
    'charge.succeeded': succeed,
    // A charge accepted before its source.chargeable was processed: wait for its result,
    // with a deadline timer from the creation time (a lower bound) to reconcile.
    'charge.pending': (o, e) =>
      foreign(o, e)
        ? ignore('foreign_charge')
        : to('charging', { ...chargeIdOf(e), ...withDeadline(new Date(o.createdAt)) }),
    'charge.failed': chargeFailed,
    'charge.refunded': refunded,
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': pendingExpired,
    'timer.deadline': () => ignore('not_chargeable_yet'),
    'merchant.cancel': () => cancel('merchant'),
  },
  chargeable: {
    'source.chargeable': () => ignore('already_chargeable'),
    'source.failed': () => ignore('already_chargeable'),
    // Stripe cancels a chargeable source that was not charged in time; a consumed source is
    // never canceled, so no charge of ours succeeded.
    'source.canceled': () => cancel('source_canceled'),
    'charge.succeeded': succeed,
    'charge.pending': (o, e) => (foreign(o, e) ? ignore('foreign_charge') : to('charging', chargeIdOf(e))),
    'charge.failed': chargeFailed,
    'charge.refunded': refunded,
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('no_longer_pending'),
    'timer.deadline': deadlineReached('charging'),
    // Allowed: a charge in flight that still succeeds is refunded automatically.
    'merchant.cancel': () => cancel('merchant'),
  },
  charging: {
    'source.chargeable': () => ignore('already_charging'),
    'source.failed': () => ignore('already_charging'),
    'source.canceled': () => ignore('already_charging'),
    'charge.succeeded': succeed,
    'charge.pending': () => ignore('already_charging'),
    'charge.failed': chargeFailed,
    'charge.refunded': refunded,
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('no_longer_pending'),
    'timer.deadline': deadlineReached('ignore'),
    'merchant.cancel': notCancelable,
  },
  paid: {
    'source.chargeable': () => ignore('already_paid'),
    'source.failed': () => ignore('already_paid'),
    'source.canceled': () => ignore('already_paid'),
    'charge.succeeded': () => ignore('already_paid'),
    'charge.pending': () => ignore('already_paid'),
    'charge.failed': () => ignore('already_paid'),
    // "paid wins over anything but a refund" (a refund made in the Stripe Dashboard).
    'charge.refunded': refunded,
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('already_paid'),
    'timer.deadline': () => ignore('already_paid'),
    'merchant.cancel': notCancelable,
  },
  failed: {
    'source.chargeable': () => ignore('already_failed'),
    'source.failed': () => ignore('already_failed'),
    'source.canceled': () => ignore('already_failed'),
    'charge.succeeded': refundLateCharge,
    'charge.pending': () => ignore('already_failed'),
    'charge.failed': () => ignore('already_failed'),
    'charge.refunded': () => ignore('already_failed'),
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('already_failed'),
    'timer.deadline': () => ignore('already_failed'),
    'merchant.cancel': notCancelable,
  },
  canceled: {
    'source.chargeable': () => ignore('already_canceled'),
    'source.failed': () => ignore('already_canceled'),
    'source.canceled': () => ignore('already_canceled'),
    'charge.succeeded': refundLateCharge,
    'charge.pending': () => ignore('already_canceled'),
    'charge.failed': () => ignore('already_canceled'),
    'charge.refunded': () => ignore('already_canceled'),
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('already_canceled'),
    'timer.deadline': () => ignore('already_canceled'),
    'merchant.cancel': () => ignore('already_canceled'),
  },
  refunded: {
    'source.chargeable': () => ignore('already_refunded'),
    'source.failed': () => ignore('already_refunded'),
    'source.canceled': () => ignore('already_refunded'),
    'charge.succeeded': () => ignore('already_refunded'),
    'charge.pending': () => ignore('already_refunded'),
    'charge.failed': () => ignore('already_refunded'),
    'charge.refunded': () => ignore('already_refunded'),
    'charge.dispute.created': () => ignore('recorded'),
    'timer.pending_expired': () => ignore('already_refunded'),
    'timer.deadline': () => ignore('already_refunded'),
    'merchant.cancel': notCancelable,
  },
};

/** The outcome a rule gives, without bookkeeping; exported for the table test. */
export function rule(status: OrderStatus, order: Order, event: OrderEvent): Outcome {
  if (event.type === 'order.created') return ignore('already_created');
  if (foreignSource(order, event)) return ignore('foreign_source');
  return RULES[status][event.type](order, event);
}

/** Timers that exist while an order is in a state. */
const timersOf = (s: OrderStatus): TimerKind[] =>
  s === 'pending' ? ['pending_expired'] : s === 'chargeable' || s === 'charging' ? ['deadline'] : [];

const LIFECYCLE: Partial<Record<OrderStatus, LifecycleEventType>> = {
  paid: 'order.paid',
  failed: 'order.failed',
  canceled: 'order.canceled',
  refunded: 'order.refunded',
};

const entry = (
  event: OrderEvent,
  from: OrderStatus | null,
  to: OrderStatus,
  now: Date,
  ignored?: string,
): HistoryEntry => {
  const h: HistoryEntry = {
    type: event.type,
    eventId: event.id,
    at: event.at,
    recordedAt: now.toISOString(),
    from,
    to,
  };
  if (ignored !== undefined) h.ignored = ignored;
  return h;
};

function create(e: OrderCreated, now: Date): Decision {
  const createdAt = new Date(e.at);
  const order: Order = {
    id: e.orderId,
    status: 'pending',
    amount: e.amount,
    currency: e.currency,
    paymentMethod: e.paymentMethod,
    livemode: e.livemode,
    clientSecret: e.clientSecret,
    payment: e.payment,
    metadata: e.metadata,
    pendingExpiresAt: pendingExpiry(createdAt).toISOString(),
    version: 1,
    history: [entry(e, null, 'pending', now)],
    outbox: { chain: [e.id], effects: [] },
    createdAt: createdAt.toISOString(),
    updatedAt: now.toISOString(),
  };
  if (e.returnUrl !== undefined) order.returnUrl = e.returnUrl;
  if (e.statementDescriptor !== undefined) order.statementDescriptor = e.statementDescriptor;
  const effects: Effect[] = [
    {
      type: 'scheduleTimer',
      orderId: order.id,
      kind: 'pending_expired',
      name: timerName(order.id, 'pending_expired'),
      at: order.pendingExpiresAt,
    },
  ];
  order.outbox.effects = effects;
  return { kind: 'applied', order, effects };
}

export function decide(order: Order | undefined, event: OrderEvent, now: Date): Decision {
  if (order === undefined) {
    if (event.type === 'order.created') return create(event, now);
    return {
      kind: 'rejected',
      error: new DomainError('ORDER_NOT_FOUND', `No order for ${event.type} ${event.id}.`),
    };
  }
  if (order.history.some((h) => h.eventId === event.id)) {
    return { kind: 'duplicate', order, replay: order.outbox.chain.includes(event.id) ? order.outbox.effects : [] };
  }

  const outcome = rule(order.status, order, event);
  if (outcome.kind === 'reject') return { kind: 'rejected', error: outcome.error };

  const base = { version: order.version + 1, updatedAt: now.toISOString() };
  if (outcome.kind === 'ignore') {
    // Recorded for the timeline; the outbox stays, so a redelivery of the event that wrote
    // it still re-runs its effects.
    const next: Order = {
      ...order,
      ...base,
      history: [...order.history, entry(event, order.status, order.status, now, outcome.reason)],
    };
    return { kind: 'applied', order: next, effects: [], ignored: outcome.reason };
  }

  const next: Order = {
    ...order,
    ...outcome.patch,
    ...base,
    status: outcome.status,
    history: [...order.history, entry(event, order.status, outcome.status, now)],
  };
  const effects = effectsOf(order, next, event, outcome.extra ?? []);
  const chain =
    event.causedBy !== undefined && order.outbox.chain.includes(event.causedBy)
      ? [...order.outbox.chain, event.id]
      : [event.id];
  next.outbox = { chain, effects };
  return { kind: 'applied', order: next, effects };
}

/**
 * Timer bookkeeping, then money, then the lifecycle event. A charge always comes last: its
 * result is written as the next event only after every other effect of this one has run.
 */
function effectsOf(prev: Order, next: Order, event: OrderEvent, extra: Effect[]): Effect[] {
  const effects: Effect[] = [];
  const before = timersOf(prev.status);
  const after = timersOf(next.status);
  const fired =
    event.type === 'timer.pending_expired' ? 'pending_expired' : event.type === 'timer.deadline' ? 'deadline' : null;
  for (const kind of before) {
    if (!after.includes(kind) && kind !== fired) {
      effects.push({ type: 'deleteTimer', orderId: next.id, kind, name: timerName(next.id, kind) });
    }
  }
  for (const kind of after) {
    if (!before.includes(kind)) {
      const at = kind === 'pending_expired' ? next.pendingExpiresAt : next.deadline;
      if (at === undefined) throw new Error(`invariant: ${next.status} order ${next.id} has no ${kind} instant`);
      effects.push({ type: 'scheduleTimer', orderId: next.id, kind, name: timerName(next.id, kind), at });
    }
  }
  effects.push(...extra.filter((x) => x.type === 'refund'));
  const lifecycle = LIFECYCLE[next.status];
  if (lifecycle !== undefined && lifecycle !== LIFECYCLE[prev.status]) {
    effects.push({ type: 'publish', event: lifecycle, order: summarize(next) });
  }
  effects.push(...extra.filter((x) => x.type !== 'refund'));
  return effects;
}
