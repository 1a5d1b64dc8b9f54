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

function isPublic(reflector: Reflector, ctx: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]) === true;
}

/** Global: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext) {
    if (isPublic(this.reflector, ctx)) return true;
    return super.canActivate(ctx);
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
