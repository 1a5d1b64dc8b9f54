import { MigrationInterface, QueryRunner } from 'typeorm';

/** The conversion rollup's dimensions, in the order of its unique key. */
const KEY = 'tenant_id, day, provider, country, message_type, created_by, convert_bucket';

/** A row of `sms_messages` (alias `m`) that counts: a code message handed over or converted. */
const COUNTED = (m: string) =>
  `${m}.message_type IN ('password_reset', '2fa_code')
             AND (${m}.sent_at IS NOT NULL OR ${m}.delivered_at IS NOT NULL OR ${m}.converted_at IS NOT NULL)`;

/**
 * A counted row's contribution, times `sign`: one code message sent, converted or not, and when
 * converted its time-to-convert bucket (the delivery latency's scale; `sms_latency_bucket` counts
 * a delivered status only, so it is asked as one), from `sent_at` when the message was sent by
 * then, else from `created_at`.
 */
function contribution(m: string, sign: string): string {
  return `${m}.tenant_id, (${m}.created_at AT TIME ZONE 'UTC')::date AS day, ${m}.provider, ${m}.country,
                   ${m}.message_type, ${m}.created_by,
                   CASE WHEN ${m}.converted_at IS NOT NULL
                        THEN sms_latency_bucket('delivered',
                               CASE WHEN ${m}.sent_at <= ${m}.converted_at THEN ${m}.sent_at ELSE ${m}.created_at END,
                               ${m}.converted_at)
                   END AS convert_bucket,
                   ${sign}::bigint AS sent, ${sign} * (${m}.converted_at IS NOT NULL)::int::bigint AS converted`;
}

/**
 * Code conversion (issue 22, item 3): a successful verification check marks the message that
 * carried the code (`sms_messages.converted_at`, added by 1764002900000), and the stats give the
 * conversion rate and time-to-convert per provider, destination country and day.
 *
 * - `sms_messages.country`: the destination's ISO 3166 alpha-2 country, as the accept path already
 *   knows it (libphonenumber, the one pricing and the destination rules use). NULL: non-geographic,
 *   or accepted before this migration.
 * - `sms_conversion_rollup` (folded) and `sms_conversion_deltas` (appended): per tenant, UTC day of
 *   acceptance, provider, country, code type, creator and time-to-convert bucket (the delivery
 *   latency's log scale, in ms from send), the code messages `sent` and `converted`.
 * - The statement trigger `sms_conversion_rollup` on UPDATE of sms_messages keeps it as the stats
 *   rollup is kept: each code message that was handed over (`sent_at` or `delivered_at`) or
 *   converted counts `sent` 1, and `converted` 1 in its time-to-convert bucket once `converted_at`
 *   is set; an UPDATE subtracts the old rows' contributions and adds the new rows', grouped,
 *   dropping what nets to zero. The counts follow the row, so a message's conversion always sits
 *   where its send is counted (the rate never passes 1), under the provider the row names.
 *
 * Codes sent before this migration whose code can still be checked are counted as sent here (their
 * conversion, later, moves them); older ones, which can no longer convert, are not counted:
 * conversion is measured from this release on. CREATE TRIGGER holds writes to sms_messages until
 * this migration commits, so the count and the trigger see the same rows.
 *
 * New nullable column, new tables: no table rewrite.
 */
export class CodeConversion1764003500000 implements MigrationInterface {
  name = 'CodeConversion1764003500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_messages ADD COLUMN country varchar(2)');
    const columns = `
        tenant_id integer NOT NULL,
        day date NOT NULL,
        provider varchar(20),
        country varchar(2),
        message_type varchar(64) NOT NULL,
        created_by varchar(64) NOT NULL,
        convert_bucket smallint,
        sent bigint NOT NULL,
        converted bigint NOT NULL`;
    await q.query(`CREATE TABLE sms_conversion_rollup (${columns})`);
    await q.query(
      `CREATE UNIQUE INDEX sms_conversion_rollup_key ON sms_conversion_rollup (${KEY}) NULLS NOT DISTINCT`,
    );
    await q.query('CREATE INDEX sms_conversion_rollup_day ON sms_conversion_rollup (day)');
    await q.query(`CREATE TABLE sms_conversion_deltas (id bigserial PRIMARY KEY, ${columns})`);
    await q.query(`
      CREATE FUNCTION sms_conversion_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- No code message of this statement was handed over or converted, before or after: the
        -- common case (every other type, and codes still waiting), one probe per side.
        IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE ${COUNTED('n')})
           AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE ${COUNTED('o')}) THEN
          RETURN NULL;
        END IF;
        -- Each old row's contribution out, each new row's in, grouped; unchanged rows cancel out.
        -- No join of the two transition tables: its row estimates are tiny, and a nested loop over
        -- a large statement would be quadratic.
        INSERT INTO sms_conversion_deltas (${KEY}, sent, converted)
        SELECT ${KEY}, sum(sent), sum(converted)
          FROM (
            SELECT ${contribution('o', '-1')} FROM old_rows o WHERE ${COUNTED('o')}
            UNION ALL
            SELECT ${contribution('n', '1')} FROM new_rows n WHERE ${COUNTED('n')}
          ) c
         GROUP BY ${KEY}
        HAVING sum(sent) <> 0 OR sum(converted) <> 0;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER sms_conversion_rollup AFTER UPDATE ON sms_messages
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sms_conversion_rollup_on_update()`);
    // Codes already handed over whose code can still be checked: their conversion is counted by the
    // trigger, so their send is counted now (country unknown: they were accepted without one).
    await q.query(`
      INSERT INTO sms_conversion_rollup (${KEY}, sent, converted)
      SELECT m.tenant_id, (m.created_at AT TIME ZONE 'UTC')::date, m.provider, m.country, m.message_type,
             m.created_by, NULL, count(*), 0
        FROM sms_verification_codes v JOIN sms_messages m ON m.id = v.message_id AND m.tenant_id = v.tenant_id
       WHERE v.consumed_at IS NULL AND v.expires_at > now()
         AND m.message_type IN ('password_reset', '2fa_code')
         AND (m.sent_at IS NOT NULL OR m.delivered_at IS NOT NULL) AND m.converted_at IS NULL
       GROUP BY 1, 2, 3, 4, 5, 6`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER sms_conversion_rollup ON sms_messages');
    await q.query('DROP FUNCTION sms_conversion_rollup_on_update()');
    await q.query('DROP TABLE sms_conversion_deltas');
    await q.query('DROP TABLE sms_conversion_rollup');
    await q.query('ALTER TABLE sms_messages DROP COLUMN country');
  }
}
