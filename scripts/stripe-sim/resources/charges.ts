/**
 * Charges: `POST /v1/charges` (of a chargeable source), `GET /v1/charges`,
 * `GET|POST /v1/charges/{id}`, and the charge object a PaymentIntent creates when its customer
 * pays (payment-intent-attempts.ts). How charges settle: charge-settlement.ts.
 *
 * Rules (https://docs.stripe.com/sources/wechat-pay#charge-request ,
 * https://docs.stripe.com/api/charges/create , https://docs.stripe.com/payments/payment-intents):
 * - a source is charged once, for its amount and currency, while `chargeable`; the charge
 *   consumes it whatever the outcome; capture is immediate;
 * - the outcome chosen for the source (options.ts `ChargeOutcome`) decides the charge:
 *   succeeded (`charge.succeeded`), pending (`charge.pending`, settled by a control), or failed
 *   (`charge.failed` and a 402 card_error naming the charge);
 * - a PaymentIntent's charge has `payment_intent`, `payment_method` and
 *   `payment_method_details.type` wechat_pay / alipay, and the PaymentIntent's metadata.
 */

import { ApiError, invalidRequest, missingParameter, noSuch } from '../errors.js';
import type { FormObject } from '../form.js';
import {
  type AnyChargeObj,
  type ChargeObj,
  clone,
  isSourceCharge,
  newId,
  randomAlnum,
  type SourceObj,
} from '../objects.js';
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
import type { PaymentIntentChargeObj, PaymentIntentObj, PaymentMethodObj } from '../payment-intent-objects.js';
import type { SimState } from '../state.js';
import { markPending, settleFailed, settleSucceeded } from './charge-settlement.js';
import { getSource } from './sources.js';

/** The ordering key of a charge's events: its source or its PaymentIntent. */
export function orderKeyOf(ch: AnyChargeObj): string {
  return isSourceCharge(ch) ? ch.source.id : ch.payment_intent;
}

export function getCharge(st: SimState, id: string, param: string): AnyChargeObj {
  const ch = st.charges.get(id);
  if (!ch) throw noSuch('charge', id, param);
  return ch;
}

export function createCharge(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  if (p.amount === undefined) throw missingParameter('amount');
  const amount = positiveAmount(p.amount, 'amount');
  const currencyRaw = str(p.currency);
  if (currencyRaw === undefined) throw missingParameter('currency');
  const currency = currencyRaw.toLowerCase();
  if (p.customer !== undefined) throw noSuch('customer', String(p.customer), 'customer');
  const sourceId = str(p.source);
  if (sourceId === undefined) throw invalidRequest('Must provide source or customer.');
  for (const k of [
    'card',
    'destination',
    'transfer_data',
    'on_behalf_of',
    'application_fee',
    'application_fee_amount',
  ]) {
    if (p[k] !== undefined)
      throw invalidRequest(`The Stripe simulator does not support '${k}' on charges.`, { param: k });
  }
  if (p.capture === 'false') {
    throw invalidRequest('This source type does not support separate authorization and capture: omit capture.', {
      param: 'capture',
    });
  }
  const rec = getSource(st, sourceId, 'source');
  const src = rec.obj;
  if (src.status !== 'chargeable') {
    throw invalidRequest('The source you provided is not in a chargeable state.', {
      code: 'invalid_source_usage',
      param: 'source',
    });
  }
  if (src.amount !== null && amount !== src.amount) {
    throw invalidRequest(
      `The amount (${amount}) must be equal to the amount of the source (${src.amount}): a ${src.type} source is single-use and charged in full.`,
      { code: 'invalid_charge_amount', param: 'amount' },
    );
  }
  if (src.currency !== null && currency !== src.currency) {
    throw invalidRequest(`The currency (${currency}) must be equal to the currency of the source (${src.currency}).`, {
      param: 'currency',
    });
  }

  // A single-use source is consumed by its charge, whatever the charge's outcome.
  src.status = 'consumed';
  const id = newId('ch');
  const descriptor = str(p.statement_descriptor) ?? src.statement_descriptor;
  const ch: ChargeObj = {
    ...chargeBase(st, id, amount, currency),
    billing_details: {
      address: src.owner.address,
      email: src.owner.email,
      name: src.owner.name,
      phone: src.owner.phone,
    },
    calculated_statement_descriptor: descriptor ?? null,
    description: str(p.description) ?? null,
    invoice: null,
    metadata: applyMetadata({}, p.metadata),
    payment_intent: null,
    payment_method: src.id,
    payment_method_details:
      src.type === 'wechat'
        ? { type: 'wechat', wechat: {} }
        : { type: 'alipay', alipay: { buyer_id: `sim_${randomAlnum(12)}`, fingerprint: null, transaction_id: null } },
    receipt_email: str(p.receipt_email) ?? null,
    source: clone(src) as SourceObj,
    statement_descriptor: descriptor ?? null,
    transfer_group: str(p.transfer_group) ?? null,
  };
  st.charges.set(id, ch);
  const info = requestInfo(ctx);
  if (rec.outcome === 'succeeded') {
    settleSucceeded(ch);
    st.emit('charge.succeeded', ch, src.id, info);
    return ok(ch);
  }
  if (rec.outcome === 'pending') {
    markPending(ch);
    st.emit('charge.pending', ch, src.id, info);
    return ok(ch);
  }
  settleFailed(ch, rec.failureCode);
  st.emit('charge.failed', ch, src.id, info);
  // Stripe answers a declined charge with 402 and the id of the failed charge it recorded.
  throw new ApiError(402, {
    type: 'card_error',
    code: ch.failure_code ?? 'card_declined',
    message: ch.failure_message ?? 'The charge was declined.',
    charge: ch.id,
    ...(ch.failure_code === 'card_declined' ? { decline_code: 'generic_decline' } : {}),
  });
}

