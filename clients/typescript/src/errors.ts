import type { components } from './schema';

/** The service's error body: `{statusCode, error, message, details}` (and `errorId` on a 500). */
export type ErrorBody = components['schemas']['ErrorResponseDto'];
/** One entry of `details`: the field and what was wrong with it (some rules add more keys). */
export type ErrorDetail = NonNullable<ErrorBody['details']>[number];

/**
 * Every non-2xx answer of the service rejects with an `SmsApiError` (or a subclass by status:
 * `instanceof NotFoundError`, ...), carrying the error body as the service sent it.
 */
export class SmsApiError extends Error {
  override readonly name: string = 'SmsApiError';
  /** The HTTP status (the body's `statusCode` when it has one). */
  readonly statusCode: number;
  /** The status text, e.g. "Bad Request". */
  readonly error: string;
  /** What was wrong, always a list: `field` per field (400); `rule` and its figures for a refusal (402, 429: `retry_after_seconds`). */
  readonly details: ErrorDetail[] | undefined;
  /** On a 500: quote it to operators, it is in the service's log. */
  readonly errorId: string | undefined;
  /** The service's `X-Request-Id` of the failed request. */
  readonly requestId: string | undefined;
  /** Seconds from `Retry-After` (429, 503, 409 in flight). */
  readonly retryAfter: number | undefined;
  /** The whole error body, as parsed. */
  readonly body: ErrorBody;

  constructor(body: ErrorBody, response?: Response) {
    super(body.message);
    this.statusCode = body.statusCode;
    this.error = body.error;
    this.details = body.details;
    this.errorId = body.errorId;
    this.body = body;
    this.requestId = response?.headers.get('x-request-id') ?? undefined;
    const retryAfter = Number(response?.headers.get('retry-after') ?? NaN);
    this.retryAfter = Number.isFinite(retryAfter) ? retryAfter : undefined;
  }
}

/** 400: invalid input; `details[].field` names the field. Nothing changed. */
export class ValidationError extends SmsApiError {
  override readonly name = 'ValidationError';
}
/** 401: missing, malformed or expired token. */
export class AuthenticationError extends SmsApiError {
  override readonly name = 'AuthenticationError';
}
/** 403: a role is missing, or the tenant is deactivated. */
export class PermissionDeniedError extends SmsApiError {
  override readonly name = 'PermissionDeniedError';
}
/** 404: unknown, or another tenant's (or user's). */
export class NotFoundError extends SmsApiError {
  override readonly name = 'NotFoundError';
}
/** 409: the same Idempotency-Key is in flight, or the state forbids the change. */
export class ConflictError extends SmsApiError {
  override readonly name = 'ConflictError';
}
/**
 * 402: the tenant's monthly spend cap would be passed; nothing was stored. Waiting does not help:
 * raising the cap (or the next month) does. `details[0]` holds `cap`, `month_to_date`,
 * `estimated_cost` and `currency`.
 */
export class SpendCapError extends SmsApiError {
  override readonly name = 'SpendCapError';
}
/** 413: the body is larger than the service accepts. */
export class PayloadTooLargeError extends SmsApiError {
  override readonly name = 'PayloadTooLargeError';
}
/** 415: the body's media type or charset is not accepted. */
export class UnsupportedMediaTypeError extends SmsApiError {
  override readonly name = 'UnsupportedMediaTypeError';
}
/** 422: the Idempotency-Key was used before with another body. */
export class IdempotencyMismatchError extends SmsApiError {
  override readonly name = 'IdempotencyMismatchError';
}
/** 429: a rate limit; wait `retryAfter` seconds. */
export class RateLimitError extends SmsApiError {
  override readonly name = 'RateLimitError';
}
/** 5xx: the service failed; quote `errorId` to operators. */
export class ServerError extends SmsApiError {
  override readonly name: string = 'ServerError';
}
/** 503: PostgreSQL or Redis is unreachable; nothing was stored. Safe to retry after `retryAfter`. */
export class ServiceUnavailableError extends ServerError {
  override readonly name = 'ServiceUnavailableError';
}

/** The service could not be reached (or did not answer), after the retries. Nothing is known. */
export class SmsConnectionError extends Error {
  override readonly name = 'SmsConnectionError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

const BY_STATUS: Record<number, typeof SmsApiError> = {
  400: ValidationError,
  401: AuthenticationError,
  402: SpendCapError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  415: UnsupportedMediaTypeError,
  422: IdempotencyMismatchError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

/** The typed error for a failed response; a body that is not the service's error shape is wrapped. */
export function errorFor(response: Response, parsed: unknown): SmsApiError {
  const raw = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const body: ErrorBody = {
    ...raw,
    statusCode: typeof raw.statusCode === 'number' ? raw.statusCode : response.status,
    error: typeof raw.error === 'string' ? raw.error : response.statusText || `HTTP ${response.status}`,
    message:
      typeof raw.message === 'string'
        ? raw.message
        : typeof parsed === 'string' && parsed !== ''
          ? parsed.slice(0, 500)
          : response.statusText || `HTTP ${response.status}`,
  };
  const Type = BY_STATUS[response.status] ?? (response.status >= 500 ? ServerError : SmsApiError);
  return new Type(body, response);
}
