/**
 * Verification codes: generation, keyed hashing and comparison. Pure apart from the randomness,
 * which is passed in (node's CSPRNG in production). Imports nothing from Nest, TypeORM or Redis.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A caller's own code: 4 to 10 digits. */
export const CODE_PATTERN = /^\d{4,10}$/;
export const GENERATED_CODE_DIGITS = 6;

/** A uniformly random 6-digit code; `randomInt(max)` must be a CSPRNG returning 0 ≤ n < max. */
export function generateCode(randomInt: (max: number) => number): string {
  return String(randomInt(10 ** GENERATED_CODE_DIGITS)).padStart(GENERATED_CODE_DIGITS, '0');
}

/** HMAC-SHA256 under the service's pepper of a per-code random salt and the code, hex. */
export function hashCode(pepper: Buffer, salt: string, code: string): string {
  return createHmac('sha256', pepper).update(salt).update(':').update(code).digest('hex');
}

/** Constant-time equality of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
