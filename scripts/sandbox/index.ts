/**
 * `npm start`: the whole system offline on loopback. Ctrl-C stops everything it started.
 * Settings (environment): PORT (3000), STRIPE_SIM_PORT (12111), LOCAL_API_KEY (local-dev-key),
 * STRIPE_WEBHOOK_SECRET (whsec_local_sandbox), AWS_ENDPOINT_URL (default: a moto it starts),
 * STRIPE_SECRET_KEY=sk_test_… with STRIPE_WEBHOOK_SECRET for Stripe test mode instead of the simulator.
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
line('AWS endpoint', sandbox.awsEndpoint);
line('Clock', `POST ${sandbox.url}/_local/clock/advance {"seconds":3601}`);
line('Schedules', `GET  ${sandbox.url}/_local/schedules`);
console.log('\nTry it:');
console.log(
  `  curl -s -X POST ${sandbox.url}/orders -H 'x-api-key: ${sandbox.apiKey}' -H 'content-type: application/json' \\\n` +
    `       -d '{"amount":1099,"currency":"usd","paymentMethod":"wechat"}'`,
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
