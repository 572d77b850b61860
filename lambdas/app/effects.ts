import {
  type ChargeObservation,
  chargeKey,
  type Effect,
  type IntentObservation,
  type Order,
  type OrderEvent,
  type SourceObservation,
  type TimerKind,
  timerEventId,
  timerEventType,
} from '../domain/index.js';
import {
  type ChargeResult,
  NotFoundError,
  PaymentDeclinedError,
  type PaymentIntentState,
  SourceNotChargeableError,
  type TimerSpec,
  TransientError,
  type WorkMessage,
} from '../ports/index.js';
import type { Deps } from './deps.js';

/**
 * EventBridge Scheduler's `at()` has whole seconds and a schedule in the past is not useful;
 * a timer due now (a backlog delayed the event) fires a minute from now instead. The timer
 * only reconciles with Stripe, so firing late never loses money.
 */
export const MIN_TIMER_LEAD_MS = 60_000;

export function timerMessage(orderId: string, kind: TimerKind, at: string): WorkMessage {
  const id = timerEventId(orderId, kind);
  return {
    groupId: orderId,
    dedupId: id,
    event: { type: timerEventType(kind), id, at, orderId },
  };
}

export function timerSpec(effect: Extract<Effect, { type: 'scheduleTimer' }>, now: Date): TimerSpec {
  const due = new Date(effect.at).getTime();
  const at = new Date(Math.max(due, now.getTime() + MIN_TIMER_LEAD_MS));
  return { name: effect.name, at, message: timerMessage(effect.orderId, effect.kind, effect.at) };
}

/** A charge result, as the event the state machine decides on next. */
export function chargeResultEvent(orderId: string, r: ChargeResult, at: string, causedBy: string): OrderEvent {
  const base = {
    id: `syn_${r.id}_${r.status}`,
    at,
    orderId,
    causedBy,
    chargeId: r.id,
    amount: r.amount,
    currency: r.currency,
    ...(r.sourceId ? { chargeSourceId: r.sourceId } : {}),
  };
  if (r.status === 'succeeded') return { ...base, type: 'charge.succeeded' };
  if (r.status === 'pending') return { ...base, type: 'charge.pending' };
  return { ...base, type: 'charge.failed', ...(r.failureCode ? { failureCode: r.failureCode } : {}) };
}

export function declinedEvent(orderId: string, e: PaymentDeclinedError, at: string, causedBy: string): OrderEvent {
  const chargeId = e.chargeId ?? `none_${orderId}`;
  return {
    type: 'charge.failed',
    id: `syn_${chargeId}_failed`,
    at,
    orderId,
    causedBy,
    chargeId,
    ...(e.code ? { failureCode: e.code } : {}),
  };
}

/**
 * Runs effects in order. Returns the event a charge produced (its result), which the caller
 * applies next. Every effect is idempotent, so a replay after a crash is safe.
 */
export async function runEffects(deps: Deps, order: Order, effects: Effect[]): Promise<OrderEvent | undefined> {
  const causedBy = order.outbox.chain.at(-1) ?? order.id;
  let follow: OrderEvent | undefined;
  for (const effect of effects) {
    switch (effect.type) {
      case 'scheduleTimer':
        await deps.timers.schedule(timerSpec(effect, deps.clock.now()));
        break;
      case 'deleteTimer':
        await deps.timers.cancel(effect.name);
        break;
      case 'publish':
        await deps.publisher.publish({ type: effect.event, order: effect.order });
        break;
      case 'refund':
        await deps.gateway.refund({
          orderId: effect.orderId,
          ...(effect.chargeId ? { chargeId: effect.chargeId } : {}),
          ...(effect.paymentIntentId ? { paymentIntentId: effect.paymentIntentId } : {}),
          idempotencyKey: effect.idempotencyKey,
        });
        break;
      case 'cancelPaymentIntent':
        // Whatever it answers is fine: canceled is what we asked; a success that beat us arrives
        // as its own webhook and is refunded (the order is terminal).
        await deps.gateway.cancelPaymentIntent(effect.paymentIntentId);
        break;
      case 'charge': {
        const at = deps.clock.now().toISOString();
        try {
          const r = await deps.gateway.charge(effect);
          follow = chargeResultEvent(order.id, r, at, causedBy);
        } catch (e) {
          if (e instanceof PaymentDeclinedError) follow = declinedEvent(order.id, e, at, causedBy);
          // Not chargeable any more (Stripe canceled it): the source.canceled webhook or the
          // deadline timer settles the order.
          else if (!(e instanceof SourceNotChargeableError)) throw e;
        }
        break;
      }
    }
  }
  return follow;
}

