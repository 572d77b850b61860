/** A whole system on the in-memory adapters, with a switch to crash after any I/O call. */

import {
  ManualClock,
  MemoryOrderStore,
  MemoryPaymentGateway,
  MemoryPublisher,
  MemoryTimers,
  SequentialIds,
} from '../../lambdas/adapters/memory/index.js';
import { DigestSecretComparer } from '../../lambdas/adapters/system.js';
import type { Deps, OrderSettings } from '../../lambdas/app/index.js';
import type { OrderEvent } from '../../lambdas/domain/index.js';

export class Crash extends Error {
  constructor(step: number, what: string) {
    super(`crash injected after I/O step ${step} (${what})`);
    this.name = 'Crash';
  }
}

export interface World {
  store: MemoryOrderStore;
  timers: MemoryTimers;
  gateway: MemoryPaymentGateway;
  publisher: MemoryPublisher;
  clock: ManualClock;
  ids: SequentialIds;
  deps: Deps;
  /** I/O calls made through `deps` so far. */
  steps: string[];
  /** When set, the call with this 1-based number completes, then the process "dies". */
  crashAfter: number | undefined;
}

/** Wraps every method of a port: counts it and crashes after the chosen call. */
function instrument<T extends object>(name: string, target: T, world: World): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const result = await v.apply(obj, args);
        world.steps.push(`${name}.${String(prop)}`);
        if (world.crashAfter !== undefined && world.steps.length === world.crashAfter) {
          throw new Crash(world.steps.length, `${name}.${String(prop)}`);
        }
        return result;
      };
    },
  });
}

/**
 * `settings.paymentApi` defaults to `sources` here (the deployment default is payment_intents):
 * tests of the PaymentIntents path ask for it, per world or per order.
 */
export function makeWorld(settings: Partial<OrderSettings> = {}): World {
  const w = {
    store: new MemoryOrderStore(),
    timers: new MemoryTimers(),
    gateway: new MemoryPaymentGateway(),
    publisher: new MemoryPublisher(),
    clock: new ManualClock(),
    ids: new SequentialIds(),
    steps: [] as string[],
    crashAfter: undefined as number | undefined,
  } as World;
  w.deps = {
    store: instrument('store', w.store, w),
    timers: instrument('timers', w.timers, w),
    gateway: instrument('gateway', w.gateway, w),
    publisher: instrument('publisher', w.publisher, w),
    clock: w.clock,
    ids: w.ids,
    secrets: new DigestSecretComparer(),
    settings: { paymentApi: 'sources', paymentExpirySeconds: 3600, ...settings },
  };
  return w;
}

/**
 * Fires the scheduled timer `name` as EventBridge Scheduler does: the clock moves to its instant,
 * the schedule is deleted, and its event is returned for the worker to handle.
 */
export function fireTimer(w: World, name: string): OrderEvent {
  const t = w.timers.timers.get(name);
  if (!t) throw new Error(`no timer ${name}; scheduled: ${[...w.timers.timers.keys()].join(', ') || 'none'}`);
  if (t.at.getTime() > w.clock.now().getTime()) w.clock.set(t.at);
  w.timers.timers.delete(name);
  return structuredClone(t.message.event);
}
