import {
  constantTimeEqual,
  DomainError,
  decide,
  isOrderId,
  type NewOrderInput,
  ORDER_ID_METADATA_KEY,
  type Order,
  OrderNotFoundError,
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
 * Validates the request, creates the Stripe source (idempotency key `source-<orderId>`), stores
 * the order and schedules its pending-expiry timer.
 */
export async function createOrder(
  deps: Deps,
  input: NewOrderInput,
  idempotencyKey?: string,
): Promise<CreateOrderResult> {
  const valid = validateNewOrder(input);
  const request = canonical(valid);
  if (idempotencyKey !== undefined) {
    const seen = await deps.store.getByIdempotencyKey(idempotencyKey);
    if (seen) return replay(deps, seen.orderId, request, seen.request);
  }
  const orderId = deps.ids.orderId();
  const metadata = { ...(valid.metadata ?? {}) };
  const source = await deps.gateway.createSource({
    orderId,
    type: valid.paymentMethod,
    amount: valid.amount,
    currency: valid.currency,
    ...(valid.returnUrl !== undefined ? { returnUrl: valid.returnUrl } : {}),
    ...(valid.statementDescriptor !== undefined ? { statementDescriptor: valid.statementDescriptor } : {}),
    metadata: { ...metadata, [ORDER_ID_METADATA_KEY]: orderId },
    idempotencyKey: sourceKey(orderId),
  });
  const now = deps.clock.now();
  const payment = {
    sourceId: source.id,
    ...(source.qrCodeUrl ? { qrCodeUrl: source.qrCodeUrl } : {}),
    ...(source.redirectUrl ? { redirectUrl: source.redirectUrl } : {}),
  };
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
      livemode: source.livemode,
      clientSecret: deps.ids.clientSecret(orderId),
      payment,
      metadata,
      ...(valid.returnUrl !== undefined ? { returnUrl: valid.returnUrl } : {}),
      ...(valid.statementDescriptor !== undefined ? { statementDescriptor: valid.statementDescriptor } : {}),
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
    // A concurrent request with the same key won; answer as it did. (Our source stays
    // pending and Stripe cancels it after an hour.)
    if (e instanceof ConflictError && idempotencyKey !== undefined) {
      const seen = await deps.store.getByIdempotencyKey(idempotencyKey);
      if (seen) return replay(deps, seen.orderId, request, seen.request);
    }
    throw e;
  }
  await runEffects(deps, d.order, d.effects);
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
  deps: Pick<Deps, 'store'>,
  orderId: string,
  clientSecret: string,
): Promise<Order> {
  const order = isOrderId(orderId) ? await deps.store.get(orderId, { consistent: false }) : undefined;
  if (order === undefined || !constantTimeEqual(order.clientSecret, clientSecret))
    throw new OrderNotFoundError(orderId);
  return order;
}

/** Merchant cancel: allowed while pending or chargeable, else ORDER_NOT_CANCELABLE. */
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
  return r.order;
}
