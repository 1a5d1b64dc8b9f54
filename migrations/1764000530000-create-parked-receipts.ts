import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Receipts that arrived before the worker recorded their message as sent (fast providers, the
 * sandbox). The worker applies and deletes them in the statement that records 'sent'; the
 * retention job purges the few whose message never appears after a day.
 */
export class CreateParkedReceipts1764000530000 implements MigrationInterface {
  name = 'CreateParkedReceipts1764000530000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_parked_receipts (
        id bigserial PRIMARY KEY,
        provider varchar(20) NOT NULL,
        provider_message_id varchar(100) NOT NULL,
        status varchar(20),
        payload jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX sms_parked_receipts_provider_id ON sms_parked_receipts (provider, provider_message_id)',
    );
    await q.query('CREATE INDEX sms_parked_receipts_received ON sms_parked_receipts (received_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_parked_receipts');
  }
}
