/**
 * The whole system on loopback, for `npm start`, the end-to-end tests and the benchmarks: local
 * AWS (./local-aws.ts: moto or AWS_ENDPOINT_URL, and the resources the stack defines), the Stripe
 * simulator (or Stripe test mode), the stack's functions (./functions.ts), one HTTP server that
 * plays API Gateway, the status function URL and the demo over a route table (./gateway.ts,
 * ./routes.ts), an SQS poller that plays the event source mapping, and a pump that plays
 * EventBridge Scheduler. One clock, which tests advance, drives the functions, the pump and the
 * simulator. Everything started goes on one cleanup stack (./cleanup.ts), which `stop()` unwinds.
 */
import type { PaymentApi } from '../../lambdas/domain/index.js';
import { API } from '../../lib/spec.js';
import type { AwsResources } from '../aws-resources.js';
import { OffsetClock, type StripeSim, type StripeSimOptions, startStripeSim } from '../stripe-sim/index.js';
import { Cleanup } from './cleanup.js';
import { type EventSource, startEventSource } from './event-source.js';
import { type SandboxPaymentSettings, sandboxPaymentSettings, wireFunctions } from './functions.js';
import { listenGateway } from './gateway.js';
import { startLocalAws } from './local-aws.js';
import { STATUS_URL_PREFIX, sandboxRoutes } from './routes.js';
import { type SchedulePump, startSchedulePump } from './scheduler.js';

export { paymentEnv, type SandboxPaymentSettings, sandboxPaymentSettings } from './functions.js';
export { STATUS_URL_PREFIX } from './routes.js';

export interface SandboxOptions {
  /** HTTP port; 0 picks a free one. Default PORT or 3000. */
  port?: number;
  /** Simulator port; 0 picks a free one. Default STRIPE_SIM_PORT or 12111. */
  simPort?: number;
  apiKey?: string;
  webhookSecret?: string;
  /** No progress lines, no handler logs (tests). */
  quiet?: boolean;
  /** Worker pollers in parallel. */
  concurrency?: number;
  /**
   * The worker pollers' ReceiveMessage wait (default 1 s long polling). 0 = short polling with a
   * short pause when the queue is empty: much faster on moto under load (see event-source.ts).
   */
  pollWaitSeconds?: number;
  /** Seconds before a failed record is received again (default 2; AWS waits the visibility timeout). */
  retryDelaySeconds?: number;
  /**
   * How often the Scheduler pump lists the schedule group (default 500 ms). Each round lists every
   * schedule, which costs moto a lot with thousands of them; `advanceClock` fires what is due
   * regardless.
   */
  scheduleIntervalMs?: number;
  /** Due schedules the pump fires at once (default 1). */
  scheduleConcurrency?: number;
  /** Start moto with its per-request module listing cached (./fast-moto.ts): much faster under load. */
  fastMoto?: boolean;
  /** Resource name prefix (several sandboxes can share one moto). */
  prefix?: string;
  /** Wraps the AWS SDK clients the handlers use (benchmarks count requests with it). */
  instrument?: (client: { middlewareStack: unknown }, service: string) => void;
  env?: Record<string, string | undefined>;
  /**
   * The Stripe API of orders that name none (the functions' PAYMENT_API). Default: PAYMENT_API
   * from `env`, else payment_intents. An order's `stripeApi` still picks either.
   */
  paymentApi?: PaymentApi;
  /** PaymentIntents: seconds before an unpaid order expires (PAYMENT_EXPIRY_SECONDS, 300 to 7200). Default: from `env`, else 3600. */
  paymentExpirySeconds?: number;
  /** WeChat app id for WeChat Pay in the merchant's app (WECHAT_APP_ID). Default: from `env`, else none. */
  wechatAppId?: string;
  /** More options of the Stripe simulator (reliability tests: webhook chaos, retry timing, fault randomness). */
  sim?: Pick<
    StripeSimOptions,
    | 'webhookChaos'
    | 'webhookConcurrency'
    | 'webhookRetryBaseMs'
    | 'webhookMaxAttempts'
    | 'webhookTimeoutMs'
    | 'webhookStrictOrder'
    | 'random'
    | 'paymentAttemptExpirySeconds'
  >;
}

export interface Sandbox {
  url: string;
  payment: SandboxPaymentSettings;
  /** The status function URL (StatusUrl): `${statusUrl}orders/{id}/status?client_secret=…`. */
  statusUrl: string;
  port: number;
  simUrl: string | undefined;
  sim: StripeSim | undefined;
  apiKey: string;
  webhookSecret: string;
  awsEndpoint: string;
  resources: AwsResources;
  clock: OffsetClock;
  advanceClock(seconds: number): Promise<Date>;
  schedules: SchedulePump;
  events: EventSource;
  stop(): Promise<void>;
}

const DEFAULT_API_KEY = 'local-dev-key';
const DEFAULT_WEBHOOK_SECRET = 'whsec_local_sandbox';

/**
 * `SANDBOX_CLOCK_START` (an ISO 8601 instant) starts the shared clock there instead of now, to try
 * an order near the 23:45 CST cut-off, or to run the tests at another time of day.
 */
