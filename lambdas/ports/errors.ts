/**
 * Errors every adapter maps its technology's failures to; the use cases and handlers only see
 * these. One family: each is a PortError, and each name says it is an error. (The domain's own
 * family is DomainError, lambdas/domain/errors.ts; the API's codes are ApiErrorCode.)
 */

/** Base of every port error. */
export abstract class PortError extends Error {}

/** A conditional write lost: someone else wrote the item first. Re-read and re-apply. */
export class ConflictError extends PortError {
  constructor(message = 'The item changed since it was read.') {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Worth retrying later: throttling, 5xx, timeouts, connection resets. */
export class TransientError extends PortError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The payment provider declined (card / source errors). Not retried. */
export class PaymentDeclinedError extends PortError {
  readonly code: string | undefined;
  readonly chargeId: string | undefined;
  constructor(message: string, code?: string, chargeId?: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
    this.code = code;
    this.chargeId = chargeId;
  }
}

/** The provider has no such object. */
export class NotFoundError extends PortError {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** The source cannot be charged (not chargeable any more, consumed, canceled, expired). */
export class SourceNotChargeableError extends PortError {
  constructor(message: string) {
    super(message);
    this.name = 'SourceNotChargeableError';
  }
}

/**
 * The payment provider refused to create the payment for a reason the request's own validation
 * could not see — typically the account's setup (WeChat Pay or Alipay not activated, a currency
 * the account cannot present). Retrying will not help; the merchant's engineer needs Stripe's words.
 */
export class ProviderRejectedError extends PortError {
  readonly providerCode: string | undefined;
  constructor(message: string, providerCode?: string) {
    super(message);
    this.name = 'ProviderRejectedError';
    this.providerCode = providerCode;
  }
}

export const isTransient = (e: unknown): e is TransientError => e instanceof TransientError;
