/**
 * The order state machine (docs/architecture.md, "State machine"), as one pure function:
 * `decide(order | undefined, event, now)` → the next order and the effects to run, a recorded
 * no-op, a duplicate, or a typed rejection. No I/O, no clock: `now` is an argument.
 *
 * Both Stripe APIs run through it. An order keeps the API it was created with
 * (`order.payment.api`); events of the other API are recorded and ignored. Every
 * (state × event) pair is spelled out in `RULES`, each rule typed by its own event, so a new
 * event type is one row per state and the compiler lists the states that lack it. The table
 * test enumerates every pair.
 *
 * Longer than the project's other modules on purpose: the table spells out all 7 × 17 pairs in
 * one place, which is what makes the machine reviewable; splitting it would scatter the rows of
 * one state across files.
 */
import { chargeDeadline, paymentExpiry, pendingExpiry, recheckAt } from './deadline.js';
import { chargeKey, type Effect, refundKey } from './effects.js';
import { DomainError } from './errors.js';
import {
  apiOfEventType,
  type ChargeInfo,
  type IntentObservation,
  type LifecycleEventType,
  type OrderCreated,
  type OrderEvent,
  type OrderEventOf,
  type OrderEventType,
  timerKindOf,
} from './events.js';
import {
  type CancelReason,
  type FailureReason,
  type HistoryEntry,
  type IntentPayment,
  type Order,
  type OrderStatus,
  type PaymentApi,
  summarize,
  type TimerKind,
  timerName,
} from './order.js';

/** A rule's verdict before bookkeeping (version, history, effects of timers and publishing). */
export type Outcome =
  | { kind: 'to'; status: OrderStatus; patch?: Partial<Order>; extra?: Effect[] }
  | { kind: 'ignore'; reason: string }
  /** Not even recorded: an echo of what this order's own decision already wrote. */
  | { kind: 'skip'; reason: string }
  | { kind: 'reject'; error: DomainError };

export type Decision =
  /** The event was written: `order.version` is one more, `history` has the event. */
  | { kind: 'applied'; order: Order; effects: Effect[]; ignored?: string }
  /** The event id is already recorded: nothing to write; `replay` re-runs the latest effects. */
  | { kind: 'duplicate'; order: Order; replay: Effect[] }
  /** Nothing to write and nothing to run: the event only echoes what the order already says. */
  | { kind: 'skipped'; order: Order; reason: string }
  | { kind: 'rejected'; error: DomainError };

type ExistingEventType = Exclude<OrderEventType, 'order.created'>;
/** A rule sees the event of its own type. */
type Rule<T extends ExistingEventType> = (order: Order, event: OrderEventOf<T>) => Outcome;
type RuleSet = { [T in ExistingEventType]: Rule<T> };

const to = (status: OrderStatus, patch?: Partial<Order>, extra?: Effect[]): Outcome => {
  const o: Outcome = { kind: 'to', status };
  if (patch) o.patch = patch;
  if (extra) o.extra = extra;
  return o;
};
const ignore = (reason: string): Outcome => ({ kind: 'ignore', reason });
const ignored = (reason: string) => (): Outcome => ignore(reason);
const notCancelable = (o: Order): Outcome => ({
  kind: 'reject',
  error: new DomainError(
    'ORDER_NOT_CANCELABLE',
    `Order ${o.id} is ${o.status}; only pending or chargeable orders can be canceled.`,
  ),
});
const fail = (reason: FailureReason, patch: Partial<Order> = {}, extra?: Effect[]): Outcome =>
  to('failed', { ...patch, failureReason: reason }, extra);
const cancel = (reason: CancelReason): Outcome => to('canceled', { cancelReason: reason });

