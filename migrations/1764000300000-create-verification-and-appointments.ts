import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verification codes: one live code per (tenant, phone, purpose), stored as a salted HMAC only.
 * Appointments: what reminders are about, upserted by the platform's services.
 */
export class CreateVerificationAndAppointments1764000300000 implements MigrationInterface {
  name = 'CreateVerificationAndAppointments1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_verification_codes (
        tenant_id integer NOT NULL REFERENCES tenants(id),
        phone_number varchar(20) NOT NULL,
        purpose varchar(20) NOT NULL CHECK (purpose IN ('password_reset', '2fa')),
        code_hash char(64) NOT NULL,
        salt char(32) NOT NULL,
        expires_at timestamptz NOT NULL,
        attempts smallint NOT NULL DEFAULT 0,
        consumed_at timestamptz,
        message_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone_number, purpose)
      )`);
    await q.query('CREATE INDEX sms_verification_codes_expires ON sms_verification_codes (expires_at)');
    await q.query(`
      CREATE TABLE sms_appointments (
        tenant_id integer NOT NULL REFERENCES tenants(id),
        appointment_id varchar(100) NOT NULL,
        user_id varchar(64),
        phone_number varchar(20) NOT NULL,
        starts_at timestamptz NOT NULL,
        trainer_name varchar(200) NOT NULL,
        location varchar(200) NOT NULL,
        language varchar(8),
        timezone varchar(64) NOT NULL DEFAULT 'UTC',
        reminder_sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, appointment_id)
      )`);
    await q.query(
      'CREATE INDEX sms_appointments_due ON sms_appointments (starts_at) WHERE reminder_sent_at IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_appointments');
    await q.query('DROP TABLE sms_verification_codes');
  }
}
