import { bucketUpperMs, latencyBucket, quantileMs } from './latency';

describe('latency histogram', () => {
  it('puts a latency in the bucket whose upper bound is above it', () => {
    for (const ms of [0, 50, 99, 100, 101, 250, 1000, 1234, 59_000, 3_600_000]) {
      const b = latencyBucket(ms);
      expect(bucketUpperMs(b)).toBeGreaterThan(ms);
      if (b > 0) expect(bucketUpperMs(b - 1)).toBeLessThanOrEqual(Math.ceil(ms));
    }
  });

  it('reports the bucket upper bound of the ranked value, null when empty', () => {
    expect(quantileMs(new Map(), 0.5)).toBeNull();
    const h = new Map([
      [latencyBucket(200), 50],
      [latencyBucket(2000), 45],
      [latencyBucket(20_000), 5],
    ]);
    expect(quantileMs(h, 0.5)).toBe(bucketUpperMs(latencyBucket(200)));
    expect(quantileMs(h, 0.95)).toBe(bucketUpperMs(latencyBucket(2000)));
    expect(quantileMs(h, 0.96)).toBe(bucketUpperMs(latencyBucket(20_000)));
  });
});
