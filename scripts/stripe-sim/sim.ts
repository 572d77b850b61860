/**
 * The Stripe simulator: a stateful, offline stand-in for the slice of Stripe the orchestrator
 * uses, over real HTTP with stripe-node as the client, for tests and the local sandbox:
 * - the legacy Sources API for WeChat Pay and Alipay: sources, charges, refunds
 *   (https://docs.stripe.com/sources/wechat-pay , https://docs.stripe.com/sources/alipay);
 * - PaymentIntents with wechat_pay and alipay, at the API version stripe-node 23.1 pins
 *   (https://docs.stripe.com/payments/wechat-pay/accept-a-payment ,
 *   https://docs.stripe.com/payments/alipay/accept-a-payment);
 * - events and signed, retried webhooks (https://docs.stripe.com/webhooks), idempotent
 *   requests (https://docs.stripe.com/api/idempotent_requests), injected faults, expiries on
 *   an advanceable clock, the customer's authorization pages, and test controls.
 *
 * Why a simulator and not mocks: the orchestrator's correctness lives at the edges (expiries,
 * at-least-once webhooks, idempotent retries, 429/500 answers, a payment made twice), and
 * those edges are Stripe's behaviour. Every `/v1` request is validated against the OpenAPI
 * subsets in `scripts/stripe-sim/spec/`, every answer checked against their schemas.
 *
 * Where things are: server.ts (the request pipeline), routes.ts (the `/v1` table),
 * resources/ (one module per resource), state.ts (stores, events), controls.ts (`/_sim`),
 * customer-pages.ts (authorize pages, QR images), options.ts (the public types). This module
 * wires them and implements the `StripeSim` interface.
 */

import { clockInfo, handleControl } from './controls.js';
import { handleCustomerPage } from './customer-pages.js';
import { mergeFaults } from './faults.js';
import { applyKnownGaps, readKnownGaps } from './gaps.js';
import { type ChargeObj, clone, isSourceCharge, type RefundObj, type SourceObj } from './objects.js';
import { findSpecPath, loadSpec, PAYMENT_INTENTS_SPEC_FILE, Spec } from './openapi.js';
import type { ChargeOutcome, FaultSettings, StripeSim, StripeSimOptions } from './options.js';
import type { PaymentIntentChargeObj, PaymentIntentObj, PaymentMethodObj } from './payment-intent-objects.js';
import { failCharge, succeedCharge } from './resources/charge-settlement.js';
import * as attempts from './resources/payment-intent-attempts.js';
import * as sources from './resources/sources.js';
import type { Specs } from './responses.js';
import { buildRoutes } from './routes.js';
import { ApiServer } from './server.js';
import { SimState } from './state.js';

export type {
  ApiRequestRecord,
  ChargeOutcome,
  FaultMode,
  FaultSettings,
  StripeSim,
  StripeSimOptions,
} from './options.js';
export { FAULT_MODES } from './options.js';

export async function startStripeSim(opts: StripeSimOptions = {}): Promise<StripeSim> {
  const sim = new Simulator(opts);
  await sim.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  return sim;
}

/** The PaymentIntents subset with its known gaps applied (cached per path: the file is large). */
const piSpecs = new Map<string, Spec>();
function paymentIntentsSpec(path: string): Spec {
  let spec = piSpecs.get(path);
  if (!spec) {
    const raw = loadSpec(path);
    const patched = applyKnownGaps(raw, readKnownGaps(raw));
    spec = new Spec(patched.doc, patched.options);
    piSpecs.set(path, spec);
  }
  return spec;
}

