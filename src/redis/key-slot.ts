/**
 * Redis Cluster's key slot (CRC16/XMODEM of the key, or of its hash tag, modulo 16384), as the
 * cluster computes it: the keys of one multi-key command (a script's KEYS, a MULTI, an MGET) must
 * share one, or the cluster refuses the command (CROSSSLOT). Pure; used by tests and checks.
 */
export const CLUSTER_SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff];
  return crc;
}

/** The part of a key that is hashed: the first non-empty `{...}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % CLUSTER_SLOTS;
}

/** Throws naming the keys when they do not all share one slot (a command over them would be refused). */
export function assertOneSlot(keys: readonly string[]): void {
  const slots = new Set(keys.map(keySlot));
  if (slots.size > 1) throw new Error(`keys in ${slots.size} Redis Cluster slots: ${keys.join(', ')}`);
}
