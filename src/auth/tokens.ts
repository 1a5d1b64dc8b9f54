import { createHmac } from 'node:crypto';
import { TokenClaims } from './principal';

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs an HS256 JWT; used by `npm run token`, tests and the benchmark. */
export function signToken(
  claims: Omit<TokenClaims, 'exp' | 'iat'>,
  secret: string,
  opts: { expiresInSeconds?: number; now?: number } = {},
): string {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const payload: TokenClaims = { ...claims, iat, exp: iat + (opts.expiresInSeconds ?? 3600) };
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}