const intentObservation = (pi: PaymentIntentState): IntentObservation | undefined => {
  if (pi.status !== 'canceled' && pi.status !== 'succeeded' && pi.status !== 'processing') return undefined;
  return {
    kind: 'payment_intent',
    status: pi.status,
    amount: pi.amount,
    currency: pi.currency,
    livemode: pi.livemode,
    ...(pi.chargeId ? { chargeId: pi.chargeId } : {}),
  };
};

/**
 * PaymentIntents: cancel the PaymentIntent unless the customer paid first, and report what it is
 * now. Done before the decision is written; a crash after the cancel finds it canceled next time.
 */
async function cancelAndObserve(deps: Deps, paymentIntentId: string): Promise<IntentObservation> {
  const pi = await deps.gateway.cancelPaymentIntent(paymentIntentId);
  const obs = intentObservation(pi);
  if (obs === undefined) {
    throw new TransientError(`PaymentIntent ${paymentIntentId} is still ${pi.status} after a cancel; retrying.`);
  }
  return obs;
}

/** "Timers do not cancel blindly": what Stripe says now, for the state machine to decide on. */
export async function observe(deps: Deps, order: Order, event: OrderEvent): Promise<OrderEvent> {
  const pay = order.payment;
  if (pay.api === 'payment_intents') {
    if (
      (event.type === 'timer.pending_expired' && order.status === 'pending') ||
      (event.type === 'timer.recheck' && order.status === 'charging') ||
      (event.type === 'merchant.cancel' && order.status === 'pending')
    ) {
      return { ...event, observation: await cancelAndObserve(deps, pay.paymentIntentId) };
    }
    return event;
  }
  if (event.type === 'timer.pending_expired' && order.status === 'pending') {
    let status: SourceObservation['status'];
    try {
      status = await deps.gateway.getSourceStatus(pay.sourceId);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      status = 'canceled';
    }
    return { ...event, observation: { kind: 'source', status } };
  }
  if (event.type === 'timer.deadline' && (order.status === 'chargeable' || order.status === 'charging')) {
    return { ...event, observation: await observeCharge(deps, order, pay.sourceId) };
  }
  return event;
}

async function observeCharge(deps: Deps, order: Order, sourceId: string): Promise<ChargeObservation> {
  try {
    // A charge we know of is read; otherwise it is re-sent with its idempotency key, which
    // returns the charge if the first attempt reached Stripe and creates it if not.
    const r =
      order.status === 'charging' && order.chargeId
        ? await deps.gateway.getCharge(order.chargeId)
        : await deps.gateway.charge({
            orderId: order.id,
            sourceId,
            amount: order.amount,
            currency: order.currency,
            idempotencyKey: chargeKey(order.id),
          });
    if (r.status === 'failed')
      return {
        kind: 'charge',
        outcome: 'failed',
        chargeId: r.id,
        ...(r.failureCode ? { failureCode: r.failureCode } : {}),
      };
    return { kind: 'charge', outcome: r.status, chargeId: r.id };
  } catch (e) {
    if (e instanceof PaymentDeclinedError)
      return { kind: 'charge', outcome: 'failed', ...(e.chargeId ? { chargeId: e.chargeId } : {}) };
    if (e instanceof SourceNotChargeableError) return { kind: 'charge', outcome: 'source_not_chargeable' };
    throw e;
  }
}
