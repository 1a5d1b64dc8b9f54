import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_templates.exact`: a template whose texts are sent exactly as written, never changed by the
 * tenant's smart encoding (look-alike characters or transliteration to GSM-7). Default false.
 */
export class TemplateExact1764003000000 implements MigrationInterface {
  name = 'TemplateExact1764003000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_templates ADD COLUMN exact boolean NOT NULL DEFAULT false');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_templates DROP COLUMN exact');
  }
}
