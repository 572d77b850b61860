// The demo storefront's browser side (`/` and `/demo/return`). It never holds the API key:
// orders are created by the demo back end (`POST /demo/orders`), and the status is polled from
// the browser-safe `GET /orders/{id}/status` with the order's client secret. The current order
// lives in sessionStorage, so a reload, or the round trip through Alipay, resumes it.
// Orders go to either Stripe API: PaymentIntents (WeChat Pay's QR code from `qrCodeData`, Alipay's
// `redirectUrl`) or the legacy Sources (`qrCodeUrl`, `redirectUrl`); the sandbox's PAYMENT_API is
// preselected (the `data-default-api` attribute the demo back end fills in).
import {
  APIS,
  apiOf,
  byId,
  clearError,
  formatAmount,
  formatTime,
  httpUrl,
  METHODS,
  methodName,
  pngDataUrl,
  setStatus,
  showError,
  TERMINAL,
} from './common.js';

const STORE_KEY = 'sandbox-demo.order';
const POLL_MS = 3000;

const el = {
  form: byId('order-form'),
  amount: byId('amount'),
  currency: byId('currency'),
  amountMajor: byId('amount-major'),
  pay: byId('pay'),
  error: byId('error'),
  checkout: byId('checkout'),
  payment: byId('payment'),
  orderId: byId('order-id'),
  orderAmount: byId('order-amount'),
  wechat: byId('wechat-pay'),
  qr: byId('qr'),
  qrLink: byId('qr-link'),
  qrHosted: byId('qr-hosted'),
  qrHostedLink: byId('qr-hosted-link'),
  paymentKind: byId('payment-kind'),
  paymentRef: byId('payment-ref'),
  alipay: byId('alipay-pay'),
  alipayRedirect: byId('alipay-redirect'),
  status: byId('status'),
  countdown: byId('countdown'),
  countdownLabel: byId('countdown-label'),
  pollNote: byId('poll-note'),
  history: byId('history'),
  newOrder: byId('new-order'),
  returnBanner: byId('return-banner'),
  returnSource: byId('return-source'),
  returnSecret: byId('return-client-secret'),
  returnObjectLabel: byId('return-object-label'),
  returnSecretLabel: byId('return-secret-label'),
  returnStatusLine: byId('return-status-line'),
  returnRedirectStatus: byId('return-redirect-status'),
};

/** Polls of an order replaced by a newer one stop at their next turn. */
let generation = 0;
let pollTimer;
let tickTimer;
/** The sandbox clock can be advanced by tests; the countdown follows it when /_local/clock answers. */
let clockOffsetMs = 0;
let sandboxClock = true;
let countdownTarget;

// ------------------------------------------------------------------ checkout form

const selectedMethod = () =>
  document.querySelector('input[name="method"]:checked')?.value === 'alipay' ? 'alipay' : 'wechat';

const selectedApi = () =>
  document.querySelector('input[name="api"]:checked')?.value === 'sources' ? 'sources' : 'payment_intents';

/** Preselects the sandbox's PAYMENT_API (the demo back end writes it into the page). */
function selectDefaultApi() {
  const api = document.documentElement.dataset.defaultApi;
  const input = document.querySelector(
    `input[name="api"][value="${api === 'sources' ? 'sources' : 'payment_intents'}"]`,
  );
  if (input) input.checked = true;
}

function fillCurrencies() {
  const m = METHODS[selectedMethod()];
  const keep = m.currencies.includes(el.currency.value) ? el.currency.value : m.preferred;
  el.currency.replaceChildren(
    ...m.currencies.map((c) => {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = c.toUpperCase();
      o.selected = c === keep;
      return o;
    }),
  );
  updateMajor();
}

function updateMajor() {
  const n = Number(el.amount.value);
  el.amountMajor.textContent =
    el.amount.value !== '' && Number.isInteger(n) && n > 0 ? formatAmount(n, el.currency.value) : '—';
}

async function submitOrder(event) {
  event.preventDefault();
  clearError(el.error);
  const order = {
    paymentMethod: selectedMethod(),
    amount: Number(el.amount.value),
    currency: el.currency.value,
    stripeApi: selectedApi(),
  };
  el.pay.disabled = true;
  el.pay.textContent = 'Creating order…';
  try {
    const res = await fetch('/demo/orders', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(order),
      cache: 'no-store',
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      showError(el.error, body?.error?.message ?? `The shop answered ${res.status}.`, body?.error?.fields);
      return;
    }
    const current = {
      id: body.id,
      clientSecret: body.clientSecret,
      payment: body.payment ?? {},
      pendingExpiresAt: body.pendingExpiresAt,
      status: body.status,
      ...order,
    };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(current));
    showOrder(current);
  } catch {
    showError(el.error, 'Could not reach the shop. Is the sandbox running?');
  } finally {
    el.pay.disabled = false;
    el.pay.textContent = 'Pay';
  }
}

