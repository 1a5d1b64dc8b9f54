import { randomBytes } from 'node:crypto';
import { CODE_PATTERN, generateCode, hashCode, sameHash } from './codes';

describe('verification codes', () => {
  const pepper = randomBytes(32);

  it('generates six digits, keeping leading zeros', () => {
    expect(generateCode(() => 42)).toBe('000042');
    expect(generateCode((max) => max - 1)).toBe('999999');
  });

  it('asks the generator for a number below 1,000,000', () => {
    const asked: number[] = [];
    generateCode((max) => {
      asked.push(max);
      return 0;
    });
    expect(asked).toEqual([1_000_000]);
  });

  it('accepts a caller code of 4 to 10 digits only', () => {
    expect(['1234', '0123456789'].every((c) => CODE_PATTERN.test(c))).toBe(true);
    expect(['123', '12345678901', '12ab', ' 1234', ''].some((c) => CODE_PATTERN.test(c))).toBe(false);
  });

  it('hashes the same code differently under different salts', () => {
    expect(hashCode(pepper, 'a'.repeat(32), '123456')).not.toBe(hashCode(pepper, 'b'.repeat(32), '123456'));
  });

  it('hashes under the pepper: another key gives another hash', () => {
    expect(hashCode(pepper, 'salt', '123456')).not.toBe(hashCode(randomBytes(32), 'salt', '123456'));
  });

  it('does not contain the code', () => {
    expect(hashCode(pepper, 'salt', '123456')).not.toContain('123456');
  });

  it('compares digests: equal, different, and malformed', () => {
    const h = hashCode(pepper, 'salt', '123456');
    expect(sameHash(h, hashCode(pepper, 'salt', '123456'))).toBe(true);
    expect(sameHash(h, hashCode(pepper, 'salt', '123457'))).toBe(false);
    expect(sameHash(h, h.slice(0, 10))).toBe(false);
    expect(sameHash('', '')).toBe(false);
  });
});
