/**
 * The environment, read and validated once per cold start. Every handler gets its settings
 * from here; nothing else reads `process.env`. A missing or malformed variable fails the cold
 * start with a message naming it, instead of a confusing error at the first request.
 */
import { PAYMENT_APIS, PAYMENT_EXPIRY_SECONDS, type PaymentApi } from './domain/index.js';

/**
 * Stripe API keys: secret (`sk_`) or restricted (`rk_`), test or live mode.
 * https://docs.stripe.com/keys#obtain-api-keys — the one definition config and the secret reader use.
 */
export const STRIPE_API_KEY_PATTERN = /^(sk|rk)_(test|live)_/;
export const STRIPE_LIVE_KEY_PATTERN = /^(sk|rk)_live_/;
/** WeChat Open Platform app ids: `wx` followed by 16 letters or digits (config and the CDK stack read this). */
export const WECHAT_APP_ID_PATTERN = /^wx[0-9a-zA-Z]{16}$/;

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Where the Stripe keys come from: Secrets Manager in AWS, the environment under `sam local` and the sandbox. */
export type StripeKeysSource =
  | { kind: 'env'; secretKey: string; webhookSecrets: string[] }
  | { kind: 'secretsManager'; secretArn: string };

export interface StripeEndpoint {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

export interface Config {
  tableName: string;
  queueUrl: string;
  queueArn: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  schedulerDlqArn: string;
  eventBusName: string;
  stripeKeys: StripeKeysSource;
  /** Set to reach the Stripe simulator instead of api.stripe.com. */
  stripeEndpoint: StripeEndpoint | undefined;
  /** Origins allowed to call the browser-safe status route; `*` allows any. */
  corsOrigins: string[];
  /** Timeout and retries of every Stripe call (stripe-node `timeout`, `maxNetworkRetries`). */
  stripeTimeoutMs: number;
  stripeMaxNetworkRetries: number;
  /** AWS Parameters and Secrets Lambda Extension (set by its layer), to read the secret without an SDK client. */
  secretsExtensionPort: number | undefined;
  sessionToken: string | undefined;
  /** The Stripe API of new orders unless a request names one (default payment_intents). */
  paymentApi: PaymentApi;
  /** PaymentIntents: seconds an unpaid order waits before it expires (default 3600, 300 to 7200). */
  paymentExpirySeconds: number;
  /** WeChat Open Platform app id, for WeChat Pay inside the merchant's iOS / Android app. */
  wechatAppId: string | undefined;
}

/** The variables each function needs; others are ignored. */
export type ConfigNeed = 'store' | 'queue' | 'timers' | 'events' | 'stripe';

export const ENV = {
  TABLE_NAME: 'TABLE_NAME',
  QUEUE_URL: 'QUEUE_URL',
  QUEUE_ARN: 'QUEUE_ARN',
  SCHEDULE_GROUP: 'SCHEDULE_GROUP',
  SCHEDULER_ROLE_ARN: 'SCHEDULER_ROLE_ARN',
  SCHEDULER_DLQ_ARN: 'SCHEDULER_DLQ_ARN',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  STRIPE_SECRET_ARN: 'STRIPE_SECRET_ARN',
  STRIPE_SECRET_KEY: 'STRIPE_SECRET_KEY',
  STRIPE_WEBHOOK_SECRET: 'STRIPE_WEBHOOK_SECRET',
  STRIPE_API_BASE: 'STRIPE_API_BASE',
  CORS_ORIGINS: 'CORS_ORIGINS',
  STRIPE_TIMEOUT_MS: 'STRIPE_TIMEOUT_MS',
  STRIPE_MAX_NETWORK_RETRIES: 'STRIPE_MAX_NETWORK_RETRIES',
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
  AWS_SESSION_TOKEN: 'AWS_SESSION_TOKEN',
  PAYMENT_API: 'PAYMENT_API',
  PAYMENT_EXPIRY_SECONDS: 'PAYMENT_EXPIRY_SECONDS',
  WECHAT_APP_ID: 'WECHAT_APP_ID',
} as const;

type Env = Record<string, string | undefined>;

export function loadConfig(need: readonly ConfigNeed[], env: Env = process.env): Config {
  const problems: string[] = [];
  const get = (name: string, required: boolean): string => {
    const v = env[name]?.trim();
    if (!v && required) problems.push(`${name} is required`);
    return v ?? '';
  };
  const has = (n: ConfigNeed) => need.includes(n);

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };

