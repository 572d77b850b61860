/**
 * End to end over HTTP against a sandbox this file starts: the storefront API, the Stripe
 * simulator's customer pages and controls, and the sandbox clock — the documented endpoints only.
 * The orders here are on the legacy Sources API, asked for per order (`stripeApi: 'sources'`) on a
 * sandbox whose default is PaymentIntents; payment-intents.test.ts covers the PaymentIntents path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';
import { SandboxClient } from '../support/sandbox-client.js';

let sandbox: Sandbox;
let c: SandboxClient;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, simPort: 0, quiet: true, prefix: 'e2e' });
  c = new SandboxClient(sandbox.url, sandbox.simUrl ?? '', sandbox.apiKey);
  const health = await fetch(`${sandbox.url}/_local/health`);
  expect(health.status).toBe(200);
});

afterAll(async () => {
  await sandbox?.stop();
});

const WECHAT = { amount: 1099, currency: 'usd', paymentMethod: 'wechat' };
const ALIPAY = { amount: 1000, currency: 'cny', paymentMethod: 'alipay' };

/** What the customer does on Stripe's authorization page (the QR target / redirect URL). */
async function customer(pageUrl: string, action: 'authorize' | 'decline') {
  const u = new URL(pageUrl);
  const page = await fetch(u);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(`id="${action}"`);
  return fetch(`${u.origin}${u.pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `action=${action}`,
  });
}

describe('sandbox end to end (Sources API)', () => {
  it('the default API is PaymentIntents; stripeApi: sources picks the Sources API per order', async () => {
    expect(sandbox.payment).toEqual({ api: 'payment_intents', expirySeconds: 3600, wechatAppId: undefined });
    const byDefault = await c.createOrder<{ api: string }>(WECHAT);
    expect(byDefault.payment.api).toBe('payment_intents');
    const sources = await c.createSourceOrder(WECHAT);
    expect(sources.payment.api).toBe('sources');
    expect(sources.payment.sourceId).toMatch(/^src_/);
  });

  it('WeChat Pay: create → the customer authorizes → paid, with exactly one charge', async () => {
    const o = await c.createSourceOrder(WECHAT);
    expect(o.status).toBe('pending');
    expect(o.payment.qrCodeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/authorize\/src_/);
    expect((await c.schedules()).map((s) => s.name)).toContain(`${o.id}-pending`);
    await customer(o.payment.qrCodeUrl ?? '', 'authorize');
    const paid = await c.waitStatus(o.id, 'paid');
    expect(paid.chargeId).toMatch(/^ch_/);
    expect(paid.deadline).toBeDefined();
    const charges = await c.chargesOf(o.payment.sourceId);
    expect(charges).toHaveLength(1);
    expect(charges[0]?.status).toBe('succeeded');
    expect((await c.schedules()).filter((s) => s.name.startsWith(o.id))).toEqual([]);
  });

  it('Alipay: the customer is redirected back to returnUrl with source, client_secret and livemode', async () => {
    const o = await c.createSourceOrder({ ...ALIPAY, returnUrl: 'https://shop.example/return?cart=7' });
    expect(o.payment.redirectUrl).toBeDefined();
    const res = await customer(o.payment.redirectUrl ?? '', 'authorize');
    expect([302, 303]).toContain(res.status);
    const back = new URL(res.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('https://shop.example/return');
    expect(back.searchParams.get('cart')).toBe('7');
    expect(back.searchParams.get('source')).toBe(o.payment.sourceId);
    expect(back.searchParams.get('client_secret')).toMatch(/^src_client_secret_/);
    expect(back.searchParams.get('livemode')).toBe('false');
    await c.waitStatus(o.id, 'paid');
    expect(await c.chargesOf(o.payment.sourceId)).toHaveLength(1);
  });

  it('decline → failed, no charge', async () => {
    const o = await c.createSourceOrder(WECHAT);
    await customer(o.payment.qrCodeUrl ?? '', 'decline');
    const failed = await c.waitStatus(o.id, 'failed');
    expect(failed.failureReason).toBe('declined');
    expect(await c.chargesOf(o.payment.sourceId)).toHaveLength(0);
  });

  it('pending expiry: an hour later (clock advanced 3,601 s) → canceled', async () => {
    const o = await c.createSourceOrder(WECHAT);
    await c.advance(3601);
    const canceled = await c.waitStatus(o.id, 'canceled');
    expect(['pending_expired', 'source_canceled']).toContain(canceled.cancelReason);
    // The timer fired (recorded even when Stripe's source.canceled got there first).
    await c.waitFor(o.id, (x) => x.history.some((h) => h.type === 'timer.pending_expired'), 'timer recorded');
    expect((await c.schedules()).filter((s) => s.name.startsWith(o.id))).toEqual([]);
  });

  it('deadline: authorized while charges fail, clock past the deadline → canceled, with the schedule fired', async () => {
    const o = await c.createSourceOrder(WECHAT);
    await c.sim('POST', '/_sim/faults', { rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
    try {
      await customer(o.payment.qrCodeUrl ?? '', 'authorize');
      const chargeable = await c.waitStatus(o.id, 'chargeable');
      expect(chargeable.deadline).toBeDefined();
      expect((await c.schedules()).map((s) => s.name)).toContain(`${o.id}-deadline`);
      await c.advance(6 * 3600 + 60);
    } finally {
      await c.sim('POST', '/_sim/faults', { rate: 0 });
    }
    const canceled = await c.waitStatus(o.id, 'canceled', 30_000);
    expect(['deadline_passed', 'source_canceled']).toContain(canceled.cancelReason);
    await c.waitFor(o.id, (x) => x.history.some((h) => h.type === 'timer.deadline'), 'deadline timer recorded', 30_000);
    expect((await c.schedules()).filter((s) => s.name.startsWith(o.id))).toEqual([]);
    expect((await c.chargesOf(o.payment.sourceId)).filter((ch) => ch.status === 'succeeded')).toHaveLength(0);
  });

  it('merchant cancel → canceled, and again → 200; its timer is deleted', async () => {
    const o = await c.createSourceOrder(WECHAT);
    const r = await c.api('POST', `/orders/${o.id}/cancel`);
    expect(r.status).toBe(200);
    expect((r.body as { status: string }).status).toBe('canceled');
    expect((await c.api('POST', `/orders/${o.id}/cancel`)).status).toBe(200);
    expect((await c.schedules()).filter((s) => s.name.startsWith(o.id))).toEqual([]);
  });

  it('a charge that succeeds after the merchant canceled is refunded automatically', async () => {
    const o = await c.createSourceOrder(WECHAT);
    // Charges fail while the customer authorizes, so the order is chargeable (cancelable).
    await c.sim('POST', '/_sim/faults', { rate: 1, modes: ['500'], paths: ['POST /v1/charges'] });
    try {
      await customer(o.payment.qrCodeUrl ?? '', 'authorize');
      await c.waitStatus(o.id, 'chargeable');
      expect((await c.api('POST', `/orders/${o.id}/cancel`)).status).toBe(200);
    } finally {
      await c.sim('POST', '/_sim/faults', { rate: 0 });
    }
    // The attempt in flight reached Stripe after all (as with a lost response): the charge
    // exists and Stripe reports it.
    const charge = await fetch(`${c.simUrl}/v1/charges`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_sandbox',
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': `charge-${o.id}`,
      },
      body: new URLSearchParams({
        amount: '1099',
        currency: 'usd',
        source: o.payment.sourceId,
        'metadata[order_id]': o.id,
      }),
    });
    expect(charge.status).toBe(200);
    const refunded = await c.waitStatus(o.id, 'refunded');
    const state = await c.simState();
    expect(state.refunds.filter((r) => r.charge === refunded.chargeId)).toHaveLength(1);
  });

  it('the status function URL answers as the REST status route does, with CORS', async () => {
    // A Sources order: no webhook follows its creation, so both reads see the same version.
    const o = await c.createSourceOrder(WECHAT);
    const q = `orders/${o.id}/status?client_secret=${encodeURIComponent(o.clientSecret)}`;
    const viaUrl = await fetch(`${sandbox.statusUrl}${q}`, { headers: { origin: 'https://shop.example' } });
    const viaRest = await fetch(`${sandbox.url}/${q}`);
    expect(viaUrl.status).toBe(200);
    expect(viaUrl.headers.get('access-control-allow-origin')).toBe('*');
    expect(await viaUrl.json()).toEqual(await viaRest.json());
    const wrong = await fetch(`${sandbox.statusUrl}orders/${o.id}/status?client_secret=nope`);
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('ORDER_NOT_FOUND');
    const bad = await fetch(`${sandbox.statusUrl}orders/ord_x/status?client_secret=x`);
    expect(bad.status).toBe(400);
  });

  it('the API key is required on /orders, not on the status route', async () => {
    const o = await c.createOrder(WECHAT);
    const noKey = await fetch(`${c.url}/orders/${o.id}`);
    expect(noKey.status).toBe(403);
    const status = await fetch(`${c.url}/orders/${o.id}/status?client_secret=${encodeURIComponent(o.clientSecret)}`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { status: string }).status).toBe('pending');
  });
});
