/**
 * Stripe-shaped API errors for the simulator.
 *
 * Why: the orchestrator's Stripe adapter branches on the HTTP status and on `error.type` /
 * `error.code` (stripe-node turns them into StripeInvalidRequestError, StripeCardError,
 * StripeIdempotencyError, StripeRateLimitError, StripeAPIError...), so the simulator must
 * answer with the same status codes and body shape as Stripe: `{error: {type, code?, param?,
 * message, doc_url?, charge?}}` (schema `error` / `api_errors` in the OpenAPI subset).
 * https://docs.stripe.com/api/errors · https://docs.stripe.com/error-codes
 */

export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorFields {
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  charge?: string;
  doc_url?: string;
  request_log_url?: string;
  [extra: string]: unknown;
}

/** An error answer: HTTP status + Stripe error body. Thrown by handlers, rendered by the server. */
export class ApiError extends Error {
  readonly status: number;
  readonly fields: StripeErrorFields;
  /** Whether an idempotency key may store this answer (validation errors are not stored). */
  readonly storable: boolean;

  constructor(status: number, fields: StripeErrorFields, storable = true) {
    super(fields.message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields.code && !fields.doc_url ? { ...fields, doc_url: docUrl(fields.code) } : fields;
    this.storable = storable;
  }

  body(): { error: StripeErrorFields } {
    return { error: this.fields };
  }
}

export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

export function invalidRequest(
  message: string,
  extra: { code?: string; param?: string; status?: number; storable?: boolean } = {},
): ApiError {
  const fields: StripeErrorFields = { type: 'invalid_request_error', message };
  if (extra.code) fields.code = extra.code;
  if (extra.param) fields.param = extra.param;
  return new ApiError(extra.status ?? 400, fields, extra.storable ?? true);
}

/** A parameter problem found before the endpoint runs: never stored under an idempotency key. */
export function paramError(message: string, param: string, code?: string): ApiError {
  return invalidRequest(message, { param, ...(code ? { code } : {}), storable: false });
}

export function unknownParameter(param: string): ApiError {
  return paramError(`Received unknown parameter: ${param}`, param, 'parameter_unknown');
}

export function missingParameter(param: string): ApiError {
  return paramError(`Missing required param: ${param}.`, param, 'parameter_missing');
}

export function noSuch(kind: string, id: string, param: string): ApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, { code: 'resource_missing', param, status: 404 });
}

/** Thrown by the test controls (`/_sim/*`, StripeSim methods): `{error: {type, message}}` with this status. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}
