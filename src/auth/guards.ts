import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AuthedRequest, IS_PUBLIC, ROLES } from './decorators';
import { isSuperAdmin } from './principal';
import { bearerToken, verifiedExp, VerifiedTokens } from './verified-tokens';

function isPublic(reflector: Reflector, ctx: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]) === true;
}

/**
 * Global: every route needs a valid bearer token unless marked @Public(). A token passport has
 * verified is remembered until its `exp` (VerifiedTokens): the same token again skips the HMAC.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (isPublic(this.reflector, ctx)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req.headers.authorization);
    const known = token === null ? null : this.verified.get(token, Date.now());
    if (known) {
      req.user = known;
      return true;
    }
    const ok = (await super.canActivate(ctx)) as boolean;
    const exp = token === null ? null : verifiedExp(token);
    if (ok && req.user && token !== null && exp !== null)
      this.verified.remember(token, req.user, exp, Date.now());
    return ok;
  }

  override handleRequest<T>(err: unknown, user: T, info: unknown): T {
    if (err || !user) {
      const reason =
        err instanceof UnauthorizedException
          ? err.message
          : info instanceof Error && info.name === 'TokenExpiredError'
            ? 'token expired'
            : 'missing or invalid bearer token';
      throw new UnauthorizedException(reason);
    }
    return user;
  }
}

/** Global: enforces @Roles(); super_admin passes every role check. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (isPublic(this.reflector, ctx)) return true;
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!roles?.length) return true;
    const user = ctx.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) throw new UnauthorizedException();
    if (isSuperAdmin(user) || roles.some((r) => user.roles.includes(r))) return true;
    throw new ForbiddenException(`requires role ${roles.join(' or ')}`);
  }
}
