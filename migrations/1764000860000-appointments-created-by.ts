import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who created an appointment (the token's sub): only that user or a tenant admin may change or
 * delete it. Rows from before this migration have none and are changed by admins only.
 */
export class AppointmentsCreatedBy1764000860000 implements MigrationInterface {
  name = 'AppointmentsCreatedBy1764000860000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_appointments ADD COLUMN created_by varchar(64)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_appointments DROP COLUMN created_by');
  }
}
