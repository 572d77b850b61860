/**
 * Refunds: `POST /v1/refunds` (of a `charge` or of a `payment_intent`) and `GET /v1/refunds`.
 *
 * Rules (https://docs.stripe.com/api/refunds/create , https://docs.stripe.com/refunds):
 * - name the charge or the PaymentIntent (one of them); refunding a PaymentIntent refunds its
 *   `latest_charge`, which must have succeeded;
 * - `amount` defaults to what is left; partial refunds add up to at most the charge's amount
 *   (`amount_too_large`), a fully refunded charge refuses more (`charge_already_refunded`);
 * - each refund updates the charge's `amount_refunded` / `refunded` and sends
 *   `charge.refunded` with the charge, ordered with the source's or PaymentIntent's events;
 * - refunds succeed at once here (WeChat Pay refunds may settle later at Stripe:
 *   https://docs.stripe.com/payments/wechat-pay#refunds); a refund of a PaymentIntent's
 *   charge carries `payment_intent` and `payment_method`.
 */

import { invalidRequest, missingParameter, noSuch } from '../errors.js';
import { formatAmount, isSourceCharge, newId, type RefundObj } from '../objects.js';
import {
  type ApiCtx,
  type ApiResult,
  applyMetadata,
  ok,
  paginate,
  positiveAmount,
  requestInfo,
  str,
} from '../params.js';
import type { SimState } from '../state.js';
import { getCharge, orderKeyOf } from './charges.js';

export function createRefund(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  if (p.customer !== undefined || p.origin !== undefined || p.instructions_email !== undefined) {
    throw invalidRequest('The Stripe simulator supports refunds of charges and PaymentIntents only.');
  }
  const chargeId = str(p.charge);
  const piId = str(p.payment_intent);
  if (chargeId !== undefined && piId !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: charge, payment_intent.', {
      code: 'parameters_exclusive',
    });
  }
  let ch: ReturnType<typeof getCharge>;
  if (piId !== undefined) {
    const rec = st.paymentIntents.get(piId);
    if (!rec) throw noSuch('payment_intent', piId, 'payment_intent');
    const latest = rec.obj.latest_charge !== null ? st.charges.get(rec.obj.latest_charge) : undefined;
    if (latest?.status !== 'succeeded') {
      throw invalidRequest(`This PaymentIntent (${piId}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
        param: 'payment_intent',
      });
    }
    ch = latest;
  } else {
    if (chargeId === undefined) throw missingParameter('charge');
    ch = getCharge(st, chargeId, 'charge');
  }
  if (ch.status === 'failed') {
    throw invalidRequest(`Charge ${ch.id} has failed and cannot be refunded.`, {
      code: 'charge_not_refundable',
      param: 'charge',
    });
  }
  const remaining = ch.amount - ch.amount_refunded;
  if (remaining <= 0 || ch.refunded) {
    throw invalidRequest(`Charge ${ch.id} has already been refunded.`, { code: 'charge_already_refunded' });
  }
  const amount = p.amount === undefined ? remaining : positiveAmount(p.amount, 'amount');
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, ch.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, ch.currency)})`,
      { code: 'amount_too_large', param: 'amount' },
    );
  }
  if (p.currency !== undefined && str(p.currency)?.toLowerCase() !== ch.currency) {
    throw invalidRequest(`The currency must be the charge's currency (${ch.currency}).`, { param: 'currency' });
  }
  const refund: RefundObj = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: newId('txn'),
    charge: ch.id,
    created: st.nowSeconds(),
    currency: ch.currency,
    metadata: applyMetadata({}, p.metadata),
    payment_intent: null,
    reason: str(p.reason) ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  if (!isSourceCharge(ch)) {
    Object.assign(refund, {
      payment_intent: ch.payment_intent,
      customer: null,
      customer_account: null,
      payment_method: ch.payment_method,
    });
  }
  st.refunds.set(refund.id, refund);
  ch.amount_refunded += amount;
  ch.refunded = ch.amount_refunded >= ch.amount;
  st.emit('charge.refunded', ch, orderKeyOf(ch), requestInfo(ctx));
  return ok(refund);
}

export function listRefunds(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  let items = [...st.refunds.values()];
  if (p.payment_intent !== undefined) items = items.filter((r) => r.payment_intent === p.payment_intent);
  if (p.charge !== undefined) items = items.filter((r) => r.charge === p.charge);
  return ok(paginate(items, p, '/v1/refunds', 'refund'));
}
