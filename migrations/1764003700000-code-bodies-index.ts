import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_messages_code_bodies`: the few rows that still hold an encrypted code body, by validity
 * end, so the retention job's backstop (erase the ciphertext of code messages past their
 * validity) finds them without scanning the ledger. Only code messages waiting for hand-over
 * are in it.
 */
export class CodeBodiesIndex1764003700000 implements MigrationInterface {
  name = 'CodeBodiesIndex1764003700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX sms_messages_code_bodies ON sms_messages (expires_at) WHERE body_ciphertext IS NOT NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_code_bodies');
  }
}
