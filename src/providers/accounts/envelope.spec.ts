import { randomBytes } from 'node:crypto';
import { CredentialsKeyError, open, parseKeyring, rewrap, seal } from './envelope';

const b64 = () => randomBytes(32).toString('base64');
const CTX = 'tenant:7:twilio';
const SECRET = JSON.stringify({ accountSid: 'AC1', authToken: 'very-secret-token' });

describe('envelope encryption of provider credentials', () => {
  const k1 = b64();
  const k2 = b64();

  it('round-trips, and the stored parts do not contain the secret', () => {
    const ring = parseKeyring(k1, 'k1', undefined);
    const s = seal(ring, SECRET, CTX);
    expect(s.keyId).toBe('k1');
    expect(open(ring, s, CTX)).toBe(SECRET);
    const stored = Buffer.concat([s.wrappedKey, s.ciphertext, s.iv, s.tag]).toString('latin1');
    expect(stored).not.toContain('very-secret-token');
    // A fresh data key and IV each time.
    expect(seal(ring, SECRET, CTX).ciphertext.equals(s.ciphertext)).toBe(false);
  });

  it('refuses a record whose key id is unknown', () => {
    const s = seal(parseKeyring(k1, 'k1', undefined), SECRET, CTX);
    expect(() => open(parseKeyring(k2, 'k2', undefined), s, CTX)).toThrow(/no credentials key with id "k1"/);
  });

  it('refuses the right id with the wrong key bytes', () => {
    const s = seal(parseKeyring(k1, 'k1', undefined), SECRET, CTX);
    expect(() => open(parseKeyring(k2, 'k1', undefined), s, CTX)).toThrow(CredentialsKeyError);
  });

  it.each(['ciphertext', 'tag', 'iv', 'wrappedKey'] as const)('refuses a tampered %s', (part) => {
    const ring = parseKeyring(k1, 'k1', undefined);
    const s = seal(ring, SECRET, CTX);
    const bad = Buffer.from(s[part]);
    bad[bad.length - 1] ^= 1;
    expect(() => open(ring, { ...s, [part]: bad }, CTX)).toThrow(CredentialsKeyError);
  });

  it("refuses a record moved onto another tenant's row (context bound)", () => {
    const ring = parseKeyring(k1, 'k1', undefined);
    expect(() => open(ring, seal(ring, SECRET, CTX), 'tenant:8:twilio')).toThrow(CredentialsKeyError);
  });

  it('reads a record under an old key after rotation, and re-wraps it under the new one', () => {
    const before = parseKeyring(k1, 'k1', undefined);
    const s = seal(before, SECRET, CTX);
    const after = parseKeyring(k2, 'k2', `k1:${k1}`);
    expect(open(after, s, CTX)).toBe(SECRET);
    const w = rewrap(after, s, CTX);
    expect(w?.keyId).toBe('k2');
    const moved = { ...s, ...w };
    expect(open(parseKeyring(k2, 'k2', undefined), moved, CTX)).toBe(SECRET);
    expect(rewrap(after, moved, CTX)).toBeNull();
  });

  it('cannot seal without a current key', () => {
    expect(() => seal(parseKeyring(undefined, 'k1', undefined), SECRET, CTX)).toThrow(
      /PROVIDER_CREDENTIALS_KEY/,
    );
  });

  it.each([
    ['a short key', 'c2hvcnQ=', 'k1', undefined, /32 bytes/],
    ['a bad key id', b64(), 'bad id!', undefined, /key id/],
    ['an old key without id', b64(), 'k1', 'nocolon', /id:base64/],
    ['a duplicate id', k1, 'k1', `k1:${k2}`, /distinct/],
  ])('refuses %s in the settings', (_w, cur, id, old, re) => {
    expect(() => parseKeyring(cur, id, old)).toThrow(re);
  });
});
