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
  | 'payload_too_large'
  | 'service_unavailable'
  | 'spend_cap_reached';

/**
 * One entry of an error's `details`, the one shape of every error answer (docs/sending.md
 * "Errors"): what was wrong (`errors`), the field at fault when there is one, the rule a refusal
 * applied (`rule`: a 429's limit, a 402's cap), and what that rule adds (its limit, what was used,
 * `retry_after_seconds`).
 */
export interface ErrorDetail {
  field?: string;
  errors: string[];
  rule?: string;
  [more: string]: unknown;
}

/** A 400's entry: the field and what was wrong with it. */
export interface FieldError extends ErrorDetail {
  field: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Always a list (or none): clients read `details[]` whatever the status. */
    readonly details?: readonly ErrorDetail[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The answer's `details`: these (the readiness probe answers terminus' report instead). */
  answeredDetails(): unknown {
    return this.details;
  }
}

export class ValidationFailedError extends AppError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('validation_failed', message, details);
  }

  static field(field: string, error: string): ValidationFailedError {
    return new ValidationFailedError(`${field}: ${error}`, [{ field, errors: [error] }]);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('not_found', message, details);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('conflict', message, details);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** 429: `detail` names the rule and what it counted; its `errors` are the message. */
export class RateLimitExceededError extends AppError {
  constructor(
    message: string,
    detail: Omit<ErrorDetail, 'errors'> & { rule: string; retry_after_seconds: number },
    headers: Record<string, string>,
  ) {
    super('rate_limited', message, [{ ...detail, errors: [message] }], headers);
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
    case 'service_unavailable':
      return 503;
    case 'spend_cap_reached':
      return 402;
  }
}

/** A dependency the request needs is unreachable. */
export type Dependency = 'database' | 'redis';

/** Seconds a client is told to wait (Retry-After) when a dependency is unreachable. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** 503 + Retry-After: PostgreSQL or Redis is unreachable; nothing was stored, try again later. */
export class ServiceUnavailableError extends AppError {
  constructor(
    readonly dependency: Dependency,
    retryAfterSeconds = DEPENDENCY_RETRY_AFTER_SECONDS,
  ) {
    super(
      'service_unavailable',
      `${dependency} is unavailable; nothing was stored, retry after ${retryAfterSeconds} s`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

/** ioredis' own messages when a command cannot reach Redis (offline queue flushed, timeout, closed). */
const REDIS_MESSAGES = [
  /^Connection is closed\.?$/,
  /^Command timed out$/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^Connection in subscriber mode/,
];

/** pg / pg-pool messages of a connection that could not be made or was lost. */
const DATABASE_MESSAGES = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Query read timeout$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/** Network error codes of a refused, reset or unreachable connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATE codes that mean "the database cannot serve you now": connection exceptions (08xxx),
 * admin/crash shutdown, cannot connect now, too many connections.
 */
function isDatabaseUnavailableCode(code: string): boolean {
  return /^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

/**
 * The one classification of connection errors: which dependency an error says is unreachable,
 * or null when it is some other failure (which stays a 500). TypeORM wraps driver errors
 * (`driverError`); a bare network error (pg connect) is the database's, because Redis commands
 * never surface one (ioredis reports them as the messages above).
 */
export function unavailableDependencyOf(e: unknown, depth = 0): Dependency | null {
  if (typeof e !== 'object' || e === null || depth > 3) return null;
  if (e instanceof ServiceUnavailableError) return e.dependency;
  const err = e as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  const name = typeof err.name === 'string' ? err.name : '';
  const message = typeof err.message === 'string' ? err.message : '';
  const code = typeof err.code === 'string' ? err.code : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((r) => r.test(message))) return 'redis';
  if (DATABASE_MESSAGES.some((r) => r.test(message))) return 'database';
  if (code && isDatabaseUnavailableCode(code) && 'severity' in err) return 'database';
  if (NETWORK_CODES.has(code)) return 'database';
  return unavailableDependencyOf(err.driverError, depth + 1) ?? unavailableDependencyOf(err.cause, depth + 1);
}

/** `e` as a ServiceUnavailableError when it is a connection error, else null. */
export function asServiceUnavailable(e: unknown): ServiceUnavailableError | null {
  if (e instanceof ServiceUnavailableError) return e;
  const dependency = unavailableDependencyOf(e);
  return dependency ? new ServiceUnavailableError(dependency) : null;
}
