/**
 * Test helpers around the offline Stripe simulator (scripts/stripe-sim).
 *
 * Why: integration tests talk to "Stripe" over real HTTP with stripe-node, the same client the
 * adapters use, so the wire format (form encoding, headers, errors) is exercised for real.
 * `startSimForTest` starts the simulator in-process on a free loopback port and hands back a
 * stripe-node client pointed at it; `startWebhookReceiver` is a tiny HTTP endpoint that keeps
 * the raw bodies and `Stripe-Signature` headers it receives, so tests can verify them with
 * `stripe.webhooks.constructEvent` (https://docs.stripe.com/webhooks#verify-manually).
 */

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { type StripeSim, type StripeSimOptions, startStripeSim } from '../../scripts/stripe-sim/index.js';

export const TEST_WEBHOOK_SECRET = 'whsec_test_sim_secret';

export interface SimForTest {
  sim: StripeSim;
  stripe: Stripe;
  /** The signing secret the simulator uses. */
  webhookSecret: string;
  close(): Promise<void>;
}

/** Starts the simulator on 127.0.0.1:<free port> with fast webhook retries, and a client for it. */
export async function startSimForTest(opts: StripeSimOptions = {}): Promise<SimForTest> {
  const webhookSecret = opts.webhookSecret ?? TEST_WEBHOOK_SECRET;
  const sim = await startStripeSim({ webhookRetryBaseMs: 50, ...opts, webhookSecret, port: opts.port ?? 0 });
  const stripe = new Stripe('sk_test_sim', {
    host: '127.0.0.1',
    port: sim.port,
    protocol: 'http',
    maxNetworkRetries: 0,
    telemetry: false,
    timeout: 10_000,
  });
  return { sim, stripe, webhookSecret, close: () => sim.close() };
}

export interface ReceivedWebhook {
  rawBody: string;
  signature: string | undefined;
  headers: IncomingHttpHeaders;
  /** The HTTP status this receiver answered. */
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Status to answer for each next request, in order; 200 once the list is empty. */
  script: number[];
  close(): Promise<void>;
}

/** A local HTTP endpoint that records every delivery (raw body kept byte for byte). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = { url: '', received, script: [], close: async () => undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = receiver.script.shift() ?? 200;
      const sig = req.headers['stripe-signature'];
      received.push({
        rawBody: Buffer.concat(chunks).toString('utf8'),
        signature: Array.isArray(sig) ? sig[0] : sig,
        headers: req.headers,
        answered,
      });
      res.writeHead(answered, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ received: answered < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ------------------------------------------------------------------ request conformance (added for the gateway, handler and reliability suites)

let rawPaymentIntentsSubset: import('../../scripts/stripe-sim/index.js').Spec | undefined;

/**
 * The `/v1` requests the simulator accepted (2xx) that do not conform to the OpenAPI subset of
 * their operation, as one line each (empty = all conform). PaymentIntents operations (and
 * `POST /v1/refunds`) are checked against the PaymentIntents subset as published, without the
 * simulator's patches, except exactly its x-known-gaps: `allowed_payment_method_types` (a list of
 * wechat_pay / alipay) is allowed, and `payment_method_options[wechat_pay][client]` is checked
 * with the default `web` the pinned version applies. Other operations (sources, charges) are
 * checked against the Sources subset. The same rule as test/integration/stripe-sim-payment-intents.test.ts.
 */
export async function nonConformingRequests(
  sim: Pick<StripeSim, 'requests' | 'spec'>,
  records = sim.requests(),
): Promise<string[]> {
  if (!rawPaymentIntentsSubset) {
    const { findSpecPath, loadSpec, PAYMENT_INTENTS_SPEC_FILE } = await import('../../scripts/stripe-sim/openapi.js');
    const { Spec } = await import('../../scripts/stripe-sim/index.js');
    rawPaymentIntentsSubset = new Spec(loadSpec(findSpecPath({}, PAYMENT_INTENTS_SPEC_FILE)));
  }
  const pis = rawPaymentIntentsSubset;
  const problems: string[] = [];
  for (const r of records) {
    if (r.status >= 300) continue;
    const onPis = pis.doc.paths[r.specPath]?.[r.method.toLowerCase()] !== undefined;
    const params = structuredClone(r.params) as Record<string, unknown>;
    try {
      if (onPis) {
        const allowed = params.allowed_payment_method_types;
        if (allowed !== undefined) {
          if (!Object.values(allowed as object).every((v) => v === 'wechat_pay' || v === 'alipay')) {
            problems.push(`${r.method} ${r.path}: allowed_payment_method_types ${JSON.stringify(allowed)}`);
          }
          delete params.allowed_payment_method_types;
        }
        const options = params.payment_method_options as { wechat_pay?: Record<string, unknown> } | undefined;
        const wechat = options?.wechat_pay;
        if (wechat && typeof wechat === 'object' && wechat.client === undefined) wechat.client = 'web';
        pis.validateRequest(r.method, r.specPath, params as never);
      } else {
        sim.spec.validateRequest(r.method, r.specPath, params as never);
      }
    } catch (e) {
      problems.push(`${r.method} ${r.path}: ${(e as Error).message}`);
    }
  }
  return problems;
}
