/**
 * Domain errors. Services throw these (never HTTP exceptions); `AppExceptionFilter` maps each
 * code to an HTTP status in one exhaustive switch (`httpStatusOf`).
 */
export type ErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'forbidden'
  | 'conflict'
  | 'idempotency_mismatch'
  | 'rate_limited'
  | 'tenant_inactive'
  | 'unauthorized'
  | 'payload_too_large';

export interface FieldError {
  field: string;
  errors: string[];
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class ValidationFailedError extends AppError {
  constructor(message: string, details?: FieldError[] | unknown) {
    super('validation_failed', message, details);
  }

  static field(field: string, error: string): ValidationFailedError {
    return new ValidationFailedError(`${field}: ${error}`, [{ field, errors: [error] }]);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, details?: unknown) {
    super('not_found', message, details);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, details);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class RateLimitExceededError extends AppError {
  constructor(message: string, details: unknown, headers: Record<string, string>) {
    super('rate_limited', message, details, headers);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
    case 'tenant_inactive':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'idempotency_mismatch':
      return 422;
    case 'rate_limited':
      return 429;
  }
}
