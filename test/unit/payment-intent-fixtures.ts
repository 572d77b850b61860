/**
 * Stripe's PaymentIntents example objects (wechat_pay, alipay) kept beside the simulator:
 * scripts/stripe-sim/spec/stripe-payment-intents-fixtures.json, or the shared reference copy
 * when the repository's is absent. The `x-` keys (how each example was built) are stripped, so
 * what the tests see is what Stripe sends.
 */
import { existsSync, readFileSync } from 'node:fs';

const FILE = 'stripe-payment-intents-fixtures.json';
const CANDIDATES = [
  new URL(`../../scripts/stripe-sim/spec/${FILE}`, import.meta.url).pathname,
  `/work/shared/stripe/${FILE}`,
];

const stripX = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(stripX);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !k.startsWith('x-'))
        .map(([k, x]) => [k, stripX(x)]),
    );
  return v;
};

function load(): Record<string, Record<string, unknown>> {
  const path = CANDIDATES.find((p) => existsSync(p));
  if (!path) throw new Error(`${FILE} not found in ${CANDIDATES.join(' or ')}`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as { examples: Record<string, Record<string, unknown>> };
  return stripX(json.examples) as Record<string, Record<string, unknown>>;
}

const EXAMPLES = load();

/** A deep copy of one example (`event_payment_intent_succeeded`, `payment_intent_alipay_requires_action`, …). */
export function example<T = Record<string, unknown>>(name: string): T {
  const e = EXAMPLES[name];
  if (!e) throw new Error(`no example ${name} in ${FILE}`);
  return structuredClone(e) as T;
}
