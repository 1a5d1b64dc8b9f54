import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where callbacks may go (no SSRF): https only, no credentials in the URL, and no address in a
 * private, loopback, link-local, CGNAT, ULA, multicast or reserved range (the cloud metadata
 * address 169.254.169.254 included). `allowInsecure` (WEBHOOK_ALLOW_INSECURE, tests and local
 * development) lifts both the https and the address rules. Pure except `resolveTarget` (DNS).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4
  ['fc00::', 7], // ULA
  ['fe80::', 10], // link-local
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked by BlockList against the IPv4 ranges above.

export const MAX_URL_LENGTH = 2000;

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why `raw` may not be a callback URL, or null. Syntax and literal addresses only (no DNS). */
export function urlProblem(raw: string, allowInsecure: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (u.protocol !== 'https:' && !(allowInsecure && u.protocol === 'http:')) return 'must be an https URL';
  if (u.username !== '' || u.password !== '') return 'must not contain credentials';
  if (u.hash !== '') return 'must not contain a fragment';
  if (allowInsecure) return null;
  const host = hostOf(u);
  if (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.endsWith('.internal')
  )
    return 'must not name a local host';
  if (isIP(host) !== 0 && isBlockedAddress(host)) return 'must not point at a private or reserved address';
  return null;
}

function hostOf(u: URL): string {
  return u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

export interface ResolvedTarget {
  url: URL;
  /** The address to connect to: checked, and pinned so a second lookup cannot swap it. */
  address: string;
  family: 4 | 6;
}

/** Resolves a URL's host (every address) and refuses it when any address is not allowed. */
export async function resolveTarget(raw: string, allowInsecure: boolean): Promise<ResolvedTarget> {
  const problem = urlProblem(raw, allowInsecure);
  if (problem) throw new TargetRefusedError(`url ${problem}`);
  const url = new URL(raw);
  const host = hostOf(url);
  const literal = isIP(host);
  const addresses =
    literal !== 0
      ? [{ address: host, family: literal }]
      : await lookup(host, { all: true, verbatim: true }).catch(() => {
          throw new TargetRefusedError('url host does not resolve');
        });
  if (addresses.length === 0) throw new TargetRefusedError('url host does not resolve');
  if (!allowInsecure) {
    const bad = addresses.find((a) => isBlockedAddress(a.address));
    if (bad) throw new TargetRefusedError('url host resolves to a private or reserved address');
  }
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

export class TargetRefusedError extends Error {}
