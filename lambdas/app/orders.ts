import {
  DomainError,
  decide,
  isOrderId,
  type NewOrderInput,
  ORDER_ID_METADATA_KEY,
  type Order,
  OrderNotFoundError,
  type PaymentApi,
  type PaymentInfo,
  paymentIntentKey,
  sourceKey,
  validateNewOrder,
} from '../domain/index.js';
import { ConflictError } from '../ports/index.js';
import type { Deps } from './deps.js';
import { runEffects } from './effects.js';
import { handleEvent } from './handle-event.js';

export interface CreateOrderResult {
  order: Order;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

async function replay(deps: Deps, orderId: string, request: string, stored: string): Promise<CreateOrderResult> {
  if (stored !== request) {
    throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with other parameters.');
  }
  const order = await deps.store.get(orderId);
  if (order === undefined) throw new OrderNotFoundError(orderId);
  // The first request may have crashed before its timer was scheduled: make sure it was.
  if (order.status === 'pending' && order.version === 1) await runEffects(deps, order, order.outbox.effects);
  return { order, replayed: true };
}

/**
 * Validates the request, creates the Stripe payment — a PaymentIntent created and confirmed in one
 * call (idempotency key `pi-<orderId>`) or a source (`source-<orderId>`), per the request's
 * `stripeApi` or the deployment's default — stores the order and schedules its expiry timer.
 */
export async function createOrder(
  deps: Deps,
  input: NewOrderInput,
  idempotencyKey?: string,
): Promise<CreateOrderResult> {
  const api: PaymentApi = input.stripeApi ?? deps.settings.paymentApi;
  const valid = validateNewOrder({ ...input, stripeApi: api }, { wechatAppId: deps.settings.wechatAppId });
  // The request as the client sent it (not the deployment's default), so a replay still matches
  // after the default changes.
  const request = canonical({ ...valid, stripeApi: input.stripeApi });
  if (idempotencyKey !== undefined) {
    const seen = await deps.store.getByIdempotencyKey(idempotencyKey);
    if (seen) return replay(deps, seen.orderId, request, seen.request);
  }
  const orderId = deps.ids.orderId();
  const metadata = { ...(valid.metadata ?? {}) };
  const common = {
    orderId,
    amount: valid.amount,
    currency: valid.currency,
    ...(valid.returnUrl !== undefined ? { returnUrl: valid.returnUrl } : {}),
    ...(valid.statementDescriptor !== undefined ? { statementDescriptor: valid.statementDescriptor } : {}),
    metadata: { ...metadata, [ORDER_ID_METADATA_KEY]: orderId },
  };
  let payment: PaymentInfo;
  let livemode: boolean;
  let qrImage: string | undefined;
  if (api === 'payment_intents') {
    const pi = await deps.gateway.createPaymentIntent({
      ...common,
      method: valid.paymentMethod,
      ...(valid.paymentMethod === 'wechat' ? { client: valid.client ?? 'web' } : {}),
      ...(valid.client !== undefined && valid.client !== 'web' && deps.settings.wechatAppId
        ? { wechatAppId: deps.settings.wechatAppId }
        : {}),
      idempotencyKey: paymentIntentKey(orderId),
    });
    // The QR code's PNG is answered once, not stored: gzip cannot shrink it, and it would take
    // the order item past 1 KB, doubling the cost of every write of the order. A storefront that
    // needs it later encodes `qrCodeData` (or opens `hostedInstructionsUrl`).
    const { qrCodeImageDataUrl, ...stored } = pi.payment;
    payment = stored;
    qrImage = qrCodeImageDataUrl;
    livemode = pi.livemode;
  } else {
    const source = await deps.gateway.createSource({
      ...common,
      type: valid.paymentMethod,
      idempotencyKey: sourceKey(orderId),
    });
    payment = {
      api: 'sources',
      sourceId: source.id,
      ...(source.qrCodeUrl ? { qrCodeUrl: source.qrCodeUrl } : {}),
      ...(source.redirectUrl ? { redirectUrl: source.redirectUrl } : {}),
    };
    livemode = source.livemode;
  }
  const now = deps.clock.now();
  const d = decide(
    undefined,
    {
      type: 'order.created',
      id: `${orderId}_created`,
      at: now.toISOString(),
      orderId,
      amount: valid.amount,
      currency: valid.currency,
      paymentMethod: valid.paymentMethod,
      livemode,
      clientSecret: deps.ids.clientSecret(orderId),
      payment,
      metadata,
      ...(valid.returnUrl !== undefined ? { returnUrl: valid.returnUrl } : {}),
      ...(valid.statementDescriptor !== undefined ? { statementDescriptor: valid.statementDescriptor } : {}),
      ...(api === 'payment_intents' ? { expiresInSeconds: deps.settings.paymentExpirySeconds } : {}),
    },
    now,
  );
  if (d.kind !== 'applied') throw new Error(`unreachable: order.created gave ${d.kind}`);
  try {
    await deps.store.create(
      d.order,
      idempotencyKey !== undefined ? { key: idempotencyKey, orderId, request } : undefined,
    );
  } catch (e) {
    // A concurrent request with the same key won; answer as it did. Our own payment was never
    // shown to anyone: a PaymentIntent is canceled now (best effort; nobody can pay it anyway),
    // a pending source is canceled by Stripe after an hour.
    if (e instanceof ConflictError && idempotencyKey !== undefined) {
      const seen = await deps.store.getByIdempotencyKey(idempotencyKey);
      if (seen) {
        if (payment.api === 'payment_intents') {
          await deps.gateway.cancelPaymentIntent(payment.paymentIntentId).catch(() => undefined);
        }
        return replay(deps, seen.orderId, request, seen.request);
      }
    }
    throw e;
  }
  await runEffects(deps, d.order, d.effects);
  if (qrImage !== undefined && d.order.payment.api === 'payment_intents') {
    return { order: { ...d.order, payment: { ...d.order.payment, qrCodeImageDataUrl: qrImage } }, replayed: false };
  }
  return { order: d.order, replayed: false };
}

export async function getOrder(deps: Deps, orderId: string): Promise<Order> {
  const order = isOrderId(orderId) ? await deps.store.get(orderId) : undefined;
  if (order === undefined) throw new OrderNotFoundError(orderId);
  return order;
}

/**
 * For the customer's browser: the order when `clientSecret` is its own, compared in constant
 * time. A wrong secret answers exactly as a missing order does.
 */
export async function getOrderForCustomer(
  deps: Pick<Deps, 'store' | 'secrets'>,
  orderId: string,
  clientSecret: string,
): Promise<Order> {
  const order = isOrderId(orderId) ? await deps.store.get(orderId, { consistent: false }) : undefined;
  if (order === undefined || !deps.secrets.equal(order.clientSecret, clientSecret))
    throw new OrderNotFoundError(orderId);
  return order;
}

/**
 * Merchant cancel: allowed while pending or chargeable, else ORDER_NOT_CANCELABLE. A PaymentIntents
 * order cancels its PaymentIntent first; when Stripe says the customer has paid already, the
 * order is written `paid` and the cancel is refused like any paid order's.
 */
export async function cancelOrder(deps: Deps, orderId: string): Promise<Order> {
  if (!isOrderId(orderId)) throw new OrderNotFoundError(orderId);
  const r = await handleEvent(deps, {
    type: 'merchant.cancel',
    id: `mc_${orderId}`,
    at: deps.clock.now().toISOString(),
    orderId,
  });
  if (r.outcome === 'unknown_order') throw new OrderNotFoundError(orderId);
  if (r.outcome === 'rejected') throw r.error;
  if (r.order.status !== 'canceled') {
    throw new DomainError(
      'ORDER_NOT_CANCELABLE',
      `Order ${orderId} is ${r.order.status}: the customer paid before the cancel reached Stripe.`,
    );
  }
  return r.order;
}
