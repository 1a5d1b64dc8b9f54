import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of a tenant's provider credentials. Pure (randomness from node:crypto).
 *
 * Each record gets its own random 256-bit data key. The data key encrypts the credentials
 * (AES-256-GCM, 96-bit IV, 128-bit tag) and is itself encrypted ("wrapped") under a key
 * encryption key (KEK, `PROVIDER_CREDENTIALS_KEY`), also AES-256-GCM, whose id is stored with the
 * record. Rotating the KEK re-wraps only the small data keys; records wrapped under an older KEK
 * stay readable while that key is listed in `PROVIDER_CREDENTIALS_OLD_KEYS`.
 */

/** A key encryption key: 32 bytes, and the id recorded on what it wraps. */
export interface Kek {
  id: string;
  key: Buffer;
}

/** The current key (wraps new records) and older ones (only unwrap). */
export interface Keyring {
  current: Kek | null;
  old: Kek[];
}

/** What is stored: the wrapped data key (iv ‖ tag ‖ ciphertext) and the sealed credentials. */
export interface Sealed {
  keyId: string;
  wrappedKey: Buffer;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
}

export class CredentialsKeyError extends Error {}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Pure: a keyring from the settings. `current` is base64 of 32 bytes (or empty: none), `oldKeys` a
 * comma-separated list of `id:base64`. Throws CredentialsKeyError naming what is wrong.
 */
export function parseKeyring(
  current: string | undefined,
  currentId: string,
  oldKeys: string | undefined,
): Keyring {
  const kek = (id: string, b64: string, what: string): Kek => {
    if (!KEY_ID.test(id))
      throw new CredentialsKeyError(`${what}: key id "${id.slice(0, 70)}" is not 1-64 of A-Z a-z 0-9 . _ -`);
    const key = Buffer.from(b64.trim(), 'base64');
    if (key.length !== 32 || !/^[A-Za-z0-9+/]+=*$/.test(b64.trim()))
      throw new CredentialsKeyError(`${what} must be base64 of exactly 32 bytes`);
    return { id, key };
  };
  const ring: Keyring = {
    current: current ? kek(currentId, current, 'PROVIDER_CREDENTIALS_KEY') : null,
    old: [],
  };
  for (const entry of (oldKeys ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = entry.indexOf(':');
    if (at < 1) throw new CredentialsKeyError('PROVIDER_CREDENTIALS_OLD_KEYS entries are id:base64');
    ring.old.push(kek(entry.slice(0, at), entry.slice(at + 1), 'PROVIDER_CREDENTIALS_OLD_KEYS'));
  }
  const ids = [ring.current, ...ring.old].filter(Boolean).map((k) => (k as Kek).id);
  if (new Set(ids).size !== ids.length) throw new CredentialsKeyError('credential key ids must be distinct');
  return ring;
}

function gcmSeal(key: Buffer, plain: Buffer, aad: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([c.update(plain), c.final()]);
  return { iv, tag: c.getAuthTag(), ciphertext };
}

function gcmOpen(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, aad: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ciphertext), d.final()]);
}

/**
 * Seals `plain` (the credentials as JSON) for one record. `context` (e.g. "tenant:7:twilio") is
 * bound as additional data: a sealed value copied onto another tenant's row does not open there.
 */
export function seal(ring: Keyring, plain: string, context: string): Sealed {
  if (!ring.current) throw new CredentialsKeyError('PROVIDER_CREDENTIALS_KEY is not set');
  const dataKey = randomBytes(32);
  try {
    const body = gcmSeal(dataKey, Buffer.from(plain, 'utf8'), context);
    const w = gcmSeal(ring.current.key, dataKey, `${context}|${ring.current.id}`);
    return {
      keyId: ring.current.id,
      wrappedKey: Buffer.concat([w.iv, w.tag, w.ciphertext]),
      ...body,
    };
  } finally {
    dataKey.fill(0);
  }
}

/** The KEK a record was wrapped under, or a CredentialsKeyError naming the missing id. */
function kekFor(ring: Keyring, keyId: string): Kek {
  const k = [ring.current, ...ring.old].find((x) => x?.id === keyId);
  if (!k)
    throw new CredentialsKeyError(
      `no credentials key with id "${keyId}" (PROVIDER_CREDENTIALS_KEY_ID / _OLD_KEYS)`,
    );
  return k;
}

function unwrap(ring: Keyring, s: Pick<Sealed, 'keyId' | 'wrappedKey'>, context: string): Buffer {
  const k = kekFor(ring, s.keyId);
  try {
    return gcmOpen(
      k.key,
      s.wrappedKey.subarray(0, 12),
      s.wrappedKey.subarray(12, 28),
      s.wrappedKey.subarray(28),
      `${context}|${k.id}`,
    );
  } catch {
    throw new CredentialsKeyError(
      `the data key does not open under key "${k.id}" (wrong key or tampered record)`,
    );
  }
}

/** Opens a sealed record; throws CredentialsKeyError on an unknown key id or any tampering. */
export function open(ring: Keyring, s: Sealed, context: string): string {
  const dataKey = unwrap(ring, s, context);
  try {
    return gcmOpen(dataKey, s.iv, s.tag, s.ciphertext, context).toString('utf8');
  } catch {
    throw new CredentialsKeyError('the credentials do not open (tampered record)');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Rotation: the same record's data key wrapped under the current KEK (the credentials' ciphertext
 * is unchanged). Null when it already is.
 */
export function rewrap(
  ring: Keyring,
  s: Sealed,
  context: string,
): Pick<Sealed, 'keyId' | 'wrappedKey'> | null {
  if (!ring.current) throw new CredentialsKeyError('PROVIDER_CREDENTIALS_KEY is not set');
  if (s.keyId === ring.current.id) return null;
  const dataKey = unwrap(ring, s, context);
  try {
    const w = gcmSeal(ring.current.key, dataKey, `${context}|${ring.current.id}`);
    return { keyId: ring.current.id, wrappedKey: Buffer.concat([w.iv, w.tag, w.ciphertext]) };
  } finally {
    dataKey.fill(0);
  }
}
