import { MigrationInterface, QueryRunner } from 'typeorm';

/** The coarse rollup's dimensions: the fine key (migration 1764001100000) without created_by. */
const KEY = 'tenant_id, day, provider, message_type, status, language, campaign_id, currency, latency_bucket';
const SUMS = 'messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated';

/** Sums of rows of `sms_daily_rollup` (alias `r`) times `sign`, named as the rollup's columns. */
function sums(alias: string, sign: string): string {
  return `${sign} * ${alias}.messages AS messages, ${sign} * ${alias}.segments AS segments,
    ${sign} * ${alias}.estimated_cost AS estimated_cost, ${sign} * ${alias}.actual_cost AS actual_cost,
    ${sign} * ${alias}.actual_messages AS actual_messages, ${sign} * ${alias}.actual_estimated AS actual_estimated`;
}

/** Adds the grouped rows of `source` (columns KEY and SUMS) to the coarse rollup. */
function addToCoarse(source: string): string {
  return `
    INSERT INTO sms_tenant_daily_rollup AS r (${KEY}, ${SUMS})
    SELECT ${KEY}, sum(messages), sum(segments), sum(estimated_cost), sum(actual_cost),
           sum(actual_messages), sum(actual_estimated)
      FROM (${source}) c
     GROUP BY ${KEY}
    HAVING sum(messages) <> 0 OR sum(segments) <> 0 OR sum(estimated_cost) <> 0
        OR sum(actual_cost) <> 0 OR sum(actual_messages) <> 0 OR sum(actual_estimated) <> 0
     ORDER BY ${KEY}
    ON CONFLICT (${KEY}) DO UPDATE SET
      messages = r.messages + EXCLUDED.messages,
      segments = r.segments + EXCLUDED.segments,
      estimated_cost = r.estimated_cost + EXCLUDED.estimated_cost,
      actual_cost = r.actual_cost + EXCLUDED.actual_cost,
      actual_messages = r.actual_messages + EXCLUDED.actual_messages,
      actual_estimated = r.actual_estimated + EXCLUDED.actual_estimated`;
}

/** The columns of `sms_messages` a message's rollup contribution depends on. */
const COUNTED = [
  'tenant_id',
  'created_at',
  'provider',
  'message_type',
  'status',
  'language',
  'campaign_id',
  'created_by',
  'currency',
  'sent_at',
  'delivered_at',
  'segments',
  'estimated_cost',
  'cost',
];
const counted = (alias: string) => `(${COUNTED.map((c) => `${alias}.${c}`).join(', ')})`;
/** Pairs of old and new rows of one UPDATE whose counted columns differ. */
const CHANGED = `old_rows o JOIN new_rows n ON n.id = o.id WHERE ${counted('o')} IS DISTINCT FROM ${counted('n')}`;

/** One message's contribution (as in migration 1764001100000), from alias `m`, times `sign`. */
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
const FINE_KEY =
  'tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket';

/**
 * Issue 11, stats at scale and a cheaper write path.
 *
 * 1. `sms_tenant_daily_rollup`: the daily rollup without `created_by`, for tenant-admin and
 *    super_admin queries (a plain user's stats keep reading the per-creator `sms_daily_rollup`).
 *    It is derived from `sms_daily_rollup` by statement triggers on that table: whatever folds
 *    deltas into the fine rollup (INSERT … ON CONFLICT DO UPDATE) adds the same change, grouped,
 *    to the coarse one in the same statement, so the two never disagree and no folder (old or
 *    new code) can skip it. Readers add the unfolded `sms_rollup_deltas` to either.
 * 2. The UPDATE trigger on `sms_messages` returns at once when no row of the statement changed a
 *    counted column (a touch of `updated_at`, an error text, the provider's message id), and
 *    skips the grouping for a single-row statement (a receipt).
 * 3. `sms_daily_rollup (tenant_id, created_by, day)`: a plain user's stats read only their rows.
 */