/** A pending charge of a PaymentIntent's payment, stored; the caller settles it and emits. */
export function newPaymentIntentCharge(
  st: SimState,
  pi: PaymentIntentObj,
  pm: PaymentMethodObj,
): PaymentIntentChargeObj {
  const id = newId('ch');
  const details =
    pm.type === 'wechat_pay'
      ? { type: 'wechat_pay', wechat_pay: { fingerprint: null, transaction_id: `4200${digits(24)}` } }
      : {
          type: 'alipay',
          alipay: { buyer_id: `2088${digits(12)}`, fingerprint: `sim${randomAlnum(13)}`, transaction_id: digits(28) },
        };
  const ch: PaymentIntentChargeObj = {
    ...chargeBase(st, id, pi.amount, pi.currency),
    billing_details: clone(pm.billing_details),
    calculated_statement_descriptor: pi.statement_descriptor ?? 'STRIPE SIMULATOR',
    description: pi.description,
    metadata: clone(pi.metadata),
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: details,
    receipt_email: pi.receipt_email,
    source: null,
    statement_descriptor: pi.statement_descriptor,
    transfer_group: pi.transfer_group,
  };
  markPending(ch);
  st.charges.set(id, ch);
  return ch;
}

function chargeBase(st: SimState, id: string, amount: number, currency: string) {
  return {
    id,
    object: 'charge' as const,
    amount,
    amount_captured: 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    captured: true,
    created: st.nowSeconds(),
    currency,
    customer: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false as const,
    on_behalf_of: null,
    outcome: null,
    paid: false,
    receipt_number: null,
    receipt_url: `${st.baseUrl()}/_sim/state#${id}`,
    refunded: false,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor_suffix: null,
    status: 'pending' as const,
    transfer_data: null,
  };
}

function digits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(Math.floor(Math.random() * 10));
  return s;
}

export function updateCharge(st: SimState, ctx: ApiCtx, id: string): ApiResult {
  const ch = getCharge(st, id, 'charge');
  const p = ctx.params;
  if (p.metadata !== undefined) ch.metadata = applyMetadata(ch.metadata, p.metadata);
  if (p.description !== undefined) ch.description = str(p.description) || null;
  if (p.receipt_email !== undefined) ch.receipt_email = str(p.receipt_email) || null;
  if (p.transfer_group !== undefined) ch.transfer_group = str(p.transfer_group) || null;
  return ok(renderCharge(st, ch, p));
}

/** A copy of the charge, with `refunds` when `expand[]=refunds`. */
export function renderCharge<T extends AnyChargeObj>(st: SimState, ch: T, params: FormObject): T {
  const out = clone(ch);
  const expand = Array.isArray(params.expand) ? params.expand : [];
  if (expand.includes('refunds')) {
    const data = [...st.refunds.values()].filter((r) => r.charge === ch.id).reverse();
    out.refunds = {
      object: 'list',
      data: clone(data),
      has_more: false,
      total_count: data.length,
      url: `/v1/charges/${ch.id}/refunds`,
    };
  }
  return out;
}

export function listCharges(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  let items = [...st.charges.values()];
  // No customers here.
  if (p.customer !== undefined) items = [];
  if (p.payment_intent !== undefined) items = items.filter((c) => c.payment_intent === p.payment_intent);
  if (p.transfer_group !== undefined) items = items.filter((c) => c.transfer_group === p.transfer_group);
  return ok(
    paginate(
      items.map((c) => renderCharge(st, c, p)),
      p,
      '/v1/charges',
      'charge',
    ),
  );
}
