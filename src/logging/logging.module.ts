import { Global, LoggerService, Module } from '@nestjs/common';
import type { Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import { LoggerModule } from 'nestjs-pino';
import type { LogFormat } from '../config/app-config';
import { AppConfig } from '../config/app-config';
import { RequestContextHooks } from './request-context';

/** Where log lines go; tests override it to capture lines and prove no secret is in them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

@Global()
@Module({ providers: [{ provide: LOG_DESTINATION, useValue: undefined }], exports: [LOG_DESTINATION] })
class LogDestinationModule {}

/** Paths pino blanks before a line is written: credentials and codes never reach a log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  'res.headers["set-cookie"]',
  '*.code',
  '*.auth_code',
  '*.reset_code',
  '*.password',
  '*.token',
  '*.authToken',
  '*.secretAccessKey',
  // A failed statement's bound values (TypeORM's QueryFailedError): a bulk INSERT's are every
  // phone number and text of the bulk.
  'err.parameters',
];

export const LoggingModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  providers: [RequestContextHooks],
  inject: [AppConfig, LOG_DESTINATION],
  useFactory: (config: AppConfig, destination: DestinationStream | undefined) => {
    const options: Options = {
      level: config.get('LOG_LEVEL'),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    };
    if (!destination && logFormat(config.get('LOG_FORMAT')) === 'pretty') {
      // Readable lines for a person at a terminal; pino-pretty runs in pino's worker thread.
      options.transport = {
        target: 'pino-pretty',
        options: {
          colorize: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service,context',
          messageFormat: '{if context}[{context}] {end}{msg}',
        },
      };
    }
    // No pino-http middleware: requests are logged by RequestContextHooks (request-context.ts).
    return { pinoHttp: destination ? [options, destination] : options, forRoutes: [] };
  },
});

/** LOG_FORMAT when set; otherwise pretty on a terminal and JSON for log collectors. */
export function logFormat(
  configured: LogFormat | undefined,
  isTty = Boolean(process.stdout.isTTY),
): LogFormat {
  return configured ?? (isTty ? 'pretty' : 'json');
}

/** Nest contexts whose start-up lines are noise at info (one line per controller and route). */
const QUIET_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader']);

/**
 * Wraps the pino logger Nest writes through: Nest's per-route mapping lines go out at debug, so a
 * start at info shows a handful of lines instead of one per route.
 */
export class QuietStartLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && QUIET_CONTEXTS.has(context)) this.inner.debug?.(message, ...rest);
    else this.inner.log(message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.inner.error(message, ...rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...rest);
  }
}

export { LogDestinationModule };
