import type { PaymentApi } from '../domain/index.js';
import type {
  Clock,
  EventPublisher,
  IdGenerator,
  OrderStore,
  PaymentGateway,
  SecretComparer,
  Timers,
} from '../ports/index.js';

/** The deployment's choices for new orders (lambdas/config.ts reads them). */
export interface OrderSettings {
  /** The Stripe API of a new order when its request does not name one. */
  paymentApi: PaymentApi;
  /** PaymentIntents: seconds until an unpaid order expires and its PaymentIntent is canceled. */
  paymentExpirySeconds: number;
  /** WeChat Pay inside the merchant's iOS / Android app: its WeChat Open Platform app id. */
  wechatAppId?: string | undefined;
}

/** Everything a use case may touch. Handlers build it once per cold start (lambdas/wiring/). */
export interface Deps {
  store: OrderStore;
  timers: Timers;
  gateway: PaymentGateway;
  publisher: EventPublisher;
  clock: Clock;
  ids: IdGenerator;
  secrets: SecretComparer;
  settings: OrderSettings;
}
