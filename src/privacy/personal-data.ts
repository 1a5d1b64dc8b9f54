import { ERASED_BODY, ERASED_NUMBER } from '../messaging';

/** Keys whose string value is a text someone wrote (an inbound body, a rendered message). */
const BODY_KEYS = /^(body|text|message|content)$/i;

/**
 * A JSON value with `phone` redacted wherever a string holds it, and, in an object that named the
 * number anywhere, the texts (`body`, `text`, `message`, `content`) replaced. Pure. Returns the
 * value unchanged (same reference) when the number is not in it.
 */
export function redactNumber(value: unknown, phone: string): unknown {
  if (!JSON.stringify(value ?? null).includes(phone)) return value;
  return walk(value, phone);
}

function walk(v: unknown, phone: string): unknown {
  if (typeof v === 'string') return v.split(phone).join(ERASED_NUMBER);
  if (Array.isArray(v)) return v.map((x) => redactNumber(x, phone));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (BODY_KEYS.test(k) && typeof x === 'string') out[k] = ERASED_BODY;
    else out[k] = redactNumber(x, phone);
  }
  return out;
}
