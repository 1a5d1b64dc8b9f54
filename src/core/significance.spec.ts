import { compareVariants, normalCdf, twoProportionZTest } from './significance';

describe('two-proportion z-test', () => {
  it('matches the normal table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-1.96)).toBeCloseTo(0.025, 3);
  });

  it('computes z and a two-sided p for a known case', () => {
    // 120/1000 vs 90/1000: pooled 0.105, se = sqrt(.105*.895*.002) = 0.013709, z = 2.188
    const r = twoProportionZTest(120, 1000, 90, 1000);
    expect(r.z).toBeCloseTo(2.188, 2);
    expect(r.pValue).toBeCloseTo(0.0287, 3);
  });

  it('answers p = 1 without variance or without messages', () => {
    expect(twoProportionZTest(0, 100, 0, 100)).toEqual({ z: 0, pValue: 1 });
    expect(twoProportionZTest(0, 0, 5, 10)).toEqual({ z: 0, pValue: 1 });
  });
});

describe('comparing variants', () => {
  it('names a winner when the difference is significant and both have the minimum sample', () => {
    const s = compareVariants(
      [
        { key: 'A', n: 1000, successes: 90 },
        { key: 'B', n: 1000, successes: 120 },
      ],
      { metric: 'conversion' },
    );
    expect(s).toMatchObject({ leader: 'B', runnerUp: 'A', significant: true, enoughData: true });
    expect(s.note).toMatch(/^B wins on conversion/);
  });

  it('names no winner below the minimum sample, however large the difference', () => {
    const s = compareVariants([
      { key: 'A', n: 50, successes: 5 },
      { key: 'B', n: 50, successes: 40 },
    ]);
    expect(s).toMatchObject({ leader: 'B', significant: false, enoughData: false });
    expect(s.note).toMatch(/not enough data/);
  });

  it('names no winner when p >= 0.05', () => {
    const s = compareVariants([
      { key: 'A', n: 1000, successes: 100 },
      { key: 'B', n: 1000, successes: 105 },
    ]);
    expect(s).toMatchObject({ significant: false, enoughData: true });
    expect(s.note).toMatch(/no significant difference/);
  });

  it('tests the leader against the best of the others among three', () => {
    const s = compareVariants([
      { key: 'A', n: 500, successes: 10 },
      { key: 'B', n: 500, successes: 50 },
      { key: 'C', n: 500, successes: 45 },
    ]);
    expect(s).toMatchObject({ leader: 'B', runnerUp: 'C', significant: false });
  });

  it('has nothing to compare with one variant or no messages', () => {
    expect(compareVariants([{ key: 'A', n: 0, successes: 0 }]).leader).toBeNull();
    expect(
      compareVariants([
        { key: 'A', n: 0, successes: 0 },
        { key: 'B', n: 0, successes: 0 },
      ]).significant,
    ).toBe(false);
  });
});
