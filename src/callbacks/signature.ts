import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every callback carries: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'X-SMS-Signature';

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
}

/** The header value for `body` signed at `unixSeconds`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmac(secret, unixSeconds, body)}`;
}

/**
 * Receiver side: true when `header` (the X-SMS-Signature value) signs exactly `body` (the raw
 * request body, before any JSON parsing) with `secret`, and its timestamp is within
 * `toleranceSeconds` of `nowSeconds` (replays of old deliveries are refused). Several `v1=` parts
 * are accepted (any one matching is enough). Constant-time comparison.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined | null,
  body: string | Buffer,
  toleranceSeconds = 300,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(
    hmac(secret, t, typeof body === 'string' ? body : body.toString('utf8')),
    'hex',
  );
  return signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected));
}
