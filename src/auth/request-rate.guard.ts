import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RateLimitExceededError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.module';
import { AuthedRequest, IS_PUBLIC } from './decorators';

const WINDOW_MS = 60_000;

/**
 * One fixed window per token: INCR, start the window's expiry on the first request, return the
 * count and the time left. One script, so concurrent requests cannot both slip under the limit.
 * KEYS[1] counter; ARGV[1] window ms. Returns {count, msLeft}.
 */
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
 * Global guard right after authentication: at most SMS_REQUEST_RATE_LIMIT requests per token
 * (the token's tenant and `sub`, not the IP) per minute on every authenticated route, counted
 * before roles and input are checked, so a flood of refused requests still costs its sender.
 * Over the limit: 429, Retry-After and the shared error body. Public routes (health, docs,
 * webhooks) are not counted. If Redis does not answer the request is let through (logged):
 * the recipient quota behind it still needs Redis, so nothing is sent unmetered.
 */
@Injectable()
export class RequestRateGuard implements CanActivate {
  private readonly logger = new Logger(RequestRateGuard.name);
  private readonly limit: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    this.limit = config.get('SMS_REQUEST_RATE_LIMIT');
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const user = ctx.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) return true; // JwtAuthGuard has refused it already
    // Redis down: pass at once (fail-open, as below) rather than spend the command timeout here;
    // the recipient quota behind needs Redis and answers 503 itself.
    if (!this.redis.isUp()) return true;
    const key = this.redis.key('rrl', user.homeTenantId, user.userId);
    let count: number;
    let msLeft: number;
    try {
      [count, msLeft] = (await this.redis.client.eval(SCRIPT, 1, key, WINDOW_MS)) as [number, number];
    } catch (e) {
      this.logger.warn(`request-rate limit skipped: Redis did not answer (${(e as Error).message})`);
      return true;
    }
    if (count <= this.limit) return true;
    const retryAfter = Math.max(1, Math.ceil(msLeft / 1000));
    throw new RateLimitExceededError(
      `too many requests: more than ${this.limit} per minute for this token`,
      { limit: this.limit, window_seconds: WINDOW_MS / 1000, retry_after_seconds: retryAfter },
      { 'Retry-After': String(retryAfter) },
    );
  }
}
