/**
 * PaymentGateway over stripe-node (PaymentIntents; Sources and Charges; Refunds). Every call
 * carries an explicit timeout and retry count (set on the client, lambdas/wiring/) and, for
 * creates, an idempotency key (`pi-`, `source-`, `charge-`, `refund-<orderId>`), so a retried
 * call never creates a second object. https://docs.stripe.com/api/idempotent_requests
 */
import Stripe from 'stripe';
import type { IntentPayment } from '../../domain/index.js';
import {
  type ChargeInput,
  type ChargeResult,
  type CreatedPaymentIntent,
  type CreatedSource,
  type CreatePaymentIntentInput,
  type CreateSourceInput,
  NotFoundError,
  PaymentDeclinedError,
  type PaymentGateway,
  type PaymentIntentState,
  type PaymentIntentStatus,
  ProviderRejectedError,
  type RefundInput,
  SourceNotChargeableError,
  type SourceStatus,
  TransientError,
} from '../../ports/index.js';

export interface StripeClientOptions {
  secretKey: string;
  timeoutMs: number;
  maxNetworkRetries: number;
  /** The Stripe simulator (tests, sandbox); api.stripe.com when absent. */
  endpoint?: { host: string; port: number; protocol: 'http' | 'https' } | undefined;
}

export function createStripeClient(o: StripeClientOptions): Stripe {
  return new Stripe(o.secretKey, {
    timeout: o.timeoutMs,
    maxNetworkRetries: o.maxNetworkRetries,
    telemetry: false,
    appInfo: { name: 'order-orchestrator' },
    ...(o.endpoint ? { host: o.endpoint.host, port: o.endpoint.port, protocol: o.endpoint.protocol } : {}),
  });
}

/** Stripe error codes meaning the source cannot be charged (any more).
 * https://docs.stripe.com/error-codes */
const SOURCE_UNUSABLE = new Set(['invalid_source_usage', 'source_unavailable', 'charge_expired_for_capture']);

/** Maps a stripe-node error to the port's errors; anything else is rethrown as is (a bug, not retried). */
export function toStripePortError(e: unknown): unknown {
  if (!(e instanceof Stripe.errors.StripeError)) return e;
  const status = e.statusCode;
  if (
    e instanceof Stripe.errors.StripeConnectionError ||
    e instanceof Stripe.errors.StripeRateLimitError ||
    e instanceof Stripe.errors.StripeAPIError ||
    status === 429 ||
    (status !== undefined && status >= 500)
  ) {
    return new TransientError(`Stripe unavailable: ${e.type}${status ? ` (${status})` : ''}`, { cause: e });
  }
  if (e instanceof Stripe.errors.StripeCardError) {
    const charge = (e.raw as { charge?: unknown }).charge;
    return new PaymentDeclinedError(
      e.message,
      e.decline_code ?? e.code,
      typeof charge === 'string' ? charge : undefined,
    );
  }
  if (e.code && SOURCE_UNUSABLE.has(e.code)) return new SourceNotChargeableError(e.message);
  if (e.code === 'resource_missing') return new NotFoundError(e.message);
  return e;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toStripePortError(e);
  }
}

/** Creating a payment: an invalid request that passed our validation is the account's setup, told in Stripe's words. */
async function create<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const mapped = toStripePortError(e);
    if (mapped instanceof Stripe.errors.StripeInvalidRequestError) {
      throw new ProviderRejectedError(mapped.message, mapped.code);
    }
    throw mapped;
  }
}

const toChargeResult = (c: Stripe.Charge): ChargeResult => {
  const source = (c as unknown as { source?: { id?: string } | string | null }).source;
  const sourceId = typeof source === 'string' ? source : (source?.id ?? undefined);
  return {
    id: c.id,
    status: c.status === 'succeeded' ? 'succeeded' : c.status === 'pending' ? 'pending' : 'failed',
    amount: c.amount,
    currency: c.currency,
    ...(sourceId ? { sourceId } : {}),
    ...(c.failure_code ? { failureCode: c.failure_code } : {}),
  };
};

const PAYMENT_METHOD_TYPE = { wechat: 'wechat_pay', alipay: 'alipay' } as const;

const toIntentState = (pi: Stripe.PaymentIntent): PaymentIntentState => {
  const charge = typeof pi.latest_charge === 'string' ? pi.latest_charge : pi.latest_charge?.id;
  return {
    id: pi.id,
    status: pi.status as PaymentIntentStatus,
    amount: pi.amount,
    currency: pi.currency,
    livemode: pi.livemode,
    ...(charge ? { chargeId: charge } : {}),
  };
};

/**
 * What the storefront needs from `next_action`: the QR code's own data (not the hosted page,
 * which would need a second scan), the Alipay redirect, or the native data for an app.
 * https://docs.stripe.com/payments/wechat-pay/accept-a-payment ·
 * https://docs.stripe.com/payments/alipay/accept-a-payment · https://docs.stripe.com/api/payment_intents/object#payment_intent_object-next_action
 */
export function intentPayment(pi: Stripe.PaymentIntent, client?: IntentPayment['client']): IntentPayment {
  const p: IntentPayment = { api: 'payment_intents', paymentIntentId: pi.id, ...(client ? { client } : {}) };
  const na = pi.next_action;
  const qr = na?.wechat_pay_display_qr_code;
  if (qr) {
    p.qrCodeData = qr.data;
    if (qr.image_data_url) p.qrCodeImageDataUrl = qr.image_data_url;
    if (qr.hosted_instructions_url) p.hostedInstructionsUrl = qr.hosted_instructions_url;
  }
  const ios = na?.wechat_pay_redirect_to_ios_app;
  if (ios?.native_url) p.nativeUrl = ios.native_url;
  const android = na?.wechat_pay_redirect_to_android_app;
  if (android) {
    p.wechatAndroid = {
      appId: android.app_id,
      nonceStr: android.nonce_str,
      package: android.package,
      partnerId: android.partner_id,
      prepayId: android.prepay_id,
      sign: android.sign,
      timestamp: android.timestamp,
    };
  }
  const alipay = na?.alipay_handle_redirect;
  if (alipay) {
    if (alipay.url) p.redirectUrl = alipay.url;
    if (alipay.native_url) p.nativeUrl = alipay.native_url;
    if (alipay.native_data) p.nativeData = alipay.native_data;
  }
  return p;
}

