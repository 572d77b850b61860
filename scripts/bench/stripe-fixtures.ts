/**
 * Stripe webhook fixtures for the benchmarks, shaped like the ones Stripe (and scripts/stripe-sim)
 * send, pretty-printed as Stripe does, and signed as Stripe does: `t=<unix s>,v1=<hex
 * HMAC-SHA256("<t>.<raw body>")>` keyed with the whole `whsec_…` secret.
 * https://docs.stripe.com/webhooks#verify-manually
 *
 * The cold-start and warm-ingress runs serve `payment_intent.succeeded` of a WeChat Pay
 * PaymentIntent, the event that pays an order on the default API (PaymentIntents);
 * `source.chargeable` (the legacy Sources API) is kept for comparison.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { emptyOwner } from '../stripe-sim/objects.js';
import type { PaymentIntentObj } from '../stripe-sim/payment-intent-objects.js';

export const BENCH_STRIPE_SECRET_KEY = 'sk_test_bench';
export const BENCH_WEBHOOK_SECRET = 'whsec_bench_0123456789abcdef';
/** The API version stripe-node 23.1 pins (its `ApiVersion`): the events' version when the endpoint is set up at it. */
const PINNED_API_VERSION = '2026-10-28.endive';

export type WebhookFixture = 'payment_intent.succeeded' | 'source.chargeable';
export const DEFAULT_WEBHOOK_FIXTURE: WebhookFixture = 'payment_intent.succeeded';

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

/** `payment_intent.succeeded` of a WeChat Pay (web client) PaymentIntent, shaped as the simulator's. */
export function paymentIntentSucceededEvent(orderId: string, createdSeconds: number): Record<string, unknown> {
  const id = `pi_${alnum(24)}`;
  const pi: PaymentIntentObj = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: ['wechat_pay'],
    amount: 1099,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 1099,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${alnum(25)}`,
    confirmation_method: 'automatic',
    created: createdSeconds - 30,
    currency: 'usd',
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: `ch_${alnum(24)}`,
    livemode: false,
    managed_payments: null,
    metadata: { order_id: orderId },
    next_action: null,
    on_behalf_of: null,
    payment_method: `pm_${alnum(24)}`,
    payment_method_configuration_details: null,
    payment_method_options: { wechat_pay: { app_id: null, client: 'web' } },
    payment_method_types: ['wechat_pay'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
  return {
    id: `evt_${alnum(24)}`,
    object: 'event',
    api_version: PINNED_API_VERSION,
    created: createdSeconds,
    data: { object: pi },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'payment_intent.succeeded',
  };
}

const FIXTURES: Record<WebhookFixture, (orderId: string, createdSeconds: number) => Record<string, unknown>> = {
  'payment_intent.succeeded': paymentIntentSucceededEvent,
  'source.chargeable': sourceChargeableEvent,
};

export function stripeSignature(payload: string, secret: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** What API Gateway (proxy integration) hands the ingress for one signed delivery of `type`. */
export function signedWebhookRequest(
  type: WebhookFixture = DEFAULT_WEBHOOK_FIXTURE,
  secret = BENCH_WEBHOOK_SECRET,
  nowSeconds = Math.floor(Date.now() / 1000),
): APIGatewayProxyEvent {
  const body = JSON.stringify(FIXTURES[type](newOrderId(), nowSeconds), null, 2);
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
