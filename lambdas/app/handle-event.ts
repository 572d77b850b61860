import { type DomainError, decide, type Order, type OrderEvent } from '../domain/index.js';
import { ConflictError, TransientError } from '../ports/index.js';
import type { Deps } from './deps.js';
import { observe, runEffects } from './effects.js';

export type HandleOutcome =
  | { outcome: 'applied'; order: Order }
  | { outcome: 'ignored'; order: Order; reason: string }
  | { outcome: 'duplicate'; order: Order }
  | { outcome: 'rejected'; order: Order | undefined; error: DomainError }
  | { outcome: 'unknown_order' };

/** Conditional writes lost in a row before giving up (the message is retried by SQS). */
export const MAX_CONFLICT_RETRIES = 8;

async function locate(deps: Deps, event: OrderEvent): Promise<Order | undefined> {
  if (event.orderId !== undefined) return deps.store.get(event.orderId);
  const paymentObjectId = event.sourceId ?? event.paymentIntentId;
  if (paymentObjectId !== undefined) {
    const byPayment = await deps.store.getByPaymentId(paymentObjectId);
    // The index is eventually consistent; the decision reads the item itself.
    return byPayment ? deps.store.get(byPayment.id) : undefined;
  }
  return undefined;
}

/**
 * load ▶ (reconcile timers with Stripe) ▶ decide ▶ conditional write (re-read and re-apply on
 * conflict) ▶ run effects ▶ apply the charge result they produced, as the next event.
 *
 * A redelivered event that was already written re-runs the effects of the latest write when
 * it caused them, so a crash between the write and the effects loses nothing.
 */
export async function handleEvent(deps: Deps, event: OrderEvent): Promise<HandleOutcome> {
  const first = await applyOne(deps, event);
  let result = first.result;
  let follow = first.follow;
  // A charge result becomes the next event; report the first event's outcome with the latest order.
  while (follow !== undefined) {
    // The order just written is current unless someone raced us, which the conditional write catches.
    const round = await applyOne(deps, follow, 'order' in result ? result.order : undefined);
    if ('order' in round.result && round.result.order && 'order' in result)
      result = { ...result, order: round.result.order };
    follow = round.follow;
  }
  return result;
}

async function applyOne(
  deps: Deps,
  event: OrderEvent,
  known?: Order,
): Promise<{ result: HandleOutcome; follow?: OrderEvent }> {
  for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
    const order = attempt === 0 && known !== undefined ? known : await locate(deps, event);
    if (order === undefined) return { result: { outcome: 'unknown_order' } };
    const observed = await observe(deps, order, event);
    const d = decide(order, observed, deps.clock.now());
    if (d.kind === 'rejected') return { result: { outcome: 'rejected', order, error: d.error } };
    if (d.kind === 'skipped') return { result: { outcome: 'ignored', order, reason: d.reason } };
    if (d.kind === 'duplicate') {
      const follow = await runEffects(deps, d.order, d.replay);
      return { result: { outcome: 'duplicate', order: d.order }, ...(follow ? { follow } : {}) };
    }
    try {
      await deps.store.update(d.order, order.version);
    } catch (e) {
      if (e instanceof ConflictError) continue;
      throw e;
    }
    const follow = await runEffects(deps, d.order, d.effects);
    const result: HandleOutcome =
      d.ignored !== undefined
        ? { outcome: 'ignored', order: d.order, reason: d.ignored }
        : { outcome: 'applied', order: d.order };
    return { result, ...(follow ? { follow } : {}) };
  }
  throw new TransientError(`Gave up after ${MAX_CONFLICT_RETRIES + 1} conflicting writes for ${event.id}.`);
}
