import { Global, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import { LoggerModule } from 'nestjs-pino';
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

export const LoggingModule = LoggerModule.forRootAsync({
  imports: [LogDestinationModule],
  inject: [AppConfig, LOG_DESTINATION],
  useFactory: (config: AppConfig, destination: DestinationStream | undefined) => {
    const options: Options = {
      level: config.get('LOG_LEVEL'),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: () => ({ service: 'sms-service' }),
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
    return { pinoHttp: destination ? [options, destination] : options };
  },
});

export { LogDestinationModule };