export class StripeGateway implements PaymentGateway {
  constructor(private readonly stripe: Stripe) {}

  createSource(input: CreateSourceInput): Promise<CreatedSource> {
    const params: Stripe.SourceCreateParams = {
      type: input.type,
      amount: input.amount,
      currency: input.currency,
      // The ingress only accepts events of objects carrying our order id.
      metadata: { ...input.metadata, order_id: input.orderId },
      ...(input.statementDescriptor ? { statement_descriptor: input.statementDescriptor } : {}),
      ...(input.returnUrl ? { redirect: { return_url: input.returnUrl } } : {}),
    };
    return create(async () => {
      const s = await this.stripe.sources.create(params, { idempotencyKey: input.idempotencyKey });
      const qr = (s as unknown as { wechat?: { qr_code_url?: string } }).wechat?.qr_code_url;
      return {
        id: s.id,
        livemode: s.livemode,
        status: s.status,
        ...(qr ? { qrCodeUrl: qr } : {}),
        ...(s.redirect?.url ? { redirectUrl: s.redirect.url } : {}),
      };
    });
  }

  getSourceStatus(sourceId: string): Promise<SourceStatus> {
    return call(async () => (await this.stripe.sources.retrieve(sourceId)).status as SourceStatus);
  }

  charge(input: ChargeInput): Promise<ChargeResult> {
    return call(async () =>
      toChargeResult(
        await this.stripe.charges.create(
          {
            amount: input.amount,
            currency: input.currency,
            source: input.sourceId,
            metadata: { order_id: input.orderId },
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      ),
    );
  }

  getCharge(chargeId: string): Promise<ChargeResult> {
    return call(async () => toChargeResult(await this.stripe.charges.retrieve(chargeId)));
  }

  refund(input: RefundInput): Promise<{ id: string }> {
    const target = input.chargeId ? { charge: input.chargeId } : { payment_intent: input.paymentIntentId ?? '' };
    return call(async () => {
      try {
        const r = await this.stripe.refunds.create(
          { ...target, metadata: { order_id: input.orderId } },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: r.id };
      } catch (e) {
        // Refunded in full already (in the Dashboard, before our automatic refund ran): what this
        // effect asks for is done. Failing here would fail the record on every redelivery (Stripe
        // replays the error under the same key) and park it in the DLQ for good.
        // https://docs.stripe.com/error-codes#charge-already-refunded
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === 'charge_already_refunded') {
          const existing = await this.stripe.refunds.list({ ...target, limit: 1 });
          const id = existing.data[0]?.id;
          if (id) return { id };
        }
        throw e;
      }
    });
  }

  /**
   * Created and confirmed server side in one call. The pinned API version refuses
   * `payment_method_types` (payment_method_types_no_longer_supported, 2026-09-30.endive); the
   * method goes in `allowed_payment_method_types` and `payment_method_data[type]`.
   * https://docs.stripe.com/api/payment_intents/create
   */
  createPaymentIntent(input: CreatePaymentIntentInput): Promise<CreatedPaymentIntent> {
    const type = PAYMENT_METHOD_TYPE[input.method];
    const params: Stripe.PaymentIntentCreateParams = {
      amount: input.amount,
      currency: input.currency,
      confirm: true,
      allowed_payment_method_types: [type],
      payment_method_data: { type },
      // The ingress only accepts events of objects carrying our order id.
      metadata: { ...input.metadata, order_id: input.orderId },
      ...(input.statementDescriptor ? { statement_descriptor: input.statementDescriptor } : {}),
      ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
      ...(input.method === 'wechat'
        ? {
            payment_method_options: {
              wechat_pay: {
                client: input.client ?? 'web',
                ...(input.wechatAppId && input.client !== 'web' ? { app_id: input.wechatAppId } : {}),
              },
            },
          }
        : {}),
    };
    return create(async () => {
      const pi = await this.stripe.paymentIntents.create(params, { idempotencyKey: input.idempotencyKey });
      return {
        livemode: pi.livemode,
        status: pi.status as PaymentIntentStatus,
        payment: intentPayment(pi, input.method === 'wechat' ? (input.client ?? 'web') : undefined),
      };
    });
  }

  getPaymentIntent(id: string): Promise<PaymentIntentState> {
    return call(async () => toIntentState(await this.stripe.paymentIntents.retrieve(id)));
  }

  /**
   * Cancels unless the PaymentIntent has moved on: Stripe answers `payment_intent_unexpected_state`
   * (with the PaymentIntent) for a succeeded, processing or canceled one, and that answer is the
   * state we report. https://docs.stripe.com/api/payment_intents/cancel ·
   * https://docs.stripe.com/error-codes#payment-intent-unexpected-state
   */
  cancelPaymentIntent(id: string): Promise<PaymentIntentState> {
    return call(async () => {
      try {
        return toIntentState(await this.stripe.paymentIntents.cancel(id, { cancellation_reason: 'abandoned' }));
      } catch (e) {
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === 'payment_intent_unexpected_state') {
          return toIntentState(await this.stripe.paymentIntents.retrieve(id));
        }
        throw e;
      }
    });
  }
}
