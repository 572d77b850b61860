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
      type: 'refund';
      orderId: string;
      chargeId: string;
      idempotencyKey: string;
    }
  | { type: 'scheduleTimer'; orderId: string; kind: TimerKind; name: string; at: string }
  | { type: 'deleteTimer'; orderId: string; kind: TimerKind; name: string }
  | { type: 'publish'; event: LifecycleEventType; order: OrderSummary };

export type EffectType = Effect['type'];

export const chargeKey = (orderId: string): string => `charge-${orderId}`;
export const refundKey = (orderId: string): string => `refund-${orderId}`;
export const sourceKey = (orderId: string): string => `source-${orderId}`;
