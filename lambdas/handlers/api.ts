/**
 * The storefront API (API Gateway REST, Lambda proxy integration). Its routes are the table in
 * api-schema.ts, the one docs/openapi.json is generated from: each is registered on Powertools'
 * HTTP router with the handler its `operation` names (OPERATIONS, exhaustive at compile time), so
 * the document and the router cannot disagree. The API key of the `/orders…` routes is enforced
 * by API Gateway (usage plan); the status route is authorized by the order's client secret.
 * Input is validated with zod (unknown fields rejected), business rules by the domain; every
 * error is `{error: {code, message, fields?}}` and nothing internal leaks.
 */

import { isHttpMethod, ParameterValidationError, Router } from '@aws-lambda-powertools/event-handler/http';
import type { HttpMethod, Path, RouteHandler } from '@aws-lambda-powertools/event-handler/types';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { cancelOrder, createOrder, getOrder, getOrderForCustomer } from '../app/index.js';
import { type DomainErrorCode, isDomainError } from '../domain/index.js';
import { ProviderRejectedError, TransientError } from '../ports/index.js';
import {
  CreateOrderBody,
  ListQuery,
  type Operation,
  OrderIdParam,
  ROUTES,
  type RouteDoc,
  StatusQuery,
} from './api-schema.js';
import type { ApiDeps } from './deps.js';
import { error, header, isJsonContentType, json, rawBody } from './http.js';
import { logger, metrics } from './observability.js';
import { orderView, statusView } from './views.js';

export type { ApiDeps } from './deps.js';

/** Stripe's own limit for its Idempotency-Key header. https://docs.stripe.com/api/idempotent_requests */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_BODY_BYTES = 16 * 1024;

const STATUS_OF: Record<DomainErrorCode, number> = {
  VALIDATION_FAILED: 400,
  ORDER_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  ORDER_NOT_CANCELABLE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
};

