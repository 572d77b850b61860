/**
 * The PaymentIntents path end to end over HTTP, against a sandbox this file starts with its
 * default settings but a shorter unpaid expiry (PAYMENT_EXPIRY_SECONDS 600): the storefront API,
 * the Stripe simulator's customer pages and controls (`/_sim/payment_intents/{id}/…`), and the
 * sandbox clock — the documented endpoints only. Every money outcome is checked on the simulator's
 * side too: the PaymentIntent's status, its charges and their refunds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentEnv, type Sandbox, sandboxPaymentSettings, startSandbox } from '../../scripts/sandbox/start.js';
import { type IntentOrderJson, type IntentPaymentJson, SandboxClient } from '../support/sandbox-client.js';

const EXPIRY_SECONDS = 600;

let sandbox: Sandbox;
let c: SandboxClient;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    simPort: 0,
    quiet: true,
    prefix: 'e2e-pi',
    paymentExpirySeconds: EXPIRY_SECONDS,
  });
  c = new SandboxClient(sandbox.url, sandbox.simUrl ?? '', sandbox.apiKey);
});

afterAll(async () => {
  await sandbox?.stop();
});

const WECHAT = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };
const ALIPAY = {
  amount: 5000,
  currency: 'cny',
  paymentMethod: 'alipay',
  returnUrl: 'https://shop.example/return?cart=7',
};

/**
 * What the customer does on the page the QR code or the redirect leads to (the simulator's
 * Authorize / Decline page for the PaymentIntent): load it, then press the button.
 */
async function customer(pageUrl: string, action: 'authorize' | 'decline'): Promise<Response> {
  const page = await fetch(pageUrl);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(`id="${action}"`);
  return fetch(pageUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `action=${action}`,
  });
}

const timersOf = async (orderId: string) =>
  (await c.schedules()).filter((s) => s.name.startsWith(`${orderId}-`)).map((s) => s.name);

/** The order's timers once its effects have run (they follow the write the status comes from). */
async function timersBecome(orderId: string, expected: string[], timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < end) {
    last = await timersOf(orderId);
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  expect(last, `timers of ${orderId}`).toEqual(expected);
}

/** Polls the simulator until its PaymentIntent is `status` (webhook effects run after the order is written). */
async function intentBecomes(paymentIntentId: string, status: string, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  let last: Awaited<ReturnType<SandboxClient['intent']>> | undefined;
  while (Date.now() < end) {
    last = await c.intent(paymentIntentId);
    if (last.intent?.status === status) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`PaymentIntent ${paymentIntentId} never became ${status}; last: ${JSON.stringify(last?.intent)}`);
}

const wait = (o: IntentOrderJson, status: string, timeoutMs?: number) =>
  c.waitStatus<IntentPaymentJson>(o.id, status, timeoutMs);

const types = (o: { history: { type: string }[] }) => o.history.map((h) => h.type);

