/**
 * Parameter helpers shared by the resource handlers (resources/*.ts), and the handler types.
 *
 * Why: Stripe applies the same rules to the same kinds of parameters everywhere, so they live
 * once: amounts (positive integers up to 8 digits, https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
 * metadata (https://docs.stripe.com/api/metadata: `""` unsets, at most 50 keys of 40 characters,
 * values of 500), list pagination (https://docs.stripe.com/api/pagination), and URLs.
 */

import { invalidRequest, noSuch, paramError } from './errors.js';
import type { FormObject, FormValue } from './form.js';
import { clone, emptyOwner, type OwnerObj } from './objects.js';
import type { RequestInfo } from './state.js';

/** A validated `/v1` request, as a resource handler sees it. */
export interface ApiCtx extends RequestInfo {
  method: string;
  path: string;
  params: FormObject;
  requestId: string;
}

export interface ApiResult {
  status: number;
  body: unknown;
}

export function ok(body: unknown): ApiResult {
  return { status: 200, body };
}

/** What an event records of the request. */
export function requestInfo(ctx: ApiCtx): RequestInfo {
  return { requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey };
}

const MAX_AMOUNT = 99_999_999;

export function str(v: FormValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function obj(v: FormValue | undefined): FormObject | undefined {
  return v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

export function positiveAmount(v: FormValue, param: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw paramError('This value must be greater than or equal to 1.', param, 'parameter_invalid_integer');
  }
  if (n > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${MAX_AMOUNT}.`, { code: 'amount_too_large', param });
  }
  return n;
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Stripe's metadata rules: `""` unsets all, a `""` value unsets a key; ≤ 50 keys, keys ≤ 40, values ≤ 500 chars. */
export function applyMetadata(existing: Record<string, string>, v: FormValue | undefined): Record<string, string> {
  if (v === undefined) return { ...existing };
  if (v === '') return {};
  const o = obj(v);
  if (!o) throw paramError('Invalid hash', 'metadata');
  const out = { ...existing };
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw paramError('Invalid string', `metadata[${k}]`);
    if (k.length > 40) {
      throw paramError(
        `Metadata keys can have up to 40 characters, but you passed in a key that is ${k.length} characters.`,
        `metadata[${k}]`,
      );
    }
    if (val.length > 500) {
      throw paramError(
        `Metadata values can have up to 500 characters, but you passed in a value that is ${val.length} characters.`,
        `metadata[${k}]`,
      );
    }
    if (val === '') delete out[k];
    else out[k] = val;
  }
  if (Object.keys(out).length > 50) throw paramError('You can have up to 50 metadata keys.', 'metadata');
  return out;
}

export function buildOwner(p: FormObject | undefined, base: OwnerObj = emptyOwner()): OwnerObj {
  const owner = clone(base);
  if (!p) return owner;
  for (const k of ['email', 'name', 'phone'] as const) {
    const v = str(p[k]);
    if (v !== undefined) owner[k] = v || null;
  }
  const a = obj(p.address);
  if (a) {
    owner.address = {
      city: str(a.city) ?? owner.address?.city ?? null,
      country: str(a.country) ?? owner.address?.country ?? null,
      line1: str(a.line1) ?? owner.address?.line1 ?? null,
      line2: str(a.line2) ?? owner.address?.line2 ?? null,
      postal_code: str(a.postal_code) ?? owner.address?.postal_code ?? null,
      state: str(a.state) ?? owner.address?.state ?? null,
    };
  }
  return owner;
}

/** Newest first, with `limit`, `starting_after`, `ending_before` and `created` filters. */
export function paginate<T extends { id: string; created: number }>(
  items: T[],
  p: FormObject,
  url: string,
  kind: string,
): { object: 'list'; data: T[]; has_more: boolean; url: string } {
  let list = [...items].reverse(); // insertion order is creation order
  const created = p.created;
  if (typeof created === 'string') list = list.filter((x) => x.created === Number(created));
  else if (created && typeof created === 'object' && !Array.isArray(created)) {
    const n = (k: string) => (typeof created[k] === 'string' ? Number(created[k]) : undefined);
    const [gt, gte, lt, lte] = [n('gt'), n('gte'), n('lt'), n('lte')];
    list = list.filter(
      (x) =>
        (gt === undefined || x.created > gt) &&
        (gte === undefined || x.created >= gte) &&
        (lt === undefined || x.created < lt) &&
        (lte === undefined || x.created <= lte),
    );
  }
  const limit = p.limit === undefined ? 10 : Number(p.limit);
  if (!(limit >= 1 && limit <= 100)) {
    throw paramError(`Invalid limit: must be between 1 and 100.`, 'limit');
  }
  const after = str(p.starting_after);
  const before = str(p.ending_before);
  if (after !== undefined && before !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', {
      code: 'parameters_exclusive',
    });
  }
  const cursor = after ?? before;
  if (cursor !== undefined) {
    // Positions in the unfiltered newest-first order, so a cursor filtered out still works.
    const position = new Map([...items].reverse().map((x, i) => [x.id, i]));
    const at = position.get(cursor);
    if (at === undefined) throw noSuch(kind, cursor, after !== undefined ? 'starting_after' : 'ending_before');
    if (after !== undefined) {
      const older = list.filter((x) => (position.get(x.id) ?? 0) > at);
      return { object: 'list', data: older.slice(0, limit), has_more: older.length > limit, url };
    }
    const newer = list.filter((x) => (position.get(x.id) ?? 0) < at);
    return { object: 'list', data: newer.slice(-limit), has_more: newer.length > limit, url };
  }
  return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
}

/**
 * Presentment currencies Stripe lists for WeChat Pay and Alipay (union over merchant
 * countries), for sources and PaymentIntents alike. https://docs.stripe.com/payments/wechat-pay ·
 * https://docs.stripe.com/payments/alipay
 */
export const PRESENTMENT_CURRENCIES: Record<'wechat' | 'alipay', ReadonlySet<string>> = {
  wechat: new Set(['aud', 'cad', 'chf', 'cny', 'dkk', 'eur', 'gbp', 'hkd', 'jpy', 'nok', 'sek', 'sgd', 'usd']),
  alipay: new Set(['aud', 'cad', 'cny', 'eur', 'gbp', 'hkd', 'jpy', 'myr', 'nzd', 'sgd', 'usd']),
};
