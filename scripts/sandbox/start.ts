/**
 * The whole system on loopback, for `npm start`, the end-to-end tests and the benchmarks:
 * moto (or AWS_ENDPOINT_URL), the resources the stack defines (scripts/aws-resources.ts reads
 * the same lib/spec.ts), the Stripe simulator (or Stripe test mode), and one HTTP server that
 * plays API Gateway for the very handler code Lambda runs, an SQS poller that plays the event
 * source mapping, and a pump that plays EventBridge Scheduler. One clock, which tests advance,
 * drives the handlers, the pump and the simulator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ENV, loadConfig } from '../../lambdas/config.js';
import type { PaymentApi } from '../../lambdas/domain/index.js';
import { API } from '../../lib/spec.js';
import { type AwsResources, createAwsResources, resourceEnv } from '../aws-resources.js';
import { type Moto, startMoto } from '../moto.js';
import { OffsetClock, type StripeSim, type StripeSimOptions, startStripeSim } from '../stripe-sim/index.js';
import { BodyTooLarge, lambdaContext, readBody, sendResult, toFunctionUrlEvent, toProxyEvent } from './apigw.js';
import { handleDemoRequest } from './demo.js';
import { type EventSource, startEventSource } from './event-source.js';
import { fastMotoCommand } from './fast-moto.js';
import { type SchedulePump, startSchedulePump } from './scheduler.js';

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

/** The payment settings the sandbox's functions run with (lambdas/config.ts reads them). */
export interface SandboxPaymentSettings {
  /** PAYMENT_API: the Stripe API of orders that name none. */
  api: PaymentApi;
  /** PAYMENT_EXPIRY_SECONDS: PaymentIntents orders expire unpaid after this. */
  expirySeconds: number;
  /** WECHAT_APP_ID, when set. */
  wechatAppId: string | undefined;
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
/** Where the sandbox serves the status function's URL (the stack's StatusUrl output in AWS). */
export const STATUS_URL_PREFIX = '/_fn/status/';
const DEFAULT_WEBHOOK_SECRET = 'whsec_local_sandbox';

/**
 * The functions' payment settings: the options, else the environment, validated exactly as the
 * functions' cold start validates them (lambdas/config.ts), before anything starts.
 */
export function sandboxPaymentSettings(
  opts: Pick<SandboxOptions, 'paymentApi' | 'paymentExpirySeconds' | 'wechatAppId'>,
  env: Record<string, string | undefined>,
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
export function paymentEnv(p: SandboxPaymentSettings): Record<string, string | undefined> {
  return {
    [ENV.PAYMENT_API]: p.api,
    [ENV.PAYMENT_EXPIRY_SECONDS]: String(p.expirySeconds),
    [ENV.WECHAT_APP_ID]: p.wechatAppId,
  };
}

/** moto_server from PATH; else a project-local virtualenv with moto installed into it. */
function motoCommand(log: (s: string) => void): string {
  const onPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  const venv = join(process.cwd(), '.local', 'venv');
  const bin = join(venv, 'bin', 'moto_server');
  if (existsSync(bin)) return bin;
  log('moto_server is not on PATH: installing moto into .local/venv (one time, about a minute)…');
  mkdirSync(join(process.cwd(), '.local'), { recursive: true });
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', venv]],
    [join(venv, 'bin', 'pip'), ['install', '--progress-bar', 'on', 'moto[server]>=5.1']],
  ];
  for (const [cmd, args] of steps) {
    log(`  $ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(
        `Could not install moto (${cmd} exited ${r.status}). Install it yourself (pip install "moto[server]") ` +
          'or point AWS_ENDPOINT_URL at LocalStack or another AWS endpoint.',
      );
    }
  }
  return bin;
}

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
  const cleanups: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  try {
    // Handlers log through Powertools at import time settings: quiet and metrics-free locally.
    process.env.POWERTOOLS_LOG_LEVEL ??= opts.quiet ? 'ERROR' : 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';

    // 1. AWS APIs.
    let awsEndpoint = env.AWS_ENDPOINT_URL;
    let moto: Moto | undefined;
    if (!awsEndpoint) {
      log('starting moto…');
      const plain = motoCommand(log);
      const fast = opts.fastMoto ? fastMotoCommand(plain) : undefined;
      if (fast) cleanups.push(async () => fast.cleanup());
      moto = await startMoto(fast?.command ?? plain);
      cleanups.push(() => (moto as Moto).stop());
      awsEndpoint = moto.endpoint;
    }
    process.env.AWS_ENDPOINT_URL = awsEndpoint;
    const clientConfig = { endpoint: awsEndpoint };
    const sqs = new SQSClient(clientConfig);
    const scheduler = new SchedulerClient(clientConfig);
    log(`creating the stack's resources at ${awsEndpoint}…`);
    const resources = await createAwsResources(
      { dynamodb: new DynamoDBClient(clientConfig), sqs, scheduler, eventbridge: new EventBridgeClient(clientConfig) },
      opts.prefix ?? 'sandbox',
    );

    // 2. The shared clock, and Stripe.
    const clock = new OffsetClock(clockStartOffsetSeconds(env.SANDBOX_CLOCK_START));
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    cleanups.push(() => new Promise((r) => server.close(() => r(undefined))));
    const actualPort = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${actualPort}`;
    let sim: StripeSim | undefined;
    if (!realStripe) {
      sim = await startStripeSim({
        ...opts.sim,
        port: opts.simPort ?? Number(env.STRIPE_SIM_PORT ?? 12111),
        clock,
        signatureClock: clock,
        webhookUrl: `${url}${API.webhookPath}`,
        webhookSecret,
        log: opts.quiet ? () => undefined : undefined,
      });
      cleanups.push(() => (sim as StripeSim).close());
    }

    // 3. The handlers, wired exactly as in Lambda, with the sandbox clock.
    const handlerEnv: Record<string, string | undefined> = {
      ...env,
      ...resourceEnv(resources),
      STRIPE_SECRET_KEY: realStripe ? env.STRIPE_SECRET_KEY : 'sk_test_sandbox',
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_BASE: sim ? sim.url : undefined,
      STRIPE_SECRET_ARN: undefined,
      CORS_ORIGINS: env.CORS_ORIGINS ?? '*',
      ...paymentEnv(payment),
    };
    const wiring = await import('../../lambdas/wiring/app.js');
    const { ingressDeps } = await import('../../lambdas/wiring/ingress.js');
    const { makeApiHandler } = await import('../../lambdas/handlers/api.js');
    const { makeIngressHandler } = await import('../../lambdas/handlers/ingress.js');
    const { makeWorkerHandler } = await import('../../lambdas/handlers/worker.js');
    // The handlers' own SDK clients (not the sandbox's), so counting them counts what Lambda would send.
    const sdk = { ...wiring.appSdkClients(), sqs: new SQSClient({}) };
    if (opts.instrument) for (const [svc, c] of Object.entries(sdk)) opts.instrument(c, svc);
    const app = await wiring.appDeps(handlerEnv, clock, sdk);
    const apiDeps = { ...app, corsOrigins: wiring.corsOrigins(handlerEnv) };
    const ingress = await ingressDeps(handlerEnv, clock, sdk.sqs);
    const api = makeApiHandler(async () => apiDeps);
    const webhook = makeIngressHandler(async () => ingress);
    const { makeStatusHandler } = await import('../../lambdas/handlers/status.js');
    const statusFn = makeStatusHandler(async () => ({ store: app.store, secrets: app.secrets }));
    const worker = makeWorkerHandler(async () => app);

    // 4. The glue AWS provides.
    const events = startEventSource({
      sqs,
      queueUrl: resources.queueUrl,
      queueArn: resources.queueArn,
      worker: (e, c) => worker(e, c),
      concurrency: opts.concurrency ?? 4,
      ...(opts.pollWaitSeconds !== undefined ? { waitTimeSeconds: opts.pollWaitSeconds } : {}),
      ...(opts.retryDelaySeconds !== undefined ? { retryDelaySeconds: opts.retryDelaySeconds } : {}),
      onError: (e) => log(`worker poller: ${(e as Error).message}`),
    });
    cleanups.push(() => events.stop());
    const schedules = startSchedulePump({
      scheduler,
      sqs,
      groupName: resources.scheduleGroup,
      now: () => clock.now(),
      ...(opts.scheduleIntervalMs !== undefined ? { intervalMs: opts.scheduleIntervalMs } : {}),
      ...(opts.scheduleConcurrency !== undefined ? { concurrency: opts.scheduleConcurrency } : {}),
      onError: (e) => log(`schedule pump: ${(e as Error).message}`),
    });
    cleanups.push(() => schedules.stop());

    const advanceClock = async (seconds: number) => {
      if (sim) await sim.advance(seconds);
      else clock.advance(seconds);
      await schedules.tick();
      return clock.now();
    };

    const invoke = async (
      fn: typeof api,
      name: string,
      req: IncomingMessage,
      body: Buffer,
    ): Promise<APIGatewayProxyResult> => fn(toProxyEvent(req, body, clock.now()), lambdaContext(name, 15_000));

    const callApi = async (
      method: 'GET' | 'POST',
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const u = new URL(path, url);
      const payload = body === undefined ? '' : JSON.stringify(body);
      const fake = {
        url: `${u.pathname}${u.search}`,
        method,
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...lower(headers) },
        socket: { remoteAddress: '127.0.0.1' },
      } as unknown as IncomingMessage;
      const r = await invoke(api, 'ApiFunction', fake, Buffer.from(payload));
      return {
        status: r.statusCode,
        body: r.body ? JSON.parse(r.body) : null,
        headers: (r.headers ?? {}) as Record<string, string>,
      };
    };

    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void route(req, res).catch((e) => {
        log(`request failed: ${(e as Error).stack ?? e}`);
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error.' } });
      });
    });

    async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const u = new URL(req.url ?? '/', url);
      const path = u.pathname;
      if (path === '/_local/health') return sendJson(res, 200, { ok: true, now: clock.now().toISOString() });
      if (path === '/_local/clock/advance' && req.method === 'POST') {
        const body = await readJson(req);
        const seconds = (body as { seconds?: unknown } | undefined)?.seconds;
        if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 30 * 86400) {
          return sendJson(res, 400, {
            error: { code: 'VALIDATION_FAILED', message: 'Body must be {"seconds": N} with 0 ≤ N ≤ 2592000.' },
          });
        }
        return sendJson(res, 200, { now: (await advanceClock(seconds)).toISOString() });
      }
      if (path === '/_local/clock' && req.method === 'GET')
        return sendJson(res, 200, { now: clock.now().toISOString() });
      if (path === '/_local/schedules' && req.method === 'GET') {
        const pending = await schedules.pending();
        return sendJson(res, 200, {
          schedules: pending.map((s) => ({
            name: s.name,
            at: s.at,
            expression: s.expression,
            timezone: s.timezone,
            target: s.target,
          })),
        });
      }
      // The status function's URL (StatusUrl in AWS): /_fn/status/orders/{id}/status?client_secret=…
      if (path.startsWith(STATUS_URL_PREFIX)) {
        const rawPath = path.slice(STATUS_URL_PREFIX.length - 1);
        const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET' };
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            ...cors,
            'Access-Control-Allow-Headers': 'Content-Type',
            'Access-Control-Max-Age': '3600',
          });
          return void res.end();
        }
        const event = toFunctionUrlEvent(req, rawPath, await readBody(req, 64 * 1024), clock.now());
        const r = (await statusFn(event, lambdaContext('StatusFunction', 5000))) as APIGatewayProxyResult;
        return sendResult(res, { ...r, headers: { ...(r.headers ?? {}), ...cors } });
      }
      // The webhook HTTP API (WebhookUrl in AWS) has one route, POST /webhooks/stripe; any other
      // method matches no route and API Gateway answers 404 {"message":"Not Found"}.
      if (path === API.webhookPath) {
        if (req.method !== 'POST') return sendJson(res, 404, { message: 'Not Found' });
        return sendResult(res, await invoke(webhook, 'IngressFunction', req, await readBody(req)));
      }
      if (path === '/orders' || path.startsWith('/orders/')) {
        const isStatus = /^\/orders\/[^/]+\/status$/.test(path);
        if (isStatus && req.method === 'OPTIONS') {
          res.writeHead(204, {
            'Access-Control-Allow-Origin': '*',
            'Access-Control-Allow-Methods': 'GET,OPTIONS',
            'Access-Control-Allow-Headers': 'Content-Type',
            'Access-Control-Max-Age': '600',
          });
          return void res.end();
        }
        // API Gateway checks the API key (usage plan) before the function runs.
        if (!isStatus && req.headers['x-api-key'] !== apiKey) return sendJson(res, 403, { message: 'Forbidden' });
        let body: Buffer;
        try {
          body = await readBody(req);
        } catch (e) {
          if (e instanceof BodyTooLarge) return sendJson(res, 413, { message: 'Request Too Long' });
          throw e;
        }
        return sendResult(res, await invoke(api, 'ApiFunction', req, body));
      }
      if (await handleDemoRequest(req, res, { callApi, baseUrl: url, paymentApi: payment.api })) return;
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${req.method} ${path}.` } });
    }

    const sandbox: Sandbox = {
      url,
      payment,
      statusUrl: `${url}${STATUS_URL_PREFIX}`,
      port: actualPort,
      simUrl: sim?.url,
      sim,
      apiKey,
      webhookSecret,
      awsEndpoint,
      resources,
      clock,
      advanceClock,
      schedules,
      events,
      stop: stopAll,
    };
    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return sandbox;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
  } catch {
    return undefined;
  }
}
