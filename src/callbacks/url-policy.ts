import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ValidationFailedError } from '../common/errors';
import { AppConfig } from '../config/app-config';

/**
 * The one guard of every URL the service calls on a tenant's behalf (no SSRF): endpoint
 * registration, `status_callback_url` on every send route, and each delivery attempt.
 *
 * Rules: https only, no credentials or fragment in the URL, no local name, and no address in a
 * private, loopback, link-local, CGNAT, ULA, multicast, documentation or otherwise reserved range
 * (the cloud metadata address 169.254.169.254 included). An IPv6 address that embeds an IPv4 one
 * (mapped, compatible, translated, NAT64, 6to4, Teredo) is judged by the IPv4 inside. A host name
 * is judged by every address it resolves to, and a delivery connects to the address that was
 * checked. `allowInsecure` (WEBHOOK_ALLOW_INSECURE, tests and local development) lifts the https
 * and address rules; the name must still resolve.
 *
 * Everything here is pure but `HostResolver` (DNS, behind a class tests replace) and the
 * `CallbackUrlGuard` that uses it with the running settings.
 */
const BLOCKED_V4 = new BlockList();
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
  BLOCKED_V4.addSubnet(net, prefix, 'ipv4');

/**
 * IPv6 ranges refused outright. The ranges that embed an IPv4 address (::/96, ::ffff:0:0/96,
 * ::ffff:0:0:0/96, 64:ff9b::/96, 64:ff9b:1::/96, 2002::/16, 2001::/32) never get here: they are
 * decoded first (`embeddedIPv4`).
 */
const BLOCKED_V6 = new BlockList();
for (const [net, prefix] of [
  // Local-use NAT64 (RFC 8215) outside 64:ff9b:1::/96: where the IPv4 sits depends on the
  // operator's prefix length, so it cannot be checked.
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001:2::', 48], // benchmarking
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // ULA
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local
  ['ff00::', 8], // multicast
] as const)
  BLOCKED_V6.addSubnet(net, prefix, 'ipv6');

export const MAX_URL_LENGTH = 2000;
/** How long resolving a callback host may take before it counts as not resolving (for now). */
export const DNS_TIMEOUT_MS = 2000;

/** The IPv6 forms that carry an IPv4 address, and what a packet to them reaches. */
export type EmbeddingForm =
  | 'mapped' // ::ffff:a.b.c.d (RFC 4291): a socket to it is an IPv4 socket
  | 'compatible' // ::a.b.c.d (RFC 4291, deprecated; :: and ::1 included)
  | 'translated' // ::ffff:0:a.b.c.d (SIIT, RFC 2765)
  | 'nat64' // 64:ff9b::a.b.c.d (RFC 6052 well-known prefix)
  | 'nat64-local' // 64:ff9b:1::a.b.c.d (RFC 8215 local-use prefix, in its /96 layout)
  | '6to4' // 2002:AABB:CCDD::/48 (RFC 3056): the IPv4 is bits 16–47
  | 'teredo'; // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC (RFC 4380): the client is the inverted last 32 bits

/** The IPv4 address an IPv6 address embeds, with its form; null when it embeds none (or is not IPv6). */
export function embeddedIPv4(address: string): { form: EmbeddingForm; ipv4: string } | null {
  const b = ipv6Bytes(address);
  if (b === null) return null;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (at: number, invert = false) =>
    b
      .slice(at, at + 4)
      .map((x) => (invert ? x ^ 0xff : x))
      .join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return { form: 'mapped', ipv4: v4(12) };
  if (zero(0, 12)) return { form: 'compatible', ipv4: v4(12) };
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12))
    return { form: 'translated', ipv4: v4(12) };
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zero(4, 12)) return { form: 'nat64', ipv4: v4(12) };
    if (b[4] === 0x00 && b[5] === 0x01 && zero(6, 12)) return { form: 'nat64-local', ipv4: v4(12) };
    return null;
  }
  if (b[0] === 0x20 && b[1] === 0x02) return { form: '6to4', ipv4: v4(2) };
  if (b[0] === 0x20 && b[1] === 0x01 && zero(2, 4)) return { form: 'teredo', ipv4: v4(12, true) };
  return null;
}

