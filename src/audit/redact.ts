/** What an audit entry may keep of a changed object. Pure: imports nothing from Nest, TypeORM or Redis. */

export const REDACTED = '[redacted]';

/**
 * Keys whose values never reach the audit log: credentials, tokens, signatures and codes
 * (`code`, `auth_code`, `reset_code`, …). Matched anywhere in the key, case-insensitively, so it
 * errs towards hiding (`country_code` is hidden too).
 */
const SECRET_KEY = /secret|token|passw|code|auth|otp|api_?key|private_?key|signature|credential|pepper|salt/i;

/** Deepest nesting kept; deeper values are replaced, so a hostile object cannot blow the row up. */
const MAX_DEPTH = 8;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A JSON copy of `value` (dates become ISO strings, functions and undefined vanish) with the
 * value of every secret-looking key, at any depth, replaced by `[redacted]`.
 */
export function redact(value: unknown): unknown {
  if (value === undefined) return null;
  const plain: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  return walk(plain, 0);
}

function walk(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out[k] = isSecretKey(k) ? REDACTED : walk(x, depth + 1);
  }
  return out;
}
