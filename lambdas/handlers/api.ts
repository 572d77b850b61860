/**
 * The storefront API (API Gateway REST, Lambda proxy integration). The API key of the
 * `/orders…` routes is enforced by API Gateway (usage plan); the status route is authorized by
 * the order's client secret. Input is validated with zod (unknown fields rejected), business
 * rules by the domain; every error is `{error: {code, message, fields?}}` and nothing internal
 * leaks.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { cancelOrder, createOrder, getOrder, getOrderForCustomer } from '../app/index.js';
import { type DomainError, isDomainError } from '../domain/index.js';
import { ProviderRejectedError, TransientError } from '../ports/index.js';
import { appDeps, corsOrigins } from '../wiring/app.js';
import { CreateOrderBody, ListQuery, OrderIdParam, StatusQuery } from './api-schema.js';
import { oncePerColdStart } from './cold-start.js';
import type { ApiDeps } from './deps.js';
import { error, header, isJsonContentType, json, rawBody } from './http.js';
import { logger, metrics } from './observability.js';
import { orderView, statusView } from './views.js';

export type { ApiDeps } from './deps.js';

/** Stripe's own limit for its Idempotency-Key header. https://docs.stripe.com/api/idempotent_requests */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const MAX_BODY_BYTES = 16 * 1024;

const STATUS_OF: Record<DomainError['code'], number> = {
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

function corsHeaders(origins: string[], origin: string | undefined): Record<string, string> {
  if (origins.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  if (origin && origins.includes(origin)) return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  return { Vary: 'Origin' };
}

type Route = 'create' | 'list' | 'get' | 'cancel' | 'status';

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function route(event: APIGatewayProxyEvent): { route: Route; id?: string } | undefined {
  const method = event.httpMethod.toUpperCase();
  // API Gateway gives the template (`/orders/{id}/status`) with pathParameters; others the path.
  const path = event.resource?.startsWith('/orders') ? event.resource : (event.path ?? '');
  const parts = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (parts[0] !== 'orders') return undefined;
  const segment = parts[1];
  const id =
    event.pathParameters?.id ?? (segment !== undefined && !segment.startsWith('{') ? safeDecode(segment) : undefined);
  if (parts.length === 1)
    return method === 'POST' ? { route: 'create' } : method === 'GET' ? { route: 'list' } : undefined;
  if (parts.length === 2 && method === 'GET') return { route: 'get', ...(id ? { id } : {}) };
  if (parts.length === 3 && parts[2] === 'cancel' && method === 'POST')
    return { route: 'cancel', ...(id ? { id } : {}) };
  if (parts.length === 3 && parts[2] === 'status' && method === 'GET')
    return { route: 'status', ...(id ? { id } : {}) };
  return undefined;
}

const badId = () => error(400, 'INVALID_ORDER_ID', 'Not an order id (ord_ followed by 26 characters).');

async function create(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
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
  if (!parsed.success) return error(400, 'VALIDATION_FAILED', 'The request is not valid.', zodFields(parsed.error));
  const { order, replayed } = await createOrder(deps, parsed.data, key);
  logger.appendKeys({ orderId: order.id });
  if (!replayed) metrics.addMetric('OrderCreated', MetricUnit.Count, 1);
  return json(201, orderView(order), replayed ? { 'Idempotent-Replayed': 'true' } : {});
}

async function dispatch(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const r = route(event);
  if (!r) return error(404, 'NOT_FOUND', 'No such route.');
  if (r.route === 'create') return create(deps, event);
  if (r.route === 'list') {
    const q = ListQuery.safeParse(event.queryStringParameters ?? {});
    if (!q.success) return error(400, 'VALIDATION_FAILED', 'The request is not valid.', zodFields(q.error));
    const orders = await deps.store.listRecent(q.data.limit ?? 20);
    return json(200, { orders: orders.map(orderView) });
  }
  if (r.id === undefined || !OrderIdParam.safeParse(r.id).success) return badId();
  logger.appendKeys({ orderId: r.id });
  if (r.route === 'get') return json(200, orderView(await getOrder(deps, r.id)));
  if (r.route === 'cancel') return json(200, orderView(await cancelOrder(deps, r.id)));
  const cors = corsHeaders(deps.corsOrigins, header(event.headers, 'origin'));
  const q = StatusQuery.safeParse(event.queryStringParameters ?? {});
  if (!q.success) return error(400, 'VALIDATION_FAILED', 'The request is not valid.', zodFields(q.error), cors);
  try {
    return json(200, statusView(await getOrderForCustomer(deps, r.id, q.data.client_secret)), cors);
  } catch (e) {
    if (isDomainError(e)) return error(404, 'ORDER_NOT_FOUND', 'No such order.', undefined, cors);
    throw e;
  }
}

export async function handleApi(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    return await dispatch(deps, event);
  } catch (e) {
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

export const handler = makeApiHandler(
  oncePerColdStart(async () => ({ ...(await appDeps()), corsOrigins: corsOrigins() })),
);
