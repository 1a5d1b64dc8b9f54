import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthedRequest, IS_PUBLIC } from '../auth/decorators';
import { isSuperAdmin } from '../auth/principal';
import { ValidationFailedError } from '../common/errors';
import { TenantsService } from './tenants.service';

/**
 * Resolves the tenant a request acts for: the token's, or for a super_admin the one named in
 * `X-Tenant-Id`. Creates the tenant on first use; a deactivated tenant gets 403.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tenants: TenantsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const user = req.user;
    if (!user) return false;
    const header = req.headers['x-tenant-id'];
    if (header !== undefined) {
      if (!isSuperAdmin(user))
        throw new ForbiddenException('only a super_admin may act for another tenant (X-Tenant-Id)');
      const id = Number(header);
      if (!/^\d+$/.test(String(header)) || !Number.isInteger(id) || id < 1 || id > 2147483647) {
        throw ValidationFailedError.field('X-Tenant-Id', 'X-Tenant-Id must be a positive whole number');
      }
      user.tenantId = id;
    }
    const tenant = await this.tenants.ensure(user.tenantId);
    if (!tenant.active) throw new ForbiddenException(`tenant ${tenant.id} is deactivated`);
    return true;
  }
}
