import type { Logger } from '@nestjs/common';
import { RateLimitExceededError } from '../common/errors';
import { KeyedBatcher } from './keyed-batcher';
import { LuaScript } from './lua-script';
import type { RedisService } from './redis.module';

/**
 * One fixed window per key: INCRBY the hits, start the window's expiry on the first, return the
 * count and the time left. One script, so concurrent requests cannot both slip under the limit
 * (one key: a cluster slot of its own). KEYS[1] counter; ARGV[1] window ms, ARGV[2] hits.
 * Returns {count after the hits, msLeft}.
 */
const SCRIPT = new LuaScript(`
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`);

export interface FixedWindowLimit {
  /** The 429's `details[].rule`, e.g. `request_rate_limit`. */
  rule: string;
  /** At most this many hits per window. */
  limit: number;
  windowMs: number;
  /** The 429's message, e.g. "more than 120 link clicks per minute from this address". */
  what: string;
  /** Named in the warning when Redis does not answer (the hit is then let through). */
  name: string;
}

/**
 * A fixed-window limit: `take(key)` counts one hit of `key` and throws the shared 429
 * (Retry-After, limit, window) past the limit. The hits of one key that arrive together are
 * counted in one script call (`KeyedBatcher`), each in arrival order: the n-th of them is the
 * n-th hit, as if each had been counted alone. Fail-open: when Redis is down or does not answer,
 * the hit passes (logged), because the callers' limits guard against floods, not against the
 * loss of a message.
 */
export class FixedWindow {
  private readonly hits: KeyedBatcher<null, [count: number, msLeft: number]>;

  constructor(
    private readonly redis: RedisService,
    private readonly rule: FixedWindowLimit,
    private readonly logger: Logger,
  ) {
    this.hits = new KeyedBatcher(async (key, hits) => {
      const [count, msLeft] = (await redis.inTime(
        SCRIPT.run(redis.client, [key], [rule.windowMs, hits.length]),
      )) as [number, number];
      return hits.map((_, i): [number, number] => [count - hits.length + 1 + i, msLeft]);
    });
  }

  async take(key: string): Promise<void> {
    if (!this.redis.isUp()) return;
    let count: number;
    let msLeft: number;
    try {
      [count, msLeft] = await this.hits.submit(key, null);
    } catch (e) {
      this.logger.warn(`${this.rule.name} skipped: Redis did not answer (${(e as Error).message})`);
      return;
    }
    if (count <= this.rule.limit) return;
    const retryAfter = Math.max(1, Math.ceil(msLeft / 1000));
    throw new RateLimitExceededError(
      `too many requests: ${this.rule.what}`,
      {
        rule: this.rule.rule,
        limit: this.rule.limit,
        window_seconds: this.rule.windowMs / 1000,
        retry_after_seconds: retryAfter,
      },
      { 'Retry-After': String(retryAfter) },
    );
  }
}
