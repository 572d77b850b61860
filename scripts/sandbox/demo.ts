/**
 * The demo storefront of the local sandbox: a page that creates an order on either Stripe API
 * (PaymentIntents, or the legacy Sources; the sandbox's PAYMENT_API is preselected), shows the
 * WeChat Pay QR code or the Alipay redirect, and watches the order's status change; and an
 * operator view of recent orders.
 *
 * It plays both halves of a merchant's shop: the browser side (plain HTML, CSS and vanilla JS
 * from ./demo/, no build step, no CDN) and the merchant's back end (`POST /demo/orders`,
 * `GET /demo/operator.json`), which calls the storefront API with the API key. The key never
 * reaches the browser: the page polls the browser-safe `GET /orders/{id}/status` with the
 * order's client secret, as docs/architecture.md ("The flow") shows.
 *
 * Security: every HTML page carries a strict Content-Security-Policy (scripts and styles from
 * 'self' only, no inline script or handler), `nosniff` and `no-referrer`; the scripts render
 * data with textContent only and accept only http(s) URLs as link targets.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import QRCode from 'qrcode';
import { PAYMENT_APIS, type PaymentApi } from '../../lambdas/domain/index.js';

export interface DemoContext {
  /** Calls the storefront API as the merchant's server would, WITH the API key (which never reaches the browser). */
  callApi(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown; headers: Record<string, string> }>;
  /** Public base URL of the sandbox (e.g. http://127.0.0.1:3000), for building returnUrl. */
  baseUrl: string;
  /** The functions' PAYMENT_API: the Stripe API the checkout preselects (default payment_intents). */
  paymentApi?: PaymentApi;
}

const asset = (name: string): string => readFileSync(new URL(`./demo/${name}`, import.meta.url), 'utf8');

/** Read once, when the sandbox starts. */
const ASSETS: Record<string, { body: string; type: string }> = {
  '/demo/app.js': { body: asset('app.js'), type: 'text/javascript; charset=utf-8' },
  '/demo/common.js': { body: asset('common.js'), type: 'text/javascript; charset=utf-8' },
  '/demo/operator.js': { body: asset('operator.js'), type: 'text/javascript; charset=utf-8' },
  '/demo/style.css': { body: asset('style.css'), type: 'text/css; charset=utf-8' },
};
const PAGES: Record<string, string> = {
  '/': asset('index.html'),
  '/demo/return': asset('index.html'),
  '/demo/operator': asset('operator.html'),
};

/** Every path the demo answers: its pages and files, and the merchant back end's routes. */
export const DEMO_PATHS: readonly string[] = [
  ...Object.keys(PAGES),
  ...Object.keys(ASSETS),
  '/demo/orders',
  '/demo/operator.json',
  '/demo/qr.svg',
];

/** The attribute of index.html's <html> that tells the page which API to preselect. */
const DEFAULT_API_ATTRIBUTE = 'data-default-api="payment_intents"';

/** A page with the sandbox's settings filled in (only values from fixed lists: nothing to escape). */
function renderPage(page: string, ctx: DemoContext): string {
  const api =
    ctx.paymentApi !== undefined && PAYMENT_APIS.includes(ctx.paymentApi) ? ctx.paymentApi : 'payment_intents';
  return page.replace(DEFAULT_API_ATTRIBUTE, `data-default-api="${api}"`);
}

/** The page may talk to its own origin only; links to the simulator are navigations, which CSP leaves alone. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

/**
 * The QR route encodes only what a payment QR code can be: an http(s) URL (the simulator's page,
 * a source's qr_code_url) or WeChat Pay's own `weixin://` link (a PaymentIntent's
 * `wechat_pay_display_qr_code.data` from real Stripe), at most 2 KB.
 */
const MAX_QR_DATA_BYTES = 2048;
const MAX_BODY_BYTES = 16 * 1024;
const STATEMENT_DESCRIPTOR = 'SANDBOX DEMO';

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}) {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    ...SECURITY_HEADERS,
    ...extra,
  });
  res.end(body);
}

