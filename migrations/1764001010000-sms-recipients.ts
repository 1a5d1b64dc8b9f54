import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The recipient directory: who a tenant's users are (the platform pushes them with PUT
 * /api/sms/recipients). Campaign filters select from it. `language` NULL means the tenant's
 * default; `attributes` are template variables (e.g. name).
 */
export class SmsRecipients1764001010000 implements MigrationInterface {
  name = 'SmsRecipients1764001010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_recipients (
        tenant_id integer NOT NULL,
        user_id varchar(64) NOT NULL,
        phone_number varchar(20) NOT NULL,
        roles text[] NOT NULL DEFAULT '{}',
        language varchar(2),
        timezone varchar(64),
        tags text[] NOT NULL DEFAULT '{}',
        attributes jsonb NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, user_id)
      )`);
    await q.query('CREATE INDEX sms_recipients_roles ON sms_recipients USING gin (roles)');
    await q.query('CREATE INDEX sms_recipients_tags ON sms_recipients USING gin (tags)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_recipients');
  }
}
