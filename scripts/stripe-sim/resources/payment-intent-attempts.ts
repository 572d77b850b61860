/**
 * A PaymentIntent's payment attempt after confirmation: the customer authorizes or declines
 * it (on the authorization page or through the /_sim controls), or Stripe expires it.
 *
 * Rules (https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 * https://docs.stripe.com/payments/alipay/accept-a-payment ,
 * https://docs.stripe.com/payments/paymentintents/lifecycle ,
 * https://docs.stripe.com/error-codes#payment-intent-payment-attempt-failed):
 * - confirmed → `requires_action` with its `next_action` (`payment_intent.requires_action`);
 * - authorized → `succeeded`, `amount_received` = amount, `latest_charge` = a new succeeded
 *   charge carrying the PaymentIntent's metadata (`payment_intent.succeeded`, then
 *   `charge.succeeded`); optionally via `processing` first, with a pending charge
 *   (`payment_intent.processing`, `charge.pending`), settled later either way;
 * - declined → back to `requires_payment_method`, `next_action` and `payment_method` null,
 *   `last_payment_error` {type card_error, code `payment_intent_payment_attempt_failed`,
 *   message, payment_method} (`payment_intent.payment_failed`);
 * - expired → the same with code `payment_intent_payment_attempt_expired`
 *   (https://docs.stripe.com/error-codes#payment-intent-payment-attempt-expired), by control or
 *   after `paymentAttemptExpirySeconds` of the simulator clock.
 * All events of a PaymentIntent are delivered in order (ordering key: its id).
 */

import { ControlError, docUrl } from '../errors.js';
import { clone } from '../objects.js';
import type {
  PaymentErrorObj,
  PaymentIntentChargeObj,
  PaymentIntentObj,
  PaymentMethodObj,
} from '../payment-intent-objects.js';
import type { PaymentIntentRec, RequestInfo, SimState } from '../state.js';
import { settleFailed, settleSucceeded } from './charge-settlement.js';
import { newPaymentIntentCharge } from './charges.js';
import { type AttemptOptions, nextActionFor } from './next-actions.js';

const METHOD_NAME = { wechat_pay: 'WeChat Pay', alipay: 'Alipay' } as const;

/** For controls: ControlError 404 when unknown. */
export function piRec(st: SimState, id: string): PaymentIntentRec {
  const rec = st.paymentIntents.get(id);
  if (!rec) throw new ControlError(404, `no such payment_intent: ${id}`);
  return rec;
}

/** Confirmation: a new attempt waits for the customer. */
export function startAttempt(
  st: SimState,
  rec: PaymentIntentRec,
  pm: PaymentMethodObj,
  o: AttemptOptions,
  info: RequestInfo,
): void {
  const pi = rec.obj;
  pi.payment_method = pm.id;
  pi.last_payment_error = null;
  pi.status = 'requires_action';
  pi.next_action = nextActionFor(st, pi, pm.type, o);
  rec.actionSinceMs = st.nowMs();
  st.emit('payment_intent.requires_action', pi, pi.id, info);
}

function inState(rec: PaymentIntentRec, status: PaymentIntentObj['status']): PaymentIntentObj {
  const pi = rec.obj;
  if (pi.status !== status) throw new ControlError(409, `payment_intent ${pi.id} is ${pi.status}, not ${status}`);
  return pi;
}

function methodOf(st: SimState, pi: PaymentIntentObj): PaymentMethodObj {
  const pm = pi.payment_method !== null ? st.paymentMethods.get(pi.payment_method) : undefined;
  if (!pm) throw new ControlError(409, `payment_intent ${pi.id} has no payment method`);
  return pm;
}

function latestCharge(st: SimState, pi: PaymentIntentObj): PaymentIntentChargeObj {
  const ch = pi.latest_charge !== null ? st.charges.get(pi.latest_charge) : undefined;
  if (!ch || ch.source !== null) throw new ControlError(409, `payment_intent ${pi.id} has no charge`);
  return ch;
}

