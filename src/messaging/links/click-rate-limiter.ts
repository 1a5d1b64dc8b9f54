import { Injectable, Logger } from '@nestjs/common';
import { RateLimitExceededError } from '../../common/errors';
import { AppConfig } from '../../config/app-config';
import { RedisService } from '../../redis/redis.module';

const WINDOW_MS = 60_000;

/** One fixed window per key: INCR, start its expiry on the first hit; returns {count, msLeft}. */
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

/**
 * The public redirect's limit: SMS_LINK_CLICK_RATE_LIMIT requests per client address per minute,
 * shared by every api replica (Redis), so guessing codes costs time (47 bits a code). Over it:
 * 429 with Retry-After. If Redis does not answer, the click goes through (logged): a recipient's
 * click matters more than the limit, and guessing still meets 47 bits.
 */
@Injectable()
export class ClickRateLimiter {
  private readonly logger = new Logger(ClickRateLimiter.name);
  private readonly limit: number;

  constructor(
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.limit = config.get('SMS_LINK_CLICK_RATE_LIMIT');
  }

  async take(address: string): Promise<void> {
    if (!this.redis.isUp()) return;
    let count: number;
    let msLeft: number;
    try {
      [count, msLeft] = (await this.redis.client.eval(
        SCRIPT,
        1,
        this.redis.key('lrl', address),
        WINDOW_MS,
      )) as [number, number];
    } catch (e) {
      this.logger.warn(`link click limit skipped: Redis did not answer (${(e as Error).message})`);
      return;
    }
    if (count <= this.limit) return;
    const retryAfter = Math.max(1, Math.ceil(msLeft / 1000));
    throw new RateLimitExceededError(
      `too many requests: more than ${this.limit} link clicks per minute from this address`,
      { limit: this.limit, window_seconds: WINDOW_MS / 1000, retry_after_seconds: retryAfter },
      { 'Retry-After': String(retryAfter) },
    );
  }
}
