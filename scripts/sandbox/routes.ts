/**
 * The sandbox's route table (./gateway.ts serves it): what reaches which function, as in AWS. The
 * REST API (API key checked first, as its usage plan does) in front of the API function; the
 * webhook HTTP API in front of the ingress function; the status function's URL; the demo
 * storefront (./demo.ts); and the sandbox's own /_local endpoints (health, clock, schedules).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { PaymentApi } from '../../lambdas/domain/index.js';
import { API } from '../../lib/spec.js';
import type { OffsetClock } from '../stripe-sim/index.js';
import { BodyTooLarge, lambdaContext, readBody, sendResult, toFunctionUrlEvent, toProxyEvent } from './apigw.js';
import { DEMO_PATHS, type DemoContext, handleDemoRequest } from './demo.js';
import type { SandboxFunctions } from './functions.js';
import { notFound, type Route, readJson, sendJson, type Target } from './gateway.js';
import type { SchedulePump } from './scheduler.js';

/** Where the sandbox serves the status function's URL (the stack's StatusUrl output in AWS). */
export const STATUS_URL_PREFIX = '/_fn/status/';

export interface RouteTargets {
  functions: SandboxFunctions;
  clock: OffsetClock;
  advanceClock(seconds: number): Promise<Date>;
  schedules: SchedulePump;
  /** The REST API's key (its usage plan). */
  apiKey: string;
  /** The gateway's URL. */
  url: string;
  /** The API the demo's checkout preselects. */
  paymentApi: PaymentApi;
}

export function sandboxRoutes(t: RouteTargets): Route[] {
  const { api, webhook, status } = t.functions;

  /** A REST API or HTTP API function, called as API Gateway's Lambda proxy integration calls it. */
  const invoke = (fn: typeof api, name: string, req: IncomingMessage, body: Buffer): Promise<APIGatewayProxyResult> =>
    fn(toProxyEvent(req, body, t.clock.now()), lambdaContext(name, 15_000));

  const restApi =
    (keyRequired: boolean): Target =>
    async ({ req, res }) => {
      // API Gateway checks the API key (usage plan) before the function runs.
      if (keyRequired && req.headers['x-api-key'] !== t.apiKey) return sendJson(res, 403, { message: 'Forbidden' });
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (e) {
        if (e instanceof BodyTooLarge) return sendJson(res, 413, { message: 'Request Too Long' });
        throw e;
      }
      sendResult(res, await invoke(api, 'ApiFunction', req, body));
    };

  const statusRoutePreflight: Target = async ({ res }) =>
    preflight(res, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET,OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '600',
    });

  const ingress: Target = async ({ req, res }) =>
    sendResult(res, await invoke(webhook, 'IngressFunction', req, await readBody(req)));

  const functionUrlCors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET' };
  const functionUrlPreflight: Target = async ({ res }) =>
    preflight(res, {
      ...functionUrlCors,
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '3600',
    });
  const functionUrl: Target = async ({ req, res, url }) => {
    const rawPath = url.pathname.slice(STATUS_URL_PREFIX.length - 1);
    const event = toFunctionUrlEvent(req, rawPath, await readBody(req, 64 * 1024), t.clock.now());
    const r = (await status(event, lambdaContext('StatusFunction', 5000))) as APIGatewayProxyResult;
    sendResult(res, { ...r, headers: { ...(r.headers ?? {}), ...functionUrlCors } });
  };

  /** The demo's merchant back end calls the API function as its server would, with the API key. */
  const callApi: DemoContext['callApi'] = async (method, path, body, headers = {}) => {
    const u = new URL(path, t.url);
    const payload = body === undefined ? '' : JSON.stringify(body);
    const fake = {
      url: `${u.pathname}${u.search}`,
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': t.apiKey, ...lower(headers) },
      socket: { remoteAddress: '127.0.0.1' },
    } as unknown as IncomingMessage;
    const r = await invoke(api, 'ApiFunction', fake, Buffer.from(payload));
    return {
      status: r.statusCode,
      body: r.body ? JSON.parse(r.body) : null,
      headers: (r.headers ?? {}) as Record<string, string>,
    };
  };
  const demoContext: DemoContext = { callApi, baseUrl: t.url, paymentApi: t.paymentApi };
  const demo: Target = async (x) => {
    if (!(await handleDemoRequest(x.req, x.res, demoContext))) await notFound(x);
  };

  const health: Target = async ({ res }) => sendJson(res, 200, { ok: true, now: t.clock.now().toISOString() });
  const clockNow: Target = async ({ res }) => sendJson(res, 200, { now: t.clock.now().toISOString() });
  const advance: Target = async ({ req, res }) => {
    const seconds = ((await readJson(req)) as { seconds?: unknown } | undefined)?.seconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 30 * 86400) {
      return sendJson(res, 400, {
        error: { code: 'VALIDATION_FAILED', message: 'Body must be {"seconds": N} with 0 ≤ N ≤ 2592000.' },
      });
    }
    sendJson(res, 200, { now: (await t.advanceClock(seconds)).toISOString() });
  };
  const schedules: Target = async ({ res }) => {
    const pending = await t.schedules.pending();
    sendJson(res, 200, {
      schedules: pending.map((s) => ({
        name: s.name,
        at: s.at,
        expression: s.expression,
        timezone: s.timezone,
        target: s.target,
      })),
    });
  };

  return [
    // The sandbox's own controls.
    ['*', '/_local/health', health],
    ['POST', '/_local/clock/advance', advance],
    ['GET', '/_local/clock', clockNow],
    ['GET', '/_local/schedules', schedules],
    // The status function's URL (StatusUrl in AWS): /_fn/status/orders/{id}/status?client_secret=…
    ['OPTIONS', `${STATUS_URL_PREFIX}*`, functionUrlPreflight],
    ['*', `${STATUS_URL_PREFIX}*`, functionUrl],
    // The webhook HTTP API (WebhookUrl in AWS) has one route, POST /webhooks/stripe; any other
    // method matches no route and API Gateway answers 404 {"message":"Not Found"}.
    ['POST', API.webhookPath, ingress],
    ['*', API.webhookPath, async ({ res }) => sendJson(res, 404, { message: 'Not Found' })],
    // The REST API: the browser-safe status route needs no API key (and answers CORS preflights).
    ['OPTIONS', '/orders/{id}/status', statusRoutePreflight],
    ['*', '/orders/{id}/status', restApi(false)],
    ['*', '/orders', restApi(true)],
    ['*', '/orders/*', restApi(true)],
    // The demo storefront and its merchant back end.
    ...DEMO_PATHS.map((path): Route => ['*', path, demo]),
  ];
}

function preflight(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(204, headers);
  res.end();
}

const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
