import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The events' foreign key to the partitioned ledger goes. Checked row by row against a
 * partitioned table, it was most of the cost of writing a message: 10,000 messages with their
 * events took 0.7–0.85 s with it and 0.22–0.26 s without. Worse, PostgreSQL keeps the check's plan
 * per connection, and a plan made while the month's partition looked tiny (a new month, a new
 * install) scans the partition for every row: a 10,000-number bulk then took 4–40 s and could
 * end in a statement timeout. The ledger writes a message's events only in the statements that
 * write the message, and deletes them with it (retention's row delete, the month's drop), so the
 * rule holds by construction (docs/ARCHITECTURE.md, "Partitions of the ledger").
 */
export class EventsWithoutLedgerFk1764019100000 implements MigrationInterface {
  name = 'EventsWithoutLedgerFk1764019100000';

  async up(q: QueryRunner): Promise<void> {
    // Whatever its name (an install from before the partitions may have another), on the
    // partitioned table itself: its partitions' copies go with it.
    await q.query(`DO $$
      DECLARE c text;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint
                  WHERE conrelid = 'sms_message_events'::regclass AND contype = 'f'
                    AND confrelid = 'sms_messages'::regclass AND conparentid = 0
        LOOP
          EXECUTE format('ALTER TABLE sms_message_events DROP CONSTRAINT %I', c);
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Events whose message is gone would refuse the key: they go first.
    await q.query(
      `DELETE FROM sms_message_events e WHERE NOT EXISTS (SELECT 1 FROM sms_messages m WHERE m.id = e.message_id)`,
    );
    await q.query(
      `ALTER TABLE sms_message_events ADD CONSTRAINT sms_message_events_message_id_fkey
         FOREIGN KEY (message_id) REFERENCES sms_messages(id) ON DELETE CASCADE`,
    );
  }
}