/** An IPv6 address (text, with or without a dotted IPv4 tail or a zone) as its 16 bytes; null if not IPv6. */
function ipv6Bytes(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.split('%')[0].toLowerCase();
  const tail = text.lastIndexOf(':');
  if (text.includes('.', tail)) {
    const [a, b, c, d] = text
      .slice(tail + 1)
      .split('.')
      .map(Number);
    text = `${text.slice(0, tail + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const words =
    rest === undefined
      ? groups(head)
      : [
          ...groups(head),
          ...Array<string>(8 - groups(head).length - groups(rest).length).fill('0'),
          ...groups(rest),
        ];
  return words.flatMap((w) => {
    const n = parseInt(w, 16);
    return [n >> 8, n & 0xff];
  });
}

/** Whether a callback may not go to `address` (an IP address; anything else is refused). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED_V4.check(address, 'ipv4');
  if (family !== 6 || address.includes('%')) return true; // a zone: link-local by definition
  const inside = embeddedIPv4(address);
  if (inside !== null) return BLOCKED_V4.check(inside.ipv4, 'ipv4');
  return BLOCKED_V6.check(address, 'ipv6');
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
  const name = host.replace(/\.+$/, ''); // "localhost." is localhost
  if (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name.endsWith('.local') ||
    name.endsWith('.internal')
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

/** A URL the guard refuses; `transient` when it may pass later (DNS did not answer in time). */
export class TargetRefusedError extends Error {
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

/** A host's addresses did not come within the time limit. */
export class HostLookupTimeoutError extends Error {}

export interface HostAddress {
  address: string;
  family: number;
}

/**
 * DNS behind a small class: every address of a host, in the resolver's order, within
 * DNS_TIMEOUT_MS (a resolver that never answers costs a request that long, no more). Tests replace
 * `lookupAll` (names of their own) or the whole class.
 */
@Injectable()
export class HostResolver {
  protected readonly timeoutMs: number = DNS_TIMEOUT_MS;

  async addresses(host: string): Promise<HostAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HostLookupTimeoutError(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([this.lookupAll(host), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The system resolver (getaddrinfo: the hosts file, then DNS), as a connect would see it. */
  protected lookupAll(host: string): Promise<HostAddress[]> {
    return lookup(host, { all: true, verbatim: true });
  }
}

/**
 * Resolves a URL's host (every address) and refuses it when the URL or any address is not allowed;
 * the target pins the first address. Throws TargetRefusedError (`url …`).
 */
export async function resolveTarget(
  raw: string,
  allowInsecure: boolean,
  resolver: Pick<HostResolver, 'addresses'>,
): Promise<ResolvedTarget> {
  const problem = urlProblem(raw, allowInsecure);
  if (problem) throw new TargetRefusedError(`url ${problem}`);
  const url = new URL(raw);
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: HostAddress[];
  if (literal !== 0) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = await resolver.addresses(host);
    } catch (e) {
      if (e instanceof HostLookupTimeoutError)
        throw new TargetRefusedError(`url host did not resolve in time (${e.message})`, true);
      // EAI_AGAIN: the resolver failed for now (SERVFAIL, unreachable), the name may be fine.
      const transient = (e as NodeJS.ErrnoException).code === 'EAI_AGAIN';
      throw new TargetRefusedError('url host does not resolve', transient);
    }
  }
  if (addresses.length === 0) throw new TargetRefusedError('url host does not resolve');
  if (!allowInsecure && addresses.some((a) => isBlockedAddress(a.address)))
    throw new TargetRefusedError('url host resolves to a private or reserved address');
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

/**
 * The guard as the services use it, with the running settings (WEBHOOK_ALLOW_INSECURE) and the
 * resolver: `checkSyntax` for the synchronous part of a request's validation, `check` for the
 * whole rule before anything is stored (a 400 naming the field), `target` at delivery.
 */
@Injectable()
export class CallbackUrlGuard {
  constructor(
    private readonly config: AppConfig,
    private readonly resolver: HostResolver,
  ) {}

  /** 400 naming `field` unless the URL's syntax and literal address are allowed (no I/O). */
  checkSyntax(field: string, url: string): void {
    const problem = urlProblem(url, this.insecure());
    if (problem) throw ValidationFailedError.field(field, `${field} ${problem}`);
  }

  /** 400 naming `field` unless `url` may be called: its syntax, then every address its host resolves to. */
  async check(field: string, url: string): Promise<void> {
    this.checkSyntax(field, url);
    try {
      await this.target(url);
    } catch (e) {
      if (e instanceof TargetRefusedError)
        throw ValidationFailedError.field(field, e.message.replace(/^url/, field));
      throw e;
    }
  }

  /** The checked address a delivery connects to (resolved now); TargetRefusedError when refused. */
  target(url: string): Promise<ResolvedTarget> {
    return resolveTarget(url, this.insecure(), this.resolver);
  }

  private insecure(): boolean {
    return this.config.get('WEBHOOK_ALLOW_INSECURE');
  }
}
