/**
 * How the AWS adapters (DynamoDB, SQS, Scheduler, EventBridge) translate AWS SDK v3 errors
 * into the port errors the use cases understand: a lost conditional write is a ConflictError,
 * anything worth retrying later is a TransientError, everything else is passed through as is
 * (a bug or a misconfiguration: retrying will not help).
 *
 * SDK v3 service errors carry `name` (the error code), `$fault` ('client' | 'server') and
 * `$metadata.httpStatusCode`; network failures are Node errors with a `code` (ECONNRESET…).
 * The lists below follow the SDK's own retry classification (@smithy/core,
 * service-error-classification) plus the DynamoDB specifics.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/handling-exceptions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
import { ConflictError, TransientError } from '../ports/index.js';

/** Throttling, by error name. DynamoDB: ProvisionedThroughputExceeded, RequestLimitExceeded, ThrottlingException. */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** Other retryable errors by name: timeouts, server-side failures, DynamoDB transaction conflicts. */
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // A concurrent transaction touched the same item: retry. Not a lost conditional write.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
  'TransactionConflictException',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** Node socket errors: the request may not have reached AWS, or its answer was lost. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Cancellation reasons of a DynamoDB transaction that are worth a retry. */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
]);

interface AwsErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  cause?: unknown;
  CancellationReasons?: unknown;
}

const asShape = (e: unknown): AwsErrorLike | undefined =>
  typeof e === 'object' && e !== null ? (e as AwsErrorLike) : undefined;

/** The AWS error code (`name` of an SDK v3 service exception), or the Node error code. */
export function awsErrorName(e: unknown): string {
  const s = asShape(e);
  if (!s) return typeof e;
  if (typeof s.name === 'string' && s.name !== 'Error') return s.name;
  if (typeof s.code === 'string') return s.code;
  return typeof s.name === 'string' ? s.name : 'Error';
}

/** Reason codes of a TransactionCanceledException, one per item of the transaction ('None' when that item was fine). */
export function cancellationReasons(e: unknown): string[] {
  const reasons = asShape(e)?.CancellationReasons;
  if (!Array.isArray(reasons)) return [];
  return reasons.map((r) => (typeof r === 'object' && r !== null && typeof r.Code === 'string' ? r.Code : 'None'));
}

/**
 * A DynamoDB conditional write that lost: ConditionalCheckFailedException, or a transaction
 * canceled because one of its conditions failed.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html (Errors: TransactionCanceledException)
 */
export function isConditionalCheckFailure(e: unknown): boolean {
  const name = awsErrorName(e);
  if (name === 'ConditionalCheckFailedException') return true;
  return name === 'TransactionCanceledException' && cancellationReasons(e).includes('ConditionalCheckFailed');
}

/** Worth retrying later: throttling, 5xx / server faults, timeouts, network errors. */
export function isTransientAwsError(e: unknown, depth = 0): boolean {
  const s = asShape(e);
  if (!s) return false;
  const name = awsErrorName(e);
  if (name === 'AbortError') return false;
  if (THROTTLING.has(name) || TRANSIENT_NAMES.has(name)) return true;
  if (typeof s.code === 'string' && NETWORK_CODES.has(s.code)) return true;
  if (s.$fault === 'server') return true;
  if (s.$retryable !== undefined && s.$retryable !== null) return true;
  const status = s.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  if (
    name === 'TransactionCanceledException' &&
    !cancellationReasons(e).includes('ConditionalCheckFailed') &&
    cancellationReasons(e).some((c) => TRANSIENT_CANCELLATION_CODES.has(c))
  )
    return true;
  return s.cause !== undefined && depth < 5 && isTransientAwsError(s.cause, depth + 1);
}

/**
 * The port error for an AWS SDK failure: ConflictError for a lost conditional write,
 * TransientError (with the original as `cause`) for a retryable failure, else the error itself.
 * `context` names the operation in the message ("DynamoDB PutItem orders").
 */
export function toAwsPortError(e: unknown, context = 'AWS call'): Error {
  if (isConditionalCheckFailure(e)) return new ConflictError(`${context}: the condition failed (${awsErrorName(e)}).`);
  if (isTransientAwsError(e)) {
    const message = asShape(e)?.message;
    return new TransientError(
      `${context} failed, retry later: ${awsErrorName(e)}${typeof message === 'string' && message ? `: ${message}` : ''}`,
      { cause: e },
    );
  }
  return e instanceof Error ? e : new Error(`${context} failed: ${String(e)}`, { cause: e });
}
