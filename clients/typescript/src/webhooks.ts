import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header both kinds of webhook of the service carry. */
export const SIGNATURE_HEADER = 'X-SMS-Signature';

const hex = (secret: string, text: string) => createHmac('sha256', secret).update(text, 'utf8').digest('hex');

function equalHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * Event callbacks (webhook endpoints, per-message `status_callback_url`): the header is
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. True when one `v1` matches
 * the raw body (before any JSON parsing) and `t` is within `toleranceSeconds` of now.
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

/**
 * Alert webhooks (cost thresholds, failure rates, provider circuits): the header is
 * `sha256=<hex HMAC-SHA256(secret, raw body)>` with the secret from
 * `rotateAlertSigningSecret()`. No timestamp: deduplicate on the alert's `id`.
 */
export function verifyAlertSignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Buffer,
): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  const m = /^sha256=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return false;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  return equalHex(m[1], hex(secret, body));
}
