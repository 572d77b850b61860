/**
 * The customer-facing pages of the simulator (HTML only; customer-pages.ts serves them): the
 * stand-in for the WeChat Pay QR code target and the Alipay redirect.
 *
 * Why: in Stripe test mode, a WeChat Pay source's `wechat.qr_code_url`, an Alipay source's
 * `redirect.url`, and a PaymentIntent's WeChat Pay QR code / Alipay redirect open a Stripe
 * page where you authorize or fail the test payment. The local sandbox and the browser tests
 * need the same thing offline: `GET /authorize/:id` (a source or a PaymentIntent) shows the
 * amount and two buttons, `#authorize` and `#decline`. https://docs.stripe.com/sources/wechat-pay#testing ·
 * https://docs.stripe.com/sources/alipay#customer-action · https://docs.stripe.com/payments/wechat-pay/accept-a-payment#test-integration
 */

import { formatAmount, type SourceObj } from './objects.js';
import type { PaymentIntentObj, PaymentMethodType } from './payment-intent-objects.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }
  main { max-width: 28rem; margin: 4rem auto; background: #fff; border-radius: 8px; padding: 2rem;
         box-shadow: 0 2px 8px rgba(0,0,0,.08); }
  .badge { display: inline-block; background: #ffde92; color: #6b4b00; border-radius: 4px; padding: 2px 8px;
           font-size: .75rem; font-weight: 600; text-transform: uppercase; }
  .amount { font-size: 2rem; font-weight: 600; margin: 1rem 0 .25rem; }
  .meta { color: #697386; font-size: .875rem; word-break: break-all; }
  form { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; font-size: 1rem; padding: .75rem; border-radius: 6px; border: 0; cursor: pointer; }
  #authorize { background: #635bff; color: #fff; }
  #decline { background: #e3e8ee; color: #1a1f36; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

const METHOD_NAME = { wechat: 'WeChat Pay', alipay: 'Alipay' } as const;

/** The authorization page. Buttons only while the source is pending. */
export function authorizePage(src: SourceObj): string {
  const method = METHOD_NAME[src.type];
  const amount = src.amount !== null && src.currency ? formatAmount(src.amount, src.currency) : '';
  const head = `<span class="badge">Test mode</span>
<h1>${esc(method)} test payment</h1>
<p class="amount" id="amount" data-amount="${src.amount ?? ''}" data-currency="${esc(src.currency ?? '')}">${esc(amount)}</p>
<p class="meta">Source <code id="source-id">${esc(src.id)}</code> · status <b id="status">${esc(src.status)}</b></p>`;
  if (src.status !== 'pending') {
    return layout(
      `${method} test payment`,
      `${head}<p id="result" data-status="${esc(src.status)}">This payment can no longer be authorized: the source is ${esc(src.status)}.</p>`,
    );
  }
  return layout(
    `${method} test payment`,
    `${head}
<p>This page stands in for ${esc(method)}. Authorize the payment to make the source chargeable, or decline it to fail it.</p>
<form method="post" action="/authorize/${encodeURIComponent(src.id)}">
  <input type="hidden" name="client_secret" value="${esc(src.client_secret)}">
  <button type="submit" id="authorize" name="action" value="authorize">Authorize test payment</button>
  <button type="submit" id="decline" name="action" value="decline">Decline test payment</button>
</form>`,
  );
}

/** Shown after the action for WeChat Pay (there is no return URL). */
export function donePage(src: SourceObj, action: 'authorize' | 'decline'): string {
  const method = METHOD_NAME[src.type];
  const text =
    action === 'authorize'
      ? 'Payment authorized. You can close this page and return to the shop.'
      : 'Payment declined. You can close this page and return to the shop.';
  return layout(
    `${method} test payment`,
    `<span class="badge">Test mode</span>
<h1>${esc(method)} test payment</h1>
<p id="result" data-status="${esc(src.status)}">${esc(text)}</p>
<p class="meta">Source <code id="source-id">${esc(src.id)}</code> · status <b id="status">${esc(src.status)}</b></p>`,
  );
}

const PI_METHOD_NAME: Record<PaymentMethodType, string> = { wechat_pay: 'WeChat Pay', alipay: 'Alipay' };

function piHead(pi: PaymentIntentObj, method: string): string {
  return `<span class="badge">Test mode</span>
<h1>${esc(method)} test payment</h1>
<p class="amount" id="amount" data-amount="${pi.amount}" data-currency="${esc(pi.currency)}">${esc(formatAmount(pi.amount, pi.currency))}</p>
<p class="meta">PaymentIntent <code id="payment-intent-id">${esc(pi.id)}</code> · status <b id="status">${esc(pi.status)}</b></p>`;
}

/** The authorization page of a PaymentIntent: buttons while it waits for the customer. */
export function paymentIntentPage(pi: PaymentIntentObj, type: PaymentMethodType): string {
  const method = PI_METHOD_NAME[type];
  if (pi.status !== 'requires_action') {
    return layout(
      `${method} test payment`,
      `${piHead(pi, method)}<p id="result" data-status="${esc(pi.status)}">This payment is not waiting for the customer: the PaymentIntent is ${esc(pi.status)}.</p>`,
    );
  }
  const image = pi.next_action?.wechat_pay_display_qr_code?.image_data_url;
  const qr = image ? `<p><img id="qr" alt="WeChat Pay QR code" width="180" height="180" src="${esc(image)}"></p>` : '';
  return layout(
    `${method} test payment`,
    `${piHead(pi, method)}${qr}
<p>This page stands in for ${esc(method)}. Authorize the payment to make it succeed, or decline it to fail this attempt.</p>
<form method="post" action="/authorize/${encodeURIComponent(pi.id)}">
  <input type="hidden" name="client_secret" value="${esc(pi.client_secret)}">
  <button type="submit" id="authorize" name="action" value="authorize">Authorize test payment</button>
  <button type="submit" id="decline" name="action" value="decline">Decline test payment</button>
</form>`,
  );
}

/** Shown after the action when there is no return URL (WeChat Pay). */
export function paymentIntentDonePage(pi: PaymentIntentObj, type: PaymentMethodType, action: string): string {
  const method = PI_METHOD_NAME[type];
  const text = `Payment ${action === 'authorize' ? 'authorized' : 'declined'}. You can close this page and return to the shop.`;
  return layout(
    `${method} test payment`,
    `${piHead(pi, method)}<p id="result" data-status="${esc(pi.status)}">${esc(text)}</p>`,
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${esc(title)}</h1><p id="result">${esc(message)}</p>`);
}

/** `GET /`: what this server is. */
export function indexPage(url: string): string {
  return layout(
    'Stripe simulator',
    `<span class="badge">Test mode</span><h1>Stripe simulator</h1>
<p class="meta">API base ${esc(url)}/v1 · state <a href="/_sim/state">/_sim/state</a> · faults <a href="/_sim/faults">/_sim/faults</a></p>`,
  );
}