// ------------------------------------------------------------------ the order

function storedOrder() {
  try {
    const o = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null');
    return o && typeof o.id === 'string' && typeof o.clientSecret === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

function showOrder(order) {
  stopTimers();
  const gen = ++generation;
  el.checkout.hidden = true;
  el.payment.hidden = false;
  el.orderId.textContent = order.id;
  el.orderAmount.textContent = `${formatAmount(order.amount, order.currency)} · ${methodName(order.paymentMethod)}`;
  el.history.replaceChildren();
  el.pollNote.textContent = '';
  setStatus(el.status, order.status ?? 'pending');
  setCountdown(undefined, order.pendingExpiresAt);

  const payment = order.payment ?? {};
  const api = apiOf(payment) ?? order.stripeApi;
  el.paymentKind.textContent = APIS[api]?.object ?? 'Payment';
  el.paymentRef.textContent = String(payment.paymentIntentId ?? payment.sourceId ?? '—');
  el.payment.dataset.api = String(api);

  const qr = qrOf(payment);
  const redirect = httpUrl(payment.redirectUrl);
  el.wechat.hidden = order.paymentMethod !== 'wechat' || qr.image === undefined;
  el.alipay.hidden = order.paymentMethod !== 'alipay' || redirect === undefined;
  if (qr.image !== undefined) el.qr.src = qr.image;
  el.qrLink.parentElement.hidden = qr.target === undefined;
  if (qr.target !== undefined) el.qrLink.href = qr.target;
  el.qrHosted.hidden = qr.hosted === undefined;
  if (qr.hosted !== undefined) el.qrHostedLink.href = qr.hosted;
  if (redirect !== undefined) el.alipayRedirect.href = redirect;
  void poll(order, gen);
}

/**
 * The WeChat Pay QR code: `image` for the <img>, `target` what it encodes when that is a page a
 * desktop tester can open, `hosted` Stripe's page showing the code (PaymentIntents).
 * Sources: `qrCodeUrl`. PaymentIntents: `qrCodeData`, drawn by the demo's own QR route — the
 * simulator's page (an http(s) URL a desktop tester can open) or real Stripe's `weixin://` link —
 * else Stripe's PNG (`qrCodeImageDataUrl`, in the create answer only).
 */
function qrOf(payment) {
  if (apiOf(payment) === 'sources') {
    const target = httpUrl(payment.qrCodeUrl);
    return { image: target && qrRoute(target), target, hosted: undefined };
  }
  const target = httpUrl(payment.qrCodeData);
  const weixin = typeof payment.qrCodeData === 'string' && payment.qrCodeData.startsWith('weixin://');
  const image =
    target !== undefined || weixin ? qrRoute(target ?? payment.qrCodeData) : pngDataUrl(payment.qrCodeImageDataUrl);
  return { image, target, hosted: httpUrl(payment.hostedInstructionsUrl) };
}

const qrRoute = (data) => `/demo/qr.svg?data=${encodeURIComponent(data)}`;

function render(view) {
  setStatus(el.status, view.status);
  const pending = view.status === 'pending';
  // Once authorized (or finished), the QR code and the redirect are history: dimmed and inert.
  for (const box of [el.wechat, el.alipay]) {
    box.classList.toggle('inactive', !pending);
    box.inert = !pending;
  }
  el.history.replaceChildren(
    ...(Array.isArray(view.history) ? view.history : []).map((h) => {
      const li = document.createElement('li');
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = String(h.type);
      // Where the line came from: Stripe's PaymentIntent or source events, charges, timers, the merchant.
      type.dataset.kind = String(h.type).split('.')[0] ?? '';
      const time = document.createElement('time');
      time.dateTime = String(h.at);
      time.textContent = formatTime(h.at);
      const to = document.createElement('span');
      to.className = 'status small';
      setStatus(to, h.to);
      li.append(type, time, to);
      return li;
    }),
  );
  if (TERMINAL.has(view.status)) setCountdown(undefined, undefined, view.status);
  else setCountdown(view.deadline, view.pendingExpiresAt);
}

async function poll(order, gen) {
  if (gen !== generation) return;
  // The status function's URL (StatusUrl in AWS), as a storefront should poll it.
  const url = `/_fn/status/orders/${encodeURIComponent(order.id)}/status?client_secret=${encodeURIComponent(order.clientSecret)}`;
  try {
    const [res] = await Promise.all([fetch(url, { cache: 'no-store', credentials: 'omit' }), syncClock()]);
    if (gen !== generation) return;
    if (res.ok) {
      const view = await res.json();
      if (gen !== generation) return;
      el.pollNote.textContent = '';
      render(view);
      if (TERMINAL.has(view.status)) return;
    } else if (res.status === 400 || res.status === 404) {
      el.pollNote.textContent = 'This order is unknown to the shop (or its client secret is wrong). Start a new order.';
      return;
    } else {
      el.pollNote.textContent = `Status check answered ${res.status}; retrying…`;
    }
  } catch {
    if (gen !== generation) return;
    el.pollNote.textContent = 'Network error; retrying…';
  }
  pollTimer = setTimeout(() => void poll(order, gen), POLL_MS);
}

async function syncClock() {
  if (!sandboxClock) return;
  try {
    const sent = Date.now();
    const res = await fetch('/_local/clock', { cache: 'no-store' });
    if (!res.ok) {
      sandboxClock = false;
      return;
    }
    const { now } = await res.json();
    const t = Date.parse(now);
    if (Number.isFinite(t)) clockOffsetMs = t - (sent + Date.now()) / 2;
  } catch {
    sandboxClock = false;
  }
}

// ------------------------------------------------------------------ countdown

function setCountdown(deadline, pendingExpiresAt, finalStatus) {
  clearInterval(tickTimer);
  if (finalStatus !== undefined) {
    countdownTarget = undefined;
    el.countdownLabel.textContent = 'Time left';
    el.countdown.textContent = '— (order finished)';
    return;
  }
  const at = Date.parse(deadline ?? pendingExpiresAt ?? '');
  if (!Number.isFinite(at)) {
    el.countdown.textContent = '—';
    return;
  }
  countdownTarget = at;
  el.countdownLabel.textContent = deadline ? 'Charge deadline in' : 'Pending expires in';
  el.countdown.title = new Date(at).toLocaleString();
  tick();
  tickTimer = setInterval(tick, 1000);
}

function tick() {
  if (countdownTarget === undefined) return;
  const left = Math.floor((countdownTarget - (Date.now() + clockOffsetMs)) / 1000);
  if (left <= 0) {
    el.countdown.textContent = '0:00 (expired, waiting for the timer)';
    return;
  }
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  el.countdown.textContent = `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

function stopTimers() {
  clearTimeout(pollTimer);
  clearInterval(tickTimer);
}

function newOrder() {
  generation++;
  stopTimers();
  sessionStorage.removeItem(STORE_KEY);
  el.payment.hidden = true;
  el.returnBanner.hidden = true;
  el.checkout.hidden = false;
  if (location.pathname !== '/') history.replaceState(null, '', '/');
  el.amount.focus();
}

// ------------------------------------------------------------------ start

selectDefaultApi();
for (const input of document.querySelectorAll('input[name="method"]')) input.addEventListener('change', fillCurrencies);
el.amount.addEventListener('input', updateMajor);
el.currency.addEventListener('change', updateMajor);
el.form.addEventListener('submit', submitOrder);
el.newOrder.addEventListener('click', newOrder);
fillCurrencies();

// Back from Alipay. Sources: `source`, `client_secret`, `livemode`. PaymentIntents: `payment_intent`,
// `payment_intent_client_secret`, `redirect_status`. Either way the order's status (polled) decides.
if (location.pathname === '/demo/return') {
  const q = new URLSearchParams(location.search);
  const intent = q.has('payment_intent');
  el.returnObjectLabel.textContent = intent ? 'PaymentIntent' : 'Source';
  el.returnSecretLabel.textContent = intent ? 'PaymentIntent client secret' : 'Source client secret';
  el.returnSource.textContent = (intent ? q.get('payment_intent') : q.get('source')) ?? '—';
  el.returnSecret.textContent = (intent ? q.get('payment_intent_client_secret') : q.get('client_secret')) ?? '—';
  el.returnStatusLine.hidden = !intent;
  el.returnRedirectStatus.textContent = q.get('redirect_status') ?? '—';
  el.returnBanner.hidden = false;
}
const resumed = storedOrder();
if (resumed) showOrder(resumed);
else if (location.pathname === '/demo/return') {
  showError(el.error, 'No order is kept in this tab’s session, so there is nothing to resume. Start a new order.');
}
