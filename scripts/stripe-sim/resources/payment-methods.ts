/**
 * PaymentMethods of type `wechat_pay` and `alipay`: created from a PaymentIntent's
 * `payment_method_data`, read with `GET /v1/payment_methods/{id}`.
 *
 * Rules (https://docs.stripe.com/api/payment_intents/create#create_payment_intent-payment_method_data ,
 * https://docs.stripe.com/api/payment_methods/object):
 * - `payment_method_data[type]` names the type; the hash of that type (`[wechat_pay]`,
 *   `[alipay]`) is empty, a hash of another type is refused; `billing_details` and `metadata`
 *   are kept;
 * - `payment_method` (an id) reuses a PaymentMethod the simulator created;
 * - the simulator supports wechat_pay and alipay only, and says so.
 */

import { invalidRequest, noSuch, paramError } from '../errors.js';
import type { FormObject } from '../form.js';
import { emptyAddress, newId } from '../objects.js';
import { type ApiResult, applyMetadata, obj, ok, str } from '../params.js';
import { PAYMENT_METHOD_TYPES, type PaymentMethodObj, type PaymentMethodType } from '../payment-intent-objects.js';
import type { SimState } from '../state.js';

const KNOWN_KEYS = new Set(['type', 'billing_details', 'metadata', ...PAYMENT_METHOD_TYPES]);

export function getPaymentMethod(st: SimState, id: string): ApiResult {
  const pm = st.paymentMethods.get(id);
  if (!pm) throw noSuch('PaymentMethod', id, 'payment_method');
  return ok(pm);
}

/**
 * The PaymentMethod a create / confirm request names, if any, checked: `get()` returns it,
 * creating and storing it on first call when it comes from `payment_method_data` (so a
 * request refused later creates nothing).
 */
export interface PaymentMethodChoice {
  type: PaymentMethodType;
  get(): PaymentMethodObj;
}

export function paymentMethodOf(st: SimState, p: FormObject): PaymentMethodChoice | undefined {
  const data = obj(p.payment_method_data);
  const id = str(p.payment_method);
  if (data && id !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: payment_method, payment_method_data.', {
      code: 'parameters_exclusive',
    });
  }
  if (id !== undefined) {
    const pm = st.paymentMethods.get(id);
    if (!pm) throw noSuch('PaymentMethod', id, 'payment_method');
    return { type: pm.type, get: () => pm };
  }
  return data ? newPaymentMethod(st, data) : undefined;
}

function newPaymentMethod(st: SimState, data: FormObject): PaymentMethodChoice {
  const type = str(data.type) ?? '';
  if (!PAYMENT_METHOD_TYPES.includes(type as PaymentMethodType)) {
    throw invalidRequest(
      `The Stripe simulator supports payment_method_data[type] wechat_pay and alipay only, not ${type}.`,
      { param: 'payment_method_data[type]', code: 'payment_method_unsupported_type' },
    );
  }
  for (const key of Object.keys(data)) {
    if (!KNOWN_KEYS.has(key)) {
      throw invalidRequest(`The Stripe simulator does not support payment_method_data[${key}].`, {
        param: `payment_method_data[${key}]`,
      });
    }
    if (PAYMENT_METHOD_TYPES.includes(key as PaymentMethodType) && key !== type) {
      throw paramError(
        `You passed payment_method_data[${key}] but payment_method_data[type] is ${type}.`,
        `payment_method_data[${key}]`,
      );
    }
  }
  const billing = obj(data.billing_details);
  const address = obj(billing?.address);
  const base = emptyAddress();
  const metadata = applyMetadata({}, data.metadata);
  let made: PaymentMethodObj | undefined;
  const make = (): PaymentMethodObj => ({
    id: newId('pm'),
    object: 'payment_method',
    billing_details: {
      address: address
        ? {
            city: str(address.city) ?? base.city,
            country: str(address.country) ?? base.country,
            line1: str(address.line1) ?? base.line1,
            line2: str(address.line2) ?? base.line2,
            postal_code: str(address.postal_code) ?? base.postal_code,
            state: str(address.state) ?? base.state,
          }
        : base,
      email: str(billing?.email) || null,
      name: str(billing?.name) || null,
      phone: str(billing?.phone) || null,
    },
    created: st.nowSeconds(),
    customer: null,
    livemode: false,
    metadata,
    type: type as PaymentMethodType,
    [type]: {},
  });
  return {
    type: type as PaymentMethodType,
    get: () => {
      if (!made) {
        made = make();
        st.paymentMethods.set(made.id, made);
      }
      return made;
    },
  };
}
