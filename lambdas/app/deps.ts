import type { Clock, EventPublisher, IdGenerator, OrderStore, PaymentGateway, Timers } from '../ports/index.js';

/** Everything a use case may touch. Handlers build it once per cold start (lambdas/wiring/). */
export interface Deps {
  store: OrderStore;
  timers: Timers;
  gateway: PaymentGateway;
  publisher: EventPublisher;
  clock: Clock;
  ids: IdGenerator;
}
