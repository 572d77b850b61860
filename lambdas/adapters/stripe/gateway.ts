/**
 * PaymentGateway over stripe-node (Sources, Charges, Refunds). Every call carries an explicit
 * timeout and retry count (set on the client, lambdas/wiring/) and, for creates, an
 * idempotency key (`source-`, `charge-`, `refund-<orderId>`), so a retried call never creates
 * a second object. https://docs.stripe.com/api/idempotent_requests
 */
import Stripe from 'stripe';
import {
  type ChargeInput,
  type ChargeResult,
  type CreatedSource,
  type CreateSourceInput,
  NotFound,
  PaymentDeclined,
  type PaymentGateway,
  SourceNotChargeable,
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
export function toPortError(e: unknown): unknown {
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
    return new PaymentDeclined(e.message, e.decline_code ?? e.code, typeof charge === 'string' ? charge : undefined);
  }
  if (e.code && SOURCE_UNUSABLE.has(e.code)) return new SourceNotChargeable(e.message);
  if (e.code === 'resource_missing') return new NotFound(e.message);
  return e;
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toPortError(e);
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
    return call(async () => {
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

  refund(input: { orderId: string; chargeId: string; idempotencyKey: string }): Promise<{ id: string }> {
    return call(async () => {
      try {
        const r = await this.stripe.refunds.create(
          { charge: input.chargeId, metadata: { order_id: input.orderId } },
          { idempotencyKey: input.idempotencyKey },
        );
        return { id: r.id };
      } catch (e) {
        // Refunded in full already (in the Dashboard, before our automatic refund ran): what this
        // effect asks for is done. Failing here would fail the record on every redelivery (Stripe
        // replays the error under the same key) and park it in the DLQ for good.
        // https://docs.stripe.com/error-codes#charge-already-refunded
        if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === 'charge_already_refunded') {
          const existing = await this.stripe.refunds.list({ charge: input.chargeId, limit: 1 });
          const id = existing.data[0]?.id;
          if (id) return { id };
        }
        throw e;
      }
    });
  }
}
