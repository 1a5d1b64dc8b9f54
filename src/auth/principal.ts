/** Who is calling, from a verified token. `tenantId` is the tenant the request acts for. */
export interface Principal {
  userId: string;
  /** The tenant named in the token. */
  homeTenantId: number;
  /** The tenant this request acts for (differs from home only for a super_admin with X-Tenant-Id). */
  tenantId: number;
  roles: string[];
  /**
   * The token's `test_mode` claim: every message this token sends is a test-mode message (the
   * sandbox only, at no cost). Absent: false.
   */
  testMode?: boolean;
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
  /** Test mode: the token's messages go to the sandbox only and cost nothing. */
  test_mode?: boolean;
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
  if (c.test_mode !== undefined && typeof c.test_mode !== 'boolean')
    return 'token test_mode must be a boolean';
  return null;
}

/**
 * Pure check of a token's lifetime (the signature and a past `exp` are checked by passport-jwt,
 * with the same skew): `exp` is required; `iat` may not lie in the future beyond the skew; the
 * lifetime (`exp - iat`, or `exp - now` without `iat`) may not exceed `maxTtlSeconds`.
 */
export function lifetimeProblem(
  payload: Record<string, unknown>,
  nowSeconds: number,
  maxTtlSeconds: number,
  skewSeconds: number,
): string | null {
  const { exp, iat } = payload;
  if (exp === undefined) return 'token has no exp';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'token exp must be a number';
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
    return 'token iat must be a number';
  if (typeof iat === 'number' && iat > nowSeconds + skewSeconds) return 'token iat is in the future';
  const lifetime = typeof iat === 'number' ? exp - iat : exp - nowSeconds;
  if (lifetime > maxTtlSeconds) return `token lifetime exceeds ${maxTtlSeconds} seconds`;
  return null;
}
