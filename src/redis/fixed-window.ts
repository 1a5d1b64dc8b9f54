import type { Logger } from '@nestjs/common';
import { RateLimitExceededError } from '../common/errors';
import { LuaScript } from './lua-script';
import type { RedisService } from './redis.module';

/**
 * One fixed window per key: INCR, start the window's expiry on the first hit, return the count and
 * the time left. One script, so concurrent requests cannot both slip under the limit (one key: a
 * cluster slot of its own). KEYS[1] counter; ARGV[1] window ms. Returns {count, msLeft}.
 */
const SCRIPT = new LuaScript(`
local n = redis.call('INCR', KEYS[1])
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
 * Counts one hit of `key` and throws the shared 429 (Retry-After, limit, window) past the limit.
 * Fail-open: when Redis is down or does not answer, the hit passes (logged), because the callers'
 * limits guard against floods, not against the loss of a message.
 */
export async function takeFixedWindow(
  redis: RedisService,
  key: string,
  rule: FixedWindowLimit,
  logger: Logger,
): Promise<void> {
  if (!redis.isUp()) return;
  let count: number;
  let msLeft: number;
  try {
    [count, msLeft] = (await redis.inTime(SCRIPT.run(redis.client, [key], [rule.windowMs]))) as [
      number,
      number,
    ];
  } catch (e) {
    logger.warn(`${rule.name} skipped: Redis did not answer (${(e as Error).message})`);
    return;
  }
  if (count <= rule.limit) return;
  const retryAfter = Math.max(1, Math.ceil(msLeft / 1000));
  throw new RateLimitExceededError(
    `too many requests: ${rule.what}`,
    {
      rule: rule.rule,
      limit: rule.limit,
      window_seconds: rule.windowMs / 1000,
      retry_after_seconds: retryAfter,
    },
    { 'Retry-After': String(retryAfter) },
  );
}
