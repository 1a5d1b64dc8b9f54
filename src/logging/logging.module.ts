import { Global, LoggerService, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import { LoggerModule } from 'nestjs-pino';
import type { LogFormat } from '../config/app-config';
import { AppConfig } from '../config/app-config';

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
];

/** The caller's own X-Request-Id when it is a plain token (letters, digits, `_.-`, ≤ 100), else null. */
export function clientRequestId(req: IncomingMessage): string | null {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : null;
}

export const LoggingModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  inject: [AppConfig, LOG_DESTINATION],
  useFactory: (config: AppConfig, destination: DestinationStream | undefined) => {
    const options: Options = {
      level: config.get('LOG_LEVEL'),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // The request id is always the service's own, so no two requests share one (a client's id
      // could repeat); a client's X-Request-Id is kept beside it (logs, audit, X-Client-Request-Id).
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const id = randomUUID();
        res.setHeader('X-Request-Id', id);
        const client = clientRequestId(req);
        if (client !== null) res.setHeader('X-Client-Request-Id', client);
        return id;
      },
      customProps: (req: IncomingMessage) => {
        const client = clientRequestId(req);
        return client === null
          ? { service: 'sms-service' }
          : { service: 'sms-service', clientRequestId: client };
      },
      // Query strings can carry phone numbers; log the path only.
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url?.startsWith('/health') ?? false },
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
    return { pinoHttp: destination ? [options, destination] : options };
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
