import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `unknown` status: an attempt whose outcome the service does not know (a provider timeout, a
 * worker that died mid-call) until the provider is asked. Idempotent (IF EXISTS / IF NOT EXISTS),
 * so a second migration adding the same status is harmless.
 */
export class MessageStatusUnknown1764000550000 implements MigrationInterface {
  name = 'MessageStatusUnknown1764000550000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_status_check');
    await q.query(`ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
      ('scheduled','queued','sending','unknown','sent','delivered','undelivered','failed','canceled'))`);
    // The outcome resolver's candidates: the few rows in 'sending' or 'unknown'.
    await q.query(
      `CREATE INDEX IF NOT EXISTS sms_messages_unresolved ON sms_messages (updated_at)
         WHERE status IN ('sending','unknown')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_unresolved');
    await q.query(`UPDATE sms_messages SET status = 'failed' WHERE status = 'unknown'`);
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_status_check');
    await q.query(`ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
      ('scheduled','queued','sending','sent','delivered','undelivered','failed','canceled'))`);
  }
}
