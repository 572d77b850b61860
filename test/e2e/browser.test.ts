/**
 * The demo storefront in a real browser: Chromium (the Debian package, /usr/bin/chromium)
 * driven by playwright-core against the whole sandbox (moto, Stripe simulator, the handlers,
 * the poller and the schedule pump). On each Stripe API the customer picks in the checkout
 * (PaymentIntents, the sandbox's default, and the legacy Sources), a customer pays with WeChat Pay
 * (QR code → simulator page → Authorize) and with Alipay (redirect → Authorize → back to
 * /demo/return), and watches the order become `paid`; a pending order expires when the sandbox
 * clock moves an hour; the operator view lists them all with their API. Screenshots of every step
 * go to test-artifacts/browser/.
 *
 * Run with `npm run test:e2e` (not part of `npm test`). Needs Chromium: `apt-get install -y
 * chromium`, or `sh scripts/ci-chromium.sh`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, type DemoContext, handleDemoRequest, qrSvg } from '../../scripts/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../../scripts/sandbox/start.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join('test-artifacts', 'browser');
const PAID_TIMEOUT = 30_000;

const WECHAT_CURRENCIES = ['aud', 'cad', 'eur', 'gbp', 'hkd', 'jpy', 'sgd', 'usd'];
const ALIPAY_CURRENCIES = ['aud', 'cad', 'cny', 'eur', 'gbp', 'hkd', 'jpy', 'nzd', 'sgd', 'usd'];

describe('demo storefront in Chromium', () => {
  let sandbox: Sandbox;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Every request the browser sent, and every CSP violation or page error it reported. */
  const requests: { url: string; headers: Record<string, string> }[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}, and the browser tests need it. Install it with ` +
          '`apt-get update && apt-get install -y chromium` (or `sh scripts/ci-chromium.sh`), then run `npm run test:e2e` again.',
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    // simPort 0: a sandbox a developer already runs on 12111 must not make the tests fail.
    sandbox = await startSandbox({ port: 0, simPort: 0, quiet: true, prefix: `e2e-browser-${process.pid}` });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await sandbox?.stop();
  });

  /** A fresh customer: own cookies and sessionStorage, a Chinese time zone, English UI. */
  async function newCustomer(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: { width: 960, height: 1000 },
      locale: 'en-US',
      timezoneId: 'Asia/Shanghai',
    });
    contexts.push(context);
    context.on('request', (r) => requests.push({ url: r.url(), headers: r.headers() }));
    context.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    const page = await context.newPage();
    watch(page);
    return { context, page };
  }

  function watch(page: Page): void {
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });

  const statusIs = (page: Page, status: string, timeout = PAID_TIMEOUT) =>
    page.waitForFunction((s) => document.getElementById('status')?.textContent === s, status, { timeout });

  async function choose(
    page: Page,
    method: 'wechat' | 'alipay',
    amount: number,
    currency: string,
    api?: 'payment_intents' | 'sources',
  ): Promise<void> {
    if (api !== undefined) await page.check(api === 'sources' ? '#api-sources' : '#api-payment-intents');
    await page.check(`#method-${method}`);
    await page.fill('#amount', String(amount));
    await page.selectOption('#currency', currency);
  }

  const currencyOptions = (page: Page) =>
    page.$$eval('#currency option', (os) => os.map((o) => (o as HTMLOptionElement).value));

  it('serves the page with a strict CSP, nosniff and no-referrer', async () => {
    const { page } = await newCustomer();
    const res = await page.goto(`${sandbox.url}/`);
    expect(res?.status()).toBe(200);
    const h = res?.headers() ?? {};
    expect(h['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('no-referrer');
    // No inline script and no inline event handler anywhere.
    const inline = await page.$$eval('script:not([src])', (s) => s.length);
    expect(inline).toBe(0);
    const handlers = await page.$$eval('*', (els) =>
      els.flatMap((e) =>
        Array.from(e.attributes)
          .filter((a) => a.name.startsWith('on'))
          .map((a) => a.name),
      ),
    );
    expect(handlers).toEqual([]);
  });

  it('the checkout preselects the sandbox’s PAYMENT_API (PaymentIntents) beside the payment method', async () => {
    const { page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    expect(await page.getAttribute('html', 'data-default-api')).toBe(sandbox.payment.api);
    expect(await page.isChecked('#api-payment-intents')).toBe(true);
    expect(await page.isChecked('#api-sources')).toBe(false);
    await shot(page, 'checkout-default-api');
  });

  it('Sources · WeChat Pay: QR code → authorize on the simulator page → paid', async () => {
    const { context, page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    await page.check('#method-wechat');
    expect(await currencyOptions(page)).toEqual(WECHAT_CURRENCIES);
    await choose(page, 'wechat', 1234, 'hkd', 'sources');
    await expect.poll(() => page.textContent('#amount-major')).toContain('12.34');
    await shot(page, 'wechat-1-checkout');

    await page.click('#pay');
    await page.waitForSelector('#qr', { state: 'visible' });
    await page.waitForFunction(() => {
      const img = document.getElementById('qr') as HTMLImageElement | null;
      return img?.complete === true && img.naturalWidth > 0;
    });
    const link = await page.waitForSelector('#qr-link', { state: 'visible' });
    const target = await link.getAttribute('href');
    expect(target).toMatch(new RegExp(`^${sandbox.simUrl}/authorize/src_`));
    // The image is the QR code of exactly that URL.
    const src = await page.getAttribute('#qr', 'src');
    const svg = await (await fetch(new URL(src ?? '', sandbox.url))).text();
    expect(svg).toBe(await qrSvg(target ?? ''));
    expect(await page.textContent('#status')).toBe('pending');
    expect(await page.textContent('#countdown-label')).toBe('Pending expires in');
    expect(await page.textContent('#countdown')).toMatch(/^(1:00:00|\d{1,2}:\d{2})$/);
    const orderId = await page.textContent('#order-id');
    expect(orderId).toMatch(/^ord_[0-9A-Z]{26}$/);
    expect(await page.textContent('#payment-kind')).toBe('Source');
    expect(await page.textContent('#payment-ref')).toMatch(/^src_/);
    await shot(page, 'wechat-2-qr-code');

    // A desktop tester opens the QR target instead of scanning it.
    const [sim] = await Promise.all([context.waitForEvent('page'), page.click('#qr-link')]);
    watch(sim);
    await sim.waitForSelector('#authorize');
    await shot(sim, 'wechat-3-simulator');
    await sim.click('#authorize');
    await sim.waitForSelector('#result');
    await shot(sim, 'wechat-4-authorized');

    await statusIs(page, 'paid');
    const history = await page.$$eval('#history li', (lis) =>
      lis.map((li) => ({
        type: li.querySelector('.type')?.textContent,
        time: li.querySelector('time')?.textContent,
        to: li.querySelector('.status')?.textContent,
      })),
    );
    expect(history.length).toBeGreaterThanOrEqual(2);
    expect(history[0]?.to).toBe('pending');
    expect(history.at(-1)?.to).toBe('paid');
    for (const h of history) expect(h.time).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    expect(await page.textContent('#countdown')).toContain('finished');
    await shot(page, 'wechat-5-paid');

    // A reload resumes the order kept in sessionStorage.
    await page.reload();
    await statusIs(page, 'paid', 10_000);
    expect(await page.textContent('#order-id')).toBe(orderId);
    await shot(page, 'wechat-6-reloaded');
  });

  it('Sources · Alipay: redirect → authorize → back on /demo/return → paid', async () => {
    const { page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    await page.check('#method-alipay');
    expect(await currencyOptions(page)).toEqual(ALIPAY_CURRENCIES);
    await choose(page, 'alipay', 5000, 'cny', 'sources');
    await expect.poll(() => page.textContent('#amount-major')).toContain('50.00');
    await shot(page, 'alipay-1-checkout');

    await page.click('#pay');
    const redirect = await page.waitForSelector('#alipay-redirect', { state: 'visible' });
    expect(await redirect.getAttribute('href')).toMatch(new RegExp(`^${sandbox.simUrl}/authorize/src_`));
    expect(await page.textContent('#status')).toBe('pending');
    const orderId = await page.textContent('#order-id');
    await shot(page, 'alipay-2-redirect');

    await page.click('#alipay-redirect');
    await page.waitForSelector('#authorize');
    const sourceId = await page.textContent('#source-id');
    await shot(page, 'alipay-3-simulator');
    await page.click('#authorize');

    await page.waitForURL((u) => u.pathname === '/demo/return');
    const back = new URL(page.url());
    expect(back.searchParams.get('source')).toBe(sourceId);
    expect(back.searchParams.get('livemode')).toBe('false');
    await page.waitForSelector('#return-banner', { state: 'visible' });
    expect(await page.textContent('#return-banner h2')).toBe('Returned from Alipay');
    expect(await page.textContent('#return-object-label')).toBe('Source');
    expect(await page.isHidden('#return-status-line')).toBe(true);
    expect(await page.textContent('#return-source')).toBe(sourceId);
    expect(await page.textContent('#return-client-secret')).toBe(back.searchParams.get('client_secret'));
    expect(await page.textContent('#order-id')).toBe(orderId);
    await statusIs(page, 'paid');
    await shot(page, 'alipay-4-returned-paid');
  });

  it('PaymentIntents · WeChat Pay: pick the API, QR code of qrCodeData → scan (open it) → Authorize → paid', async () => {
    const { context, page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    await choose(page, 'wechat', 2500, 'usd', 'payment_intents');
    await expect.poll(() => page.textContent('#amount-major')).toContain('25.00');
    await shot(page, 'pi-wechat-1-checkout');

    await page.click('#pay');
    await page.waitForSelector('#qr', { state: 'visible' });
    await page.waitForFunction(() => {
      const img = document.getElementById('qr') as HTMLImageElement | null;
      return img?.complete === true && img.naturalWidth > 0;
    });
    expect(await page.textContent('#payment-kind')).toBe('PaymentIntent');
    const paymentIntentId = (await page.textContent('#payment-ref')) ?? '';
    expect(paymentIntentId).toMatch(/^pi_/);
    const link = await page.waitForSelector('#qr-link', { state: 'visible' });
    const data = (await link.getAttribute('href')) ?? '';
    // The QR code encodes the PaymentIntent's own data (the simulator's customer page), not the hosted page.
    expect(data).toMatch(new RegExp(`^${sandbox.simUrl}/authorize/${paymentIntentId}\\b`));
    const svg = await (await fetch(new URL((await page.getAttribute('#qr', 'src')) ?? '', sandbox.url))).text();
    expect(svg).toBe(await qrSvg(data));
    expect(await page.getAttribute('#qr-hosted-link', 'href')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(await page.textContent('#status')).toBe('pending');
    expect(await page.textContent('#countdown-label')).toBe('Pending expires in');
    await shot(page, 'pi-wechat-2-qr-code');

    // Scanning = opening the QR code's data on another device (here: a new tab).
    const [phone] = await Promise.all([context.waitForEvent('page'), page.click('#qr-link')]);
    watch(phone);
    await phone.waitForSelector('#authorize');
    expect(await phone.textContent('#payment-intent-id')).toBe(paymentIntentId);
    await shot(phone, 'pi-wechat-3-simulator');
    await phone.click('#authorize');
    await phone.waitForSelector('#result');
    await shot(phone, 'pi-wechat-4-authorized');

    await statusIs(page, 'paid');
    const types = await page.$$eval('#history li .type', (els) => els.map((e) => e.textContent));
    expect(types[0]).toBe('order.created');
    expect(types).toContain('payment_intent.succeeded');
    expect(await page.textContent('#countdown')).toContain('finished');
    await shot(page, 'pi-wechat-5-paid');
  });

  it('PaymentIntents · Alipay: redirect → Authorize → back on /demo/return with payment_intent → paid', async () => {
    const { page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    await choose(page, 'alipay', 8800, 'cny', 'payment_intents');
    await page.click('#pay');
    const redirect = await page.waitForSelector('#alipay-redirect', { state: 'visible' });
    const paymentIntentId = (await page.textContent('#payment-ref')) ?? '';
    expect(paymentIntentId).toMatch(/^pi_/);
    expect(await redirect.getAttribute('href')).toMatch(
      new RegExp(`^${sandbox.simUrl}/authorize/${paymentIntentId}\\b`),
    );
    const orderId = await page.textContent('#order-id');
    await shot(page, 'pi-alipay-1-redirect');

    await page.click('#alipay-redirect');
    await page.waitForSelector('#authorize');
    expect(await page.textContent('#payment-intent-id')).toBe(paymentIntentId);
    await shot(page, 'pi-alipay-2-simulator');
    await page.click('#authorize');

    await page.waitForURL((u) => u.pathname === '/demo/return');
    const back = new URL(page.url());
    expect(back.searchParams.get('payment_intent')).toBe(paymentIntentId);
    expect(back.searchParams.get('redirect_status')).toBe('succeeded');
    await page.waitForSelector('#return-banner', { state: 'visible' });
    expect(await page.textContent('#return-object-label')).toBe('PaymentIntent');
    expect(await page.textContent('#return-source')).toBe(paymentIntentId);
    expect(await page.textContent('#return-client-secret')).toBe(back.searchParams.get('payment_intent_client_secret'));
    expect(await page.textContent('#return-redirect-status')).toBe('succeeded');
    expect(await page.textContent('#order-id')).toBe(orderId);
    await statusIs(page, 'paid');
    const types = await page.$$eval('#history li .type', (els) => els.map((e) => e.textContent));
    expect(types).toContain('payment_intent.succeeded');
    await shot(page, 'pi-alipay-3-returned-paid');
  });

  it('PaymentIntents · WeChat Pay with real Stripe’s weixin:// data: the page draws that link as the QR code', async () => {
    const { page } = await newCustomer();
    // Stripe's own QR data is a weixin:// URL: the demo's QR route encodes it (the PNG of the
    // create answer is not stored, so polling could not show it again). The demo back end is stubbed here.
    const data = 'weixin://wxpay/bizpayurl?pr=sandboxTest';
    const png = await QRCode.toDataURL(data, { errorCorrectionLevel: 'M', margin: 2 });
    const hosted = 'https://pay.stripe.com/qr/instructions/test_sandbox';
    await page.route('**/demo/orders', (route) =>
      route.fulfill({
        status: 201,
        contentType: 'application/json',
        body: JSON.stringify({
          id: 'ord_01M809VVBSJE6EHKCAXGV980EC',
          status: 'pending',
          clientSecret: 'ord_x_secret_y',
          pendingExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          payment: {
            api: 'payment_intents',
            paymentIntentId: 'pi_stubbed',
            client: 'web',
            qrCodeData: data,
            qrCodeImageDataUrl: png,
            hostedInstructionsUrl: hosted,
          },
        }),
      }),
    );
    await page.goto(`${sandbox.url}/`);
    await choose(page, 'wechat', 1000, 'usd', 'payment_intents');
    await page.click('#pay');
    await page.waitForSelector('#qr', { state: 'visible' });
    expect(await page.getAttribute('#qr', 'src')).toBe(`/demo/qr.svg?data=${encodeURIComponent(data)}`);
    await page.waitForFunction(() => (document.getElementById('qr') as HTMLImageElement | null)?.naturalWidth);
    // Nothing a desktop tester could open; Stripe's hosted page is offered instead.
    expect(await page.isHidden('#qr-link')).toBe(true);
    expect(await page.getAttribute('#qr-hosted-link', 'href')).toBe(hosted);
    expect(await page.textContent('#payment-ref')).toBe('pi_stubbed');
    await shot(page, 'pi-wechat-stripe-png');
    await page.unroute('**/demo/orders');
    await page.click('#new-order');
  });

  it('a pending order expires when the sandbox clock passes an hour', async () => {
    const { page } = await newCustomer();
    await page.goto(`${sandbox.url}/`);
    await choose(page, 'wechat', 800, 'jpy');
    await expect.poll(() => page.textContent('#amount-major')).toContain('800');
    await page.click('#pay');
    await page.waitForSelector('#qr-link', { state: 'visible' });
    expect(await page.textContent('#status')).toBe('pending');
    await sandbox.advanceClock(3600 + 60);
    await statusIs(page, 'canceled');
    await shot(page, 'expiry-canceled');
  });

  it('operator view lists the orders with status and reasons, refreshing itself', async () => {
    const { page } = await newCustomer();
    await page.setViewportSize({ width: 1280, height: 800 });
    const res = await page.goto(`${sandbox.url}/demo/operator`);
    expect(res?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await page.waitForFunction(() => document.querySelectorAll('#orders-body tr[data-order-id]').length >= 3);
    const rows = await page.$$eval('#orders-body tr[data-order-id]', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
    // Order, Method, API, Amount, Status, Created, Deadline, Reason.
    const statuses = rows.map((r) => r[4]);
    expect(statuses).toContain('paid');
    expect(statuses).toContain('canceled');
    expect(rows.some((r) => r[1] === 'WeChat Pay' && r[2] === 'Sources' && r[3]?.includes('12.34'))).toBe(true);
    expect(rows.some((r) => r[1] === 'Alipay' && r[2] === 'Sources' && r[3]?.includes('50.00'))).toBe(true);
    expect(rows.some((r) => r[1] === 'WeChat Pay' && r[2] === 'PaymentIntents' && r[3]?.includes('25.00'))).toBe(true);
    expect(rows.some((r) => r[1] === 'Alipay' && r[2] === 'PaymentIntents' && r[4] === 'paid')).toBe(true);
    const canceled = rows.find((r) => r[4] === 'canceled');
    expect(canceled?.[7]).not.toBe('—');
    const stamp = await page.textContent('#updated');
    await page.waitForFunction((s) => document.getElementById('updated')?.textContent !== s, stamp, {
      timeout: 10_000,
    });
    await shot(page, 'operator-view');
    // The shop's main page links here.
    await page.goto(`${sandbox.url}/`);
    expect(await page.getAttribute('#operator-link', 'href')).toBe('/demo/operator');
  });

  it('never gave the browser the API key, and saw no CSP violation or script error', () => {
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.url).not.toContain(sandbox.apiKey);
      expect(r.headers['x-api-key']).toBeUndefined();
    }
    expect(problems).toEqual([]);
  });
});

describe('demo back end (no browser)', () => {
  type Call = { method: string; path: string; body: unknown; headers: Record<string, string> | undefined };

  /** handleDemoRequest mounted on a bare server, with a scripted callApi. */
  async function harness(answer: (c: Call) => { status: number; body: unknown }) {
    const { createServer } = await import('node:http');
    const calls: Call[] = [];
    const ctx: DemoContext = {
      baseUrl: 'http://127.0.0.1:1',
      callApi: async (method, path, body, headers) => {
        const c = { method, path, body, headers };
        calls.push(c);
        return { ...answer(c), headers: {} };
      },
    };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      void handleDemoRequest(req, res, ctx).then((handled) => {
        if (!handled) res.writeHead(404).end('not demo');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    ctx.baseUrl = url;
    return { url, calls, ctx, close: () => new Promise((r) => server.close(r)) };
  }

  const ORDER = {
    id: 'ord_01M809VVBSJE6EHKCAXGV980EC',
    status: 'pending',
    amount: 1000,
    currency: 'cny',
    paymentMethod: 'alipay',
    clientSecret: 'ord_x_secret_y',
    payment: { api: 'sources', sourceId: 'src_1', redirectUrl: 'http://sim/authorize/src_1' },
    pendingExpiresAt: '2026-01-01T01:00:00.000Z',
    metadata: { internal: 'do not leak' },
    history: [],
    version: 1,
  };

  it('creates orders through the API with an idempotency key and returns only what the browser needs', async () => {
    const h = await harness(() => ({ status: 201, body: ORDER }));
    try {
      const res = await fetch(`${h.url}/demo/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          paymentMethod: 'alipay',
          amount: 1000,
          currency: 'cny',
          statementDescriptor: 'EVIL',
          x: 1,
        }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({
        id: ORDER.id,
        status: 'pending',
        clientSecret: ORDER.clientSecret,
        payment: ORDER.payment,
        pendingExpiresAt: ORDER.pendingExpiresAt,
      });
      const call = h.calls[0];
      expect(call?.method).toBe('POST');
      expect(call?.path).toBe('/orders');
      expect(call?.body).toEqual({
        paymentMethod: 'alipay',
        amount: 1000,
        currency: 'cny',
        statementDescriptor: 'SANDBOX DEMO',
        returnUrl: `${h.url}/demo/return`,
      });
      expect(call?.headers?.['Idempotency-Key']).toMatch(/^demo-[0-9a-f-]{36}$/);

      // The API the customer picked goes along (the API validates it); absent, the API's default applies.
      const picked = await fetch(`${h.url}/demo/orders`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ paymentMethod: 'wechat', amount: 1000, currency: 'usd', stripeApi: 'payment_intents' }),
      });
      expect(picked.status).toBe(201);
      expect(h.calls[1]?.body).toEqual({
        paymentMethod: 'wechat',
        amount: 1000,
        currency: 'usd',
        statementDescriptor: 'SANDBOX DEMO',
        stripeApi: 'payment_intents',
      });
    } finally {
      await h.close();
    }
  });

  it('writes the sandbox’s PAYMENT_API into the checkout page (default payment_intents)', async () => {
    const h = await harness(() => ({ status: 200, body: {} }));
    try {
      const attribute = async () =>
        /<html lang="en" data-default-api="([a-z_]+)">/.exec(await (await fetch(`${h.url}/`)).text())?.[1];
      expect(await attribute()).toBe('payment_intents');
      h.ctx.paymentApi = 'sources';
      expect(await attribute()).toBe('sources');
      const back = await fetch(`${h.url}/demo/return?payment_intent=pi_1`);
      expect(await back.text()).toContain('data-default-api="sources"');
    } finally {
      await h.close();
    }
  });

  it('passes API errors through with their status, and refuses cross-origin or non-JSON posts', async () => {
    const error = {
      code: 'VALIDATION_FAILED',
      message: 'The request is not valid.',
      fields: [{ field: 'currency', message: 'x' }],
    };
    const h = await harness(() => ({ status: 400, body: { error } }));
    try {
      const post = (headers: Record<string, string>, body = '{"paymentMethod":"wechat","amount":1,"currency":"cny"}') =>
        fetch(`${h.url}/demo/orders`, { method: 'POST', headers, body });
      const bad = await post({ 'Content-Type': 'application/json' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error });
      expect((await post({ 'Content-Type': 'text/plain' })).status).toBe(415);
      expect((await post({ 'Content-Type': 'application/json', Origin: 'http://evil.example' })).status).toBe(403);
      expect((await post({ 'Content-Type': 'application/json' }, '{nope')).status).toBe(400);
      expect((await fetch(`${h.url}/demo/orders`)).status).toBe(405);
      expect(h.calls).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it('QR route: SVG for http(s) and weixin:// URLs up to 2 KB only; operator JSON without secrets; other paths are not its', async () => {
    const h = await harness(() => ({ status: 200, body: { orders: [ORDER] } }));
    try {
      const qr = await fetch(`${h.url}/demo/qr.svg?data=${encodeURIComponent('https://example.com/pay?x=1')}`);
      expect(qr.status).toBe(200);
      expect(qr.headers.get('content-type')).toContain('image/svg+xml');
      expect(await qr.text()).toBe(await qrSvg('https://example.com/pay?x=1'));
      const weixin = await fetch(`${h.url}/demo/qr.svg?data=${encodeURIComponent('weixin://wxpay/bizpayurl?pr=x')}`);
      expect(weixin.status).toBe(200);
      expect(await weixin.text()).toBe(await qrSvg('weixin://wxpay/bizpayurl?pr=x'));
      for (const data of ['javascript:alert(1)', 'data:text/html,x', '', `https://example.com/${'a'.repeat(2048)}`]) {
        expect((await fetch(`${h.url}/demo/qr.svg?data=${encodeURIComponent(data)}`)).status).toBe(400);
      }
      const ops = await fetch(`${h.url}/demo/operator.json`);
      const body = (await ops.json()) as { orders: Record<string, unknown>[] };
      expect(h.calls[0]?.path).toBe('/orders?limit=50');
      expect(body.orders[0]?.id).toBe(ORDER.id);
      expect(body.orders[0]).not.toHaveProperty('clientSecret');
      expect(body.orders[0]).not.toHaveProperty('payment');
      expect(body.orders[0]).not.toHaveProperty('metadata');
      // Of the payment, only its API.
      expect(body.orders[0]?.api).toBe('sources');
      expect(await (await fetch(`${h.url}/orders`)).text()).toBe('not demo');
      const page = await fetch(`${h.url}/demo/return?source=src_1`);
      expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    } finally {
      await h.close();
    }
  });
});
