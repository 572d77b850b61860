import {
  type ChargeObservation,
  chargeKey,
  type Effect,
  type Order,
  type OrderEvent,
  type SourceObservation,
  type TimerKind,
  timerEventId,
} from '../domain/index.js';
import {
  type ChargeResult,
  NotFound,
  PaymentDeclined,
  SourceNotChargeable,
  type TimerSpec,
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
    event: { type: kind === 'pending_expired' ? 'timer.pending_expired' : 'timer.deadline', id, at, orderId },
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

export function declinedEvent(orderId: string, e: PaymentDeclined, at: string, causedBy: string): OrderEvent {
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
          chargeId: effect.chargeId,
          idempotencyKey: effect.idempotencyKey,
        });
        break;
      case 'charge': {
        const at = deps.clock.now().toISOString();
        try {
          const r = await deps.gateway.charge(effect);
          follow = chargeResultEvent(order.id, r, at, causedBy);
        } catch (e) {
          if (e instanceof PaymentDeclined) follow = declinedEvent(order.id, e, at, causedBy);
          // Not chargeable any more (Stripe canceled it): the source.canceled webhook or the
          // deadline timer settles the order.
          else if (!(e instanceof SourceNotChargeable)) throw e;
        }
        break;
      }
    }
  }
  return follow;
}

/** "Timers do not cancel blindly": what Stripe says now, for the state machine to decide on. */
export async function observe(deps: Deps, order: Order, event: OrderEvent): Promise<OrderEvent> {
  if (event.type === 'timer.pending_expired' && order.status === 'pending') {
    let status: SourceObservation['status'];
    try {
      status = await deps.gateway.getSourceStatus(order.payment.sourceId);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      status = 'canceled';
    }
    return { ...event, observation: { kind: 'source', status } };
  }
  if (event.type === 'timer.deadline' && (order.status === 'chargeable' || order.status === 'charging')) {
    return { ...event, observation: await observeCharge(deps, order) };
  }
  return event;
}

async function observeCharge(deps: Deps, order: Order): Promise<ChargeObservation> {
  try {
    // A charge we know of is read; otherwise it is re-sent with its idempotency key, which
    // returns the charge if the first attempt reached Stripe and creates it if not.
    const r =
      order.status === 'charging' && order.chargeId
        ? await deps.gateway.getCharge(order.chargeId)
        : await deps.gateway.charge({
            orderId: order.id,
            sourceId: order.payment.sourceId,
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
    if (e instanceof PaymentDeclined)
      return { kind: 'charge', outcome: 'failed', ...(e.chargeId ? { chargeId: e.chargeId } : {}) };
    if (e instanceof SourceNotChargeable) return { kind: 'charge', outcome: 'source_not_chargeable' };
    throw e;
  }
}
