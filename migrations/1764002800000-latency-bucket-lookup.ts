import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first microsecond of latency buckets 1 to 96 as `sms_latency_bucket` computed them (bucket b
 * ≥ 1 is [100·2^((b-1)/4), 100·2^(b/4)) ms, rounded up to the microsecond the function could tell
 * apart; found by bisection over the function of 1764001100000).
 */
const FIRST_MICROSECOND = [
  100_000, 118_921, 141_422, 168_180, 200_000, 237_842, 282_843, 336_359, 400_000, 475_683, 565_686, 672_718,
  800_000, 951_366, 1_131_371, 1_345_435, 1_600_000, 1_902_732, 2_262_742, 2_690_869, 3_200_000, 3_805_463,
  4_525_484, 5_381_738, 6_400_000, 7_610_926, 9_050_967, 10_763_475, 12_800_000, 15_221_852, 18_101_934,
  21_526_949, 25_600_000, 30_443_703, 36_203_868, 43_053_897, 51_200_000, 60_887_405, 72_407_735, 86_107_793,
  102_400_000, 121_774_809, 144_815_469, 172_215_586, 204_800_000, 243_549_618, 289_630_938, 344_431_172,
  409_600_000, 487_099_235, 579_261_876, 688_862_344, 819_200_000, 974_198_469, 1_158_523_751, 1_377_724_687,
  1_638_400_000, 1_948_396_938, 2_317_047_501, 2_755_449_374, 3_276_800_000, 3_896_793_875, 4_634_095_002,
  5_510_898_748, 6_553_600_000, 7_793_587_749, 9_268_190_003, 11_021_797_495, 13_107_200_000, 15_587_175_498,
  18_536_380_005, 22_043_594_989, 26_214_400_000, 31_174_350_996, 37_072_760_010, 44_087_189_977,
  52_428_800_000, 62_348_701_992, 74_145_520_019, 88_174_379_953, 104_857_600_000, 124_697_403_983,
  148_291_040_038, 176_348_759_905, 209_715_200_000, 249_394_807_965, 296_582_080_076, 352_697_519_809,
  419_430_400_000, 498_789_615_929, 593_164_160_152, 705_395_039_617, 838_860_800_000, 997_579_231_857,
  1_186_328_320_304, 1_410_790_079_234,
];

const SIGNATURE =
  'sms_latency_bucket(status character varying, sent_at timestamp with time zone, delivered_at timestamp with time zone)';

const BODY_LOG = `
        SELECT CASE
          WHEN status <> 'delivered' OR sent_at IS NULL OR delivered_at IS NULL THEN NULL
          WHEN extract(epoch FROM delivered_at - sent_at) * 1000 < 100 THEN 0
          ELSE least(96, 1 + floor(4 * log(2, (extract(epoch FROM delivered_at - sent_at) * 10)::numeric)))::smallint
        END
      `;

/** The same buckets by lookup: a binary search over the bounds above, exact integer comparisons. */
const BODY_LOOKUP = `
        SELECT CASE
          WHEN status <> 'delivered' OR sent_at IS NULL OR delivered_at IS NULL THEN NULL
          ELSE width_bucket((extract(epoch FROM delivered_at - sent_at) * 1000000)::bigint,
                            '{${FIRST_MICROSECOND.join(',')}}'::bigint[])::smallint
        END
      `;

const define = (body: string) => `
CREATE OR REPLACE FUNCTION public.${SIGNATURE}
 RETURNS smallint
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$${body}$function$`;

/**
 * The stats rollup's latency bucket without a logarithm. `log(2, x)` on numeric took ~15 µs per
 * delivered message (most of a receipt's rollup cost after the trigger's fixed cost); the lookup
 * takes under 1 µs. The buckets must not move: a message's contribution is subtracted under the
 * bucket it was added under, so a row delivered before this migration and updated after it
 * (a late cost) would otherwise leave one bucket short and another long. Both functions are
 * monotone step functions of the latency in microseconds; they are equal everywhere if they are
 * equal on both sides of each step, which `up` checks against the function it replaces before
 * replacing it (and fails the migration otherwise).
 */
export class LatencyBucketLookup1764002800000 implements MigrationInterface {
  name = 'LatencyBucketLookup1764002800000';

  async up(q: QueryRunner): Promise<void> {
    const [{ differ }] = await q.query(
      `WITH edge AS (
         SELECT m + d AS us FROM unnest($1::bigint[]) m, generate_series(-2, 1) d
       ), t AS (SELECT timestamptz '2026-01-01 00:00:00+00' AS at)
       SELECT count(*) FILTER (WHERE
                sms_latency_bucket('delivered', t.at, t.at + edge.us * interval '1 microsecond')
                IS DISTINCT FROM CASE WHEN edge.us < ($1::bigint[])[1] THEN 0
                                      ELSE (SELECT count(*) FROM unnest($1::bigint[]) b WHERE b <= edge.us) END
              )::int AS differ
         FROM edge, t`,
      [FIRST_MICROSECOND],
    );
    if (differ !== 0) throw new Error(`sms_latency_bucket: ${differ} bucket edges differ from the lookup`);
    await q.query(define(BODY_LOOKUP));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(define(BODY_LOG));
  }
}
