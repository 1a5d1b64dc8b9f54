import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { FixedWindow } from '../redis/fixed-window';
import { RedisService } from '../redis/redis.module';
import { AuthedRequest, IS_PUBLIC } from './decorators';

const WINDOW_MS = 60_000;

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
  /** Made once: nothing is allocated per request below the limit. */
  private readonly window: FixedWindow;

  constructor(
    private readonly reflector: Reflector,
    private readonly redis: RedisService,
    config: AppConfig,
  ) {
    const limit = config.get('SMS_REQUEST_RATE_LIMIT');
    this.window = new FixedWindow(
      redis,
      {
        rule: 'request_rate_limit',
        limit,
        windowMs: WINDOW_MS,
        what: `more than ${limit} per minute for this token`,
        name: 'request-rate limit',
      },
      this.logger,
    );
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const user = ctx.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) return true; // JwtAuthGuard has refused it already
    // Redis down, or the master of this window's slot gone: pass at once (fail-open, as below)
    // rather than spend the command timeout here; the recipient quota behind needs Redis and
    // answers 503 itself.
    const key = this.redis.key('rrl', user.homeTenantId, user.userId);
    if (this.redis.refusalFor(key)) return true;
    await this.window.take(key);
    return true;
  }
}
