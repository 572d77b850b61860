/**
 * Which schema checks which answer: every object the simulator answers (and every event's
 * `data.object`) is checked against Stripe's schema for its `object` type before it leaves.
 *
 * Why: the orchestrator parses these objects; a field with the wrong type or a missing one
 * must fail here, in the simulator's tests, not against real Stripe. Objects of the Sources
 * API (sources, their charges and refunds) are checked against
 * `scripts/stripe-sim/spec/stripe-sources-subset.openapi.json` as before; PaymentIntents,
 * PaymentMethods and the charges and refunds of PaymentIntents against the strict
 * PaymentIntents subset (known gaps tolerated, nothing else extra: gaps.ts).
 * https://docs.stripe.com/api/payment_intents/object · https://docs.stripe.com/api/events/object
 */

import type { Spec } from './openapi.js';

export interface Specs {
  sources: Spec;
  paymentIntents: Spec;
}

/** Problems (empty when fine) of an answer body: an object, a list of objects, or an error. */
export function checkAnswer(specs: Specs, body: unknown): string[] {
  if (body === null || typeof body !== 'object') return [];
  const o = body as { object?: unknown; data?: unknown; error?: { payment_intent?: unknown } };
  if (o.object === 'list' && Array.isArray(o.data)) return o.data.flatMap((item) => checkObject(specs, item));
  if (o.error && typeof o.error === 'object' && o.error.payment_intent !== undefined) {
    return specs.paymentIntents.conformsTo('payment_intent', o.error.payment_intent);
  }
  return checkObject(specs, body);
}

/** Problems of one API object, chosen by its `object` type; events include their `data.object`. */
export function checkObject(specs: Specs, value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  const o = value as { object?: unknown; payment_intent?: unknown; data?: { object?: unknown } };
  switch (o.object) {
    case 'source':
      return specs.sources.conformsTo('source', value);
    case 'charge':
    case 'refund':
      return typeof o.payment_intent === 'string'
        ? specs.paymentIntents.conformsTo(o.object, value)
        : specs.sources.conformsTo(o.object, value);
    case 'payment_intent':
    case 'payment_method':
      return specs.paymentIntents.conformsTo(o.object, value);
    case 'event':
      return [
        ...specs.sources.conformsTo('event', value),
        ...checkObject(specs, o.data?.object).map((p) => `event data: ${p}`),
      ];
    default:
      return [];
  }
}
