/**
 * The stack's functions in the sandbox, wired exactly as in Lambda (lambdas/wiring/) but with the
 * sandbox clock, an environment object instead of process.env, and SDK clients built here with
 * the local endpoint, region and credentials. Also the functions' payment settings, validated as
 * their cold start validates them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ENV, loadConfig } from '../../lambdas/config.js';
import type { PaymentApi } from '../../lambdas/domain/index.js';
import type { makeApiHandler } from '../../lambdas/handlers/api.js';
import type { makeIngressHandler } from '../../lambdas/handlers/ingress.js';
import type { makeStatusHandler } from '../../lambdas/handlers/status.js';
import type { makeWorkerHandler } from '../../lambdas/handlers/worker.js';
import type { Clock } from '../../lambdas/ports/index.js';
import { type AwsResources, resourceEnv } from '../aws-resources.js';
import type { AwsClientConfig } from './local-aws.js';

type Env = Record<string, string | undefined>;

/** The payment settings the sandbox's functions run with (lambdas/config.ts reads them). */
export interface SandboxPaymentSettings {
  /** PAYMENT_API: the Stripe API of orders that name none. */
  api: PaymentApi;
  /** PAYMENT_EXPIRY_SECONDS: PaymentIntents orders expire unpaid after this. */
  expirySeconds: number;
  /** WECHAT_APP_ID, when set. */
  wechatAppId: string | undefined;
}

/**
 * The functions' payment settings: the options, else the environment, validated exactly as the
 * functions' cold start validates them (lambdas/config.ts), before anything starts.
 */
export function sandboxPaymentSettings(
  opts: { paymentApi?: PaymentApi; paymentExpirySeconds?: number; wechatAppId?: string },
  env: Env,
): SandboxPaymentSettings {
  const pick = (option: string | number | undefined, name: string) =>
    option !== undefined ? String(option) : env[name]?.trim() || undefined;
  const config = loadConfig([], {
    [ENV.PAYMENT_API]: pick(opts.paymentApi, ENV.PAYMENT_API),
    [ENV.PAYMENT_EXPIRY_SECONDS]: pick(opts.paymentExpirySeconds, ENV.PAYMENT_EXPIRY_SECONDS),
    [ENV.WECHAT_APP_ID]: pick(opts.wechatAppId, ENV.WECHAT_APP_ID),
  });
  return { api: config.paymentApi, expirySeconds: config.paymentExpirySeconds, wechatAppId: config.wechatAppId };
}

/** The settings as the functions' environment variables. */
export function paymentEnv(p: SandboxPaymentSettings): Env {
  return {
    [ENV.PAYMENT_API]: p.api,
    [ENV.PAYMENT_EXPIRY_SECONDS]: String(p.expirySeconds),
    [ENV.WECHAT_APP_ID]: p.wechatAppId,
  };
}

export interface SandboxFunctions {
  /** ApiFunction, behind the REST API. */
  api: ReturnType<typeof makeApiHandler>;
  /** IngressFunction, behind the webhook HTTP API. */
  webhook: ReturnType<typeof makeIngressHandler>;
  /** StatusFunction, behind its function URL. */
  status: ReturnType<typeof makeStatusHandler>;
  /** WorkerFunction, fed by the SQS event source. */
  worker: ReturnType<typeof makeWorkerHandler>;
}

export interface FunctionOptions {
  /** The sandbox's environment; the functions get it with the settings below on top. */
  env: Env;
  resources: AwsResources;
  clientConfig: AwsClientConfig;
  clock: Clock;
  /** STRIPE_SECRET_KEY from `env` (Stripe test mode) instead of the simulator's dummy key. */
  realStripe: boolean;
  webhookSecret: string;
  /** The Stripe simulator (STRIPE_API_BASE), when it runs. */
  simUrl: string | undefined;
  payment: SandboxPaymentSettings;
  /** Wraps the functions' SDK clients (benchmarks count requests with it). */
  instrument?: (client: { middlewareStack: unknown }, service: string) => void;
}

/** The functions' environment: what the stack sets on them, for the sandbox's resources and Stripe. */
function functionEnv(o: Omit<FunctionOptions, 'clientConfig' | 'clock' | 'instrument'>): Env {
  return {
    ...o.env,
    ...resourceEnv(o.resources),
    STRIPE_SECRET_KEY: o.realStripe ? o.env.STRIPE_SECRET_KEY : 'sk_test_sandbox',
    STRIPE_WEBHOOK_SECRET: o.webhookSecret,
    STRIPE_API_BASE: o.simUrl,
    STRIPE_SECRET_ARN: undefined,
    CORS_ORIGINS: o.env.CORS_ORIGINS ?? '*',
    ...paymentEnv(o.payment),
  };
}

/**
 * The four functions. Their modules are imported here, not at the top: Powertools reads its
 * settings from process.env when they load (./start.ts sets them first).
 */
export async function wireFunctions(o: FunctionOptions): Promise<SandboxFunctions> {
  const env = functionEnv(o);
  const wiring = await import('../../lambdas/wiring/app.js');
  const { ingressDeps } = await import('../../lambdas/wiring/ingress.js');
  const { makeApiHandler } = await import('../../lambdas/handlers/api.js');
  const { makeIngressHandler } = await import('../../lambdas/handlers/ingress.js');
  const { makeWorkerHandler } = await import('../../lambdas/handlers/worker.js');
  const { makeStatusHandler } = await import('../../lambdas/handlers/status.js');
  // The functions' own SDK clients (not the sandbox's), so counting them counts what Lambda would send.
  const sdk = {
    dynamodb: new DynamoDBClient(o.clientConfig),
    scheduler: new SchedulerClient(o.clientConfig),
    eventbridge: new EventBridgeClient(o.clientConfig),
    sqs: new SQSClient(o.clientConfig),
  };
  if (o.instrument) for (const [svc, c] of Object.entries(sdk)) o.instrument(c, svc);
  const app = await wiring.appDeps(env, o.clock, sdk);
  const apiDeps = { ...app, corsOrigins: wiring.corsOrigins(env) };
  const ingress = await ingressDeps(env, o.clock, sdk.sqs);
  return {
    api: makeApiHandler(async () => apiDeps),
    webhook: makeIngressHandler(async () => ingress),
    // The status function reads orders through the same store (and clock) as the API function.
    status: makeStatusHandler(async () => ({ store: app.store, secrets: app.secrets })),
    worker: makeWorkerHandler(async () => app),
  };
}
