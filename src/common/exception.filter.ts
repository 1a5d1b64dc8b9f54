import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { AppError, asServiceUnavailable, httpStatusOf } from './errors';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  errorId?: string;
}

/** Raised by body-parser (or the zlib/brotli stream it reads through); carries `status`, mostly `type`. */
interface BodyParserError {
  type?: string;
  status: number;
  /** The parser's limit in bytes, on `entity.too.large`. */
  limit?: unknown;
}

function isBodyParserError(e: unknown): e is BodyParserError {
  return typeof e === 'object' && e !== null && typeof (e as BodyParserError).status === 'number';
}

/**
 * The answer to a body that could not be read (too large, malformed JSON, a Content-Encoding we
 * do not read, a gzip/br/deflate body that does not decompress), or null if `e` is not that.
 * Only called with what a body parser failed with (see common/body-parsers.ts).
 */
export function bodyParserErrorBody(e: unknown): ErrorBody | null {
  if (!isBodyParserError(e)) return null;
  if (e.type === 'entity.too.large')
    return { statusCode: 413, error: 'Payload Too Large', message: `request body exceeds ${size(e.limit)}` };
  if (e.type === 'parameters.too.many')
    return { statusCode: 413, error: 'Payload Too Large', message: 'too many form fields' };
  if (e.type === 'entity.parse.failed')
    return { statusCode: 400, error: 'Bad Request', message: 'malformed JSON body' };
  if (e.type === 'encoding.unsupported')
    return {
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'unsupported Content-Encoding (accepted: identity, gzip, deflate, br)',
    };
  if (e.type === 'charset.unsupported')
    return { statusCode: 415, error: 'Unsupported Media Type', message: 'unsupported charset (use utf-8)' };
  if (e.type === undefined && e.status === 400)
    return {
      statusCode: 400,
      error: 'Bad Request',
      message: 'request body does not match its Content-Encoding',
    };
  if (e.status >= 400 && e.status < 500) {
    return { statusCode: e.status, error: reasonPhrase(e.status), message: 'unreadable request body' };
  }
  return null;
}

/** A parser's limit as people write it: 1 MiB, 512 KiB. */
function size(limit: unknown): string {
  if (typeof limit !== 'number') return 'the limit';
  if (limit % (1024 * 1024) === 0) return `${limit / (1024 * 1024)} MiB`;
  if (limit % 1024 === 0) return `${limit / 1024} KiB`;
  return `${limit} bytes`;
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
    const res = host.switchToHttp().getResponse<Response>();
    const { body, headers } = this.toBody(exception);
    if (res.headersSent) return;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): { body: ErrorBody; headers: Record<string, string> } {
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
      if (exception.details !== undefined) body.details = exception.details;
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
