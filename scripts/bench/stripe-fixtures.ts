/**
 * Stripe webhook fixtures for the benchmarks: a `source.chargeable` event shaped like the ones
 * Stripe (and scripts/stripe-sim) send for a WeChat Pay source, pretty-printed as Stripe does,
 * and signed as Stripe does: `t=<unix s>,v1=<hex HMAC-SHA256("<t>.<raw body>")>` keyed with the
 * whole `whsec_…` secret. https://docs.stripe.com/webhooks#verify-manually
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { emptyOwner } from '../stripe-sim/objects.js';

export const BENCH_STRIPE_SECRET_KEY = 'sk_test_bench';
export const BENCH_WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef';

export const newOrderId = (): string => `ord_${ulid()}`;
const alnum = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

export function sourceChargeableEvent(orderId: string, createdSeconds: number): Record<string, unknown> {
  const sourceId = `src_${alnum(24)}`;
  return {
    id: `evt_${alnum(24)}`,
    object: 'event',
    api_version: '2020-08-27',
    created: createdSeconds,
    data: {
      object: {
        id: sourceId,
        object: 'source',
        allow_redisplay: null,
        amount: 1099,
        client_secret: `src_client_secret_${alnum(24)}`,
        created: createdSeconds - 30,
        currency: 'usd',
        flow: 'none',
        livemode: false,
        metadata: { order_id: orderId },
        owner: emptyOwner(),
        statement_descriptor: null,
        status: 'chargeable',
        type: 'wechat',
        usage: 'single_use',
        wechat: { qr_code_url: `https://stripe.com/sources/test_source?client_secret=src_client_secret_${alnum(24)}` },
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'source.chargeable',
  };
}

export function stripeSignature(payload: string, secret: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** What API Gateway (REST, proxy integration) hands the ingress for one signed delivery. */
export function signedWebhookRequest(
  secret = BENCH_WEBHOOK_SECRET,
  nowSeconds = Math.floor(Date.now() / 1000),
): APIGatewayProxyEvent {
  const body = JSON.stringify(sourceChargeableEvent(newOrderId(), nowSeconds), null, 2);
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Stripe-Signature': stripeSignature(body, secret, nowSeconds),
    'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  };
  return proxyEvent('POST', '/webhooks/stripe', '/webhooks/stripe', headers, body, null);
}

export function proxyEvent(
  httpMethod: string,
  path: string,
  resource: string,
  headers: Record<string, string>,
  body: string | null,
  pathParameters: Record<string, string> | null,
): APIGatewayProxyEvent {
  return {
    httpMethod,
    path,
    resource,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body,
    isBase64Encoded: false,
    pathParameters,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      httpMethod,
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: `req-${alnum(12)}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: resource,
      stage: 'prod',
      identity: { sourceIp: '127.0.0.1', userAgent: 'bench' },
      authorizer: null,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}