const zodFields = (e: z.ZodError) =>
  e.issues.map((i) => ({
    field: i.path.length > 0 ? i.path.join('.') : i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(body)',
    message:
      i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}` : i.message,
  }));

const invalid = (e: z.ZodError, headers?: Record<string, string>) =>
  error(400, 'VALIDATION_FAILED', 'The request is not valid.', zodFields(e), headers);

const badId = () => error(400, 'INVALID_ORDER_ID', 'Not an order id (ord_ followed by 26 characters).');

function corsHeaders(origins: string[], origin: string | undefined): Record<string, string> {
  if (origins.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  if (origin && origins.includes(origin)) return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  return { Vary: 'Origin' };
}

// ------------------------------------------------------------------ the operations

/** What a route's handler gets. */
interface ApiRequest {
  deps: ApiDeps;
  event: APIGatewayProxyEvent;
  /** The route's path parameters, URL-decoded by the router. */
  params: Readonly<Record<string, string>>;
}

type Handler = (req: ApiRequest) => Promise<APIGatewayProxyResult>;

/** For the routes under `/orders/{id}`: a malformed id answers 400 before the handler runs. */
const withOrderId =
  (handle: (req: ApiRequest, orderId: string) => Promise<APIGatewayProxyResult>): Handler =>
  async (req) => {
    const id = req.params.id;
    if (id === undefined || !OrderIdParam.safeParse(id).success) return badId();
    logger.appendKeys({ orderId: id });
    return handle(req, id);
  };

async function create({ deps, event }: ApiRequest): Promise<APIGatewayProxyResult> {
  if (!isJsonContentType(header(event.headers, 'content-type'))) {
    return error(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
  }
  const body = rawBody(event);
  if (body.length > MAX_BODY_BYTES) return error(413, 'PAYLOAD_TOO_LARGE', `Body larger than ${MAX_BODY_BYTES} bytes.`);
  const key = header(event.headers, 'idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    return error(400, 'VALIDATION_FAILED', 'The request is not valid.', [
      { field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' },
    ]);
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return error(400, 'MALFORMED_JSON', 'The body is not valid JSON.');
  }
  const parsed = CreateOrderBody.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const { order, replayed } = await createOrder(deps, parsed.data, key);
  logger.appendKeys({ orderId: order.id });
  if (!replayed) metrics.addMetric('OrderCreated', MetricUnit.Count, 1);
  return json(201, orderView(order), replayed ? { 'Idempotent-Replayed': 'true' } : {});
}

/** The handler of each operation of ROUTES. */
const OPERATIONS: Record<Operation, Handler> = {
  createOrder: create,
  listOrders: async ({ deps, event }) => {
    const q = ListQuery.safeParse(event.queryStringParameters ?? {});
    if (!q.success) return invalid(q.error);
    const orders = await deps.store.listRecent(q.data.limit ?? 20);
    return json(200, { orders: orders.map(orderView) });
  },
  getOrder: withOrderId(async ({ deps }, id) => json(200, orderView(await getOrder(deps, id)))),
  cancelOrder: withOrderId(async ({ deps }, id) => json(200, orderView(await cancelOrder(deps, id)))),
  // The customer's browser reads it cross-origin: CORS headers on its answers (not on a bad id's 400).
  getOrderStatus: withOrderId(async ({ deps, event }, id) => {
    const cors = corsHeaders(deps.corsOrigins, header(event.headers, 'origin'));
    const q = StatusQuery.safeParse(event.queryStringParameters ?? {});
    if (!q.success) return invalid(q.error, cors);
    try {
      return json(200, statusView(await getOrderForCustomer(deps, id, q.data.client_secret)), cors);
    } catch (e) {
      if (isDomainError(e)) return error(404, 'ORDER_NOT_FOUND', 'No such order.', undefined, cors);
      throw e;
    }
  }),
};

// ------------------------------------------------------------------ the router

/**
 * Powertools' HTTP router, used as a route table: `add` registers a handler for a method and a
 * path pattern, `match` looks a request up in Powertools' registry (static paths first, then
 * patterns by specificity; parameters URL-decoded, a blank one a ParameterValidationError).
 * Not `resolve()`: that turns every event into a WHATWG Request and every answer into a Response
 * and back, which loads Node's fetch implementation (undici) on the first request (tens of ms
 * more cold start) and lower-cases the response's header names.
 */
class RouteTable<H> extends Router {
  add(method: HttpMethod, path: Path, handler: H): void {
    // The registry keeps handlers of Powertools' own signature; these are only ever called by dispatch.
    this.route(handler as unknown as RouteHandler, { method, path });
  }

  match(method: string, path: Path): { handler: H; params: Record<string, string> } | undefined {
    if (!isHttpMethod(method)) return undefined;
    const found = this.routeRegistry.resolve(method, path);
    return found ? { handler: found.handler as unknown as H, params: found.params } : undefined;
  }
}

const VERBS = { get: 'GET', post: 'POST' } as const satisfies Record<RouteDoc['method'], HttpMethod>;

const router = new RouteTable<Handler>({ logger });
for (const r of ROUTES) {
  // OpenAPI's `/orders/{id}` is Powertools' `/orders/:id`.
  router.add(VERBS[r.method], r.path.replace(/\{(\w+)\}/g, ':$1') as Path, OPERATIONS[r.operation]);
}

/** Percent-encoded; a lone surrogate (which cannot be) as U+FFFD, as any UTF-8 encoder does. */
const encode = (s: string): string => encodeURIComponent(s.replace(/\p{Cs}/gu, '\uFFFD'));

/**
 * A path segment as the request wrote it, in a form the router matches and decodes: characters
 * outside its patterns' alphabet percent-encoded, existing escapes kept (so `ord%65rs` is not
 * `orders`, as before), and a malformed escape (`%zz`) escaped, so that the handler gets it as written.
 */
function routable(segment: string): string {
  try {
    decodeURIComponent(segment);
  } catch {
    return encode(segment);
  }
  return segment.replace(/[^\w\-.~()'!*:@,;=+&$%<> [\]{}|^]/gu, encode);
}

/**
 * The path to route: API Gateway's resource template (`/orders/{id}/status`) with its decoded
 * `pathParameters` filled in when it gives one, else the request's path (`event.path` carries a
 * custom domain's base path, the template does not). Empty segments and trailing slashes drop.
 */
function routePath(event: APIGatewayProxyEvent): Path {
  const template = event.resource?.startsWith('/orders') ? event.resource : undefined;
  const segments = (template ?? event.path ?? '')
    .split('/')
    .filter(Boolean)
    .map((s) => {
      const name = template ? /^\{(\w+)\}$/.exec(s)?.[1] : undefined;
      const value = name ? event.pathParameters?.[name] : undefined;
      return value ? encode(value) : routable(s);
    });
  return `/${segments.join('/')}`;
}

async function dispatch(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  let route: ReturnType<typeof router.match>;
  try {
    route = router.match(event.httpMethod.toUpperCase(), routePath(event));
  } catch (e) {
    // A blank path parameter; the only one is the order id.
    if (e instanceof ParameterValidationError) return badId();
    throw e;
  }
  // Also a known path with a method it does not serve.
  if (!route) return error(404, 'NOT_FOUND', 'No such route.');
  return route.handler({ deps, event, params: route.params });
}

/** What a thrown error answers: a domain error by its code; Stripe or AWS unavailable 503; Stripe's refusal 502; else 500, with nothing of it. */
function fromError(e: unknown): APIGatewayProxyResult {
  if (isDomainError(e)) return error(STATUS_OF[e.code] ?? 400, e.code, e.message, e.fields);
  if (e instanceof TransientError) {
    logger.warn('dependency unavailable', { error: e.message });
    return error(
      503,
      'SERVICE_UNAVAILABLE',
      'Temporarily unavailable; retry with the same Idempotency-Key.',
      undefined,
      {
        'Retry-After': '2',
      },
    );
  }
  if (e instanceof ProviderRejectedError) {
    logger.warn('Stripe refused to create the payment', { error: e.message, code: e.providerCode });
    return error(502, 'PAYMENT_PROVIDER_REJECTED', `Stripe refused the payment: ${e.message}`);
  }
  logger.error('request failed', e as Error);
  return error(500, 'INTERNAL', 'Internal error.');
}

export async function handleApi(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    return await dispatch(deps, event);
  } catch (e) {
    return fromError(e);
  } finally {
    logger.removeKeys(['orderId']);
  }
}

export function makeApiHandler(getDeps: () => Promise<ApiDeps>) {
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    metrics.addMetric('ApiRequest', MetricUnit.Count, 1);
    let deps: ApiDeps;
    try {
      deps = await getDeps();
    } catch (e) {
      logger.error('cold start failed', e as Error);
      return error(500, 'INTERNAL', 'Internal error.');
    }
    return handleApi(deps, event);
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
