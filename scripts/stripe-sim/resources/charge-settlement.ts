/**
 * How a charge ends: pending, succeeded or failed, and the controls that settle a pending
 * charge of a source (`POST /_sim/charges/{id}/succeed|fail`).
 *
 * Rules (https://docs.stripe.com/api/charges/object , https://docs.stripe.com/declines):
 * - succeeded: `paid`, `captured`, `amount_captured` = amount, a balance transaction, outcome
 *   `authorized` (`charge.succeeded`);
 * - pending: not paid yet, outcome "Payment pending." (`charge.pending`);
 * - failed: not paid, `failure_code` (card_declined by default) and `failure_message`, outcome
 *   `issuer_declined` (`charge.failed`).
 * A charge of a PaymentIntent settles with its PaymentIntent (payment-intent-attempts.ts).
 */

import { ControlError } from '../errors.js';
import { type AnyChargeObj, type ChargeObj, clone, isSourceCharge, newId } from '../objects.js';
import type { SimState } from '../state.js';

export function markPending(ch: AnyChargeObj): void {
  ch.status = 'pending';
  ch.paid = false;
  ch.outcome = {
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'not_assessed',
    seller_message: 'Payment pending.',
    type: 'authorized',
  };
}

export function settleSucceeded(ch: AnyChargeObj): void {
  ch.status = 'succeeded';
  ch.paid = true;
  ch.captured = true;
  ch.amount_captured = ch.amount;
  ch.balance_transaction = newId('txn');
  ch.outcome = {
    network_status: 'approved_by_network',
    reason: null,
    risk_level: 'not_assessed',
    seller_message: 'Payment complete.',
    type: 'authorized',
  };
}

export function settleFailed(ch: AnyChargeObj, failureCode: string | undefined, message?: string): void {
  ch.status = 'failed';
  ch.paid = false;
  ch.captured = false;
  ch.amount_captured = 0;
  ch.failure_code = failureCode ?? 'card_declined';
  ch.failure_message =
    message ??
    (ch.failure_code === 'card_declined' ? 'The charge was declined.' : `The charge failed (${ch.failure_code}).`);
  ch.outcome = {
    network_status: 'declined_by_network',
    reason: 'generic_decline',
    risk_level: 'not_assessed',
    seller_message: 'The bank did not return any further details with this decline.',
    type: 'issuer_declined',
  };
}

/** A pending charge of a source (controls); a PaymentIntent's charge settles through its PaymentIntent. */
function pendingSourceCharge(st: SimState, id: string): ChargeObj {
  const ch = st.charges.get(id);
  if (!ch) throw new ControlError(404, `no such charge: ${id}`);
  if (!isSourceCharge(ch)) {
    throw new ControlError(409, `charge ${id} belongs to ${ch.payment_intent}: use /_sim/payment_intents/{id}/succeed`);
  }
  if (ch.status !== 'pending') throw new ControlError(409, `charge ${id} is ${ch.status}, not pending`);
  return ch;
}

export function succeedCharge(st: SimState, id: string): ChargeObj {
  const ch = pendingSourceCharge(st, id);
  settleSucceeded(ch);
  st.emit('charge.succeeded', ch, ch.source.id, null);
  return clone(ch);
}

export function failCharge(st: SimState, id: string, failureCode?: string): ChargeObj {
  const ch = pendingSourceCharge(st, id);
  settleFailed(ch, failureCode);
  st.emit('charge.failed', ch, ch.source.id, null);
  return clone(ch);
}
