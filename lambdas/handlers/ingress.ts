/**
 * POST /webhooks/stripe. Verifies Stripe's signature on the raw body before anything else,
 * then enqueues the event on the FIFO queue (group = order, deduplication = Stripe event id)
 * and answers 200 only once SQS has accepted it; any failure to enqueue answers 500, so
 * Stripe retries (for up to three days). https://docs.stripe.com/webhooks#retries
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type StripeEventLike, translateStripeEvent } from '../adapters/stripe/events.js';
import { SignatureVerificationError, verifyStripeSignature } from '../adapters/stripe/signature.js';
import { isOrderId } from '../domain/index.js';
import { API } from '../spec.js';
import type { IngressDeps } from './deps.js';
import { type ApiErrorCode, error, header, isJsonContentType, json, rawBody } from './http.js';
import { logger, metrics } from './observability.js';

export type { IngressDeps } from './deps.js';

const reject = (reason: string, status: number, code: ApiErrorCode, message: string) => {
  metrics.addMetric('WebhookRejected', MetricUnit.Count, 1);
  logger.warn('webhook rejected', { reason });
  return error(status, code, message);
};

const ok = (extra: Record<string, unknown> = {}) => json(200, { received: true, ...extra });

export async function handleWebhook(deps: IngressDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  // Size first: no HMAC over an oversized body. Base64 inflates by 4/3.
  const declared = event.body?.length ?? 0;
  if ((event.isBase64Encoded ? Math.floor((declared * 3) / 4) : declared) > API.maxWebhookBytes) {
    return reject('too_large', 413, 'PAYLOAD_TOO_LARGE', 'Payload too large.');
  }
  const body = rawBody(event);
  if (body.length > API.maxWebhookBytes) return reject('too_large', 413, 'PAYLOAD_TOO_LARGE', 'Payload too large.');

  try {
    verifyStripeSignature(
      body,
      header(event.headers, 'stripe-signature'),
      deps.webhookSecrets,
      deps.clock.now().getTime() / 1000,
    );
  } catch (e) {
    if (e instanceof SignatureVerificationError)
      return reject(e.problem, 400, 'INVALID_SIGNATURE', 'Invalid signature.');
    throw e;
  }
  if (!isJsonContentType(header(event.headers, 'content-type'))) {
    return reject('content_type', 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json.');
  }
  let parsed: StripeEventLike;
  try {
    parsed = JSON.parse(body.toString('utf8')) as StripeEventLike;
  } catch {
    return reject('malformed_json', 400, 'MALFORMED_EVENT', 'Body is not a JSON event.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return reject('malformed_json', 400, 'MALFORMED_EVENT', 'Body is not a JSON event.');

  const t = translateStripeEvent(parsed);
  if (t.kind === 'ignored') {
    logger.info('webhook ignored', { reason: t.reason, stripeEventId: parsed.id, type: parsed.type });
    return ok({ ignored: t.reason });
  }
  const { event: orderEvent } = t;
  logger.appendKeys({ stripeEventId: orderEvent.id, orderId: orderEvent.orderId });
  if (t.livemode !== deps.livemode) {
    logger.info('webhook ignored', { reason: 'livemode' });
    return ok({ ignored: 'livemode' });
  }
  // Every source and charge this system creates carries metadata.order_id; an event without a
  // well-formed one is about an object some other integration created.
  if (orderEvent.orderId === undefined || !isOrderId(orderEvent.orderId)) {
    logger.info('webhook ignored', { reason: 'not_our_object' });
    return ok({ ignored: 'not_our_object' });
  }
  try {
    await deps.queue.enqueue({ groupId: orderEvent.orderId, dedupId: orderEvent.id, event: orderEvent });
  } catch (e) {
    logger.error('enqueue failed; Stripe will retry', e as Error);
    return error(500, 'ENQUEUE_FAILED', 'Temporarily unable to accept the event.');
  }
  logger.info('webhook enqueued', { type: orderEvent.type });
  return ok();
}

/** The Lambda entry point around `handleWebhook`, given how to build its dependencies. */
export function makeIngressHandler(getDeps: () => Promise<IngressDeps>) {
  return middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    metrics.addMetric('WebhookReceived', MetricUnit.Count, 1);
    try {
      return await handleWebhook(await getDeps(), event);
    } catch (e) {
      logger.error('webhook failed', e as Error);
      return error(500, 'INTERNAL', 'Internal error.');
    } finally {
      logger.removeKeys(['stripeEventId', 'orderId']);
    }
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

// Once per cold start: configuration, the secret, the SQS client.
