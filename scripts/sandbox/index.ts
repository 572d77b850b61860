/**
 * `npm start`: the whole system offline on loopback. Ctrl-C stops everything it started.
 * Settings (environment): PORT (3000), STRIPE_SIM_PORT (12111), LOCAL_API_KEY (local-dev-key),
 * STRIPE_WEBHOOK_SECRET (whsec_local_sandbox), AWS_ENDPOINT_URL (default: a moto it starts),
 * STRIPE_SECRET_KEY=sk_test_… with STRIPE_WEBHOOK_SECRET for Stripe test mode instead of the simulator,
 * and the functions' payment settings PAYMENT_API (payment_intents | sources; default
 * payment_intents), PAYMENT_EXPIRY_SECONDS (300 to 7200; default 3600) and WECHAT_APP_ID (none).
 */
import { startSandbox } from './start.js';

const t0 = Date.now();
const sandbox = await startSandbox().catch((e: Error) => {
  console.error(`\nThe sandbox could not start: ${e.message}`);
  process.exit(1);
});

const line = (k: string, v: string) => console.log(`  ${k.padEnd(22)} ${v}`);
console.log(`\nOrder orchestrator sandbox — ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
line('Demo storefront', `${sandbox.url}/`);
line('Operator view', `${sandbox.url}/demo/operator`);
line('Storefront API', `${sandbox.url}/orders   (header x-api-key: ${sandbox.apiKey})`);
line('Stripe webhook', `${sandbox.url}/webhooks/stripe`);
line('Webhook secret', sandbox.webhookSecret);
line(
  'Stripe',
  sandbox.simUrl
    ? `simulator ${sandbox.simUrl}  (controls: ${sandbox.simUrl}/_sim/state)`
    : 'Stripe test mode (your STRIPE_SECRET_KEY)',
);
line('Payment API', `${sandbox.payment.api}  (PAYMENT_API; an order's "stripeApi" picks payment_intents or sources)`);
line(
  'Unpaid expiry',
  `${sandbox.payment.expirySeconds} s for PaymentIntents orders (PAYMENT_EXPIRY_SECONDS); 1 h for sources`,
);
line(
  'WeChat app id',
  sandbox.payment.wechatAppId
    ? `${sandbox.payment.wechatAppId}  (WECHAT_APP_ID: "client":"ios"|"android" allowed)`
    : 'none (WECHAT_APP_ID; WeChat Pay in a browser only)',
);
if (sandbox.simUrl) {
  line('Customer (sources)', `POST ${sandbox.simUrl}/_sim/sources/{id}/authorize · /fail · /cancel`);
  line(
    'Customer (intents)',
    `POST ${sandbox.simUrl}/_sim/payment_intents/{id}/authorize · /fail · /expire  ({"processing":true}: via processing)`,
  );
}
line('AWS endpoint', sandbox.awsEndpoint);
const expires = sandbox.payment.api === 'sources' ? 3600 : sandbox.payment.expirySeconds;
line('Clock', `POST ${sandbox.url}/_local/clock/advance {"seconds":${expires + 1}}   (an unpaid order expires)`);
line('Schedules', `GET  ${sandbox.url}/_local/schedules`);
console.log('\nTry it:');
console.log(
  `  curl -s -X POST ${sandbox.url}/orders -H 'x-api-key: ${sandbox.apiKey}' -H 'content-type: application/json' \\\n` +
    `       -d '{"amount":1099,"currency":"usd","paymentMethod":"wechat"}'`,
);
console.log(
  `  (add "stripeApi":"${sandbox.payment.api === 'sources' ? 'payment_intents' : 'sources'}" for the other Stripe API)`,
);
console.log('\nCtrl-C to stop.\n');

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await sandbox.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
