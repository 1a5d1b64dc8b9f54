import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { FixedWindow } from '../../redis/fixed-window';
import { RedisService } from '../../redis/redis.module';

const WINDOW_MS = 60_000;

/**
 * The public redirect's limit: SMS_LINK_CLICK_RATE_LIMIT requests per client address per minute,
 * shared by every api replica (Redis), so guessing codes costs time (47 bits a code). Over it:
 * 429 with Retry-After. If Redis does not answer, the click goes through (logged): a recipient's
 * click matters more than the limit, and guessing still meets 47 bits.
 */
@Injectable()
export class ClickRateLimiter {
  private readonly logger = new Logger(ClickRateLimiter.name);
  private readonly window: FixedWindow;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    const limit = config.get('SMS_LINK_CLICK_RATE_LIMIT');
    this.window = new FixedWindow(
      redis,
      {
        rule: 'link_click_rate_limit',
        limit,
        windowMs: WINDOW_MS,
        what: `more than ${limit} link clicks per minute from this address`,
        name: 'link click limit',
      },
      this.logger,
    );
  }

  async take(address: string): Promise<void> {
    await this.window.take(this.redis.key('lrl', address));
  }
}
