/**
 * Stripe webhook events → the domain's OrderEvent. Only the fields the state machine needs are
 * kept, so a queue message stays small and independent of Stripe's API version.
 * Event object: https://docs.stripe.com/api/events/object
 */
import {
  HANDLED_STRIPE_EVENT_TYPES,
  type HandledStripeEventType,
  ORDER_ID_METADATA_KEY,
  type OrderEvent,
} from '../../domain/index.js';

export interface StripeEventLike {
  id?: unknown;
  type?: unknown;
  created?: unknown;
  livemode?: unknown;
  data?: { object?: Record<string, unknown> | null } | null;
}

export type Translation =
  | { kind: 'event'; event: OrderEvent; livemode: boolean }
  | { kind: 'ignored'; reason: 'unhandled_type' | 'not_an_event' | 'no_order_reference' };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export const isHandledType = (t: string): t is HandledStripeEventType =>
  (HANDLED_STRIPE_EVENT_TYPES as readonly string[]).includes(t);

/** The source id of a charge: `charge.source.id` (Sources API) or `payment_method`. */
function chargeSourceId(obj: Record<string, unknown>): string | undefined {
  const source = obj.source;
  if (typeof source === 'string') return str(source);
  if (source && typeof source === 'object') return str((source as Record<string, unknown>).id);
  const pm = str(obj.payment_method);
  return pm?.startsWith('src_') ? pm : undefined;
}

export function translateStripeEvent(e: StripeEventLike): Translation {
  const id = str(e.id);
  const type = str(e.type);
  const created = num(e.created);
  const obj = e.data?.object;
  if (!id || !type || created === undefined || !obj || typeof obj !== 'object')
    return { kind: 'ignored', reason: 'not_an_event' };
  if (!isHandledType(type)) return { kind: 'ignored', reason: 'unhandled_type' };

  const livemode = e.livemode === true;
  const at = new Date(created * 1000).toISOString();
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  const orderId = str(metadata[ORDER_ID_METADATA_KEY]);
  const ref = (sourceId: string | undefined) => ({
    ...(orderId ? { orderId } : {}),
    ...(sourceId ? { sourceId } : {}),
  });

  if (type.startsWith('source.')) {
    const sourceId = str(obj.id);
    if (!orderId && !sourceId) return { kind: 'ignored', reason: 'no_order_reference' };
    if (type === 'source.chargeable') {
      return {
        kind: 'event',
        livemode,
        event: {
          type,
          id,
          at,
          ...ref(sourceId),
          sourceId: sourceId ?? '',
          amount: num(obj.amount) ?? -1,
          currency: str(obj.currency) ?? '',
          livemode: obj.livemode === true,
        },
      };
    }
    return {
      kind: 'event',
      livemode,
      event: { type: type as 'source.failed' | 'source.canceled', id, at, ...ref(sourceId) },
    };
  }

  // charge.* and charge.dispute.created (whose object is a dispute that names its charge).
  const isDispute = type === 'charge.dispute.created';
  const chargeId = isDispute ? str(obj.charge) : str(obj.id);
  const sourceId = isDispute ? undefined : chargeSourceId(obj);
  if (!chargeId || (!orderId && !sourceId)) return { kind: 'ignored', reason: 'no_order_reference' };
  const amount = num(obj.amount);
  const currency = str(obj.currency);
  const event = {
    type: type as Exclude<HandledStripeEventType, `source.${string}`>,
    id,
    at,
    ...ref(sourceId),
    chargeId,
    ...(sourceId ? { chargeSourceId: sourceId } : {}),
    ...(amount !== undefined ? { amount } : {}),
    ...(currency ? { currency } : {}),
    ...(type === 'charge.failed' && str(obj.failure_code) ? { failureCode: str(obj.failure_code) } : {}),
  } as OrderEvent;
  return { kind: 'event', livemode, event };
}

/** FIFO group of an event: the order id, else the source id (DESIGN.md, Queue). */
export const groupIdOf = (e: OrderEvent): string => e.orderId ?? e.sourceId ?? e.id;