function sendHtml(res: ServerResponse, body: string): void {
  send(res, 200, 'text/html; charset=utf-8', body, { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

const fail = (res: ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, { error: { code, message } });

function methodNotAllowed(res: ServerResponse, allow: string): void {
  send(
    res,
    405,
    'application/json; charset=utf-8',
    JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: `Use ${allow}.` } }),
    {
      Allow: allow,
    },
  );
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An http(s) or weixin: URL of at most MAX_QR_DATA_BYTES, or undefined. */
function qrData(data: string | null): string | undefined {
  if (data === null || data === '' || Buffer.byteLength(data) > MAX_QR_DATA_BYTES) return undefined;
  try {
    const u = new URL(data);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'weixin:' ? data : undefined;
  } catch {
    return undefined;
  }
}

/** The QR code of `data` as SVG (the same call the tests use to check what the page shows). */
export function qrSvg(data: string): Promise<string> {
  return QRCode.toString(data, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * Where Alipay sends the customer back: the sandbox's `/demo/return`, on the origin the browser
 * uses when that is the sandbox's own loopback port (so `localhost` and `127.0.0.1` both keep
 * their sessionStorage); otherwise the configured base URL. Never an arbitrary Host header.
 */
function returnUrl(req: IncomingMessage, baseUrl: string): string {
  const base = new URL(baseUrl);
  const host = req.headers.host ?? '';
  const m = /^(localhost|127\.0\.0\.1|\[::1\]):(\d{1,5})$/.exec(host);
  const origin = m && m[2] === base.port ? `${base.protocol}//${host}` : base.origin;
  return `${origin}/demo/return`;
}

/** Cross-site requests may not create orders: a JSON content type (which forces a CORS preflight) and, when sent, a same-host Origin. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The API's `{error}` (or API Gateway's `{message}`), never anything else of the upstream body. */
function apiError(body: unknown, status: number): { error: unknown } {
  if (isRecord(body) && isRecord(body.error)) return { error: body.error };
  const message =
    isRecord(body) && typeof body.message === 'string' ? body.message : `The order API answered ${status}.`;
  return { error: { code: 'UPSTREAM_ERROR', message } };
}

async function createOrder(req: IncomingMessage, res: ServerResponse, ctx: DemoContext): Promise<void> {
  if (!sameOrigin(req)) return fail(res, 403, 'FORBIDDEN', 'Cross-origin requests are not allowed.');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    return fail(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === undefined) return fail(res, 413, 'PAYLOAD_TOO_LARGE', `Body larger than ${MAX_BODY_BYTES} bytes.`);
  let input: unknown;
  try {
    input = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail(res, 400, 'MALFORMED_JSON', 'The body is not valid JSON.');
  }
  if (!isRecord(input)) return fail(res, 400, 'VALIDATION_FAILED', 'The body must be a JSON object.');
  const { paymentMethod, amount, currency, stripeApi } = input;
  // The API validates the values; only these fields pass, whatever else the browser sent.
  const body: Record<string, unknown> = { paymentMethod, amount, currency, statementDescriptor: STATEMENT_DESCRIPTOR };
  // The API the customer picked; absent, the API's own default (PAYMENT_API) applies.
  if (stripeApi !== undefined) body.stripeApi = stripeApi;
  if (paymentMethod === 'alipay') body.returnUrl = returnUrl(req, ctx.baseUrl);

  let r: Awaited<ReturnType<DemoContext['callApi']>>;
  try {
    r = await ctx.callApi('POST', '/orders', body, { 'Idempotency-Key': `demo-${randomUUID()}` });
  } catch {
    return fail(res, 502, 'API_UNAVAILABLE', 'The order API is unavailable. Try again.');
  }
  if (r.status < 200 || r.status >= 300 || !isRecord(r.body))
    return sendJson(res, r.status >= 400 ? r.status : 502, apiError(r.body, r.status));
  const o = r.body;
  sendJson(res, 201, {
    id: o.id,
    status: o.status,
    clientSecret: o.clientSecret,
    payment: o.payment,
    pendingExpiresAt: o.pendingExpiresAt,
  });
}

const OPERATOR_FIELDS = [
  'id',
  'paymentMethod',
  'amount',
  'currency',
  'status',
  'createdAt',
  'updatedAt',
  'pendingExpiresAt',
  'deadline',
  'failureReason',
  'cancelReason',
] as const;

async function operatorJson(res: ServerResponse, ctx: DemoContext): Promise<void> {
  let r: Awaited<ReturnType<DemoContext['callApi']>>;
  try {
    r = await ctx.callApi('GET', '/orders?limit=50');
  } catch {
    return fail(res, 502, 'API_UNAVAILABLE', 'The order API is unavailable.');
  }
  if (r.status !== 200 || !isRecord(r.body) || !Array.isArray(r.body.orders)) {
    return sendJson(res, r.status >= 400 ? r.status : 502, apiError(r.body, r.status));
  }
  // The operator page needs no client secret, no payment URL: only these fields leave the back end,
  // and of the payment only its API (payment_intents | sources).
  const orders = r.body.orders.filter(isRecord).map((o) => {
    const out: Record<string, unknown> = {};
    for (const k of OPERATOR_FIELDS) if (o[k] !== undefined) out[k] = o[k];
    const api = isRecord(o.payment) ? o.payment.api : undefined;
    if (typeof api === 'string' && (PAYMENT_APIS as readonly string[]).includes(api)) out.api = api;
    return out;
  });
  sendJson(res, 200, { orders });
}

async function qrRoute(res: ServerResponse, url: URL): Promise<void> {
  const data = qrData(url.searchParams.get('data'));
  if (data === undefined) {
    return fail(
      res,
      400,
      'INVALID_QR_DATA',
      `data must be an http(s) or weixin:// URL of at most ${MAX_QR_DATA_BYTES} bytes.`,
    );
  }
  send(res, 200, 'image/svg+xml; charset=utf-8', await qrSvg(data), {
    'Content-Security-Policy': "default-src 'none'",
  });
}

/** Handles the demo's routes; returns false when the request is not one of them. */
export async function handleDemoRequest(req: IncomingMessage, res: ServerResponse, ctx: DemoContext): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  const path = url.pathname;
  const method = (req.method ?? 'GET').toUpperCase();
  const page = PAGES[path];
  const file = ASSETS[path];
  if (!DEMO_PATHS.includes(path)) return false;

  if (path === '/demo/orders') {
    if (method !== 'POST') methodNotAllowed(res, 'POST');
    else await createOrder(req, res, ctx);
    return true;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    methodNotAllowed(res, 'GET');
    return true;
  }
  if (page !== undefined) sendHtml(res, renderPage(page, ctx));
  else if (file !== undefined) send(res, 200, file.type, file.body);
  else if (path === '/demo/operator.json') await operatorJson(res, ctx);
  else await qrRoute(res, url);
  return true;
}
