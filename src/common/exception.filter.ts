import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { unsupportedMediaType, UnreadableBodyError } from './body-parsers';
import { AppError, asServiceUnavailable, httpStatusOf } from './errors';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  errorId?: string;
}

/** An error Fastify itself raised before a route ran (an unreadable request): `FST_…` with a 4xx. */
interface FastifyClientError {
  code: string;
  statusCode: number;
}

function isFastifyClientError(e: unknown): e is FastifyClientError {
  if (typeof e !== 'object' || e === null) return false;
  const { code, statusCode } = e as Partial<FastifyClientError>;
  return (
    typeof code === 'string' &&
    code.startsWith('FST_') &&
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500
  );
}

/**
 * The answer to a request that could not be read (see common/body-parsers.ts, and Fastify's own
 * checks before a body parser runs: a bad Content-Length, say), or null if `e` is not that.
 */
export function unreadableRequestBody(e: unknown): ErrorBody | null {
  if (e instanceof UnreadableBodyError) return e.body;
  if (!isFastifyClientError(e)) return null;
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.code === 'FST_ERR_CTP_INVALID_TYPE')
    return unsupportedMediaType('').body;
  const statusCode = e.statusCode;
  const message = statusCode === 413 ? 'request body too large' : 'unreadable request';
  return { statusCode, error: reasonPhrase(statusCode), message };
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status];
  if (typeof name !== 'string') return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * The one place errors become HTTP answers: `{statusCode, error, message, details?}`.
 * Unknown errors become a 500 whose `errorId` is logged with the stack; nothing else leaks.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { body, headers } = this.toBody(exception);
    if (reply.sent) return;
    void reply.headers(headers).status(body.statusCode).send(body);
  }

  private toBody(exception: unknown): { body: ErrorBody; headers: Record<string, string> } {
    const unreadable = unreadableRequestBody(exception);
    if (unreadable) return { body: unreadable, headers: {} };
    // PostgreSQL or Redis unreachable: 503 + Retry-After naming it, not a 500.
    const unavailable = exception instanceof AppError ? null : asServiceUnavailable(exception);
    if (unavailable) {
      this.logger.warn(
        { dependency: unavailable.dependency, err: String(exception) },
        'dependency unavailable',
      );
      exception = unavailable;
    }
    if (exception instanceof AppError) {
      const statusCode = httpStatusOf(exception.code);
      const body: ErrorBody = { statusCode, error: reasonPhrase(statusCode), message: exception.message };
      const details = exception.answeredDetails();
      if (details !== undefined) body.details = details;
      return { body, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      let message = exception.message;
      if (typeof response === 'object' && response !== null && 'message' in response) {
        const m = (response as { message: unknown }).message;
        message = Array.isArray(m) ? m.join('; ') : String(m);
      }
      return { body: { statusCode, error: reasonPhrase(statusCode), message }, headers: {} };
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: exception }, 'unhandled error');
    return {
      body: { statusCode: 500, error: 'Internal Server Error', message: 'internal error', errorId },
      headers: {},
    };
  }
}
