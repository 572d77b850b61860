/**
 * What the customer's browser (or phone) reaches: `/authorize/{source or PaymentIntent id}`
 * and the QR images `/qr/{PaymentIntent id}.png|.svg`.
 *
 * Rules:
 * - `GET /authorize/{id}` shows the amount and, while the payment waits for the customer,
 *   Authorize and Decline buttons; `POST` with `action=authorize|decline` plays the customer;
 *   a `client_secret` that does not match is refused (403);
 * - Alipay sends the browser back to the return URL as Stripe does: for a source with
 *   `source`, `client_secret`, `livemode` (https://docs.stripe.com/sources/alipay#customer-action),
 *   for a PaymentIntent with `payment_intent`, `payment_intent_client_secret` and
 *   `redirect_status` succeeded | failed (https://docs.stripe.com/payments/alipay/accept-a-payment#handle-redirect);
 *   WeChat Pay shows a result page;
 * - the QR images encode the PaymentIntent's `next_action.wechat_pay_display_qr_code.data`.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseForm } from './form.js';
import { readBody, send, sendHtml } from './http.js';
import { authorizePage, donePage, messagePage, paymentIntentDonePage, paymentIntentPage } from './pages.js';
import { str } from './params.js';
import type { PaymentIntentObj, PaymentMethodType } from './payment-intent-objects.js';
import { qrPng, qrSvg } from './qr.js';
import { authorizePaymentIntent, failPaymentIntent } from './resources/payment-intent-attempts.js';
import { authorizeSource, failSource } from './resources/sources.js';
import type { SimState } from './state.js';

export async function handleCustomerPage(
  st: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const body = await readBody(req).catch(() => '');
  const qr = /^\/qr\/([^/]+)\.(png|svg)$/.exec(url.pathname);
  if (qr) return serveQr(st, res, decodeURIComponent(qr[1] ?? ''), qr[2] === 'png' ? 'png' : 'svg');
  const m = /^\/authorize\/([^/]+)\/?$/.exec(url.pathname);
  const id = m ? decodeURIComponent(m[1] ?? '') : '';
  const form = { ...parseForm(url.search.slice(1)), ...parseForm(body) };
  const secret = str(form.client_secret);
  const action = str(form.action);
  if (method !== 'GET' && method !== 'POST') {
    return sendHtml(res, 405, messagePage('Method not allowed', `${method} is not allowed.`));
  }
  const pi = st.paymentIntents.get(id)?.obj;
  if (pi) {
    if (secret !== undefined && secret !== pi.client_secret) {
      return sendHtml(res, 403, messagePage('Invalid link', 'The client secret does not match this payment.'));
    }
    const type = methodType(st, pi);
    if (method === 'GET') return sendHtml(res, 200, paymentIntentPage(pi, type));
    if (action !== 'authorize' && action !== 'decline') {
      return sendHtml(res, 400, messagePage('Bad request', 'action must be authorize or decline.'));
    }
    if (pi.status !== 'requires_action') return sendHtml(res, 409, paymentIntentPage(pi, type));
    if (action === 'authorize') authorizePaymentIntent(st, pi.id);
    else failPaymentIntent(st, pi.id);
    const after = st.paymentIntents.get(pi.id);
    const returnUrl = after?.returnUrl ?? null;
    if (type === 'alipay' && returnUrl !== null) {
      const back = new URL(returnUrl);
      back.searchParams.set('payment_intent', pi.id);
      back.searchParams.set('payment_intent_client_secret', pi.client_secret);
      back.searchParams.set('redirect_status', after?.obj.status === 'succeeded' ? 'succeeded' : 'failed');
      return send(res, 303, '', 'text/plain', { Location: back.toString() });
    }
    return sendHtml(res, 200, paymentIntentDonePage(pi, type, action));
  }

  const rec = st.sources.get(id);
  if (!rec) return sendHtml(res, 404, messagePage('Unknown payment', 'No such source or PaymentIntent.'));
  if (secret !== undefined && secret !== rec.obj.client_secret) {
    return sendHtml(res, 403, messagePage('Invalid link', 'The client secret does not match this source.'));
  }
  if (method === 'GET') return sendHtml(res, 200, authorizePage(rec.obj));
  if (action !== 'authorize' && action !== 'decline') {
    return sendHtml(res, 400, messagePage('Bad request', 'action must be authorize or decline.'));
  }
  if (rec.obj.status !== 'pending') return sendHtml(res, 409, authorizePage(rec.obj));
  if (action === 'authorize') authorizeSource(st, rec.obj.id);
  else failSource(st, rec.obj.id);
  if (rec.obj.type === 'alipay' && rec.obj.redirect) {
    const back = new URL(rec.obj.redirect.return_url);
    back.searchParams.set('source', rec.obj.id);
    back.searchParams.set('client_secret', rec.obj.client_secret);
    back.searchParams.set('livemode', 'false');
    return send(res, 303, '', 'text/plain', { Location: back.toString() });
  }
  sendHtml(res, 200, donePage(rec.obj, action));
}

/** The type of the PaymentIntent's current (or last failed) payment method. */
function methodType(st: SimState, pi: PaymentIntentObj): PaymentMethodType {
  const pm = pi.payment_method !== null ? st.paymentMethods.get(pi.payment_method) : undefined;
  return pm?.type ?? pi.last_payment_error?.payment_method.type ?? (pi.payment_method_types[0] as PaymentMethodType);
}

function serveQr(st: SimState, res: ServerResponse, id: string, format: 'png' | 'svg'): void {
  const data = st.paymentIntents.get(id)?.obj.next_action?.wechat_pay_display_qr_code?.data;
  if (data === undefined) {
    sendHtml(res, 404, messagePage('No QR code', 'This PaymentIntent shows no WeChat Pay QR code.'));
    return;
  }
  if (format === 'svg') {
    send(res, 200, qrSvg(data), 'image/svg+xml');
    return;
  }
  const png = qrPng(data);
  res.writeHead(200, {
    'Content-Type': 'image/png',
    'Content-Length': png.length,
    'Cache-Control': 'no-cache, no-store',
  });
  res.end(png);
}
