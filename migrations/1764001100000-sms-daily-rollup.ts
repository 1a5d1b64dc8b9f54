import { MigrationInterface, QueryRunner } from 'typeorm';

/** The rollup's dimensions, in the order of its unique key. */
const KEY =
  'tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket';
const SUMS = 'messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated';

/**
 * One message's contribution to the rollup, from a row of `sms_messages` (alias `m`), times `sign`.
 * The day is the UTC date the message was accepted (created_at never changes).
 */
function contribution(alias: string, sign: string): string {
  return `${alias}.tenant_id, (${alias}.created_at AT TIME ZONE 'UTC')::date AS day, ${alias}.provider,
    ${alias}.message_type, ${alias}.status, ${alias}.language, ${alias}.campaign_id, ${alias}.created_by,
    ${alias}.currency,
    sms_latency_bucket(${alias}.status, ${alias}.sent_at, ${alias}.delivered_at) AS latency_bucket,
    ${sign}::bigint AS messages, ${sign} * ${alias}.segments::bigint AS segments,
    ${sign} * coalesce(${alias}.estimated_cost, 0) AS estimated_cost,
    ${sign} * coalesce(${alias}.cost, 0) AS actual_cost,
    ${sign} * (${alias}.cost IS NOT NULL)::int::bigint AS actual_messages,
    ${sign} * CASE WHEN ${alias}.cost IS NOT NULL THEN coalesce(${alias}.estimated_cost, 0) ELSE 0 END
      AS actual_estimated`;
}

const GROUPED = `${KEY}, sum(messages) AS messages, sum(segments) AS segments,
  sum(estimated_cost) AS estimated_cost, sum(actual_cost) AS actual_cost,
  sum(actual_messages) AS actual_messages, sum(actual_estimated) AS actual_estimated`;

/**
 * The stats rollup (issue 11): message counts, segments and money per tenant, UTC day, provider,
 * type, status, language, campaign, creator, currency and delivery-latency bucket.
 *
 * Kept exact by statement-level triggers on `sms_messages`: every INSERT adds the new rows'
 * contributions, every UPDATE subtracts the old rows' and adds the new rows' (a status move, a
 * late cost, a changed provider), as rows of `sms_rollup_deltas` written in the same statement —
 * plain appends, so concurrent writers never wait on a shared counter row. A small job folds the
 * deltas into `sms_daily_rollup` (DELETE … RETURNING + upsert in one transaction: each delta is
 * counted once); readers add the unfolded deltas, so a read is exact at its snapshot. DELETE has
 * no trigger: retention removes messages and keeps their figures.
 */
export class SmsDailyRollup1764001100000 implements MigrationInterface {
  name = 'SmsDailyRollup1764001100000';

  async up(q: QueryRunner): Promise<void> {
    // Delivery latency (delivered_at - sent_at) on a fixed log scale, 4 buckets per doubling:
    // bucket 0 is under 100 ms, bucket b ≥ 1 is [100·2^((b-1)/4), 100·2^(b/4)) ms, capped at 96
    // (about 19 days and over). NULL unless delivered with both times known.
    await q.query(`
      CREATE FUNCTION sms_latency_bucket(status varchar, sent_at timestamptz, delivered_at timestamptz)
      RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN status <> 'delivered' OR sent_at IS NULL OR delivered_at IS NULL THEN NULL
          WHEN extract(epoch FROM delivered_at - sent_at) * 1000 < 100 THEN 0
          ELSE least(96, 1 + floor(4 * log(2, (extract(epoch FROM delivered_at - sent_at) * 10)::numeric)))::smallint
        END
      $$`);
    const columns = `
        tenant_id integer NOT NULL,
        day date NOT NULL,
        provider varchar(20),
        message_type varchar(40) NOT NULL,
        status varchar(20) NOT NULL,
        language varchar(8) NOT NULL,
        campaign_id uuid,
        created_by varchar(64) NOT NULL,
        currency char(3) NOT NULL,
        latency_bucket smallint,
        messages bigint NOT NULL,
        segments bigint NOT NULL,
        estimated_cost numeric NOT NULL,
        actual_cost numeric NOT NULL,
        actual_messages bigint NOT NULL,
        actual_estimated numeric NOT NULL`;
    await q.query(`CREATE TABLE sms_daily_rollup (${columns})`);
    // NULLS NOT DISTINCT: "no provider yet" / "no campaign" are one bucket each (PostgreSQL 15+).
    await q.query(`CREATE UNIQUE INDEX sms_daily_rollup_key ON sms_daily_rollup (${KEY}) NULLS NOT DISTINCT`);
    await q.query('CREATE INDEX sms_daily_rollup_day ON sms_daily_rollup (day)');
    await q.query(`CREATE TABLE sms_rollup_deltas (id bigserial PRIMARY KEY, ${columns})`);

    await q.query(`
      CREATE FUNCTION sms_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO sms_rollup_deltas (${KEY}, ${SUMS})
        SELECT ${GROUPED} FROM (SELECT ${contribution('n', '1')} FROM new_rows n) c
        GROUP BY ${KEY};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION sms_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO sms_rollup_deltas (${KEY}, ${SUMS})
        SELECT ${GROUPED} FROM (
          SELECT ${contribution('o', '-1')} FROM old_rows o
          UNION ALL
          SELECT ${contribution('n', '1')} FROM new_rows n
        ) c
        GROUP BY ${KEY}
        HAVING sum(messages) <> 0 OR sum(segments) <> 0 OR sum(estimated_cost) <> 0
            OR sum(actual_cost) <> 0 OR sum(actual_messages) <> 0 OR sum(actual_estimated) <> 0;
        RETURN NULL;
      END $$`);
    // CREATE TRIGGER locks sms_messages against writes until this migration commits, so the
    // backfill below and the triggers see the same rows: nothing is counted twice or missed.
    await q.query(`
      CREATE TRIGGER sms_rollup_insert AFTER INSERT ON sms_messages
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_rollup_on_insert()`);
    await q.query(`
      CREATE TRIGGER sms_rollup_update AFTER UPDATE ON sms_messages
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sms_rollup_on_update()`);
    await q.query(`
      INSERT INTO sms_daily_rollup (${KEY}, ${SUMS})
      SELECT ${GROUPED} FROM (SELECT ${contribution('m', '1')} FROM sms_messages m) c
      GROUP BY ${KEY}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER sms_rollup_update ON sms_messages');
    await q.query('DROP TRIGGER sms_rollup_insert ON sms_messages');
    await q.query('DROP FUNCTION sms_rollup_on_update()');
    await q.query('DROP FUNCTION sms_rollup_on_insert()');
    await q.query('DROP TABLE sms_rollup_deltas');
    await q.query('DROP TABLE sms_daily_rollup');
    await q.query('DROP FUNCTION sms_latency_bucket(varchar, timestamptz, timestamptz)');
  }
}
