import { LoggerService } from '@nestjs/common';
import pino from 'pino';
import { logFormat, QuietStartLogger, REDACTED_PATHS } from './logging.module';

describe('start-up logging', () => {
  it('sends Nest route-mapping lines to debug and keeps the rest at info', () => {
    const calls: [string, unknown][] = [];
    const inner: LoggerService = {
      log: (m: unknown) => calls.push(['info', m]),
      debug: (m: unknown) => calls.push(['debug', m]),
      error: (m: unknown) => calls.push(['error', m]),
      warn: (m: unknown) => calls.push(['warn', m]),
    };
    const logger = new QuietStartLogger(inner);
    logger.log('Mapped {/api/sms/send, POST} route', 'RouterExplorer');
    logger.log('SmsController {/api/sms}:', 'RoutesResolver');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('sms-service started', 'Bootstrap');
    logger.warn('careful', 'Auth');
    expect(calls).toEqual([
      ['debug', 'Mapped {/api/sms/send, POST} route'],
      ['debug', 'SmsController {/api/sms}:'],
      ['debug', 'AppModule dependencies initialized'],
      ['info', 'sms-service started'],
      ['warn', 'careful'],
    ]);
  });

  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(logFormat(undefined, true)).toBe('pretty');
    expect(logFormat(undefined, false)).toBe('json');
    expect(logFormat('json', true)).toBe('json');
    expect(logFormat('pretty', false)).toBe('pretty');
  });
});

describe('REDACTED_PATHS', () => {
  it("blanks a failed statement's bound values (phone numbers, texts) in an error line", () => {
    const lines: string[] = [];
    const log = pino(
      { redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
      { write: (line: string) => lines.push(line) },
    );
    const err = Object.assign(new Error('duplicate key'), {
      query: 'INSERT INTO sms_messages …',
      parameters: ['+12025550123', 'Your code is 123456'],
    });
    log.error({ errorId: 'e1', err }, 'unhandled error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('+12025550123');
    expect(lines[0]).not.toContain('123456');
    expect(JSON.parse(lines[0]).err).toMatchObject({ message: 'duplicate key', parameters: '[redacted]' });
  });
});
