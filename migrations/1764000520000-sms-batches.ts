import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A bulk's shared metadata, stored once: its messages keep `batch_id` and an empty `metadata`,
 * and history reads the batch's. No foreign key, so message retention deletes rows freely;
 * batches without messages are purged with them.
 */
export class SmsBatches1764000520000 implements MigrationInterface {
  name = 'SmsBatches1764000520000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_batches (
        id uuid PRIMARY KEY,
        tenant_id integer NOT NULL,
        metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX sms_batches_tenant ON sms_batches (tenant_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE sms_messages m SET metadata = b.metadata FROM sms_batches b
       WHERE m.batch_id = b.id AND m.tenant_id = b.tenant_id`);
    await q.query('DROP TABLE sms_batches');
  }
}
