import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A new status, `unknown`: a provider may or may not have taken the message (e.g. a timeout).
 * It is not terminal (a later look-up at the provider resolves it), so the pending index keeps it.
 */
export class PendingIndexUnknown1764000525000 implements MigrationInterface {
  name = 'PendingIndexUnknown1764000525000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_status_check');
    await q.query(`
      ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
        ('scheduled','queued','sending','sent','unknown','delivered','undelivered','failed','canceled'))`);
    await q.query('DROP INDEX sms_messages_pending');
    await q.query(
      `CREATE INDEX sms_messages_pending ON sms_messages (status, updated_at)
         WHERE status IN ('scheduled','queued','sending','sent','unknown')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX sms_messages_pending');
    await q.query(
      `CREATE INDEX sms_messages_pending ON sms_messages (status, updated_at)
         WHERE status IN ('scheduled','queued','sending','sent')`,
    );
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_status_check');
    await q.query(`
      ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
        ('scheduled','queued','sending','sent','delivered','undelivered','failed','canceled'))`);
  }
}
