/**
 * The storefront API's routes, request and response shapes and error codes, in zod: the handler
 * validates with them and registers its routes from ROUTES, and `npm run openapi` generates
 * docs/openapi.json from the same table (a test keeps the two equal).
 */
// The namespace import, as zod recommends: esbuild then bundles only the parts used. `import { z }`
// bundled all of zod with its ~40 locales (450 kB of the API function's 800 kB; ~30 ms of its cold start).
import * as z from 'zod';
import { ORDER_ID_PATTERN, ORDER_STATUSES, PAYMENT_APIS, PAYMENT_METHODS, WECHAT_CLIENTS } from '../domain/index.js';

export const CreateOrderBody = z
  .strictObject({
    amount: z.number().int().positive().describe('In the currency’s minor unit (cents; yen for JPY).'),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/)
      .describe('ISO 4217, e.g. usd, cny (Alipay only), hkd.'),
    paymentMethod: z.enum(PAYMENT_METHODS),
    returnUrl: z
      .string()
      .max(2048)
      .optional()
      .describe('Required for Alipay: where the customer returns after paying.'),
    statementDescriptor: z.string().min(1).max(32).optional(),
    metadata: z.record(z.string().max(40), z.string().max(500)).optional(),
    stripeApi: z
      .enum(PAYMENT_APIS)
      .optional()
      .describe('The Stripe API for this order; the deployment’s PAYMENT_API (default payment_intents) when absent.'),
    client: z
      .enum(WECHAT_CLIENTS)
      .optional()
      .describe(
        'WeChat Pay on payment_intents: web (QR code, default), or ios / android for WeChat Pay inside the merchant’s app (needs WECHAT_APP_ID).',
      ),
  })
  .describe('A new order.');

export const OrderIdParam = z.string().regex(ORDER_ID_PATTERN);

export const StatusQuery = z.strictObject({ client_secret: z.string().min(1).max(200) });

export const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).optional() });

const Status = z.enum(ORDER_STATUSES);

const SourcePayment = z
  .object({
    api: z.literal('sources'),
    sourceId: z.string(),
    qrCodeUrl: z.string().optional().describe('WeChat Pay: encode as a QR code for the customer to scan.'),
    redirectUrl: z.string().optional().describe('Alipay: send the customer here.'),
  })
  .describe('A payment on the legacy Sources API.');

const IntentPayment = z
  .object({
    api: z.literal('payment_intents'),
    paymentIntentId: z.string(),
    client: z.enum(WECHAT_CLIENTS).optional().describe('WeChat Pay: the client the payment was confirmed for.'),
    qrCodeData: z
      .string()
      .optional()
      .describe('WeChat Pay, web: encode this string as the QR code the customer scans with WeChat.'),
    qrCodeImageDataUrl: z
      .string()
      .optional()
      .describe(
        'WeChat Pay, web: the same QR code as a PNG data URL. In the first answer of POST /orders only (not stored: it would double the cost of every write of the order).',
      ),
    hostedInstructionsUrl: z
      .string()
      .optional()
      .describe('WeChat Pay, web: Stripe’s page showing the QR code (a fallback: it needs a second scan).'),
    redirectUrl: z.string().optional().describe('Alipay: send the customer here.'),
    nativeUrl: z.string().optional().describe('WeChat Pay in an iOS app, or Alipay in an app: opens the wallet app.'),
    nativeData: z.string().optional().describe('Alipay in an app: the data the Alipay SDK takes.'),
    wechatAndroid: z
      .object({
        appId: z.string(),
        nonceStr: z.string(),
        package: z.string(),
        partnerId: z.string(),
        prepayId: z.string(),
        sign: z.string(),
        timestamp: z.string(),
      })
      .optional()
      .describe('WeChat Pay in an Android app: the fields of the WeChat SDK’s PayReq.'),
  })
  .describe('A payment on the PaymentIntents API.');

const Payment = z.discriminatedUnion('api', [IntentPayment, SourcePayment]);

const HistoryEntry = z.object({
  type: z.string(),
  at: z.string(),
  from: Status.nullable(),
  to: Status,
  ignored: z.string().optional(),
});

export const OrderView = z.object({
  id: z.string(),
  status: Status,
  amount: z.number().int(),
  currency: z.string(),
  paymentMethod: z.enum(PAYMENT_METHODS),
  livemode: z.boolean(),
  clientSecret: z
    .string()
    .describe('Give this to the customer’s browser for GET /orders/{id}/status. Never the API key.'),
  payment: Payment,
  returnUrl: z.string().optional(),
  statementDescriptor: z.string().optional(),
  metadata: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  pendingExpiresAt: z
    .string()
    .describe('When the unpaid order expires: 1 h for a source, PAYMENT_EXPIRY_SECONDS for a PaymentIntent.'),
  chargeableAt: z.string().optional().describe('Sources: when the source became chargeable.'),
  deadline: z
    .string()
    .optional()
    .describe('Sources: when Stripe cancels the chargeable source: min(chargeableAt + 6 h, next 23:45 CST).'),
  recheckAt: z.string().optional().describe('PaymentIntents: when a processing payment is looked at again.'),
  chargeId: z.string().optional(),
  failureReason: z.string().optional(),
  failureCode: z.string().optional().describe('Stripe’s own code for the failure, when it gave one.'),
  cancelReason: z.string().optional(),
  version: z.number().int(),
  history: z.array(HistoryEntry),
});

