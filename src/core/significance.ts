/**
 * Is one variant's rate really higher than another's? The two-proportion z-test (pooled), with a
 * minimum sample below which no winner is named. Pure.
 */

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, absolute error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export interface ZTest {
  /** (p1 - p2) / pooled standard error; 0 when it is undefined (no variance). */
  z: number;
  /** Two-sided. */
  pValue: number;
}

/** Successes `s1` of `n1` against `s2` of `n2`. */
export function twoProportionZTest(s1: number, n1: number, s2: number, n2: number): ZTest {
  if (n1 <= 0 || n2 <= 0) return { z: 0, pValue: 1 };
  const p1 = s1 / n1;
  const p2 = s2 / n2;
  const pooled = (s1 + s2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { z, pValue: Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) };
}

export interface VariantOutcome {
  key: string;
  /** Messages counted (the denominator). */
  n: number;
  /** Of those, the ones with the outcome (delivered, clicked, converted). */
  successes: number;
}

export interface Significance {
  /** The variant with the highest rate, or null when nothing was counted. */
  leader: string | null;
  /** The best of the others, the leader is tested against. */
  runnerUp: string | null;
  z: number;
  pValue: number;
  /** Both have the minimum sample and p < alpha. */
  significant: boolean;
  /** Both the leader and the runner-up have at least `minSample` messages. */
  enoughData: boolean;
  note: string;
}

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_MIN_SAMPLE = 100;

/**
 * The leader (highest rate; ties: more messages, then key order) tested against the runner-up.
 * A winner is named only when each has at least `minSample` messages and p < `alpha`.
 */
export function compareVariants(
  outcomes: readonly VariantOutcome[],
  opts: { alpha?: number; minSample?: number; metric?: string } = {},
): Significance {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const minSample = opts.minSample ?? DEFAULT_MIN_SAMPLE;
  const metric = opts.metric ?? 'rate';
  const rate = (o: VariantOutcome) => (o.n > 0 ? o.successes / o.n : -1);
  const ranked = [...outcomes].sort(
    (a, b) => rate(b) - rate(a) || b.n - a.n || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const [leader, runnerUp] = ranked;
  if (!leader || !runnerUp || leader.n === 0)
    return {
      leader: leader && leader.n > 0 ? leader.key : null,
      runnerUp: null,
      z: 0,
      pValue: 1,
      significant: false,
      enoughData: false,
      note: `no comparison yet: fewer than two variants with messages`,
    };
  const { z, pValue } = twoProportionZTest(leader.successes, leader.n, runnerUp.successes, runnerUp.n);
  const enoughData = leader.n >= minSample && runnerUp.n >= minSample;
  const significant = enoughData && pValue < alpha && z > 0;
  const p = pValue < 0.0001 ? '< 0.0001' : `= ${pValue.toFixed(4)}`;
  const note = !enoughData
    ? `not enough data: each variant needs at least ${minSample} messages (${leader.key}: ${leader.n}, ${runnerUp.key}: ${runnerUp.n})`
    : significant
      ? `${leader.key} wins on ${metric}: higher than ${runnerUp.key} (two-proportion z-test, z = ${z.toFixed(2)}, p ${p} < ${alpha})`
      : `no significant difference in ${metric} between ${leader.key} and ${runnerUp.key} (z = ${z.toFixed(2)}, p ${p}, needs < ${alpha})`;
  return { leader: leader.key, runnerUp: runnerUp.key, z, pValue, significant, enoughData, note };
}
