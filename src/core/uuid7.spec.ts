import {
  campaignMessageId,
  pooledRandomBytes,
  utcMonthStart,
  uuidv7,
  uuidv7Bound,
  uuidv7For,
  uuidv7Time,
} from './uuid7';

describe('UUIDv7 message ids', () => {
  const at = new Date('2026-12-06T03:04:05.678Z');

  it('carries its millisecond, version 7 and the RFC variant', () => {
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toEqual(at);
  });

  it('sorts by time: later ids above earlier ones, and every id of a month inside its bounds', () => {
    const a = uuidv7(new Date('2026-11-30T23:59:59.999Z'));
    const b = uuidv7(new Date('2026-12-01T00:00:00.000Z'));
    expect(a < b).toBe(true);
    const lo = uuidv7Bound(utcMonthStart(at));
    const hi = uuidv7Bound(utcMonthStart(at, 1));
    expect(lo).toBe('01a22ee6-b000-0000-0000-000000000000');
    for (const id of [b, uuidv7(at), uuidv7(new Date('2026-12-31T23:59:59.999Z'))]) {
      expect(id >= lo && id < hi).toBe(true);
    }
    expect(a < lo).toBe(true);
  });

  it('is random apart from the time, or a function of a key', () => {
    expect(uuidv7(at)).not.toBe(uuidv7(at));
    expect(uuidv7For(at, 'k')).toBe(uuidv7For(at, 'k'));
    expect(uuidv7For(at, 'k')).not.toBe(uuidv7For(at, 'l'));
  });

  it('writes the given bytes as a hyphenated hex UUID', () => {
    const bytes = Uint8Array.from([
      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
    ]);
    const at = new Date(0x0123456789ab);
    // The time's six bytes, then the ten given (version and variant stamped over two nibbles).
    expect(uuidv7(at, () => bytes.subarray(4))).toBe('01234567-89ab-79ab-8def-fedcba987654');
  });

  it('draws from a pool: every id distinct across many refills, and draws larger than the pool', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => uuidv7(new Date(1_700_000_000_000))));
    expect(ids.size).toBe(5_000);
    const a = Array.from(pooledRandomBytes(10));
    expect(Array.from(pooledRandomBytes(10))).not.toEqual(a);
    expect(pooledRandomBytes(5_000)).toHaveLength(5_000);
  });

  it('reads no time from a UUIDv4', () => {
    expect(uuidv7Time('3f8e1c2a-9b7d-4c1e-8f00-1234567890ab')).toBeNull();
  });

  it("gives a campaign's recipient one id, at the campaign's time (the epoch for a UUIDv4 campaign)", () => {
    const campaign = uuidv7(at);
    expect(campaignMessageId(campaign, 'u1')).toBe(campaignMessageId(campaign, 'u1'));
    expect(campaignMessageId(campaign, 'u1')).not.toBe(campaignMessageId(campaign, 'u2'));
    expect(uuidv7Time(campaignMessageId(campaign, 'u1'))).toEqual(at);
    const legacy = '3f8e1c2a-9b7d-4c1e-8f00-1234567890ab';
    expect(uuidv7Time(campaignMessageId(legacy, 'u1'))).toEqual(new Date(0));
  });

  it('names UTC month starts', () => {
    expect(utcMonthStart(at)).toEqual(new Date('2026-12-01T00:00:00Z'));
    expect(utcMonthStart(at, 1)).toEqual(new Date('2027-01-01T00:00:00Z'));
    expect(utcMonthStart(at, -12)).toEqual(new Date('2025-12-01T00:00:00Z'));
  });
});
