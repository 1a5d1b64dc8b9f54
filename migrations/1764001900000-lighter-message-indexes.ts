import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer index entries per message write. `status` is indexed, so every claim and outcome write is
 * a non-HOT update: PostgreSQL adds an entry to every index on `sms_messages` whose predicate the
 * new row version meets, on top of the entries of the INSERT. Four of them did not earn that:
 *
 * - `sms_messages_unresolved (updated_at) WHERE status IN ('sending','unknown')` duplicated
 *   `sms_messages_pending (status, updated_at)`, whose predicate covers both statuses: the outcome
 *   resolver's two ranges are two scans of it.
 * - `sms_messages_tenant_phone (tenant_id, phone_number, created_at)`: `sms_messages_phone_created
 *   (phone_number, created_at)` (the inbound router's) finds a number's messages in created order
 *   too, across the few tenants that texted it; the history filter reads it and checks the tenant.
 * - `sms_messages_tenant_user` now holds only rows with a `user_id` (a filter by user names one;
 *   bulk and campaign rows have none).
 * - `sms_messages_created (created_at)` becomes a BRIN index: the alert windows, the /metrics
 *   window and retention read ranges of a column that grows with the table, which BRIN serves at
 *   a fraction of a B-tree's write cost (an entry per block range, not per row version).
 *
 * Built without CONCURRENTLY, like every migration here: `sms_messages` is locked while the two
 * indexes build, so run it in a quiet window on a big table.
 */
export class LighterMessageIndexes1764001900000 implements MigrationInterface {
  name = 'LighterMessageIndexes1764001900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_unresolved');
    await q.query('DROP INDEX IF EXISTS sms_messages_tenant_phone');
    await q.query('DROP INDEX IF EXISTS sms_messages_tenant_user');
    await q.query(
      `CREATE INDEX sms_messages_tenant_user ON sms_messages (tenant_id, user_id, created_at DESC)
         WHERE user_id IS NOT NULL`,
    );
    await q.query('DROP INDEX IF EXISTS sms_messages_created');
    await q.query(
      'CREATE INDEX sms_messages_created ON sms_messages USING brin (created_at) WITH (autosummarize = on)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_created');
    await q.query('CREATE INDEX sms_messages_created ON sms_messages (created_at)');
    await q.query('DROP INDEX IF EXISTS sms_messages_tenant_user');
    await q.query(
      'CREATE INDEX sms_messages_tenant_user ON sms_messages (tenant_id, user_id, created_at DESC)',
    );
    await q.query(
      'CREATE INDEX sms_messages_tenant_phone ON sms_messages (tenant_id, phone_number, created_at DESC)',
    );
    await q.query(
      `CREATE INDEX sms_messages_unresolved ON sms_messages (updated_at)
         WHERE status IN ('sending','unknown')`,
    );
  }
}
