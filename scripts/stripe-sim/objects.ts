/**
 * The API objects the simulator hands out: sources, charges, refunds, events, and the
 * PaymentIntent / PaymentMethod objects of payment-intent-objects.ts.
 *
 * Why: the orchestrator parses these objects (from API responses and from webhook payloads),
 * so they must have the fields, types and nullability of Stripe's: the shapes follow the
 * `source`, `charge`, `refund` and `event` schemas of the OpenAPI subsets and the example
 * objects in `scripts/stripe-sim/spec/stripe-fixtures-subset.json` and
 * `stripe-payment-intents-fixtures.json` (checked by `Spec.conformsTo` in the tests). Real
 * charges of sources carry `source` (the Source object charged) although the 2023 `charge`
 * schema omits it; so do these. Charges of PaymentIntents carry `source: null`.
 * https://docs.stripe.com/api/sources/object · https://docs.stripe.com/api/charges/object
 * https://docs.stripe.com/api/refunds/object · https://docs.stripe.com/api/events/object
 * IDs look like Stripe's: a prefix and 24 random alphanumerics (https://docs.stripe.com/api/ids).
 */

import { randomInt } from 'node:crypto';
import type { PaymentIntentChargeObj, PaymentIntentObj } from './payment-intent-objects.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

export function newId(prefix: 'src' | 'ch' | 're' | 'evt' | 'txn' | 'req' | 'pi' | 'pm'): string {
  return `${prefix}_${randomAlnum(prefix === 'req' ? 14 : 24)}`;
}

export type SourceType = 'wechat' | 'alipay';
export type SourceStatus = 'pending' | 'chargeable' | 'consumed' | 'failed' | 'canceled';
export type ChargeStatus = 'succeeded' | 'pending' | 'failed';

export interface AddressObj {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface OwnerObj {
  address: AddressObj | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  verified_address: AddressObj | null;
  verified_email: string | null;
  verified_name: string | null;
  verified_phone: string | null;
}

export interface SourceObj {
  id: string;
  object: 'source';
  allow_redisplay: null;
  amount: number | null;
  client_secret: string;
  created: number;
  currency: string | null;
  flow: 'none' | 'redirect';
  livemode: false;
  metadata: Record<string, string>;
  owner: OwnerObj;
  redirect?: { failure_reason: string | null; return_url: string; status: string; url: string };
  statement_descriptor: string | null;
  status: SourceStatus;
  type: SourceType;
  usage: 'single_use';
  wechat?: { qr_code_url: string | null; statement_descriptor?: string; prepay_id?: string };
  alipay?: { data_string: string | null; native_url: string | null; statement_descriptor: string | null };
}

export interface RefundObj {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string | null;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  /** The PaymentIntent of the refunded charge; null for a charge of a source. */
  payment_intent: string | null;
  reason: string | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: 'succeeded' | 'pending' | 'failed';
  transfer_reversal: null;
  /** Fields added after API 2023-08-16 (x-known-gaps), present on refunds of PaymentIntents only. */
  customer?: null;
  customer_account?: null;
  payment_method?: string | null;
}

export interface ChargeOutcomeObj {
  network_status: string | null;
  reason: string | null;
  risk_level: string;
  seller_message: string | null;
  type: string;
}

export interface ChargeObj {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application: null;
  application_fee: null;
  application_fee_amount: null;
  balance_transaction: string | null;
  billing_details: {
    address: AddressObj | null;
    email: string | null;
    name: string | null;
    phone: string | null;
  };
  calculated_statement_descriptor: string | null;
  captured: boolean;
  created: number;
  currency: string;
  customer: null;
  description: string | null;
  disputed: boolean;
  failure_balance_transaction: null;
  failure_code: string | null;
  failure_message: string | null;
  fraud_details: Record<string, string>;
  invoice: null;
  livemode: false;
  metadata: Record<string, string>;
  on_behalf_of: null;
  outcome: ChargeOutcomeObj | null;
  paid: boolean;
  payment_intent: null;
  payment_method: string | null;
  payment_method_details: Record<string, unknown> | null;
  receipt_email: string | null;
  receipt_number: null;
  receipt_url: string | null;
  refunded: boolean;
  refunds?: { object: 'list'; data: RefundObj[]; has_more: boolean; total_count: number; url: string };
  review: null;
  shipping: null;
  source: SourceObj;
  source_transfer: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: null;
  status: ChargeStatus;
  transfer_data: null;
  transfer_group: string | null;
}

export type EventType =
  | 'source.chargeable'
  | 'source.failed'
  | 'source.canceled'
  | 'charge.succeeded'
  | 'charge.failed'
  | 'charge.pending'
  | 'charge.refunded'
  | 'payment_intent.requires_action'
  | 'payment_intent.processing'
  | 'payment_intent.succeeded'
  | 'payment_intent.payment_failed'
  | 'payment_intent.canceled';

/** A charge of either API: of a source (`source` set) or of a PaymentIntent (`payment_intent` set). */
export type AnyChargeObj = ChargeObj | PaymentIntentChargeObj;

export interface EventObj {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: SourceObj | ChargeObj | PaymentIntentObj | PaymentIntentChargeObj };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: EventType;
}

export function emptyOwner(): OwnerObj {
  return {
    address: null,
    email: null,
    name: null,
    phone: null,
    verified_address: null,
    verified_email: null,
    verified_name: null,
    verified_phone: null,
  };
}

export function emptyAddress(): AddressObj {
  return { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
}

/** Whether a charge is one of a source (Sources API) rather than of a PaymentIntent. */
export function isSourceCharge(ch: AnyChargeObj): ch is ChargeObj {
  return ch.source !== null;
}

/** Deep copy of a JSON object (snapshots for events, copies for accessors). */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Currencies without minor units (amounts are whole units), for display. */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

/** `12345, 'cny'` → `123.45 CNY`. https://docs.stripe.com/currencies#zero-decimal */
export function formatAmount(amount: number, currency: string): string {
  const c = currency.toLowerCase();
  if (ZERO_DECIMAL.has(c)) return `${amount} ${c.toUpperCase()}`;
  return `${(amount / 100).toFixed(2)} ${c.toUpperCase()}`;
}
