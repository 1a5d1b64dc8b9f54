import { parseLsn, replicaLag } from './replica-reads';

describe('replicaLag', () => {
  const s = (at: number, lsn: number) => ({ at, lsn: BigInt(lsn) });

  it('parses a WAL position X/Y as bytes', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
  });

  it('is 0 when the replica has replayed the newest sample, keeping only that one', () => {
    expect(replicaLag([s(0, 100), s(1000, 200)], 250n, 1500, 9999)).toEqual({
      lagMs: 0,
      lagBytes: 0,
      kept: [s(1000, 200)],
    });
  });

  it('is the time since the primary was where the replica is, interpolated between samples', () => {
    const r = replicaLag([s(0, 100), s(1000, 200), s(2000, 300)], 150n, 3000, null);
    expect(r.lagMs).toBe(2500);
    expect(r.lagBytes).toBe(150);
    expect(r.kept).toEqual([s(0, 100), s(1000, 200), s(2000, 300)]);
  });

  it('drops the samples the replica has passed, but the last one before where it is', () => {
    const r = replicaLag([s(0, 100), s(1000, 200), s(2000, 300)], 250n, 3000, null);
    expect(r.lagMs).toBe(1500);
    expect(r.kept).toEqual([s(1000, 200), s(2000, 300)]);
  });

  it("behind every sample: the replica's own replay age, else the oldest sample's age", () => {
    expect(replicaLag([s(1000, 200)], 100n, 1500, 60_000).lagMs).toBe(60_000);
    expect(replicaLag([s(1000, 200)], 100n, 1500, null).lagMs).toBe(500);
  });
});
