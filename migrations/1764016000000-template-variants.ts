import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A/B template variants (issue 25, item 3).
 *
 * - `sms_templates.variants`: null (no test) or `[{key, weight, content: {en, tr?}}]`, the bodies a
 *   running test splits the template's sends between; `variant_test_id` names the test (part of
 *   the stable hash that picks a recipient's variant) and `variants_started_at` is when it began
 *   (the stats count the messages accepted since then).
 * - `sms_messages.variant`: the key of the variant a message was rendered from; null for messages
 *   of a template without a test. A plain nullable column, no foreign key: sms_messages is to be
 *   partitioned by month later.
 * - A partial index for the per-variant stats: only messages of a test are in it.
 */
export class TemplateVariants1764016000000 implements MigrationInterface {
  name = 'TemplateVariants1764016000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE sms_templates ADD COLUMN variants jsonb NULL,
                                 ADD COLUMN variant_test_id varchar(64) NULL,
                                 ADD COLUMN variants_started_at timestamptz NULL`,
    );
    await q.query('ALTER TABLE sms_messages ADD COLUMN variant varchar(32) NULL');
    await q.query(
      `CREATE INDEX sms_messages_variant ON sms_messages (tenant_id, template_id, variant, created_at)
        WHERE variant IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_variant');
    await q.query('ALTER TABLE sms_messages DROP COLUMN variant');
    await q.query(
      `ALTER TABLE sms_templates DROP COLUMN variants_started_at, DROP COLUMN variant_test_id,
                                 DROP COLUMN variants`,
    );
  }
}
