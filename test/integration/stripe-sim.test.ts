/**
 * The offline Stripe simulator, driven through stripe-node over real HTTP.
 *
 * Why: the sandbox and every integration test trust the simulator to behave like Stripe's
 * legacy Sources API for WeChat Pay and Alipay. These tests pin the behaviour the orchestrator
 * depends on: the wire format and Stripe's error shapes (validated against the OpenAPI subset
 * in scripts/stripe-sim/spec/), the source lifecycle and its 1 h / 6 h / 23:45 CST expiries
 * (https://docs.stripe.com/sources/wechat-pay), single-use charging, refunds, idempotent
 * requests (https://docs.stripe.com/api/idempotent_requests), signed and retried webhooks
 * (https://docs.stripe.com/webhooks#verify-manually), fault injection and the test-mode
 * authorization page.
 */

import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventObj, SimClock, SourceObj } from '../../scripts/stripe-sim/index.js';
import { encodeForm } from '../../scripts/stripe-sim/index.js';
import {
  type ReceivedWebhook,
  type SimForTest,
  startSimForTest,
  startWebhookReceiver,
  type WebhookReceiver,
  waitFor,
} from '../support/stripe-sim.js';

/** A clock that only moves when told to (exact deadlines). */
class ManualClock implements SimClock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

let t: SimForTest;
let hooks: WebhookReceiver;

async function start(opts: Parameters<typeof startSimForTest>[0] = {}): Promise<void> {
  hooks = await startWebhookReceiver();
  t = await startSimForTest({ webhookUrl: hooks.url, ...opts });
}

afterEach(async () => {
  await t?.close();
  await hooks?.close();
});

function wechat(extra: Partial<Stripe.SourceCreateParams> = {}) {
  return t.stripe.sources.create({
    type: 'wechat',
    amount: 1999,
    currency: 'cny',
    statement_descriptor: 'ORCHESTRATOR TEST',
    metadata: { order_id: 'ord_1' },
    ...extra,
  });
}

function alipay(returnUrl = 'http://shop.test/return?x=1') {
  return t.stripe.sources.create({
    type: 'alipay',
    amount: 5000,
    currency: 'cny',
    redirect: { return_url: returnUrl },
    metadata: { order_id: 'ord_2' },
  });
}