export const StatusView = z.object({
  id: z.string(),
  status: Status,
  amount: z.number().int(),
  currency: z.string(),
  paymentMethod: z.enum(PAYMENT_METHODS),
  payment: Payment,
  pendingExpiresAt: z.string(),
  deadline: z.string().optional(),
  updatedAt: z.string(),
  history: z.array(z.object({ type: z.string(), at: z.string(), to: Status })),
});

export const OrderList = z.object({ orders: z.array(OrderView) });

/**
 * Every `error.code` our HTTP functions answer: a closed list, stable and machine-readable (never
 * rename one). The domain's codes (DomainErrorCode) are among them; the compiler checks it where
 * lambdas/handlers/api.ts answers a DomainError.
 */
export const API_ERROR_CODES = [
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INVALID_ORDER_ID',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'MALFORMED_JSON',
  'VALIDATION_FAILED',
  'ORDER_NOT_FOUND',
  'INVALID_TRANSITION',
  'ORDER_NOT_CANCELABLE',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYMENT_PROVIDER_REJECTED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
  // The Stripe webhook endpoint's own (lambdas/handlers/ingress.ts); Stripe reads them, not the storefront.
  'INVALID_SIGNATURE',
  'MALFORMED_EVENT',
  'ENQUEUE_FAILED',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The one error shape: lambdas/handlers/http.ts's `error()` builds it, typed by this schema. */
export const ErrorBody = z.object({
  error: z.object({
    code: z
      .enum(API_ERROR_CODES)
      .describe(
        'Stable and machine-readable. INVALID_SIGNATURE, MALFORMED_EVENT and ENQUEUE_FAILED come only from the Stripe webhook endpoint.',
      ),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

export type ErrorBody = z.infer<typeof ErrorBody>;

export interface RouteDoc<Op extends string = string> {
  /** The handler that serves the route: a key of OPERATIONS in lambdas/handlers/api.ts. */
  operation: Op;
  method: 'get' | 'post';
  /** OpenAPI's form: `{name}` for a path parameter. */
  path: `/${string}`;
  summary: string;
  apiKey: boolean;
  body?: z.ZodType;
  query?: z.ZodType;
  responses: Record<number, { description: string; schema: z.ZodType }>;
  headers?: Record<string, string>;
}

const routes = [
  {
    operation: 'createOrder',
    method: 'post',
    path: '/orders',
    summary: 'Create an order and its Stripe payment (a PaymentIntent, or a source on the legacy Sources API)',
    apiKey: true,
    body: CreateOrderBody,
    headers: {
      'Idempotency-Key': 'Optional. The same key returns the first response again (Idempotent-Replayed: true).',
    },
    responses: {
      201: { description: 'Created (or replayed for the same Idempotency-Key).', schema: OrderView },
      400: { description: 'Invalid body; `fields` names each problem.', schema: ErrorBody },
      409: { description: 'Idempotency-Key reused with other parameters.', schema: ErrorBody },
      415: { description: 'Content-Type is not application/json.', schema: ErrorBody },
      502: {
        description:
          'Stripe refused to create the payment for a reason of the account’s setup (e.g. WeChat Pay not activated); the message is Stripe’s.',
        schema: ErrorBody,
      },
      503: { description: 'Stripe or AWS unavailable; retry with the same Idempotency-Key.', schema: ErrorBody },
    },
  },
  {
    operation: 'listOrders',
    method: 'get',
    path: '/orders',
    summary: 'Recent orders, newest first (operator view)',
    apiKey: true,
    query: ListQuery,
    responses: { 200: { description: 'Up to `limit` (default 20) orders of the last 7 days.', schema: OrderList } },
  },
  {
    operation: 'getOrder',
    method: 'get',
    path: '/orders/{id}',
    summary: 'An order with its history',
    apiKey: true,
    responses: {
      200: { description: 'The order.', schema: OrderView },
      400: { description: 'Not an order id.', schema: ErrorBody },
      404: { description: 'No such order.', schema: ErrorBody },
    },
  },
  {
    operation: 'cancelOrder',
    method: 'post',
    path: '/orders/{id}/cancel',
    summary: 'Cancel an order that is pending or chargeable',
    apiKey: true,
    responses: {
      200: { description: 'Canceled (also when it already was).', schema: OrderView },
      404: { description: 'No such order.', schema: ErrorBody },
      409: {
        description:
          'Charging, paid, failed or refunded: not cancelable (also when the customer paid the PaymentIntent before the cancel reached Stripe; the order is then paid).',
        schema: ErrorBody,
      },
    },
  },
  {
    operation: 'getOrderStatus',
    method: 'get',
    path: '/orders/{id}/status',
    summary: 'Order status for the customer’s browser (no API key; the order’s client secret)',
    apiKey: false,
    query: StatusQuery,
    responses: {
      200: { description: 'Status, deadline and payment hints.', schema: StatusView },
      400: { description: 'client_secret missing.', schema: ErrorBody },
      404: { description: 'No such order, or the wrong client secret.', schema: ErrorBody },
    },
  },
] as const satisfies readonly RouteDoc[];

/** The API's operations, one per route. */
export type Operation = (typeof routes)[number]['operation'];

/**
 * Every route the API function serves. The OpenAPI document (scripts/openapi.ts) and the API
 * function's router (lambdas/handlers/api.ts) are both generated from this table.
 */
export const ROUTES: readonly RouteDoc<Operation>[] = routes;
