import type { LifecycleEventType } from './events.js';
import type { OrderSummary, TimerKind } from './order.js';

/**
 * Side effects the state machine asks for. Every effect is idempotent: running one twice has
 * the effect of running it once (Stripe idempotency keys, Scheduler names, EventBridge
 * consumers keyed by order id and type).
 */
export type Effect =
  | {
      type: 'charge';
      orderId: string;
      sourceId: string;
      amount: number;
      currency: string;
      idempotencyKey: string;
    }
  | {
      /** Refund the charge, or (PaymentIntents, when the charge id is not known) the PaymentIntent's charge. */
      type: 'refund';
      orderId: string;
      chargeId?: string;
      paymentIntentId?: string;
      idempotencyKey: string;
    }
  | {
      /** Leave no live PaymentIntent behind a terminal order; already canceled or succeeded is done. */
      type: 'cancelPaymentIntent';
      orderId: string;
      paymentIntentId: string;
    }
  | { type: 'scheduleTimer'; orderId: string; kind: TimerKind; name: string; at: string }
  | { type: 'deleteTimer'; orderId: string; kind: TimerKind; name: string }
  | { type: 'publish'; event: LifecycleEventType; order: OrderSummary };

export type EffectType = Effect['type'];

export const chargeKey = (orderId: string): string => `charge-${orderId}`;
export const refundKey = (orderId: string): string => `refund-${orderId}`;
export const sourceKey = (orderId: string): string => `source-${orderId}`;
export const paymentIntentKey = (orderId: string): string => `pi-${orderId}`;
