/**
 * The `/v1` routing table: method, path, the OpenAPI operation that validates it, and the
 * resource handler that runs it. To find what the simulator does on a call, find its line here
 * and open the handler's module in resources/.
 *
 * Sources API calls are validated against `scripts/stripe-sim/spec/stripe-sources-subset.openapi.json`;
 * PaymentIntents, PaymentMethods and `POST /v1/refunds` against
 * `stripe-payment-intents-subset.openapi.json` with its known gaps applied (gaps.ts). The two
 * subsets describe `POST /v1/refunds` and `GET /v1/events/{id}` identically.
 * https://docs.stripe.com/api
 */

import { ok } from './params.js';
import { createCharge, getCharge, listCharges, renderCharge, updateCharge } from './resources/charges.js';
import { getEvent } from './resources/events.js';
import {
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  retrievePaymentIntent,
} from './resources/payment-intents.js';
import { getPaymentMethod } from './resources/payment-methods.js';
import { createRefund, listRefunds } from './resources/refunds.js';
import { createSource, getSource, updateSource } from './resources/sources.js';
import type { Specs } from './responses.js';
import { type Route, route } from './server.js';
import type { SimState } from './state.js';

const ID = '([^/]+)';

export function buildRoutes(st: SimState, specs: Specs): Route[] {
  const src = specs.sources;
  const pis = specs.paymentIntents;
  return [
    route('POST', '/v1/sources', src, '/v1/sources', (ctx) => createSource(st, ctx)),
    route('GET', `/v1/sources/${ID}`, src, '/v1/sources/{source}', (_ctx, id) => ok(getSource(st, id, 'id').obj)),
    route('POST', `/v1/sources/${ID}`, src, '/v1/sources/{source}', (ctx, id) => updateSource(st, ctx, id)),
    route('POST', '/v1/charges', src, '/v1/charges', (ctx) => createCharge(st, ctx)),
    route('GET', '/v1/charges', src, '/v1/charges', (ctx) => listCharges(st, ctx)),
    route('GET', `/v1/charges/${ID}`, src, '/v1/charges/{charge}', (ctx, id) =>
      ok(renderCharge(st, getCharge(st, id, 'id'), ctx.params)),
    ),
    route('POST', `/v1/charges/${ID}`, src, '/v1/charges/{charge}', (ctx, id) => updateCharge(st, ctx, id)),
    route('POST', '/v1/refunds', pis, '/v1/refunds', (ctx) => createRefund(st, ctx)),
    route('GET', '/v1/refunds', src, '/v1/refunds', (ctx) => listRefunds(st, ctx)),
    route('GET', `/v1/events/${ID}`, src, '/v1/events/{id}', (_ctx, id) => getEvent(st, id)),
    route('POST', '/v1/payment_intents', pis, '/v1/payment_intents', (ctx) => createPaymentIntent(st, ctx)),
    route('GET', `/v1/payment_intents/${ID}`, pis, '/v1/payment_intents/{intent}', (ctx, id) =>
      retrievePaymentIntent(st, ctx, id),
    ),
    route('POST', `/v1/payment_intents/${ID}/confirm`, pis, '/v1/payment_intents/{intent}/confirm', (ctx, id) =>
      confirmPaymentIntent(st, ctx, id),
    ),
    route('POST', `/v1/payment_intents/${ID}/cancel`, pis, '/v1/payment_intents/{intent}/cancel', (ctx, id) =>
      cancelPaymentIntent(st, ctx, id),
    ),
    route('GET', `/v1/payment_methods/${ID}`, pis, '/v1/payment_methods/{payment_method}', (_ctx, id) =>
      getPaymentMethod(st, id),
    ),
  ];
}
