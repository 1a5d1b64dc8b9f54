/**
 * Delivery latency (delivered_at - sent_at) is kept as a histogram on a fixed log scale, the same
 * one as the SQL function `sms_latency_bucket`: bucket 0 is under 100 ms, bucket b ≥ 1 is
 * [100·2^((b-1)/4), 100·2^(b/4)) ms (4 buckets per doubling, about 19 % wide), bucket 96 is open.
 */
export const LATENCY_LAST_BUCKET = 96;

/** The bucket's upper bound in ms: what a percentile falling in it reports (never an underestimate). */
export function bucketUpperMs(bucket: number): number {
  if (bucket <= 0) return 100;
  return Math.round(100 * 2 ** (Math.min(bucket, LATENCY_LAST_BUCKET) / 4));
}

/** Mirrors the SQL function, for tests and callers without the database. */
export function latencyBucket(ms: number): number {
  if (ms < 100) return 0;
  return Math.min(LATENCY_LAST_BUCKET, 1 + Math.floor(4 * Math.log2(ms / 100)));
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram `bucket -> count`: the upper bound of the bucket
 * holding the ⌈q·n⌉-th smallest value. Null when the histogram is empty.
 */
export function quantileMs(histogram: ReadonlyMap<number, number>, q: number): number | null {
  const buckets = [...histogram.entries()].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  const n = buckets.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return bucketUpperMs(buckets[buckets.length - 1][0]);
}
