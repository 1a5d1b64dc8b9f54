import { Injectable } from '@nestjs/common';
import { RateLimitExceededError, ServiceUnavailableError } from '../../common/errors';
import { KeyedBatcher } from '../../redis/keyed-batcher';
import { LuaScript } from '../../redis/lua-script';
import { RedisService } from '../../redis/redis.module';

export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Unix seconds when the oldest counted minute leaves the window. */
  reset: number;
}

/**
 * A rolling hour in 60 one-minute buckets (a Redis hash), checked and incremented by one Lua
 * script so concurrent requests cannot both squeeze under the limit. One call takes the requests
 * of one user that arrived together, in arrival order, each all or nothing: a request that does
 * not fit takes nothing and leaves its room to the next.
 * KEYS[1] hash; ARGV: minute now, limit, then each request's recipients. Returns per request
 * {allowed, used} (used: with it when allowed, before it when not), then the oldest minute.
 */
const SCRIPT = new LuaScript(`
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local kv = redis.call('HGETALL', KEYS[1])
local used = 0
local oldest = now
for i = 1, #kv, 2 do
  local m = tonumber(string.match(kv[i], '^%d+'))
  if m <= now - 60 then
    redis.call('HDEL', KEYS[1], kv[i])
  else
    used = used + tonumber(kv[i + 1])
    if m < oldest then oldest = m end
  end
end
local out = {}
local taken = 0
for i = 3, #ARGV do
  local n = tonumber(ARGV[i])
  if used + n > limit then
    out[#out + 1] = 0
  else
    used = used + n
    taken = taken + n
    out[#out + 1] = 1
  end
  out[#out + 1] = used
end
if taken > 0 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], taken)
  redis.call('EXPIRE', KEYS[1], 3720)
end
out[#out + 1] = oldest
return out
`);

/** One request's ask of its window. */
interface Take {
  key: string;
  minute: number;
  limit: number;
  count: number;
}

/** One request's answer from the script: whether it fits, the window's use, its oldest minute. */
type Taken = [allowed: number, used: number, oldest: number];

@Injectable()
export class RateLimiterService {
  /** The requests of one window (key, minute, limit) that arrive together: one script call. */
  private readonly takes: KeyedBatcher<Take, Taken>;

  constructor(private readonly redis: RedisService) {
    this.takes = new KeyedBatcher(async (_, asks) => {
      const { key, minute, limit } = asks[0];
      const out = (await this.redis.inTime(
        SCRIPT.run(this.redis.client, [key], [minute, limit, ...asks.map((a) => a.count)]),
      )) as number[];
      const oldest = out[out.length - 1];
      return asks.map((_a, i): Taken => [out[2 * i], out[2 * i + 1], oldest]);
    });
  }

  /** The user's hourly window in Redis (the ledger's stand-in replays its counts here). */
  key(tenantId: number, userId: string): string {
    return this.redis.key('rl', tenantId, userId);
  }

  /** Takes `count` recipients from the user's hourly allowance or throws 429 with the headers. */
  consume(
    tenantId: number,
    userId: string,
    count: number,
    limit: number,
    now: Date,
  ): Promise<RateLimitState> {
    return this.take(this.key(tenantId, userId), count, limit, now, 'recipients');
  }

  private async take(
    key: string,
    count: number,
    limit: number,
    now: Date,
    what: string,
  ): Promise<RateLimitState> {
    const minute = Math.floor(now.getTime() / 60_000);
    // Redis unreachable: refuse at once (503 + Retry-After) before anything is stored; when the
    // client already knows the connection (or the slot's master) is down, without waiting for
    // the command timeout.
    const down = this.redis.refusalFor(key);
    if (down) throw down;
    // One call per window: the same key, minute and limit (a settings change between two requests
    // of a batch puts them in two calls).
    const [allowed, used, oldest] = await this.takes
      .submit(JSON.stringify([key, minute, limit]), { key, minute, limit, count })
      .catch((e: unknown) => {
        throw e instanceof ServiceUnavailableError ? e : new ServiceUnavailableError('redis');
      });
    if (allowed !== 1) throw recipientRefusal(limit, used, count, oldest, now, what);
    return recipientState(limit, used, oldest);
  }

  /** Gives back what a request took when it failed before anything was stored. */
  async refund(tenantId: number, userId: string, count: number, now: Date): Promise<void> {
    const minute = Math.floor(now.getTime() / 60_000);
    await this.redis.inTime(this.redis.client.hincrby(this.key(tenantId, userId), String(minute), -count));
  }
}

/** The recipient window's span, in its one-minute buckets (the script's `60`, its key's 3720 s expiry). */
export const RECIPIENT_WINDOW_MINUTES = 60;

/** The window's state once `used` (this request included) are counted; `oldest` in Unix minutes. */
export function recipientState(limit: number, used: number, oldest: number): RateLimitState {
  return { limit, remaining: Math.max(0, limit - used), reset: (oldest + RECIPIENT_WINDOW_MINUTES) * 60 };
}

/** The 429 of an hourly window with no room for `count` more: the same whether Redis or the ledger counted. */
export function recipientRefusal(
  limit: number,
  used: number,
  count: number,
  oldest: number,
  now: Date,
  what = 'recipients',
): RateLimitExceededError {
  const state = recipientState(limit, used, oldest);
  const retryAfter = Math.max(1, state.reset - Math.floor(now.getTime() / 1000));
  return new RateLimitExceededError(
    `rate limit exceeded: ${used} of ${limit} ${what} used in the last hour, this request needs ${count}`,
    { rule: 'recipient_rate_limit', limit, used, requested: count, retry_after_seconds: retryAfter },
    { ...rateLimitHeaders(state), 'Retry-After': String(retryAfter) },
  );
}

export function rateLimitHeaders(s: RateLimitState): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(s.limit),
    'X-RateLimit-Remaining': String(s.remaining),
    'X-RateLimit-Reset': String(s.reset),
  };
}
