/** What each function's handler needs; lambdas/wiring/ builds them, tests and the sandbox may too. */
import type { Deps } from '../app/index.js';
import type { Clock, WorkQueue } from '../ports/index.js';

export interface IngressDeps {
  queue: WorkQueue;
  /** Every signing secret currently valid (more than one while rolling the endpoint secret). */
  webhookSecrets: string[];
  /** Livemode of our Stripe key: events of the other mode are acknowledged and dropped. */
  livemode: boolean;
  clock: Clock;
}

export interface ApiDeps extends Deps {
  /** Origins allowed to read the status route from a browser; `*` for any. */
  corsOrigins: string[];
}