/** The customer pays. */
export function authorizePaymentIntent(st: SimState, id: string, o: { processing?: boolean } = {}): PaymentIntentObj {
  const rec = piRec(st, id);
  const pi = inState(rec, 'requires_action');
  const ch = newPaymentIntentCharge(st, pi, methodOf(st, pi));
  pi.latest_charge = ch.id;
  pi.next_action = null;
  rec.actionSinceMs = undefined;
  if (o.processing) {
    pi.status = 'processing';
    st.emit('payment_intent.processing', pi, pi.id, null);
    st.emit('charge.pending', ch, pi.id, null);
    return clone(pi);
  }
  return succeed(st, pi, ch);
}

/** processing → succeeded. */
export function succeedPaymentIntent(st: SimState, id: string): PaymentIntentObj {
  const pi = inState(piRec(st, id), 'processing');
  return succeed(st, pi, latestCharge(st, pi));
}

function succeed(st: SimState, pi: PaymentIntentObj, ch: PaymentIntentChargeObj): PaymentIntentObj {
  settleSucceeded(ch);
  pi.status = 'succeeded';
  pi.amount_received = pi.amount;
  st.emit('payment_intent.succeeded', pi, pi.id, null);
  st.emit('charge.succeeded', ch, pi.id, null);
  return clone(pi);
}

/** The customer declines. */
export function failPaymentIntent(st: SimState, id: string): PaymentIntentObj {
  const rec = piRec(st, id);
  const pi = inState(rec, 'requires_action');
  const name = METHOD_NAME[methodOf(st, pi).type];
  return failAttempt(st, rec, 'payment_intent_payment_attempt_failed', `The customer declined the ${name} payment.`);
}

/** processing → requires_payment_method; its charge fails. */
export function failProcessingPaymentIntent(st: SimState, id: string): PaymentIntentObj {
  const rec = piRec(st, id);
  const pi = inState(rec, 'processing');
  const ch = latestCharge(st, pi);
  const name = METHOD_NAME[methodOf(st, pi).type];
  const message = `The payment was declined by ${name}.`;
  settleFailed(ch, 'payment_method_provider_decline', message);
  const out = failAttempt(st, rec, 'payment_intent_payment_attempt_failed', message, ch.id);
  st.emit('charge.failed', ch, pi.id, null);
  return out;
}

/** Stripe gives up waiting for the customer. */
export function expirePaymentAttempt(st: SimState, id: string): PaymentIntentObj {
  const rec = piRec(st, id);
  inState(rec, 'requires_action');
  return failAttempt(
    st,
    rec,
    'payment_intent_payment_attempt_expired',
    'The payment attempt expired: the customer did not complete it in time.',
  );
}

function failAttempt(
  st: SimState,
  rec: PaymentIntentRec,
  code: PaymentErrorObj['code'],
  message: string,
  charge?: string,
): PaymentIntentObj {
  const pi = rec.obj;
  const pm = methodOf(st, pi);
  pi.status = 'requires_payment_method';
  pi.next_action = null;
  pi.payment_method = null;
  pi.last_payment_error = {
    type: 'card_error',
    code,
    doc_url: docUrl(code),
    message,
    payment_method: clone(pm),
    ...(charge !== undefined ? { charge } : {}),
  };
  rec.actionSinceMs = undefined;
  st.emit('payment_intent.payment_failed', pi, pi.id, null);
  return clone(pi);
}

/** The sweep: attempts waiting longer than `seconds` expire. */
export function expireAttempts(st: SimState, seconds: number | undefined): void {
  if (seconds === undefined) return;
  const now = st.nowMs();
  for (const rec of st.paymentIntents.values()) {
    if (rec.obj.status === 'requires_action' && rec.actionSinceMs !== undefined) {
      if (now >= rec.actionSinceMs + seconds * 1000) expirePaymentAttempt(st, rec.obj.id);
    }
  }
}

/** Per PaymentIntent waiting for its customer: when its attempt expires (for `/_sim/state`). */
export function attemptExpiries(st: SimState, seconds: number | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const rec of st.paymentIntents.values()) {
    if (rec.obj.status !== 'requires_action' || rec.actionSinceMs === undefined) continue;
    out[rec.obj.id] = seconds === undefined ? null : new Date(rec.actionSinceMs + seconds * 1000).toISOString();
  }
  return out;
}
