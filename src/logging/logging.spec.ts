import { LoggerService } from '@nestjs/common';
import { logFormat, QuietStartLogger } from './logging.module';

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
