import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every webhook of the service carries. */
export const SIGNATURE_HEADER = 'X-SMS-Signature';

const hex = (secret: string, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest('hex');

function equalHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * Every webhook (endpoint events, `alert.raised` included, and per-message `status_callback_url`):
 * the header is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the secret being
 * the endpoint's. True when one `v1` matches the raw body (before any JSON parsing) and `t` is
 * within `toleranceSeconds` of now. The former alert webhook and its untimed signature are gone:
 * an `alert_webhook_url` became an endpoint subscribed to `alert.raised`, with the same secret.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Buffer,
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
  if (t === undefined || signatures.length === 0 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = hex(secret, `${t}.${body}`);
  return signatures.some((s) => equalHex(s, expected));
}
