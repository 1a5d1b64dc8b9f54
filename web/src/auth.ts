/** The bearer token, kept in sessionStorage (gone when the tab closes), and what its claims say. */
const KEY = 'sms-dashboard-token';

export interface Session {
  token: string;
  userId: string;
  tenantId: number;
  roles: string[];
  exp: number | null;
}

function base64UrlDecode(s: string): string {
  const b64 = s
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Reads the claims (the server verifies the signature on every call; this only shapes the page). */
export function parseToken(token: string): Session | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const c = JSON.parse(base64UrlDecode(parts[1])) as Record<string, unknown>;
    if (typeof c.tenant_id !== 'number') return null;
    const roles = Array.isArray(c.roles) ? c.roles.filter((r): r is string => typeof r === 'string') : [];
    return {
      token: token.trim(),
      userId: String(c.sub ?? ''),
      tenantId: c.tenant_id,
      roles,
      exp: typeof c.exp === 'number' ? c.exp : null,
    };
  } catch {
    return null;
  }
}

export function isSuperAdmin(s: Session | null): boolean {
  return !!s && s.roles.includes('super_admin');
}

const ACT_FOR = 'sms-dashboard-act-for';

/** A super_admin's tenant switcher: the tenant the page acts for (sent as X-Tenant-Id), or null. */
export function actingTenant(): number | null {
  const v = Number(sessionStorage.getItem(ACT_FOR));
  return Number.isInteger(v) && v > 0 ? v : null;
}

export function setActingTenant(id: number | null): void {
  if (id === null) sessionStorage.removeItem(ACT_FOR);
  else sessionStorage.setItem(ACT_FOR, String(id));
}

export function isAdmin(s: Session | null): boolean {
  return !!s && (s.roles.includes('admin') || s.roles.includes('super_admin'));
}

export function loadSession(): Session | null {
  const t = sessionStorage.getItem(KEY);
  return t ? parseToken(t) : null;
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, s.token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(ACT_FOR);
}

/** `#token=...` in the address signs in; the fragment is removed at once (it never reached the server). */
export function takeTokenFromFragment(): string | null {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search + '#/overview');
  return decodeURIComponent(m[1]);
}