class Simulator implements StripeSim {
  url = '';
  port = 0;
  readonly spec: Spec;
  readonly paymentIntentsSpec: Spec;
  private readonly st: SimState;
  private readonly server: ApiServer;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: StripeSimOptions) {
    const expiry = opts.paymentAttemptExpirySeconds;
    if (expiry !== undefined && !(Number.isFinite(expiry) && expiry > 0)) {
      throw new RangeError(`stripe-sim: paymentAttemptExpirySeconds must be a number > 0, got ${expiry}`);
    }
    this.spec = new Spec(loadSpec(opts.specPath));
    this.paymentIntentsSpec = paymentIntentsSpec(
      opts.paymentIntentsSpecPath ?? findSpecPath(process.env, PAYMENT_INTENTS_SPEC_FILE),
    );
    this.st = new SimState(opts, this.spec.apiVersion, opts.log ?? (() => undefined));
    const specs: Specs = { sources: this.spec, paymentIntents: this.paymentIntentsSpec };
    this.server = new ApiServer({
      state: this.st,
      specs,
      routes: buildRoutes(this.st, specs),
      random: opts.random ?? Math.random,
      validateResponses: opts.validateResponses ?? true,
      runExpiries: () => this.runExpiries(),
      pages: (req, res, url) => handleCustomerPage(this.st, req, res, url),
      controls: (req, res, url) => handleControl({ sim: this, st: this.st, state: () => this.state() }, req, res, url),
    });
  }

  async listen(port: number, host: string): Promise<void> {
    const bound = await this.server.listen(port, host);
    this.port = bound.port;
    this.url = bound.url;
    this.st.url = bound.url;
    const interval = this.opts.expiryIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.runExpiries(), interval);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.st.sender.close();
    await this.server.close();
  }

  async advance(seconds: number): Promise<void> {
    if (typeof this.st.clock.advance !== 'function') throw new Error('stripe-sim: this clock cannot be advanced');
    this.st.clock.advance(seconds);
    this.runExpiries();
  }

  setWebhookUrl(url: string | undefined): void {
    this.st.webhookUrl = url || undefined;
  }

  now(): Date {
    return this.st.clock.now();
  }

  sources(): SourceObj[] {
    return [...this.st.sources.values()].map((r) => clone(r.obj));
  }

  charges(): ChargeObj[] {
    return [...this.st.charges.values()].filter(isSourceCharge).map((c) => clone(c));
  }

  paymentIntentCharges(): PaymentIntentChargeObj[] {
    return [...this.st.charges.values()]
      .filter((c): c is PaymentIntentChargeObj => !isSourceCharge(c))
      .map((c) => clone(c));
  }

  refunds(): RefundObj[] {
    return [...this.st.refunds.values()].map((r) => clone(r));
  }

  events() {
    return [...this.st.events.values()].map((e) => clone(e));
  }

  deliveries() {
    return this.st.deliveries.map((d) => ({ ...d }));
  }

  requests() {
    return this.st.requests.map((r) => clone(r));
  }

  paymentIntents(): PaymentIntentObj[] {
    return [...this.st.paymentIntents.values()].map((r) => clone(r.obj));
  }

  paymentMethods(): PaymentMethodObj[] {
    return [...this.st.paymentMethods.values()].map((pm) => clone(pm));
  }

  faults(): FaultSettings {
    return clone(this.st.faults);
  }

  setFaults(f: Partial<FaultSettings>): FaultSettings {
    this.st.faults = mergeFaults(this.st.faults, f);
    return this.faults();
  }

  webhooksIdle(): Promise<void> {
    return this.st.sender.idle();
  }

  reset(): void {
    this.st.reset();
  }

  runExpiries(): void {
    sources.expireSources(this.st);
    attempts.expireAttempts(this.st, this.opts.paymentAttemptExpirySeconds);
    this.st.sweepIdempotencyKeys();
  }

  authorizeSource(id: string, o: { chargeOutcome?: ChargeOutcome; failureCode?: string } = {}): SourceObj {
    return sources.authorizeSource(this.st, id, o);
  }

  failSource(id: string): SourceObj {
    return sources.failSource(this.st, id);
  }

  cancelSource(id: string): SourceObj {
    return sources.cancelSource(this.st, id);
  }

  setChargeOutcome(id: string, outcome: ChargeOutcome, failureCode?: string): void {
    sources.setChargeOutcome(this.st, id, outcome, failureCode);
  }

  succeedCharge(id: string): ChargeObj {
    return succeedCharge(this.st, id);
  }

  failCharge(id: string, failureCode?: string): ChargeObj {
    return failCharge(this.st, id, failureCode);
  }

  authorizePaymentIntent(id: string, o: { processing?: boolean } = {}): PaymentIntentObj {
    return attempts.authorizePaymentIntent(this.st, id, o);
  }

  failPaymentIntent(id: string): PaymentIntentObj {
    return attempts.failPaymentIntent(this.st, id);
  }

  expirePaymentAttempt(id: string): PaymentIntentObj {
    return attempts.expirePaymentAttempt(this.st, id);
  }

  succeedPaymentIntent(id: string): PaymentIntentObj {
    return attempts.succeedPaymentIntent(this.st, id);
  }

  failProcessingPaymentIntent(id: string): PaymentIntentObj {
    return attempts.failProcessingPaymentIntent(this.st, id);
  }

  private state(): unknown {
    return {
      clock: clockInfo(this.st),
      url: this.url,
      webhook_url: this.st.webhookUrl ?? null,
      faults: this.faults(),
      sources: this.sources(),
      expiries: sources.sourceExpiries(this.st),
      charges: this.charges(),
      refunds: this.refunds(),
      payment_intents: this.paymentIntents(),
      payment_intent_charges: this.paymentIntentCharges(),
      payment_methods: this.paymentMethods(),
      payment_attempt_expiries: attempts.attemptExpiries(this.st, this.opts.paymentAttemptExpirySeconds),
      events: this.events(),
      deliveries: this.deliveries(),
      requests: this.st.requests.slice(-200),
    };
  }
}