export function clockStartOffsetSeconds(value: string | undefined, now = Date.now()): number {
  if (value === undefined || value.trim() === '') return 0;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value.trim()) || Number.isNaN(t)) {
    throw new Error(
      `SANDBOX_CLOCK_START must be an ISO 8601 instant with a zone, such as 2026-11-22T15:30:00Z; got "${value}".`,
    );
  }
  return (t - now) / 1000;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const env = opts.env ?? process.env;
  const started = Date.now();
  const log = (s: string) => {
    if (!opts.quiet) console.log(s);
  };
  const port = opts.port ?? Number(env.PORT ?? 3000);
  const apiKey = opts.apiKey ?? env.LOCAL_API_KEY ?? DEFAULT_API_KEY;
  const realStripe = Boolean(env.STRIPE_SECRET_KEY?.startsWith('sk_test_') && env.STRIPE_WEBHOOK_SECRET);
  const webhookSecret = opts.webhookSecret ?? env.STRIPE_WEBHOOK_SECRET ?? DEFAULT_WEBHOOK_SECRET;
  // A bad setting stops the sandbox here, with the functions' own message, before moto starts.
  const payment = sandboxPaymentSettings(opts, env);
  const cleanup = new Cleanup();

  try {
    // Powertools reads its settings from process.env, not from the functions' env object, when the
    // functions' modules load: quiet and metrics-free locally. (Region and credentials: ./local-aws.ts.)
    process.env.POWERTOOLS_LOG_LEVEL ??= opts.quiet ? 'ERROR' : 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

    // 1. AWS APIs, and the stack's resources.
    const aws = await startLocalAws({ env, fastMoto: opts.fastMoto, prefix: opts.prefix ?? 'sandbox', log }, cleanup);

    // 2. The shared clock, the HTTP server's address, and Stripe.
    const clock = new OffsetClock(clockStartOffsetSeconds(env.SANDBOX_CLOCK_START));
    const gateway = await listenGateway(port, cleanup, log);
    let sim: StripeSim | undefined;
    if (!realStripe) {
      sim = await startStripeSim({
        ...opts.sim,
        port: opts.simPort ?? Number(env.STRIPE_SIM_PORT ?? 12111),
        clock,
        signatureClock: clock,
        webhookUrl: `${gateway.url}${API.webhookPath}`,
        webhookSecret,
        log: opts.quiet ? () => undefined : undefined,
      });
      cleanup.add(() => (sim as StripeSim).close());
    }

    // 3. The functions, wired exactly as in Lambda, with the sandbox clock.
    const functions = await wireFunctions({
      env,
      resources: aws.resources,
      clientConfig: aws.clientConfig,
      clock,
      realStripe,
      webhookSecret,
      simUrl: sim?.url,
      payment,
      instrument: opts.instrument,
    });

    // 4. The glue AWS provides.
    const events = startEventSource({
      sqs: aws.clients.sqs,
      queueUrl: aws.resources.queueUrl,
      queueArn: aws.resources.queueArn,
      worker: (e, c) => functions.worker(e, c),
      concurrency: opts.concurrency ?? 4,
      ...(opts.pollWaitSeconds !== undefined ? { waitTimeSeconds: opts.pollWaitSeconds } : {}),
      ...(opts.retryDelaySeconds !== undefined ? { retryDelaySeconds: opts.retryDelaySeconds } : {}),
      onError: (e) => log(`worker poller: ${(e as Error).message}`),
    });
    cleanup.add(() => events.stop());
    const schedules = startSchedulePump({
      scheduler: aws.clients.scheduler,
      sqs: aws.clients.sqs,
      groupName: aws.resources.scheduleGroup,
      now: () => clock.now(),
      ...(opts.scheduleIntervalMs !== undefined ? { intervalMs: opts.scheduleIntervalMs } : {}),
      ...(opts.scheduleConcurrency !== undefined ? { concurrency: opts.scheduleConcurrency } : {}),
      onError: (e) => log(`schedule pump: ${(e as Error).message}`),
    });
    cleanup.add(() => schedules.stop());

    const advanceClock = async (seconds: number) => {
      if (sim) await sim.advance(seconds);
      else clock.advance(seconds);
      await schedules.tick();
      return clock.now();
    };

    // 5. Requests: API Gateway, the status function URL, the demo and /_local.
    gateway.serve(
      sandboxRoutes({ functions, clock, advanceClock, schedules, apiKey, url: gateway.url, paymentApi: payment.api }),
    );

    const sandbox: Sandbox = {
      url: gateway.url,
      payment,
      statusUrl: `${gateway.url}${STATUS_URL_PREFIX}`,
      port: gateway.port,
      simUrl: sim?.url,
      sim,
      apiKey,
      webhookSecret,
      awsEndpoint: aws.endpoint,
      resources: aws.resources,
      clock,
      advanceClock,
      schedules,
      events,
      stop: () => cleanup.run(),
    };
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return sandbox;
  } catch (e) {
    await cleanup.run();
    throw e;
  }
}
