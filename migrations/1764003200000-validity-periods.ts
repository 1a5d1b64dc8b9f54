import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Validity periods (issue 22, item 2), on top of `sms_messages.expires_at` (1764002900000):
 * - `sms_templates.validity_seconds` and `sms_campaigns.validity_seconds`: the validity a template
 *   gives the messages sent with it, and the one a campaign gives its messages (a send's or a
 *   campaign's own value wins over its template's); NULL: none set. 1 s to 72 h, as the API checks.
 * - `sms_messages_expiring`: the waiting rows that have a validity end, by that end, for the sweep
 *   that expires queued and scheduled rows past it (every pass, so it must not scan the backlog).
 *   Only rows with a validity and still waiting have an entry: a message adds one at insert and
 *   leaves it at its claim.
 *
 * Nullable columns without a default: no table rewrite. The index is built without CONCURRENTLY,
 * like every migration here (see 1764001900000): on a big `sms_messages`, run it in a quiet window.
 */
export class ValidityPeriods1764003200000 implements MigrationInterface {
  name = 'ValidityPeriods1764003200000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['sms_templates', 'sms_campaigns'])
      await q.query(`ALTER TABLE ${table} ADD COLUMN validity_seconds integer
        CONSTRAINT ${table}_validity_seconds_check CHECK (validity_seconds BETWEEN 1 AND 259200)`);
    await q.query(
      `CREATE INDEX sms_messages_expiring ON sms_messages (expires_at)
         WHERE expires_at IS NOT NULL AND status IN ('queued', 'scheduled')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_expiring');
    await q.query('ALTER TABLE sms_campaigns DROP COLUMN validity_seconds');
    await q.query('ALTER TABLE sms_templates DROP COLUMN validity_seconds');
  }
}
