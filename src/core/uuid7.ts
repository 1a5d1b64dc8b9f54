import { createHash, randomFillSync } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then the version (7), 74 random bits and the
 * variant. Message ids are UUIDv7, so an id carries the month it was accepted in and the ledger
 * (range-partitioned by id, docs/ARCHITECTURE.md "Partitions") finds a message by id in one
 * partition. No I/O: the time is the caller's, and so are the random bytes when given (by default
 * a CSPRNG pool, `pooledRandomBytes`).
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

/**
 * Random bytes from a pool refilled 4 KiB at a time (as Node's randomUUID does): one
 * `randomFillSync` per ~400 ids instead of a buffer and a call per id, which was 1.6 % of the api's
 * CPU under `POST /api/sms/send` load. The bytes are the CSPRNG's either way; the view returned is
 * valid until the next call (uuidv7 copies it at once).
 */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;
export function pooledRandomBytes(n: number): Uint8Array {
  if (n > POOL.length) return randomFillSync(new Uint8Array(n));
  if (poolAt + n > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  poolAt += n;
  return POOL.subarray(poolAt - n, poolAt);
}

function withTime(ms: number, rest: Uint8Array, stamp = true): Uint8Array {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError(`no UUIDv7 time for ${ms} ms`);
  const b = new Uint8Array(16);
  b.set(rest.subarray(0, 10), 6);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  if (!stamp) return b;
  b[6] = 0x70 | (b[6] & 0x0f); // version 7
  b[8] = 0x80 | (b[8] & 0x3f); // variant 10
  return b;
}

/** A new UUIDv7 for the time `at` (the accept's clock); `random` gives 10 random bytes. */
export function uuidv7(at: Date, random: (n: number) => Uint8Array = pooledRandomBytes): string {
  return hex(withTime(at.getTime(), random(10)));
}

/**
 * A UUIDv7 that is a function of `key`: the time `at`, the random bits from SHA-256 of the key.
 * The same key and time give the same id, so a primary key on it refuses a second row for the
 * key (a campaign's message per recipient, `campaignMessageId`).
 */
export function uuidv7For(at: Date, key: string): string {
  return hex(withTime(at.getTime(), createHash('sha256').update(key).digest()));
}

/**
 * The lowest UUID of the millisecond `at`: every UUIDv7 of that millisecond or later sorts at or
 * above it, every earlier one below (PostgreSQL compares uuids byte by byte). A partition bound.
 */
export function uuidv7Bound(at: Date): string {
  return hex(withTime(at.getTime(), new Uint8Array(10), false));
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The time a UUIDv7 carries; null for any other UUID (a message id from before UUIDv7, v4). */
export function uuidv7Time(id: string): Date | null {
  if (!V7.test(id)) return null;
  return new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

/**
 * A campaign's message id for one recipient: its time is the campaign id's own (a campaign
 * created before ids were UUIDv7: the epoch, so its messages stay beside the ledger's older rows)
 * and its random bits a hash of campaign and recipient. The primary key then refuses a second
 * message per campaign and recipient, the rule a unique index kept before the ledger was
 * partitioned (a unique index there must contain the partition key, the id).
 */
export function campaignMessageId(campaignId: string, recipientUserId: string): string {
  const at = uuidv7Time(campaignId) ?? new Date(0);
  return uuidv7For(at, `campaign-message\u0000${campaignId.toLowerCase()}\u0000${recipientUserId}`);
}

/** The first instant of the UTC month `at` is in, plus `months` months. */
export function utcMonthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}