const sameCurrency = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * A charge event about another source or PaymentIntent is not about this order's payment; nor is
 * a charge of the other API (a PaymentIntent's charge naming a Sources order), nor, on a
 * PaymentIntents order, a charge that names no PaymentIntent at all (a source's or a card's).
 */
const foreign = (o: Order, c: ChargeInfo): boolean =>
  o.payment.api === 'sources'
    ? c.chargePaymentIntentId !== undefined ||
      (c.chargeSourceId !== undefined && c.chargeSourceId !== o.payment.sourceId)
    : c.chargePaymentIntentId !== o.payment.paymentIntentId;
/** Likewise a source or PaymentIntent event about an object carrying our order id that we never created. */
const foreignObject = (o: Order, e: OrderEvent): boolean =>
  (e.sourceId !== undefined && e.type.startsWith('source.') && o.payment.api === 'sources'
    ? e.sourceId !== o.payment.sourceId
    : false) ||
  (e.paymentIntentId !== undefined && e.type.startsWith('payment_intent.') && o.payment.api === 'payment_intents'
    ? e.paymentIntentId !== o.payment.paymentIntentId
    : false);
const chargeIdOf = (c: ChargeInfo): Partial<Order> => (c.chargeId ? { chargeId: c.chargeId } : {});
const withDeadline = (chargeableAt: Date): Partial<Order> => ({
  chargeableAt: chargeableAt.toISOString(),
  deadline: chargeDeadline(chargeableAt).toISOString(),
});
const intentOf = (o: Order): IntentPayment | undefined => (o.payment.api === 'payment_intents' ? o.payment : undefined);

/** The money's amount, currency and livemode against the order's: the first difference, if any. */
const mismatch = (o: Order, m: { amount: number; currency: string; livemode: boolean }): FailureReason | undefined =>
  m.amount !== o.amount
    ? 'amount_mismatch'
    : !sameCurrency(m.currency, o.currency)
      ? 'currency_mismatch'
      : m.livemode !== o.livemode
        ? 'livemode_mismatch'
        : undefined;

const refundEffect = (o: Order, chargeId: string | undefined): Effect => {
  const pi = intentOf(o);
  return {
    type: 'refund',
    orderId: o.id,
    ...(chargeId ? { chargeId } : {}),
    ...(!chargeId && pi ? { paymentIntentId: pi.paymentIntentId } : {}),
    idempotencyKey: refundKey(o.id),
  };
};

// ------------------------------------------------------------------------------------------ Sources

/** `source.chargeable` on a pending order: check the source against the order, then charge. */
const becomeChargeable: Rule<'source.chargeable'> = (o, s) => {
  const wrong = mismatch(o, s);
  if (wrong) return fail(wrong);
  return to('chargeable', withDeadline(new Date(s.at)), [chargeEffect(o)]);
};

const chargeEffect = (o: Order): Effect => ({
  type: 'charge',
  orderId: o.id,
  sourceId: o.payment.api === 'sources' ? o.payment.sourceId : '',
  amount: o.amount,
  currency: o.currency,
  idempotencyKey: chargeKey(o.id),
});

/** Money moved for an order we will not fulfil: refund it. */
const refundLateCharge: Rule<'charge.succeeded'> = (o, e) =>
  foreign(o, e) ? ignore('foreign_charge') : to('refunded', { chargeId: e.chargeId }, [refundEffect(o, e.chargeId)]);

const succeed: Rule<'charge.succeeded'> = (o, e) =>
  foreign(o, e) ? ignore('foreign_charge') : to('paid', chargeIdOf(e));
const chargeFailed: Rule<'charge.failed'> = (o, e) =>
  foreign(o, e)
    ? ignore('foreign_charge')
    : fail('charge_failed', { ...chargeIdOf(e), ...(e.failureCode ? { failureCode: e.failureCode } : {}) });
const refunded: Rule<'charge.refunded'> = (o, e) =>
  foreign(o, e) ? ignore('foreign_charge') : to('refunded', chargeIdOf(e));

/**
 * Pending expiry reconciles with Stripe first. Sources: a source that became chargeable (or was
 * consumed) while its webhook is late is charged now; its deadline is computed from the order's
 * creation, a lower bound of the real `chargeableAt`, so it is never later than Stripe's.
 * PaymentIntents: the PaymentIntent was canceled unless the customer paid first.
 */
const pendingExpired: Rule<'timer.pending_expired'> = (o, e) => {
  const obs = e.observation;
  if (obs?.kind === 'payment_intent' && o.payment.api === 'payment_intents')
    return afterCancelAttempt(o, obs, e.at, 'pending_expired');
  if (obs?.kind !== 'source' || o.payment.api !== 'sources') return missingObservation(e);
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
  (pendingMeans: 'charging' | 'ignore'): Rule<'timer.deadline'> =>
  (_o, e) => {
    const obs = e.observation;
    if (obs?.kind !== 'charge') return missingObservation(e);
    switch (obs.outcome) {
      case 'succeeded':
        return to('paid', { chargeId: obs.chargeId });
      case 'pending':
        return pendingMeans === 'charging' ? to('charging', { chargeId: obs.chargeId }) : ignore('charge_pending');
      case 'failed':
        return fail('charge_failed', {
          ...(obs.chargeId ? { chargeId: obs.chargeId } : {}),
          ...(obs.failureCode ? { failureCode: obs.failureCode } : {}),
        });
      case 'source_not_chargeable':
        return cancel('deadline_passed');
    }
  };

const missingObservation = (e: OrderEvent): Outcome => ({
  kind: 'reject',
  error: new DomainError('INVALID_TRANSITION', `${e.type} needs an observation of Stripe to decide.`),
});

// ----------------------------------------------------------------------------------- PaymentIntents

/** Stripe captured: paid, unless the money differs from the order, which is refunded. */
const paidIfMatching = (
  o: Order,
  m: { amount: number; currency: string; livemode: boolean; chargeId?: string | undefined },
): Outcome => {
  const wrong = mismatch(o, m);
  const charge = m.chargeId ? { chargeId: m.chargeId } : {};
  if (wrong) return fail(wrong, charge, [refundEffect(o, m.chargeId)]);
  return to('paid', charge);
};

const intentSucceeded: Rule<'payment_intent.succeeded'> = (o, e) => paidIfMatching(o, e);

/** A success that lands after the order ended unpaid: the money goes back. */
const refundLateIntent: Rule<'payment_intent.succeeded'> = (o, e) =>
  to('refunded', e.chargeId ? { chargeId: e.chargeId } : {}, [refundEffect(o, e.chargeId)]);

const intentProcessing: Rule<'payment_intent.processing'> = (_o, e) =>
  to('charging', { recheckAt: recheckAt(new Date(e.at)).toISOString() });

/** The attempt failed or expired: the order fails, and its PaymentIntent is canceled so nobody pays later. */
const intentFailed: Rule<'payment_intent.payment_failed'> = (o, e) =>
  fail(
    e.failureCode === 'payment_intent_payment_attempt_expired' ? 'payment_expired' : 'declined',
    e.failureCode ? { failureCode: e.failureCode } : {},
    [{ type: 'cancelPaymentIntent', orderId: o.id, paymentIntentId: e.paymentIntentId }],
  );

/**
 * After the expiry timer, a re-check or a merchant cancel tried to cancel the PaymentIntent. A
 * cancel that Stripe refused because the PaymentIntent had just succeeded ends `paid`.
 */
const afterCancelAttempt = (o: Order, obs: IntentObservation, at: string, reason: CancelReason): Outcome => {
  switch (obs.status) {
    case 'succeeded':
      return paidIfMatching(o, obs);
    case 'processing':
      return o.status === 'charging'
        ? ignore('still_processing')
        : to('charging', { recheckAt: recheckAt(new Date(at)).toISOString() });
    case 'canceled':
      return cancel(reason);
  }
};

const recheck: Rule<'timer.recheck'> = (o, e) =>
  e.observation === undefined ? missingObservation(e) : afterCancelAttempt(o, e.observation, e.at, 'pending_expired');

/** Sources: nothing to ask Stripe. PaymentIntents: the PaymentIntent is canceled first. */
const merchantCancel: Rule<'merchant.cancel'> = (o, e) => {
  if (o.payment.api === 'sources') return cancel('merchant');
  return e.observation === undefined ? missingObservation(e) : afterCancelAttempt(o, e.observation, e.at, 'merchant');
};

/**
 * `abandoned` is the reason this system cancels with (StripeGateway.cancelPaymentIntent: the
 * expiry, a merchant cancel, a re-check, a failed payment), so that webhook echoes a cancel whose
 * own event decides, with its own reason; a merchant cancel runs in the API function, beside the
 * worker, and its echo can arrive first. It is not even written to the history: the cancel that
 * caused it is there, and every order nobody pays gets one (a write saved per abandoned order).
 * Any other reason is a cancel from outside (Dashboard, API).
 */
const canceledOutside: Rule<'payment_intent.canceled'> = (_o, e) =>
  e.cancellationReason === 'abandoned' ? { kind: 'skip', reason: 'own_cancel' } : cancel('payment_intent_canceled');

const RULES: Record<OrderStatus, RuleSet> = {
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
    'charge.dispute.created': ignored('recorded'),
    'payment_intent.succeeded': intentSucceeded,
    'payment_intent.processing': intentProcessing,
    'payment_intent.payment_failed': intentFailed,
    'payment_intent.canceled': canceledOutside,
    'payment_intent.requires_action': ignored('recorded'),
    'timer.pending_expired': pendingExpired,
    'timer.deadline': ignored('not_chargeable_yet'),
    'timer.recheck': ignored('not_processing'),
    'merchant.cancel': merchantCancel,
  },
  chargeable: {
    'source.chargeable': ignored('already_chargeable'),
    'source.failed': ignored('already_chargeable'),
    // Stripe cancels a chargeable source that was not charged in time; a consumed source is
    // never canceled, so no charge of ours succeeded.
    'source.canceled': () => cancel('source_canceled'),
    'charge.succeeded': succeed,
    'charge.pending': (o, e) => (foreign(o, e) ? ignore('foreign_charge') : to('charging', chargeIdOf(e))),
    'charge.failed': chargeFailed,
    'charge.refunded': refunded,
    'charge.dispute.created': ignored('recorded'),
    // Only Sources orders are ever chargeable; PaymentIntent events never reach one.
    'payment_intent.succeeded': ignored('other_api'),
    'payment_intent.processing': ignored('other_api'),
    'payment_intent.payment_failed': ignored('other_api'),
    'payment_intent.canceled': ignored('other_api'),
    'payment_intent.requires_action': ignored('other_api'),
    'timer.pending_expired': ignored('no_longer_pending'),
    'timer.deadline': deadlineReached('charging'),
    'timer.recheck': ignored('other_api'),
    // Allowed: a charge in flight that still succeeds is refunded automatically.
    'merchant.cancel': () => cancel('merchant'),
  },
  charging: {
    'source.chargeable': ignored('already_charging'),
    'source.failed': ignored('already_charging'),
    'source.canceled': ignored('already_charging'),
    'charge.succeeded': succeed,
    'charge.pending': ignored('already_charging'),
    'charge.failed': chargeFailed,
    'charge.refunded': refunded,
    'charge.dispute.created': ignored('recorded'),
    'payment_intent.succeeded': intentSucceeded,
    'payment_intent.processing': ignored('already_charging'),
    'payment_intent.payment_failed': intentFailed,
    'payment_intent.canceled': canceledOutside,
    'payment_intent.requires_action': ignored('recorded'),
    'timer.pending_expired': ignored('no_longer_pending'),
    'timer.deadline': deadlineReached('ignore'),
    'timer.recheck': recheck,
    'merchant.cancel': notCancelable,
  },
  paid: {
    'source.chargeable': ignored('already_paid'),
    'source.failed': ignored('already_paid'),
    'source.canceled': ignored('already_paid'),
    'charge.succeeded': ignored('already_paid'),
    'charge.pending': ignored('already_paid'),
    'charge.failed': ignored('already_paid'),
    // "paid wins over anything but a refund" (a refund made in the Stripe Dashboard).
    'charge.refunded': refunded,
    'charge.dispute.created': ignored('recorded'),
    'payment_intent.succeeded': ignored('already_paid'),
    'payment_intent.processing': ignored('already_paid'),
    'payment_intent.payment_failed': ignored('already_paid'),
    'payment_intent.canceled': ignored('already_paid'),
    'payment_intent.requires_action': ignored('already_paid'),
    'timer.pending_expired': ignored('already_paid'),
    'timer.deadline': ignored('already_paid'),
    'timer.recheck': ignored('already_paid'),
    'merchant.cancel': notCancelable,
  },
  failed: {
    'source.chargeable': ignored('already_failed'),
    'source.failed': ignored('already_failed'),
    'source.canceled': ignored('already_failed'),
    'charge.succeeded': refundLateCharge,
    'charge.pending': ignored('already_failed'),
    'charge.failed': ignored('already_failed'),
    'charge.refunded': ignored('already_failed'),
    'charge.dispute.created': ignored('recorded'),
    // A mismatched success already failed the order and refunded; a success after a decline is refunded.
    'payment_intent.succeeded': (o, e) =>
      o.failureReason?.endsWith('_mismatch') ? ignore('already_failed') : refundLateIntent(o, e),
    'payment_intent.processing': ignored('already_failed'),
    'payment_intent.payment_failed': ignored('already_failed'),
    'payment_intent.canceled': ignored('already_failed'),
    'payment_intent.requires_action': ignored('already_failed'),
    'timer.pending_expired': ignored('already_failed'),
    'timer.deadline': ignored('already_failed'),
    'timer.recheck': ignored('already_failed'),
    'merchant.cancel': notCancelable,
  },
  canceled: {
    'source.chargeable': ignored('already_canceled'),
    'source.failed': ignored('already_canceled'),
    'source.canceled': ignored('already_canceled'),
    'charge.succeeded': refundLateCharge,
    'charge.pending': ignored('already_canceled'),
    'charge.failed': ignored('already_canceled'),
    'charge.refunded': ignored('already_canceled'),
    'charge.dispute.created': ignored('recorded'),
    'payment_intent.succeeded': refundLateIntent,
    'payment_intent.processing': ignored('already_canceled'),
    'payment_intent.payment_failed': ignored('already_canceled'),
    'payment_intent.canceled': ignored('already_canceled'),
    'payment_intent.requires_action': ignored('already_canceled'),
    'timer.pending_expired': ignored('already_canceled'),
    'timer.deadline': ignored('already_canceled'),
    'timer.recheck': ignored('already_canceled'),
    'merchant.cancel': ignored('already_canceled'),
  },
  refunded: {
    'source.chargeable': ignored('already_refunded'),
    'source.failed': ignored('already_refunded'),
    'source.canceled': ignored('already_refunded'),
    'charge.succeeded': ignored('already_refunded'),
    'charge.pending': ignored('already_refunded'),
    'charge.failed': ignored('already_refunded'),
    'charge.refunded': ignored('already_refunded'),
    'charge.dispute.created': ignored('recorded'),
    'payment_intent.succeeded': ignored('already_refunded'),
    'payment_intent.processing': ignored('already_refunded'),
    'payment_intent.payment_failed': ignored('already_refunded'),
    'payment_intent.canceled': ignored('already_refunded'),
    'payment_intent.requires_action': ignored('already_refunded'),
    'timer.pending_expired': ignored('already_refunded'),
    'timer.deadline': ignored('already_refunded'),
    'timer.recheck': ignored('already_refunded'),
    'merchant.cancel': notCancelable,
  },
};

/**
 * Runs the rule of the event's own type. The one place the event's type and its rule are paired
 * (TypeScript cannot correlate `rules[event.type]` with `event` by itself).
 */
function dispatch(rules: RuleSet, order: Order, event: Exclude<OrderEvent, OrderCreated>): Outcome {
  // Sound: RuleSet maps each type to the rule of that type, and `event` is of type `event.type`.
  const r = rules[event.type] as (o: Order, e: OrderEvent) => Outcome;
  return r(order, event);
}

/** On a PaymentIntents order the PaymentIntent's own events decide; its charge events are the timeline. */
const CHARGE_RESULTS: readonly OrderEventType[] = ['charge.succeeded', 'charge.pending', 'charge.failed'];

/** Timers of one API: the charge deadline is a Sources order's, the re-check a PaymentIntents order's. */
const TIMER_API: Partial<Record<OrderEventType, PaymentApi>> = {
  'timer.deadline': 'sources',
  'timer.recheck': 'payment_intents',
};

/** The outcome a rule gives, without bookkeeping; exported for the table test. */
export function rule(status: OrderStatus, order: Order, event: OrderEvent): Outcome {
  if (event.type === 'order.created') return ignore('already_created');
  const api = apiOfEventType(event.type) ?? TIMER_API[event.type];
  if (api !== undefined && api !== order.payment.api) return ignore('other_api');
  if (foreignObject(order, event)) return ignore(api === 'sources' ? 'foreign_source' : 'foreign_payment_intent');
  if (order.payment.api === 'payment_intents' && CHARGE_RESULTS.includes(event.type)) return ignore('recorded');
  // In every state: the echo of our own cancel (see canceledOutside) is not worth a write; it
  // most often lands on the order its cancel already ended (expired, declined).
  if (event.type === 'payment_intent.canceled' && event.cancellationReason === 'abandoned')
    return { kind: 'skip', reason: 'own_cancel' };
  return dispatch(RULES[status], order, event);
}

/** Timers that exist while an order is in a state. */
const timersOf = (o: Order): TimerKind[] => {
  if (o.status === 'pending') return ['pending_expired'];
  if (o.payment.api === 'payment_intents') return o.status === 'charging' ? ['recheck'] : [];
  return o.status === 'chargeable' || o.status === 'charging' ? ['deadline'] : [];
};

const instantOf = (o: Order, kind: TimerKind): string | undefined =>
  kind === 'pending_expired' ? o.pendingExpiresAt : kind === 'deadline' ? o.deadline : o.recheckAt;

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
    // Stripe cancels a pending source after an hour; a PaymentIntent waits for as long as the
    // merchant's setting says (the API passes it in).
    pendingExpiresAt: (e.payment.api === 'payment_intents' && e.expiresInSeconds !== undefined
      ? paymentExpiry(createdAt, e.expiresInSeconds)
      : pendingExpiry(createdAt)
    ).toISOString(),
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
  if (outcome.kind === 'skip') return { kind: 'skipped', order, reason: outcome.reason };

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
  const before = timersOf(prev);
  const after = timersOf(next);
  const fired =
    event.type === 'timer.pending_expired' || event.type === 'timer.deadline' || event.type === 'timer.recheck'
      ? timerKindOf(event.type)
      : null;
  for (const kind of before) {
    if (!after.includes(kind) && kind !== fired) {
      effects.push({ type: 'deleteTimer', orderId: next.id, kind, name: timerName(next.id, kind) });
    }
  }
  for (const kind of after) {
    if (!before.includes(kind)) {
      const at = instantOf(next, kind);
      if (at === undefined) throw new Error(`invariant: ${next.status} order ${next.id} has no ${kind} instant`);
      effects.push({ type: 'scheduleTimer', orderId: next.id, kind, name: timerName(next.id, kind), at });
    }
  }
  effects.push(...extra.filter((x) => x.type !== 'charge'));
  const lifecycle = LIFECYCLE[next.status];
  if (lifecycle !== undefined && lifecycle !== LIFECYCLE[prev.status]) {
    effects.push({ type: 'publish', event: lifecycle, order: summarize(next) });
  }
  effects.push(...extra.filter((x) => x.type === 'charge'));
  return effects;
}