export class SmsTenantRollup1764001600000 implements MigrationInterface {
  name = 'SmsTenantRollup1764001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_tenant_daily_rollup (
        tenant_id integer NOT NULL,
        day date NOT NULL,
        provider varchar(20),
        message_type varchar(40) NOT NULL,
        status varchar(20) NOT NULL,
        language varchar(8) NOT NULL,
        campaign_id uuid,
        currency char(3) NOT NULL,
        latency_bucket smallint,
        messages bigint NOT NULL,
        segments bigint NOT NULL,
        estimated_cost numeric NOT NULL,
        actual_cost numeric NOT NULL,
        actual_messages bigint NOT NULL,
        actual_estimated numeric NOT NULL
      )`);
    // Its key leads with (tenant_id, day): a tenant's period is one index range.
    await q.query(
      `CREATE UNIQUE INDEX sms_tenant_daily_rollup_key ON sms_tenant_daily_rollup (${KEY}) NULLS NOT DISTINCT`,
    );
    await q.query('CREATE INDEX sms_tenant_daily_rollup_day ON sms_tenant_daily_rollup (day)');
    await q.query('CREATE INDEX sms_daily_rollup_creator ON sms_daily_rollup (tenant_id, created_by, day)');

    await q.query(`
      CREATE FUNCTION sms_tenant_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${addToCoarse(`SELECT ${KEY}, ${sums('n', '1')} FROM new_rows n`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION sms_tenant_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${addToCoarse(
          `SELECT ${KEY}, ${sums('o', '-1')} FROM old_rows o
           UNION ALL SELECT ${KEY}, ${sums('n', '1')} FROM new_rows n`,
        )};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION sms_tenant_rollup_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${addToCoarse(`SELECT ${KEY}, ${sums('o', '-1')} FROM old_rows o`)};
        RETURN NULL;
      END $$`);
    // Folds wait for this lock (they write sms_daily_rollup), so the backfill below and the
    // triggers see the same rows: nothing is counted twice or missed.
    await q.query('LOCK TABLE sms_daily_rollup IN SHARE ROW EXCLUSIVE MODE');
    await q.query(`
      CREATE TRIGGER sms_tenant_rollup_insert AFTER INSERT ON sms_daily_rollup
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_tenant_rollup_on_insert()`);
    await q.query(`
      CREATE TRIGGER sms_tenant_rollup_update AFTER UPDATE ON sms_daily_rollup
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sms_tenant_rollup_on_update()`);
    await q.query(`
      CREATE TRIGGER sms_tenant_rollup_delete AFTER DELETE ON sms_daily_rollup
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_tenant_rollup_on_delete()`);
    await q.query(`
      INSERT INTO sms_tenant_daily_rollup (${KEY}, ${SUMS})
      SELECT ${KEY}, sum(messages), sum(segments), sum(estimated_cost), sum(actual_cost),
             sum(actual_messages), sum(actual_estimated)
        FROM sms_daily_rollup GROUP BY ${KEY}`);

    // (2) A single-row statement (a receipt, a claim of one message): the row's two
    // contributions if it changed a counted column, nothing if not, without the grouping (8 µs
    // of the trigger's ~40). Otherwise nothing at all for a statement that changed no counted
    // column (a touch of updated_at, an error text), else as before, grouped: the rows that did
    // not change cancel out.
    await q.query(`
      CREATE OR REPLACE FUNCTION sms_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM new_rows) = 1 THEN
          INSERT INTO sms_rollup_deltas (${FINE_KEY}, ${SUMS})
          SELECT ${contribution('o', '-1')} FROM ${CHANGED}
          UNION ALL
          SELECT ${contribution('n', '1')} FROM ${CHANGED};
          RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM ${CHANGED}) THEN
          RETURN NULL;
        END IF;
        INSERT INTO sms_rollup_deltas (${FINE_KEY}, ${SUMS})
        SELECT ${FINE_KEY}, sum(messages), sum(segments), sum(estimated_cost), sum(actual_cost),
               sum(actual_messages), sum(actual_estimated)
          FROM (
            SELECT ${contribution('o', '-1')} FROM old_rows o
            UNION ALL
            SELECT ${contribution('n', '1')} FROM new_rows n
          ) c
         GROUP BY ${FINE_KEY}
        HAVING sum(messages) <> 0 OR sum(segments) <> 0 OR sum(estimated_cost) <> 0
            OR sum(actual_cost) <> 0 OR sum(actual_messages) <> 0 OR sum(actual_estimated) <> 0;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION sms_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO sms_rollup_deltas (${FINE_KEY}, ${SUMS})
        SELECT ${FINE_KEY}, sum(messages), sum(segments), sum(estimated_cost), sum(actual_cost),
               sum(actual_messages), sum(actual_estimated)
          FROM (
            SELECT ${contribution('o', '-1')} FROM old_rows o
            UNION ALL
            SELECT ${contribution('n', '1')} FROM new_rows n
          ) c
         GROUP BY ${FINE_KEY}
        HAVING sum(messages) <> 0 OR sum(segments) <> 0 OR sum(estimated_cost) <> 0
            OR sum(actual_cost) <> 0 OR sum(actual_messages) <> 0 OR sum(actual_estimated) <> 0;
        RETURN NULL;
      END $$`);
    await q.query('DROP TRIGGER sms_tenant_rollup_delete ON sms_daily_rollup');
    await q.query('DROP TRIGGER sms_tenant_rollup_update ON sms_daily_rollup');
    await q.query('DROP TRIGGER sms_tenant_rollup_insert ON sms_daily_rollup');
    await q.query('DROP FUNCTION sms_tenant_rollup_on_delete()');
    await q.query('DROP FUNCTION sms_tenant_rollup_on_update()');
    await q.query('DROP FUNCTION sms_tenant_rollup_on_insert()');
    await q.query('DROP INDEX sms_daily_rollup_creator');
    await q.query('DROP TABLE sms_tenant_daily_rollup');
  }
}
