/** Who is calling, from a verified token. `tenantId` is the tenant the request acts for. */
export interface Principal {
  userId: string;
  /** The tenant named in the token. */
  homeTenantId: number;
  /** The tenant this request acts for (differs from home only for a super_admin with X-Tenant-Id). */
  tenantId: number;
  roles: string[];
}

export const ROLE_ADMIN = 'admin';
export const ROLE_SUPER_ADMIN = 'super_admin';

export function isAdmin(p: Principal): boolean {
  return p.roles.includes(ROLE_ADMIN) || p.roles.includes(ROLE_SUPER_ADMIN);
}

export function isSuperAdmin(p: Principal): boolean {
  return p.roles.includes(ROLE_SUPER_ADMIN);
}

/** JWT claims the platform signs. */
export interface TokenClaims {
  sub: string;
  tenant_id: number;
  roles: string[];
  exp?: number;
  iat?: number;
}

/** Pure check of the claims' shape; returns a reason when they are unusable. */
export function claimsProblem(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return 'token has no claims';
  const c = payload as Record<string, unknown>;
  if ((typeof c.sub !== 'string' && typeof c.sub !== 'number') || String(c.sub) === '')
    return 'token has no sub';
  // Stored as created_by varchar(64): a longer id must fail here, not inside a shared INSERT batch.
  if (String(c.sub).length > 64) return 'token sub is longer than 64 characters';
  if (
    typeof c.tenant_id !== 'number' ||
    !Number.isInteger(c.tenant_id) ||
    c.tenant_id < 1 ||
    c.tenant_id > 2147483647
  ) {
    return 'token has no valid tenant_id';
  }
  if (c.roles !== undefined && (!Array.isArray(c.roles) || !c.roles.every((r) => typeof r === 'string'))) {
    return 'token roles must be a list of strings';
  }
  return null;
}
