/**
 * GET /orders/{id}/status?client_secret=… behind a Lambda function URL: what the customer's
 * browser polls every few seconds while it waits. It is the most frequent request of an order's
 * life, so it skips API Gateway (a function URL costs only the invocation) and loads only the
 * DynamoDB client, middy's small core and the Powertools logger: no Stripe, no zod. Same answers as the REST route of the API
 * function (lambdas/handlers/api.ts): 200 with the status view, 404 for a missing order or a
 * wrong client secret, 400 for a malformed request. CORS is configured on the function URL.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { getOrderForCustomer } from '../app/orders.js';
import { isDomainError, ORDER_ID_PATTERN } from '../domain/index.js';
import type { OrderStore, SecretComparer } from '../ports/index.js';
import { error, json } from './http.js';
import { logger } from './observability.js';
import { statusView } from './views.js';

/** `/orders/{id}/status`, the id as lambdas/domain/validation.ts defines it. */
const PATH = new RegExp(`^/orders/(${ORDER_ID_PATTERN.source.slice(1, -1)})/status/?$`);
const MAX_SECRET = 200;

export async function handleStatus(
  deps: { store: OrderStore; secrets: SecretComparer },
  event: LambdaFunctionURLEvent,
): Promise<LambdaFunctionURLResult> {
  const method = event.requestContext.http.method.toUpperCase();
  if (method !== 'GET') return error(405, 'METHOD_NOT_ALLOWED', 'Only GET.', undefined, { Allow: 'GET' });
  const m = PATH.exec(event.rawPath);
  if (!m?.[1]) {
    return event.rawPath.startsWith('/orders/')
      ? error(400, 'INVALID_ORDER_ID', 'Not an order id (ord_ followed by 26 characters).')
      : error(404, 'NOT_FOUND', 'No such route.');
  }
  const orderId = m[1];
  const query = event.queryStringParameters ?? {};
  const secret = query.client_secret;
  const unknown = Object.keys(query).filter((k) => k !== 'client_secret');
  if (secret === undefined || secret.length === 0 || secret.length > MAX_SECRET || unknown.length > 0) {
    return error(400, 'VALIDATION_FAILED', 'The request is not valid.', [
      ...(secret === undefined || secret.length === 0 || secret.length > MAX_SECRET
        ? [{ field: 'client_secret', message: `is required, 1 to ${MAX_SECRET} characters` }]
        : []),
      ...unknown.map((k) => ({ field: k, message: 'unknown query parameter' })),
    ]);
  }
  logger.appendKeys({ orderId });
  try {
    return json(200, statusView(await getOrderForCustomer(deps, orderId, secret)));
  } catch (e) {
    if (isDomainError(e)) return error(404, 'ORDER_NOT_FOUND', 'No such order.');
    logger.error('status failed', e as Error);
    return error(500, 'INTERNAL', 'Internal error.');
  } finally {
    logger.removeKeys(['orderId']);
  }
}

export function makeStatusHandler(getDeps: () => Promise<{ store: OrderStore; secrets: SecretComparer }>) {
  return middy(async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
    let deps: { store: OrderStore; secrets: SecretComparer };
    try {
      deps = await getDeps();
    } catch (e) {
      logger.error('cold start failed', e as Error);
      return error(500, 'INTERNAL', 'Internal error.');
    }
    return handleStatus(deps, event);
  }).use(injectLambdaContext(logger));
}
