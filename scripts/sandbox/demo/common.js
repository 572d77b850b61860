// Shared by the demo's pages. Everything is rendered with textContent: no HTML from data, ever.

/** Presentment currencies per source type (lambdas/domain/validation.ts). */
export const METHODS = {
  wechat: {
    name: 'WeChat Pay',
    currencies: ['aud', 'cad', 'eur', 'gbp', 'hkd', 'jpy', 'sgd', 'usd'],
    preferred: 'usd',
  },
  alipay: {
    name: 'Alipay',
    currencies: ['aud', 'cad', 'cny', 'eur', 'gbp', 'hkd', 'jpy', 'nzd', 'sgd', 'usd'],
    preferred: 'cny',
  },
};

export const TERMINAL = new Set(['paid', 'failed', 'canceled', 'refunded']);

/** Of the currencies above, only JPY has no minor unit. https://docs.stripe.com/currencies#zero-decimal */
const ZERO_DECIMAL = new Set(['jpy']);

export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** `1234, 'usd'` → `$12.34`; `1234, 'jpy'` → `¥1,234`. */
export function formatAmount(amount, currency) {
  const c = String(currency).toLowerCase();
  const digits = ZERO_DECIMAL.has(c) ? 0 : 2;
  const major = Number(amount) / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: c.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${c.toUpperCase()}`;
  }
}

export const methodName = (m) => METHODS[m]?.name ?? String(m);

/** Local date and time, or an em dash. */
export function formatTime(iso, withDate = false) {
  if (typeof iso !== 'string' || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return withDate
    ? d.toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
        second: '2-digit',
      })
    : d.toLocaleTimeString();
}

/** A link target from data: only http(s), never javascript: or data: URLs. */
export function httpUrl(value) {
  if (typeof value !== 'string') return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** A QR code image from data: a base64 PNG data URL only (Stripe's `image_data_url`), else undefined. */
export function pngDataUrl(value) {
  return typeof value === 'string' && /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/.test(value) ? value : undefined;
}

/** The two Stripe APIs an order can be on (`payment.api`). */
export const APIS = {
  payment_intents: { name: 'PaymentIntents', object: 'PaymentIntent' },
  sources: { name: 'Sources', object: 'Source' },
};

/** `payment_intents` → `PaymentIntents`; anything else as it is. */
export const apiName = (a) => APIS[a]?.name ?? (typeof a === 'string' && a !== '' ? a : '—');

/** The API of an order's payment; orders from before PaymentIntents have no `api` and are sources. */
export const apiOf = (payment) =>
  payment?.api === 'payment_intents' || payment?.api === 'sources'
    ? payment.api
    : typeof payment?.sourceId === 'string'
      ? 'sources'
      : typeof payment?.paymentIntentId === 'string'
        ? 'payment_intents'
        : undefined;

/** A status badge: text is the status value itself; the colour comes from data-status in the CSS. */
export function setStatus(el, status) {
  el.textContent = String(status);
  el.dataset.status = String(status);
}

/** An `{error: {message, fields?}}` body as text nodes inside `el`. */
export function showError(el, message, fields) {
  const p = document.createElement('p');
  p.textContent = message;
  const children = [p];
  if (Array.isArray(fields) && fields.length > 0) {
    const ul = document.createElement('ul');
    for (const f of fields) {
      const li = document.createElement('li');
      li.textContent = `${f?.field ?? ''}: ${f?.message ?? ''}`;
      ul.append(li);
    }
    children.push(ul);
  }
  el.replaceChildren(...children);
  el.hidden = false;
}

export function clearError(el) {
  el.replaceChildren();
  el.hidden = true;
}
