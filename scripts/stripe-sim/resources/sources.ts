/**
 * Sources (legacy Sources API) of type `wechat` and `alipay`: `POST /v1/sources`,
 * `GET|POST /v1/sources/{id}`, the customer's authorize / decline, and Stripe's expiries.
 *
 * Rules (https://docs.stripe.com/sources/wechat-pay , https://docs.stripe.com/sources/alipay ,
 * https://docs.stripe.com/sources#single-use-sources):
 * - wechat sources use the `none` flow and show a QR code (`wechat.qr_code_url`); alipay
 *   sources use the `redirect` flow and need `redirect[return_url]`; both are single-use;
 * - here the QR code and the redirect lead to the simulator's authorization page;
 * - authorized → `chargeable` (`source.chargeable`), declined → `failed` (`source.failed`);
 * - a pending source is canceled 1 hour after creation, a chargeable one 6 hours after it
 *   became chargeable or at 23:45 CST, whichever comes first (`source.canceled`, clock.ts).
 */

import { chargeableCancelAt, pendingCancelAt } from '../clock.js';
import { ControlError, invalidRequest, missingParameter, noSuch } from '../errors.js';
import { clone, newId, randomAlnum, type SourceObj, type SourceType } from '../objects.js';
import type { ChargeOutcome } from '../options.js';
import {
  type ApiCtx,
  type ApiResult,
  applyMetadata,
  buildOwner,
  isHttpUrl,
  obj,
  ok,
  PRESENTMENT_CURRENCIES,
  positiveAmount,
  str,
} from '../params.js';
import { NO_REQUEST, type RequestInfo, type SimState, type SourceRec } from '../state.js';

const SOURCE_TYPES: readonly SourceType[] = ['wechat', 'alipay'];
/** WeChat Pay shows at most 32 characters of statement descriptor. */
const WECHAT_DESCRIPTOR_MAX = 32;

/** For API handlers: 404 resource_missing when unknown. */
export function getSource(st: SimState, id: string, param: string): SourceRec {
  const rec = st.sources.get(id);
  if (!rec) throw noSuch('source', id, param);
  return rec;
}

/** For controls: ControlError 404 when unknown. */
export function sourceRec(st: SimState, id: string): SourceRec {
  const rec = st.sources.get(id);
  if (!rec) throw new ControlError(404, `no such source: ${id}`);
  return rec;
}

export function createSource(st: SimState, ctx: ApiCtx): ApiResult {
  const p = ctx.params;
  if (p.customer !== undefined || p.original_source !== undefined || p.token !== undefined) {
    const param = p.customer !== undefined ? 'customer' : p.original_source !== undefined ? 'original_source' : 'token';
    throw invalidRequest(`The Stripe simulator does not support '${param}' on sources.`, { param });
  }
  const type = str(p.type);
  if (type === undefined) throw missingParameter('type');
  if (!SOURCE_TYPES.includes(type as SourceType)) {
    throw invalidRequest(`Invalid type: must be one of wechat or alipay (the Stripe simulator supports only these).`, {
      param: 'type',
    });
  }
  const t = type as SourceType;
  const flow = t === 'wechat' ? 'none' : 'redirect';
  if (p.flow !== undefined && p.flow !== flow) {
    throw invalidRequest(`Invalid flow: ${t} sources use the ${flow} flow.`, { param: 'flow' });
  }
  if (p.usage !== undefined && p.usage !== 'single_use') {
    throw invalidRequest(`Invalid usage: ${t} sources are single_use.`, { param: 'usage' });
  }
  if (p.amount === undefined) throw missingParameter('amount');
  const amount = positiveAmount(p.amount, 'amount');
  const currencyRaw = str(p.currency);
  if (currencyRaw === undefined) throw missingParameter('currency');
  const currency = currencyRaw.toLowerCase();
  const currencies = PRESENTMENT_CURRENCIES[t];
  if (!currencies.has(currency)) {
    throw invalidRequest(`Invalid currency: ${currency}. ${t} sources support ${[...currencies].join(', ')}.`, {
      param: 'currency',
    });
  }
  const descriptor = str(p.statement_descriptor);
  if (t === 'wechat' && descriptor !== undefined && descriptor.length > WECHAT_DESCRIPTOR_MAX) {
    throw invalidRequest(
      `Invalid string: ${descriptor}; must be at most ${WECHAT_DESCRIPTOR_MAX} characters for wechat sources`,
      { param: 'statement_descriptor' },
    );
  }
  const redirect = obj(p.redirect);
  let returnUrl: string | undefined;
  if (t === 'alipay') {
    returnUrl = str(redirect?.return_url);
    if (returnUrl === undefined) throw missingParameter('redirect[return_url]');
    if (!isHttpUrl(returnUrl)) {
      throw invalidRequest(`Invalid URL: ${returnUrl}`, { param: 'redirect[return_url]', code: 'url_invalid' });
    }
  }
  const metadata = applyMetadata({}, p.metadata);
  const owner = buildOwner(obj(p.owner));

  const id = newId('src');
  const clientSecret = `src_client_secret_${randomAlnum(24)}`;
  const pageUrl = `${st.baseUrl()}/authorize/${id}?client_secret=${clientSecret}`;
  const src: SourceObj = {
    id,
    object: 'source',
    allow_redisplay: null,
    amount,
    client_secret: clientSecret,
    created: st.nowSeconds(),
    currency,
    flow,
    livemode: false,
    metadata,
    owner,
    statement_descriptor: descriptor ?? null,
    status: 'pending',
    type: t,
    usage: 'single_use',
  };
  if (t === 'wechat') {
    src.wechat = { qr_code_url: pageUrl, ...(descriptor !== undefined ? { statement_descriptor: descriptor } : {}) };
  } else {
    src.redirect = { failure_reason: null, return_url: returnUrl ?? '', status: 'pending', url: pageUrl };
    src.alipay = { data_string: null, native_url: null, statement_descriptor: descriptor ?? null };
  }
  st.sources.set(id, { obj: src, outcome: 'succeeded' });
  return ok(src);
}