/** Raw request to the simulator with a form body. */
function raw(path: string, init: { method?: string; form?: Record<string, unknown>; key?: string | null } = {}) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? 'sk_test_sim'}`;
  return fetch(`${t.sim.url}${path}`, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers,
    body: init.form ? encodeForm(init.form) : undefined,
    redirect: 'manual',
  });
}

function control(path: string, body?: unknown) {
  return fetch(`${t.sim.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

/** Every delivery received so far, verified with stripe-node exactly as the ingress will. */
function verified(received: ReceivedWebhook[] = hooks.received): EventObj[] {
  return received.map(
    (r) => t.stripe.webhooks.constructEvent(r.rawBody, r.signature ?? '', t.webhookSecret) as unknown as EventObj,
  );
}

function waitForEvent(type: string, objectId: string): Promise<EventObj> {
  return waitFor(
    () =>
      verified().find(
        (e, i) => e.type === type && e.data.object.id === objectId && (hooks.received[i]?.answered ?? 0) < 300,
      ),
    5000,
    `${type} for ${objectId}`,
  );
}

async function caught(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (e) {
    return e as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

describe('sources', () => {
  beforeEach(() => start());

  it('creates a WeChat Pay source shaped like Stripe’s, with a QR code URL on the simulator', async () => {
    const before = Math.floor(t.sim.now().getTime() / 1000);
    const src = await wechat();
    expect(src.id).toMatch(/^src_[A-Za-z0-9]{24}$/);
    expect(src).toMatchObject({
      object: 'source',
      type: 'wechat',
      flow: 'none',
      status: 'pending',
      usage: 'single_use',
      livemode: false,
      amount: 1999,
      currency: 'cny',
      statement_descriptor: 'ORCHESTRATOR TEST',
      metadata: { order_id: 'ord_1' },
    });
    expect(src.client_secret).toMatch(/^src_client_secret_[A-Za-z0-9]{24}$/);
    expect(src.created).toBeGreaterThanOrEqual(before);
    expect(src.wechat?.qr_code_url).toBe(`${t.sim.url}/authorize/${src.id}?client_secret=${src.client_secret}`);
    expect(src.redirect).toBeUndefined();
    expect(t.sim.spec.conformsTo('source', src)).toEqual([]);

    const again = await t.stripe.sources.retrieve(src.id);
    expect(again.id).toBe(src.id);
    expect(again.status).toBe('pending');
  });

  it('creates an Alipay source with a redirect flow back to return_url', async () => {
    const src = await alipay();
    expect(src).toMatchObject({ type: 'alipay', flow: 'redirect', status: 'pending', amount: 5000 });
    expect(src.redirect).toEqual({
      failure_reason: null,
      return_url: 'http://shop.test/return?x=1',
      status: 'pending',
      url: `${t.sim.url}/authorize/${src.id}?client_secret=${src.client_secret}`,
    });
    expect(t.sim.spec.conformsTo('source', src)).toEqual([]);
  });

  it('rejects an unknown parameter with Stripe’s exact error shape', async () => {
    const res = await raw('/v1/sources', { form: { type: 'wechat', amount: 100, currency: 'cny', colour: 'red' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'parameter_unknown',
        param: 'colour',
        message: 'Received unknown parameter: colour',
        doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown',
        request_log_url: expect.any(String),
      },
    });

    const nested = await raw('/v1/sources', {
      form: { type: 'alipay', amount: 100, currency: 'cny', redirect: { return_url: 'http://x.test', target: '_top' } },
    });
    expect(nested.status).toBe(400);
    expect(((await nested.json()) as { error: { param: string } }).error).toMatchObject({
      code: 'parameter_unknown',
      param: 'redirect[target]',
      message: 'Received unknown parameter: redirect[target]',
    });
    expect(t.sim.sources()).toEqual([]);
  });

  it('reports a missing required parameter as parameter_missing', async () => {
    const err = await caught(t.stripe.sources.create({ amount: 100, currency: 'cny' } as Stripe.SourceCreateParams));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('parameter_missing');
    expect(err.param).toBe('type');
    expect(err.message).toBe('Missing required param: type.');

    const noReturn = await caught(t.stripe.sources.create({ type: 'alipay', amount: 100, currency: 'cny' }));
    expect(noReturn.code).toBe('parameter_missing');
    expect(noReturn.param).toBe('redirect[return_url]');

    const badInt = await raw('/v1/sources', { form: { type: 'wechat', amount: 'ten', currency: 'cny' } });
    expect(((await badInt.json()) as { error: unknown }).error).toMatchObject({
      code: 'parameter_invalid_integer',
      param: 'amount',
      message: 'Invalid integer: ten',
    });
  });

  it('answers 401 without a valid test secret key, and 404 for unknown URLs and objects', async () => {
    const none = await raw('/v1/sources/src_x', { key: null });
    expect(none.status).toBe(401);
    const noneBody = (await none.json()) as { error: { type: string; message: string } };
    expect(noneBody.error.type).toBe('invalid_request_error');
    expect(noneBody.error.message).toMatch(/^You did not provide an API key/);

    const bad = await raw('/v1/sources/src_x', { key: 'pk_test_123456789' });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^Invalid API Key provided/);

    const unknownUrl = await raw('/v1/widgets');
    expect(unknownUrl.status).toBe(404);
    expect(((await unknownUrl.json()) as { error: { message: string } }).error.message).toContain(
      'Unrecognized request URL (GET: /v1/widgets)',
    );

    const missing = await caught(t.stripe.sources.retrieve('src_doesnotexist'));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('resource_missing');
    expect(missing.message).toBe("No such source: 'src_doesnotexist'");
  });

  it('authorizing makes the source chargeable and sends a signed source.chargeable webhook', async () => {
    const src = await wechat();
    const res = await control(`/_sim/sources/${src.id}/authorize`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as SourceObj).status).toBe('chargeable');
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('chargeable');

    const event = await waitForEvent('source.chargeable', src.id);
    expect(event).toMatchObject({
      object: 'event',
      api_version: '2023-08-16',
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'source.chargeable',
    });
    expect(event.id).toMatch(/^evt_[A-Za-z0-9]{24}$/);
    expect(event.data.object).toMatchObject({ id: src.id, object: 'source', status: 'chargeable' });
    expect(t.sim.spec.conformsTo('event', event)).toEqual([]);

    const delivery = hooks.received[0];
    expect(delivery?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(delivery?.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
    expect(delivery?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // A tampered body or another secret must not verify.
    expect(() =>
      t.stripe.webhooks.constructEvent(`${delivery?.rawBody} `, delivery?.signature ?? '', t.webhookSecret),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() =>
      t.stripe.webhooks.constructEvent(delivery?.rawBody ?? '', delivery?.signature ?? '', 'whsec_other'),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);

    const stored = await t.stripe.events.retrieve(event.id);
    expect(stored.type).toBe('source.chargeable');
    await waitFor(() => t.sim.events().find((e) => e.id === event.id)?.pending_webhooks === 0);
  });

  it('failing and canceling a pending source send source.failed and source.canceled', async () => {
    const a = await alipay();
    const b = await wechat();
    expect((await control(`/_sim/sources/${a.id}/fail`)).status).toBe(200);
    expect((await control(`/_sim/sources/${b.id}/cancel`)).status).toBe(200);
    const failed = await t.stripe.sources.retrieve(a.id);
    expect(failed.status).toBe('failed');
    expect(failed.redirect).toMatchObject({ status: 'failed', failure_reason: 'declined' });
    expect((await t.stripe.sources.retrieve(b.id)).status).toBe('canceled');
    await waitForEvent('source.failed', a.id);
    await waitForEvent('source.canceled', b.id);
    // A failed source cannot be authorized any more.
    expect((await control(`/_sim/sources/${a.id}/authorize`)).status).toBe(409);
  });
});

describe('charges and refunds', () => {
  beforeEach(() => start());

  async function chargeable(): Promise<Stripe.Source> {
    const src = await wechat();
    t.sim.authorizeSource(src.id);
    return src;
  }

  it('charges a chargeable source once: succeeded, source consumed, second charge refused', async () => {
    const src = await chargeable();
    const charge = await t.stripe.charges.create({
      amount: 1999,
      currency: 'cny',
      source: src.id,
      metadata: { order_id: 'ord_1' },
    });
    expect(charge.id).toMatch(/^ch_[A-Za-z0-9]{24}$/);
    expect(charge).toMatchObject({
      object: 'charge',
      amount: 1999,
      amount_captured: 1999,
      amount_refunded: 0,
      captured: true,
      currency: 'cny',
      paid: true,
      refunded: false,
      status: 'succeeded',
      failure_code: null,
      metadata: { order_id: 'ord_1' },
      payment_method_details: { type: 'wechat', wechat: {} },
    });
    const carried = (charge as unknown as { source: SourceObj }).source;
    expect(carried).toMatchObject({ id: src.id, object: 'source', status: 'consumed' });
    expect(t.sim.spec.conformsTo('charge', charge)).toEqual([]);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('consumed');
    expect((await t.stripe.charges.retrieve(charge.id)).status).toBe('succeeded');

    const second = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id }));
    expect(second).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(second.statusCode).toBe(400);
    expect(second.code).toBe('invalid_source_usage');
    expect(second.message).toBe('The source you provided is not in a chargeable state.');
    expect(t.sim.charges()).toHaveLength(1);

    const event = await waitForEvent('charge.succeeded', charge.id);
    expect(event.request.id).toBe(charge.lastResponse.requestId);
  });

  it('refuses to charge a pending source, another amount or another currency', async () => {
    const pending = await wechat();
    const notYet = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: pending.id }));
    expect(notYet.code).toBe('invalid_source_usage');

    const src = await chargeable();
    const amount = await caught(t.stripe.charges.create({ amount: 1000, currency: 'cny', source: src.id }));
    expect(amount.statusCode).toBe(400);
    expect(amount.type).toBe('StripeInvalidRequestError');
    expect(amount.param).toBe('amount');
    const currency = await caught(t.stripe.charges.create({ amount: 1999, currency: 'usd', source: src.id }));
    expect(currency.param).toBe('currency');
    const unknown = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: 'src_nope' }));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.code).toBe('resource_missing');
    // Nothing was consumed by the refused attempts.
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('chargeable');
    expect(t.sim.charges()).toEqual([]);
  });

  it('replays an idempotent charge and refuses the key with other parameters', async () => {
    const src = await chargeable();
    const params = { amount: 1999, currency: 'cny', source: src.id, metadata: { order_id: 'ord_1' } };
    const first = await t.stripe.charges.create(params, { idempotencyKey: 'charge-ord_1' });
    const again = await t.stripe.charges.create(params, { idempotencyKey: 'charge-ord_1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(t.sim.charges()).toHaveLength(1);

    const other = await caught(
      t.stripe.charges.create({ ...params, amount: 2000 }, { idempotencyKey: 'charge-ord_1' }),
    );
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(other.statusCode).toBe(400);
    expect(other.message).toBe(
      "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'charge-ord_1' if you meant to execute a different request.",
    );

    // Keys are scoped to the API key: another key may reuse the name for another request.
    const otherAccount = new Stripe('sk_test_other', {
      host: '127.0.0.1',
      port: t.sim.port,
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });
    const src2 = await chargeable();
    const theirs = await otherAccount.charges.create(
      { amount: 1999, currency: 'cny', source: src2.id },
      { idempotencyKey: 'charge-ord_1' },
    );
    expect(theirs.id).not.toBe(first.id);
  });

  it('replays a refused request too, but does not store parameter validation errors', async () => {
    const src = await wechat(); // still pending: the charge is refused
    const params = { amount: 1999, currency: 'cny', source: src.id };
    const refused = await caught(t.stripe.charges.create(params, { idempotencyKey: 'k1' }));
    expect(refused.code).toBe('invalid_source_usage');
    t.sim.authorizeSource(src.id);
    const replayed = await caught(t.stripe.charges.create(params, { idempotencyKey: 'k1' }));
    expect(replayed.code).toBe('invalid_source_usage');
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');

    const invalid = await raw('/v1/charges', { form: { ...params, bogus: 1 } });
    expect(invalid.status).toBe(400);
    const viaKey = () =>
      fetch(`${t.sim.url}/v1/charges`, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer sk_test_sim',
          'Content-Type': 'application/x-www-form-urlencoded',
          'Idempotency-Key': 'k2',
        },
        body: encodeForm({ ...params, amount: 'x' }),
      });
    expect((await viaKey()).headers.get('idempotent-replayed')).toBeNull();
    expect((await viaKey()).headers.get('idempotent-replayed')).toBeNull();
  });

  it('a source authorized with charge_outcome=fail gives a 402 card_error and a failed charge', async () => {
    const src = await wechat();
    expect((await control(`/_sim/sources/${src.id}/authorize`, { charge_outcome: 'fail' })).status).toBe(200);
    const err = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe('card_declined');
    expect(err.charge).toMatch(/^ch_/);
    const failed = await t.stripe.charges.retrieve(err.charge ?? '');
    expect(failed).toMatchObject({ status: 'failed', paid: false, failure_code: 'card_declined' });
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('consumed');
    await waitForEvent('charge.failed', failed.id);
  });

  it('pending charges settle through the control endpoints', async () => {
    const src = await wechat();
    await control(`/_sim/sources/${src.id}/authorize`, { charge_outcome: 'pending' });
    const charge = await t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id });
    expect(charge).toMatchObject({ status: 'pending', paid: false });
    await waitForEvent('charge.pending', charge.id);
    expect((await control(`/_sim/charges/${charge.id}/succeed`)).status).toBe(200);
    expect((await t.stripe.charges.retrieve(charge.id)).status).toBe('succeeded');
    await waitForEvent('charge.succeeded', charge.id);
    expect((await control(`/_sim/charges/${charge.id}/fail`)).status).toBe(409);
  });

  it('refunds a charge: partial, then the rest, then refuses', async () => {
    const src = await chargeable();
    const charge = await t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id });
    const part = await t.stripe.refunds.create({ charge: charge.id, amount: 500 }, { idempotencyKey: 'refund-1' });
    expect(part).toMatchObject({
      object: 'refund',
      amount: 500,
      charge: charge.id,
      currency: 'cny',
      status: 'succeeded',
    });
    expect(part.id).toMatch(/^re_[A-Za-z0-9]{24}$/);
    expect(t.sim.spec.conformsTo('refund', part)).toEqual([]);
    let now = await t.stripe.charges.retrieve(charge.id);
    expect(now).toMatchObject({ amount_refunded: 500, refunded: false });

    const rest = await t.stripe.refunds.create({ charge: charge.id });
    expect(rest.amount).toBe(1499);
    now = await t.stripe.charges.retrieve(charge.id, { expand: ['refunds'] });
    expect(now).toMatchObject({ amount_refunded: 1999, refunded: true });
    expect(now.refunds?.data.map((r) => r.id)).toEqual([rest.id, part.id]);

    const again = await caught(t.stripe.refunds.create({ charge: charge.id }));
    expect(again.code).toBe('charge_already_refunded');
    await waitFor(() => verified().filter((e) => e.type === 'charge.refunded').length === 2);
    const last = verified().filter((e) => e.type === 'charge.refunded')[1];
    expect(last?.data.object).toMatchObject({ id: charge.id, refunded: true, amount_refunded: 1999 });
  });

  it('lists charges newest first with limit and has_more; validates list params against the spec', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const src = await chargeable();
      ids.push((await t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id })).id);
    }
    const page = await t.stripe.charges.list({ limit: 2 });
    expect(page.object).toBe('list');
    expect(page.url).toBe('/v1/charges');
    expect(page.has_more).toBe(true);
    expect(page.data.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    const next = await t.stripe.charges.list({ limit: 2, starting_after: ids[1] });
    expect(next.data.map((c) => c.id)).toEqual([ids[0]]);
    expect(next.has_more).toBe(false);

    // `source` is not a query parameter of GET /v1/charges in Stripe's spec.
    const res = await raw(`/v1/charges?source=${ids[0]}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('parameter_unknown');
  });
});

describe('expiries on the simulator clock', () => {
  it('cancels a pending source 1 hour after creation, with a source.canceled webhook', async () => {
    await start();
    const src = await wechat();
    await t.sim.advance(3590);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('pending');
    await t.sim.advance(11);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('canceled');
    const event = await waitForEvent('source.canceled', src.id);
    expect(event.data.object).toMatchObject({ status: 'canceled' });
    expect(event.created).toBeGreaterThanOrEqual(src.created + 3600);
  });

  it('cancels a chargeable source at 23:45 CST when that comes before 6 hours', async () => {
    // 10:00Z is 18:00 CST: the cutoff 15:45Z (23:45 CST) comes 5 h 45 min later, before the 6 h mark.
    const clock = new ManualClock(Date.parse('2024-03-01T10:00:00Z'));
    await start({ clock, expiryIntervalMs: 0 });
    const src = await wechat();
    t.sim.authorizeSource(src.id);
    await t.sim.advance(5 * 3600 + 45 * 60 - 1);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('chargeable');
    await t.sim.advance(1);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('canceled');
    await waitForEvent('source.canceled', src.id);
    const late = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id }));
    expect(late.code).toBe('invalid_source_usage');
  });

  it('cancels a chargeable source 6 hours after it became chargeable when 23:45 CST is further', async () => {
    // 16:00Z is 00:00 CST: the next cutoff is 23 h 45 min away, so the 6 h limit applies.
    const clock = new ManualClock(Date.parse('2024-03-01T16:00:00Z'));
    await start({ clock, expiryIntervalMs: 0 });
    const src = await wechat();
    await t.sim.advance(600);
    t.sim.authorizeSource(src.id);
    const res = await fetch(`${t.sim.url}/_sim/state`);
    const state = (await res.json()) as { expiries: Record<string, { cancel_at: string }> };
    expect(state.expiries[src.id]?.cancel_at).toBe('2024-03-01T22:10:00.000Z');
    // Advancing over HTTP works too.
    await control('/_sim/clock/advance', { seconds: 6 * 3600 - 1 });
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('chargeable');
    const adv = await control('/_sim/clock/advance', { seconds: 1 });
    expect(((await adv.json()) as { now: string }).now).toBe('2024-03-01T22:10:00.000Z');
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('canceled');
  });
});

describe('webhook delivery', () => {
  beforeEach(() => start());

  it('retries after the receiver answers 500, keeping per-source order', async () => {
    hooks.script.push(500);
    const src = await wechat();
    t.sim.authorizeSource(src.id);
    const charge = await t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id });
    await waitForEvent('charge.succeeded', charge.id);

    const types = verified().map((e) => e.type);
    expect(types).toEqual(['source.chargeable', 'source.chargeable', 'charge.succeeded']);
    expect(hooks.received.map((r) => r.answered)).toEqual([500, 200, 200]);
    const [first, retry] = verified();
    expect(retry?.id).toBe(first?.id);
    const chargeableEvent = t.sim.deliveries().filter((d) => d.eventId === first?.id);
    expect(chargeableEvent.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
  });

  it('records network errors as deliveries with status "error" and can switch target at runtime', async () => {
    t.sim.setWebhookUrl('http://127.0.0.1:9/unreachable');
    const src = await wechat();
    t.sim.authorizeSource(src.id);
    await waitFor(() => t.sim.deliveries().find((d) => d.status === 'error' && d.attempt >= 2));
    t.sim.setWebhookUrl(hooks.url);
    // The retries go to the new target.
    await waitForEvent('source.chargeable', src.id);
    expect((await (await control('/_sim/webhook', { url: '' })).json()) as unknown).toEqual({ url: null });
  });
});

describe('fault injection', () => {
  beforeEach(() => start());

  it('rate 1 with mode 500 makes every API call fail with a StripeAPIError; rate 0 turns it off', async () => {
    const set = await control('/_sim/faults', { rate: 1, modes: ['500'] });
    expect(await set.json()).toMatchObject({ rate: 1, modes: ['500'] });
    expect(await (await fetch(`${t.sim.url}/_sim/faults`)).json()).toMatchObject({ rate: 1, modes: ['500'] });
    const err = await caught(wechat());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err.statusCode).toBe(500);
    expect(t.sim.sources()).toEqual([]);

    await control('/_sim/faults', { rate: 0 });
    const src = await wechat();
    expect(src.status).toBe('pending');
  });

  it('mode 429 gives a StripeRateLimitError', async () => {
    await control('/_sim/faults', { rate: 1, modes: ['429'] });
    const err = await caught(t.stripe.charges.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('rate_limit');
  });

  it('mode hang holds the call, then drops the connection; paths limit where faults apply', async () => {
    t.sim.setFaults({ rate: 1, modes: ['hang'], hangMs: 150, paths: ['POST /v1/charges'] });
    const src = await wechat(); // not a matching path: unaffected
    t.sim.authorizeSource(src.id);
    const started = Date.now();
    const err = await caught(t.stripe.charges.create({ amount: 1999, currency: 'cny', source: src.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(t.sim.charges()).toEqual([]);
    const bad = await control('/_sim/faults', { rate: 2 });
    expect(bad.status).toBe(400);
  });
});

describe('authorization page', () => {
  beforeEach(() => start());

  it('shows amount and Authorize / Decline buttons; Authorize makes a WeChat Pay source chargeable', async () => {
    const src = await wechat();
    const page = await fetch(src.wechat?.qr_code_url ?? '');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toMatch(/<button[^>]*id="authorize"/);
    expect(html).toMatch(/<button[^>]*id="decline"/);
    expect(html).toContain('19.99 CNY');

    const res = await fetch(`${t.sim.url}/authorize/${src.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `client_secret=${src.client_secret}&action=authorize`,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-status="chargeable"');
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('chargeable');
    await waitForEvent('source.chargeable', src.id);
    // Once used, the page has no buttons any more.
    expect(await (await fetch(src.wechat?.qr_code_url ?? '')).text()).not.toContain('id="authorize"');
  });

  it('redirects an Alipay customer back to return_url with source, client_secret and livemode', async () => {
    const src = await alipay('http://shop.test/return?x=1');
    const res = await fetch(`${t.sim.url}/authorize/${src.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'action=authorize',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('http://shop.test/return');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      x: '1',
      source: src.id,
      client_secret: src.client_secret,
      livemode: 'false',
    });
    const after = await t.stripe.sources.retrieve(src.id);
    expect(after.status).toBe('chargeable');
    expect(after.redirect?.status).toBe('succeeded');
  });

  it('Decline fails the source', async () => {
    const src = await alipay();
    const res = await fetch(`${t.sim.url}/authorize/${src.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'action=decline',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect((await t.stripe.sources.retrieve(src.id)).status).toBe('failed');
    await waitForEvent('source.failed', src.id);
    const wrongSecret = await fetch(`${t.sim.url}/authorize/${src.id}?client_secret=nope`);
    expect(wrongSecret.status).toBe(403);
  });
});
