import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants' templates may name their own message type (a slug such as `welcome_message`, up to 49
 * characters: the varchar(40) columns grow); `transactional` says how a custom type is sent
 * (false: promotional). Built-in types ignore it.
 */
export class TemplateCustomTypes1764001000000 implements MigrationInterface {
  name = 'TemplateCustomTypes1764001000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_templates ALTER COLUMN message_type TYPE varchar(64)');
    await q.query('ALTER TABLE sms_messages ALTER COLUMN message_type TYPE varchar(64)');
    await q.query('ALTER TABLE sms_templates ADD COLUMN transactional boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_templates DROP COLUMN transactional');
  }
}
