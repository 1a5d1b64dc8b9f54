import { Principal } from './principal';

interface Entry {
  principal: Principal;
  /** When the token's `exp` passes, in ms since the epoch: the entry is not used after it. */
  expiresAtMs: number;
}

/**
 * Bearer tokens already verified (signature, claims, lifetime), with their principal, until their
 * `exp`. Verifying a JWT is an HMAC and a JSON parse per request; a client sends the same token
 * many times. Keyed by the whole token, signature included, so only the very token that was
 * verified is recognised. Bounded: past `maxEntries` the oldest entry goes. Pure: the caller gives
 * the time.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 5000) {}

  /** A fresh copy of the token's principal (guards may change `tenantId`), or null. */
  get(token: string, nowMs: number): Principal | null {
    const entry = this.entries.get(token);
    if (!entry) return null;
    if (nowMs >= entry.expiresAtMs) {
      this.entries.delete(token);
      return null;
    }
    return { ...entry.principal, roles: [...entry.principal.roles] };
  }

  /** Remembers a token that has just passed verification, until its `exp` (seconds). */
  remember(token: string, principal: Principal, expSeconds: number, nowMs: number): void {
    const expiresAtMs = expSeconds * 1000;
    if (!Number.isFinite(expiresAtMs) || expiresAtMs <= nowMs) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { principal: { ...principal, roles: [...principal.roles] }, expiresAtMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer ([\w.~+/=-]+)$/i.exec(header);
  return m ? m[1] : null;
}

/** The `exp` claim of a token that has been verified (its payload is then known to be JSON). */
export function verifiedExp(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}