  let stripeKeys: StripeKeysSource = { kind: 'env', secretKey: '', webhookSecrets: [] };
  let stripeEndpoint: StripeEndpoint | undefined;
  if (has('stripe')) {
    const secretKey = env[ENV.STRIPE_SECRET_KEY]?.trim();
    const webhook = env[ENV.STRIPE_WEBHOOK_SECRET]?.trim();
    const arn = env[ENV.STRIPE_SECRET_ARN]?.trim();
    if (secretKey && webhook) {
      // Several secrets (comma-separated) while rotating a webhook endpoint's signing secret.
      stripeKeys = {
        kind: 'env',
        secretKey,
        webhookSecrets: webhook
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
      if (!STRIPE_API_KEY_PATTERN.test(secretKey))
        problems.push(`${ENV.STRIPE_SECRET_KEY} must start with sk_test_, sk_live_, rk_test_ or rk_live_`);
      if (!stripeKeys.webhookSecrets.every((s) => s.startsWith('whsec_')))
        problems.push(`${ENV.STRIPE_WEBHOOK_SECRET} must be whsec_… values, comma-separated`);
    } else if (arn) {
      stripeKeys = { kind: 'secretsManager', secretArn: arn };
    } else {
      problems.push(`set ${ENV.STRIPE_SECRET_ARN}, or both ${ENV.STRIPE_SECRET_KEY} and ${ENV.STRIPE_WEBHOOK_SECRET}`);
    }
    const base = env[ENV.STRIPE_API_BASE]?.trim();
    if (base) {
      try {
        const u = new URL(base);
        const protocol = u.protocol.replace(':', '');
        if (protocol !== 'http' && protocol !== 'https') throw new Error('protocol');
        stripeEndpoint = { host: u.hostname, port: Number(u.port || (protocol === 'https' ? 443 : 80)), protocol };
      } catch {
        problems.push(`${ENV.STRIPE_API_BASE} must be an http(s) URL such as http://127.0.0.1:12111`);
      }
    }
  }

  const paymentApi = (env[ENV.PAYMENT_API]?.trim() || 'payment_intents') as PaymentApi;
  if (!PAYMENT_APIS.includes(paymentApi))
    problems.push(`${ENV.PAYMENT_API} must be one of ${PAYMENT_APIS.join(', ')} (it is ${JSON.stringify(paymentApi)})`);
  const wechatAppId = env[ENV.WECHAT_APP_ID]?.trim() || undefined;
  // WeChat Open Platform app ids look like wx + 16 hex characters.
  if (wechatAppId !== undefined && !WECHAT_APP_ID_PATTERN.test(wechatAppId))
    problems.push(`${ENV.WECHAT_APP_ID} must be a WeChat app id (wx followed by 16 characters)`);

  const config: Config = {
    tableName: get(ENV.TABLE_NAME, has('store')),
    queueUrl: get(ENV.QUEUE_URL, has('queue')),
    queueArn: get(ENV.QUEUE_ARN, has('timers')),
    scheduleGroup: get(ENV.SCHEDULE_GROUP, has('timers')),
    schedulerRoleArn: get(ENV.SCHEDULER_ROLE_ARN, has('timers')),
    schedulerDlqArn: get(ENV.SCHEDULER_DLQ_ARN, has('timers')),
    eventBusName: get(ENV.EVENT_BUS_NAME, has('events')),
    stripeKeys,
    stripeEndpoint,
    corsOrigins: (env[ENV.CORS_ORIGINS] ?? '*')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    stripeTimeoutMs: int(ENV.STRIPE_TIMEOUT_MS, 8000, 100, 60_000),
    stripeMaxNetworkRetries: int(ENV.STRIPE_MAX_NETWORK_RETRIES, 1, 0, 5),
    secretsExtensionPort: env[ENV.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT]
      ? int(ENV.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, 2773, 1, 65535)
      : undefined,
    sessionToken: env[ENV.AWS_SESSION_TOKEN],
    paymentApi,
    paymentExpirySeconds: int(
      ENV.PAYMENT_EXPIRY_SECONDS,
      PAYMENT_EXPIRY_SECONDS.default,
      PAYMENT_EXPIRY_SECONDS.min,
      PAYMENT_EXPIRY_SECONDS.max,
    ),
    wechatAppId,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
