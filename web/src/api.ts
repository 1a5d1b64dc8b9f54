import { actingTenant, clearSession, isSuperAdmin, loadSession } from './auth';

/** An answer other than 2xx, with the API's `message`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: (message: string) => void = () => undefined;

/** Called on any 401: the page goes back to sign-in with the message. */
export function setUnauthorizedHandler(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** The public REST API with the session's bearer token; nothing else. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const session = loadSession();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (session) headers.Authorization = `Bearer ${session.token}`;
  const actFor = isSuperAdmin(session) ? actingTenant() : null;
  if (actFor !== null) headers['X-Tenant-Id'] = String(actFor);
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // not JSON (a proxy's error page): the status says enough
  }
  if (res.status === 401) {
    clearSession();
    const msg = (data as { message?: string } | null)?.message ?? 'unauthorized';
    onUnauthorized(msg);
    throw new ApiError(401, msg);
  }
  if (!res.ok) {
    const msg = (data as { message?: string | string[] } | null)?.message;
    throw new ApiError(res.status, Array.isArray(msg) ? msg.join('; ') : (msg ?? `HTTP ${res.status}`));
  }
  return data as T;
}
