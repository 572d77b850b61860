/** Stable, machine-readable codes. Handlers map them to HTTP statuses; never rename one. */
export type DomainErrorCode =
  | 'VALIDATION_FAILED'
  | 'ORDER_NOT_FOUND'
  | 'INVALID_TRANSITION'
  | 'ORDER_NOT_CANCELABLE'
  | 'IDEMPOTENCY_KEY_REUSED';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly fields: FieldError[] | undefined;

  constructor(code: DomainErrorCode, message: string, fields?: FieldError[]) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.fields = fields;
  }
}

export class ValidationError extends DomainError {
  constructor(fields: FieldError[]) {
    super('VALIDATION_FAILED', 'The request is not valid.', fields);
    this.name = 'ValidationError';
  }
}

export class OrderNotFoundError extends DomainError {
  constructor(orderId: string) {
    super('ORDER_NOT_FOUND', `No order ${orderId}.`);
    this.name = 'OrderNotFoundError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
