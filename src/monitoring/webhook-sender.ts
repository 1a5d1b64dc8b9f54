import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

/** Addresses an alert webhook may not reach unless WEBHOOK_ALLOW_INSECURE=true (SSRF). */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  const family = isIP(ip);
  if (family === 0) return true;
  return PRIVATE.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** The signature header: `sha256=` + hex HMAC-SHA256 of the exact body bytes with the tenant's secret. */
export const SIGNATURE_HEADER = 'x-sms-signature';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Why a webhook URL may not be called, or null. */
export function webhookUrlProblem(raw: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:'))
    return allowInsecure ? 'must be http(s)' : 'must be https';
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowInsecure && (host === 'localhost' || (isIP(host) && isPrivateAddress(host))))
    return 'must not point at a private or loopback address';
  return null;
}

export interface WebhookResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * POSTs a JSON body, signed. SSRF-safe: https only and every address the name resolves to is
 * checked at connect time (so a DNS answer cannot swap in 127.0.0.1 after the check) unless
 * `allowInsecure`. Redirects are not followed. Never throws: the result says what happened.
 */
export async function postWebhook(
  url: string,
  body: string,
  secret: string,
  opts: { allowInsecure: boolean; timeoutMs: number },
): Promise<WebhookResult> {
  const started = Date.now();
  const done = (statusCode: number | null, error: string | null): WebhookResult => ({
    statusCode,
    error,
    durationMs: Date.now() - started,
  });
  const problem = webhookUrlProblem(url, opts.allowInsecure);
  if (problem) return done(null, `refused: url ${problem}`);
  const target = new URL(url);
  const lookup = (
    hostname: string,
    options: object,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const list = addresses;
      if (!opts.allowInsecure && list.some((a) => isPrivateAddress(a.address)))
        return cb(
          Object.assign(new Error('refused: resolves to a private address'), { code: 'EPRIVATE' }),
          [],
        );
      const wantsAll = (options as { all?: boolean }).all;
      if (wantsAll) return cb(null, list);
      return cb(null, list[0].address, list[0].family);
    });
  };
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookResult>((resolve) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'sms-service-alerts/1',
          [SIGNATURE_HEADER]: signBody(secret, body),
        },
        timeout: opts.timeoutMs,
        lookup: lookup as never,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(done(res.statusCode ?? null, null)));
        res.on('error', (e) => resolve(done(res.statusCode ?? null, String(e.message))));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(done(null, e.message)));
    req.end(body);
  });
}