export function updateSource(st: SimState, ctx: ApiCtx, id: string): ApiResult {
  const rec = getSource(st, id, 'source');
  const p = ctx.params;
  if (p.metadata !== undefined) rec.obj.metadata = applyMetadata(rec.obj.metadata, p.metadata);
  const owner = obj(p.owner);
  if (owner) rec.obj.owner = buildOwner(owner, rec.obj.owner);
  for (const k of ['amount', 'mandate', 'source_order']) {
    if (p[k] !== undefined) {
      throw invalidRequest(`The Stripe simulator does not support updating '${k}' of ${rec.obj.type} sources.`, {
        param: k,
      });
    }
  }
  return ok(rec.obj);
}

/** The customer authorizes: pending → chargeable; `chargeOutcome` decides how its charge ends. */
export function authorizeSource(
  st: SimState,
  id: string,
  o: { chargeOutcome?: ChargeOutcome; failureCode?: string } = {},
): SourceObj {
  const rec = sourceRec(st, id);
  if (rec.obj.status !== 'pending') throw new ControlError(409, `source ${id} is ${rec.obj.status}, not pending`);
  if (o.chargeOutcome) setChargeOutcome(st, id, o.chargeOutcome, o.failureCode);
  // Deadlines count from the `created` second of source.chargeable, as the orchestrator sees it.
  rec.chargeableAtMs = Math.floor(st.nowMs() / 1000) * 1000;
  rec.cancelAtMs = chargeableCancelAt(rec.chargeableAtMs);
  rec.obj.status = 'chargeable';
  if (rec.obj.redirect) rec.obj.redirect.status = 'succeeded';
  st.emit('source.chargeable', rec.obj, id, null);
  return clone(rec.obj);
}

/** The customer declines: pending → failed. */
export function failSource(st: SimState, id: string): SourceObj {
  const rec = sourceRec(st, id);
  if (rec.obj.status !== 'pending') throw new ControlError(409, `source ${id} is ${rec.obj.status}, not pending`);
  rec.obj.status = 'failed';
  if (rec.obj.redirect) {
    rec.obj.redirect.status = 'failed';
    rec.obj.redirect.failure_reason = 'declined';
  }
  st.emit('source.failed', rec.obj, id, null);
  return clone(rec.obj);
}

export function cancelSource(st: SimState, id: string): SourceObj {
  const rec = sourceRec(st, id);
  if (rec.obj.status !== 'pending' && rec.obj.status !== 'chargeable') {
    throw new ControlError(409, `source ${id} is ${rec.obj.status}, neither pending nor chargeable`);
  }
  transitionCancel(st, rec, NO_REQUEST);
  return clone(rec.obj);
}

export function setChargeOutcome(st: SimState, id: string, outcome: ChargeOutcome, failureCode?: string): void {
  const rec = sourceRec(st, id);
  if (!['succeeded', 'failed', 'pending'].includes(outcome)) {
    throw new ControlError(400, 'charge_outcome must be succeeded, failed or pending');
  }
  rec.outcome = outcome;
  rec.failureCode = failureCode;
}

function transitionCancel(st: SimState, rec: SourceRec, info: RequestInfo): void {
  rec.obj.status = 'canceled';
  st.emit('source.canceled', rec.obj, rec.obj.id, info);
}

/** Stripe's expiries of sources, for the sweep. */
export function expireSources(st: SimState): void {
  const now = st.nowMs();
  for (const rec of st.sources.values()) {
    const s = rec.obj;
    if (s.status === 'pending' && now >= pendingCancelAt(s.created * 1000)) transitionCancel(st, rec, NO_REQUEST);
    else if (s.status === 'chargeable' && rec.cancelAtMs !== undefined && now >= rec.cancelAtMs) {
      transitionCancel(st, rec, NO_REQUEST);
    }
  }
}

/** Per source: when Stripe cancels it (for `/_sim/state`). */
export function sourceExpiries(
  st: SimState,
): Record<string, { pending_cancel_at: string | null; chargeable_at: string | null; cancel_at: string | null }> {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const out: ReturnType<typeof sourceExpiries> = {};
  for (const rec of st.sources.values()) {
    out[rec.obj.id] = {
      pending_cancel_at: iso(pendingCancelAt(rec.obj.created * 1000)),
      chargeable_at: iso(rec.chargeableAtMs),
      cancel_at: iso(rec.cancelAtMs),
    };
  }
  return out;
}