describe('PaymentIntents end to end', () => {
  it('is the default API; the order expires PAYMENT_EXPIRY_SECONDS after creation, on its -pending timer', async () => {
    expect(sandbox.payment).toEqual({ api: 'payment_intents', expirySeconds: EXPIRY_SECONDS, wechatAppId: undefined });
    const o = await c.createOrder<IntentPaymentJson>(WECHAT);
    expect(o.status).toBe('pending');
    expect(o.payment.api).toBe('payment_intents');
    expect(o.payment.paymentIntentId).toMatch(/^pi_/);
    expect(Date.parse(o.pendingExpiresAt) - Date.parse(o.createdAt)).toBe(EXPIRY_SECONDS * 1000);
    await timersBecome(o.id, [`${o.id}-pending`]);
    // Scheduler's at() has whole seconds: the timer fires within the second after the expiry.
    const timer = (await c.schedules()).find((s) => s.name === `${o.id}-pending`);
    const late = Date.parse(timer?.at ?? '') - Date.parse(o.pendingExpiresAt);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    const { intent } = await c.intent(o.payment.paymentIntentId);
    expect(intent?.status).toBe('requires_action');
    expect(intent?.metadata.order_id).toBe(o.id);
  });

  it('WeChat Pay: QR code → the customer authorizes → paid, with exactly one succeeded charge', async () => {
    const o = await c.createIntentOrder(WECHAT);
    // The QR code encodes the simulator's customer page; Stripe's PNG and hosted page come too.
    expect(o.payment.qrCodeData).toMatch(new RegExp(`^${sandbox.simUrl}/authorize/${o.payment.paymentIntentId}\\b`));
    expect(o.payment.qrCodeImageDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(o.payment.hostedInstructionsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(o.payment.redirectUrl).toBeUndefined();

    const scanned = await customer(o.payment.qrCodeData ?? '', 'authorize');
    expect(scanned.status).toBe(200);
    const paid = await wait(o, 'paid');
    expect(types(paid)).toContain('payment_intent.succeeded');

    const sim = await c.intent(o.payment.paymentIntentId);
    expect(sim.intent?.status).toBe('succeeded');
    expect(sim.intent?.amount_received).toBe(WECHAT.amount);
    expect(sim.charges).toHaveLength(1);
    expect(sim.charges[0]?.status).toBe('succeeded');
    expect(paid.chargeId).toBe(sim.charges[0]?.id);
    expect(sim.refunds).toEqual([]);
    await timersBecome(o.id, []);
  });

  it('Alipay: redirect → the customer authorizes → back on returnUrl with payment_intent, its client secret and redirect_status → paid', async () => {
    const o = await c.createIntentOrder(ALIPAY);
    expect(o.payment.redirectUrl).toMatch(new RegExp(`^${sandbox.simUrl}/authorize/${o.payment.paymentIntentId}\\b`));
    expect(o.payment.qrCodeData).toBeUndefined();

    const res = await customer(o.payment.redirectUrl ?? '', 'authorize');
    expect([302, 303]).toContain(res.status);
    const back = new URL(res.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('https://shop.example/return');
    expect(back.searchParams.get('cart')).toBe('7');
    expect(back.searchParams.get('payment_intent')).toBe(o.payment.paymentIntentId);
    expect(back.searchParams.get('payment_intent_client_secret')).toMatch(
      new RegExp(`^${o.payment.paymentIntentId}_secret_`),
    );
    expect(back.searchParams.get('redirect_status')).toBe('succeeded');

    await wait(o, 'paid');
    const sim = await c.intent(o.payment.paymentIntentId);
    expect(sim.charges.filter((ch) => ch.status === 'succeeded')).toHaveLength(1);
    expect(sim.refunds).toEqual([]);
  });

  it('decline on the customer page → failed (declined), and the PaymentIntent is canceled so nobody pays later', async () => {
    const o = await c.createIntentOrder(WECHAT);
    await customer(o.payment.qrCodeData ?? '', 'decline');
    const failed = await wait(o, 'failed');
    expect(failed.failureReason).toBe('declined');
    expect(types(failed)).toContain('payment_intent.payment_failed');
    const sim = await intentBecomes(o.payment.paymentIntentId, 'canceled');
    expect(sim.charges.filter((ch) => ch.status === 'succeeded')).toEqual([]);
    await timersBecome(o.id, []);
  });

  it('Alipay declined through the /fail control → failed; the redirect page then refuses to take money', async () => {
    const o = await c.createIntentOrder(ALIPAY);
    await c.simControl(`/_sim/payment_intents/${o.payment.paymentIntentId}/fail`);
    await wait(o, 'failed');
    await intentBecomes(o.payment.paymentIntentId, 'canceled');
    const late = await fetch(o.payment.redirectUrl ?? '', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=authorize',
    });
    expect(late.status).toBe(409);
    expect((await c.intent(o.payment.paymentIntentId)).charges).toEqual([]);
  });

  it("Stripe's payment-attempt expiry (/expire) → failed with payment_expired and Stripe's code", async () => {
    const o = await c.createIntentOrder(WECHAT);
    await c.simControl(`/_sim/payment_intents/${o.payment.paymentIntentId}/expire`);
    const failed = await wait(o, 'failed');
    expect(failed.failureReason).toBe('payment_expired');
    expect(failed.failureCode).toBe('payment_intent_payment_attempt_expired');
    await intentBecomes(o.payment.paymentIntentId, 'canceled');
  });

  it('expiry: not before PAYMENT_EXPIRY_SECONDS; past it the timer cancels the PaymentIntent → canceled', async () => {
    const o = await c.createIntentOrder(WECHAT);
    await timersBecome(o.id, [`${o.id}-pending`]);
    await c.advance(EXPIRY_SECONDS - 60);
    await new Promise((r) => setTimeout(r, 500));
    expect((await c.order(o.id)).status).toBe('pending');
    await c.advance(61);
    const canceled = await wait(o, 'canceled');
    // As for a merchant cancel, the webhook echoing the timer's own cancel may get there first.
    expect(canceled.cancelReason).toBe('pending_expired');
    expect(types(canceled)).toContain('timer.pending_expired');
    const sim = await intentBecomes(o.payment.paymentIntentId, 'canceled');
    expect(sim.charges).toEqual([]);
    await timersBecome(o.id, []);
  });

  it('expiry after the customer paid but before the webhook arrived: the cancel is refused, the order is paid', async () => {
    const o = await c.createIntentOrder(WECHAT);
    // The customer pays while Stripe's webhooks are held back, then the expiry timer fires.
    await c.sim('POST', '/_sim/webhook', { url: '' });
    try {
      await c.simControl(`/_sim/payment_intents/${o.payment.paymentIntentId}/authorize`);
      await c.advance(EXPIRY_SECONDS + 1);
      const paid = await wait(o, 'paid');
      expect(types(paid)).toContain('timer.pending_expired');
    } finally {
      await c.sim('POST', '/_sim/webhook', { url: `${sandbox.url}/webhooks/stripe` });
    }
    const sim = await c.intent(o.payment.paymentIntentId);
    expect(sim.intent?.status).toBe('succeeded');
    expect(sim.charges.filter((ch) => ch.status === 'succeeded')).toHaveLength(1);
    expect(sim.refunds).toEqual([]);
  });

  it('merchant cancel → canceled with the PaymentIntent canceled; again → 200; its timer is deleted', async () => {
    const o = await c.createIntentOrder(ALIPAY);
    const r = await c.api('POST', `/orders/${o.id}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'canceled' });
    // Not 'payment_intent_canceled': the webhook echoing this very cancel can reach the worker
    // before the API writes its decision, and changes nothing (own_cancel, not even written).
    expect((r.body as { cancelReason: string }).cancelReason).toBe('merchant');
    // The cancel reached Stripe before the answer: no waiting.
    const sim = await c.intent(o.payment.paymentIntentId);
    expect(sim.intent?.status).toBe('canceled');
    expect((await c.api('POST', `/orders/${o.id}/cancel`)).status).toBe(200);
    await timersBecome(o.id, []);
    // The customer comes too late.
    const late = await fetch(o.payment.redirectUrl ?? '', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=authorize',
    });
    expect(late.status).toBe(409);
  });

  it('merchant cancel of a paid order → 409, the order stays paid', async () => {
    const o = await c.createIntentOrder(WECHAT);
    await customer(o.payment.qrCodeData ?? '', 'authorize');
    await wait(o, 'paid');
    const r = await c.api('POST', `/orders/${o.id}/cancel`);
    expect(r.status).toBe(409);
    expect((r.body as { error: { code: string } }).error.code).toBe('ORDER_NOT_CANCELABLE');
    expect((await c.order(o.id)).status).toBe('paid');
  });

  it('cancel racing the customer’s payment ends consistent, every time (money kept only for a paid order)', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const o = await c.createIntentOrder(WECHAT);
      const pi = o.payment.paymentIntentId;
      const pay = () => c.sim('POST', `/_sim/payment_intents/${pi}/authorize`);
      const cancel = () => c.api('POST', `/orders/${o.id}/cancel`);
      // Alternate who is sent first; both are in flight together.
      const [paid, canceled] =
        round % 2 === 0
          ? await Promise.all([pay(), cancel()])
          : await Promise.all([cancel(), pay()]).then(([x, y]) => [y, x] as const);
      const label = `round ${round}: authorize ${paid.status}, cancel ${canceled.status}`;

      if (canceled.status === 409) {
        // The customer paid first: Stripe refused the cancel, the order is paid and keeps the money.
        expect(paid.status, label).toBe(200);
        await wait(o, 'paid');
        const sim = await c.intent(pi);
        expect(sim.intent?.status, label).toBe('succeeded');
        expect(
          sim.charges.filter((ch) => ch.status === 'succeeded'),
          label,
        ).toHaveLength(1);
        expect(sim.refunds, label).toEqual([]);
        outcomes.add('paid');
      } else {
        expect(canceled.status, label).toBe(200);
        expect((canceled.body as { status: string }).status, label).toBe('canceled');
        const sim = await c.intent(pi);
        if (sim.intent?.status === 'succeeded') {
          // Money moved after all: it must come back, and the order says so.
          const refunded = await wait(o, 'refunded');
          const after = await c.intent(pi);
          const taken = after.charges.filter((ch) => ch.status === 'succeeded');
          expect(taken, label).toHaveLength(1);
          expect(
            after.refunds.reduce((n, r) => n + r.amount, 0),
            label,
          ).toBe(WECHAT.amount);
          expect(refunded.chargeId, label).toBe(taken[0]?.id);
          outcomes.add('refunded');
        } else {
          // The cancel won: the customer's payment was refused and no money moved.
          expect(sim.intent?.status, label).toBe('canceled');
          expect(paid.status, label).not.toBe(200);
          expect(
            sim.charges.filter((ch) => ch.status === 'succeeded'),
            label,
          ).toEqual([]);
          await new Promise((r) => setTimeout(r, 300));
          expect((await c.order(o.id)).status, label).toBe('canceled');
          outcomes.add('canceled');
        }
      }
      await timersBecome(o.id, []);
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('processing: charging with a -recheck timer that the clock fires; the late success makes it paid', async () => {
    const o = await c.createIntentOrder(ALIPAY);
    const pi = o.payment.paymentIntentId;
    await c.simControl(`/_sim/payment_intents/${pi}/authorize`, { processing: true });
    const charging = await wait(o, 'charging');
    expect(charging.recheckAt).toBeDefined();
    expect(types(charging)).toContain('payment_intent.processing');
    await timersBecome(o.id, [`${o.id}-recheck`]);

    const now = Date.parse((await c.advance(0)).now);
    await c.advance(Math.ceil((Date.parse(charging.recheckAt ?? '') - now) / 1000) + 2);
    await c.waitFor<IntentPaymentJson>(o.id, (x) => types(x).includes('timer.recheck'), 'recheck recorded');
    expect((await c.order(o.id)).status).toBe('charging');

    await c.simControl(`/_sim/payment_intents/${pi}/succeed`);
    await wait(o, 'paid');
    const sim = await c.intent(pi);
    expect(sim.charges.filter((ch) => ch.status === 'succeeded')).toHaveLength(1);
    await timersBecome(o.id, []);
  });

  it('WeChat Pay in an app needs WECHAT_APP_ID, which this sandbox does not set → 400 naming client', async () => {
    const r = await c.api('POST', '/orders', { ...WECHAT, stripeApi: 'payment_intents', client: 'ios' });
    expect(r.status).toBe(400);
    const fields = (r.body as { error: { fields?: { field: string }[] } }).error.fields ?? [];
    expect(fields.map((f) => f.field)).toContain('client');
  });

  it('a Sources order on the same sandbox still runs end to end', async () => {
    const o = await c.createSourceOrder(WECHAT);
    expect(o.payment.qrCodeUrl).toMatch(/\/authorize\/src_/);
    await customer(o.payment.qrCodeUrl ?? '', 'authorize');
    const paid = await c.waitStatus(o.id, 'paid');
    expect(paid.deadline).toBeDefined();
    const charges = await c.chargesOf(o.payment.sourceId);
    expect(charges).toHaveLength(1);
    expect(charges[0]?.status).toBe('succeeded');
    // Sources orders keep their hour, whatever PAYMENT_EXPIRY_SECONDS says.
    const other = await c.createSourceOrder(WECHAT);
    expect(Date.parse(other.pendingExpiresAt) - Date.parse(other.createdAt)).toBe(3600 * 1000);
  });
});

describe('sandbox payment settings (PAYMENT_API, PAYMENT_EXPIRY_SECONDS, WECHAT_APP_ID)', () => {
  it('default to payment_intents, 3600 s and no app id; the environment sets them; options win over it', () => {
    expect(sandboxPaymentSettings({}, {})).toEqual({
      api: 'payment_intents',
      expirySeconds: 3600,
      wechatAppId: undefined,
    });
    const env = { PAYMENT_API: 'sources', PAYMENT_EXPIRY_SECONDS: '900', WECHAT_APP_ID: 'wx0123456789abcdef' };
    expect(sandboxPaymentSettings({}, env)).toEqual({
      api: 'sources',
      expirySeconds: 900,
      wechatAppId: 'wx0123456789abcdef',
    });
    expect(
      sandboxPaymentSettings(
        { paymentApi: 'payment_intents', paymentExpirySeconds: 300, wechatAppId: 'wxAAAAAAAAAAAAAAAA' },
        env,
      ),
    ).toEqual({ api: 'payment_intents', expirySeconds: 300, wechatAppId: 'wxAAAAAAAAAAAAAAAA' });
    // What the functions get: the variables lambdas/config.ts reads.
    expect(paymentEnv(sandboxPaymentSettings({}, env))).toEqual({
      PAYMENT_API: 'sources',
      PAYMENT_EXPIRY_SECONDS: '900',
      WECHAT_APP_ID: 'wx0123456789abcdef',
    });
  });

  it('refuses bad values with the functions’ own message, before the sandbox starts anything', async () => {
    expect(() => sandboxPaymentSettings({}, { PAYMENT_API: 'charges' })).toThrow(/PAYMENT_API must be one of/);
    expect(() => sandboxPaymentSettings({ paymentExpirySeconds: 7201 }, {})).toThrow(/PAYMENT_EXPIRY_SECONDS/);
    expect(() => sandboxPaymentSettings({}, { WECHAT_APP_ID: 'wx1' })).toThrow(/WECHAT_APP_ID/);
    const started = Date.now();
    await expect(
      startSandbox({ port: 0, simPort: 0, quiet: true, prefix: 'e2e-bad', paymentExpirySeconds: 299 }),
    ).rejects.toThrow(/PAYMENT_EXPIRY_SECONDS must be an integer from 300 to 7200/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
