/**
 * `npm run stripe:sim`: the Stripe simulator as a standalone server.
 *
 * Why: to point anything that speaks Stripe (the sandbox, `sam local`, curl, stripe-node with
 * `host`/`port`/`protocol: 'http'`) at an offline Stripe. Configuration from the environment:
 * - STRIPE_SIM_PORT (default 12111), STRIPE_SIM_HOST (default 127.0.0.1)
 * - STRIPE_SIM_WEBHOOK_URL: where signed webhooks go (none when unset; `POST /_sim/webhook` sets it later)
 * - STRIPE_WEBHOOK_SECRET: signing secret (default whsec_local_sandbox)
 * - STRIPE_SIM_PUBLIC_URL: base URL of the QR code / redirect pages (default: the server's URL)
 * - STRIPE_OPENAPI_PATH / STRIPE_PI_OPENAPI_PATH: the Sources / PaymentIntents OpenAPI subsets
 *   (default: the copies in `scripts/stripe-sim/spec/`)
 * - STRIPE_SIM_PAYMENT_ATTEMPT_EXPIRY_SECONDS: a PaymentIntent's payment attempt nobody
 *   authorized or declined expires after this (default: never)
 * Signing follows https://docs.stripe.com/webhooks#verify-manually.
 */

import { startStripeSim } from './index.js';

const env = process.env;
const port = Number(env.STRIPE_SIM_PORT ?? 12111);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`STRIPE_SIM_PORT must be a port number, got ${env.STRIPE_SIM_PORT}`);
  process.exit(2);
}

const sim = await startStripeSim({
  port,
  host: env.STRIPE_SIM_HOST ?? '127.0.0.1',
  webhookUrl: env.STRIPE_SIM_WEBHOOK_URL || undefined,
  webhookSecret: env.STRIPE_WEBHOOK_SECRET || 'whsec_local_sandbox',
  publicBaseUrl: env.STRIPE_SIM_PUBLIC_URL || undefined,
  paymentAttemptExpirySeconds: env.STRIPE_SIM_PAYMENT_ATTEMPT_EXPIRY_SECONDS
    ? Number(env.STRIPE_SIM_PAYMENT_ATTEMPT_EXPIRY_SECONDS)
    : undefined,
  log: (line) => console.log(`[stripe-sim] ${line}`),
});

console.log(`Stripe simulator listening on ${sim.url}`);
console.log(`  API:      ${sim.url}/v1 (any sk_test_... key)`);
console.log(`  webhooks: ${env.STRIPE_SIM_WEBHOOK_URL || '(none; POST /_sim/webhook {"url": ...})'}`);
console.log(`  state:    ${sim.url}/_sim/state`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
