import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The built-in reply to a START that lifted nothing for the tenant it answered: that tenant's
 * opt-out was made by an admin or reported by the provider, and a START text does not lift those.
 * Frozen as seeded; a tenant overrides it by creating a template with the same template_id.
 */
const CONTENT = {
  en: 'You are still unsubscribed. Please contact the sender to subscribe again.',
  tr: 'Aboneliğiniz kapalı kalıyor. Tekrar abone olmak için gönderenle iletişime geçin.',
};

export class KeywordStartKeptTemplate1764002610000 implements MigrationInterface {
  name = 'KeywordStartKeptTemplate1764002610000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `INSERT INTO sms_templates (tenant_id, template_id, name, message_type, content, variables)
       VALUES (NULL, 'keyword_start_kept', 'Reply to a START that lifted no opt-out', 'general_notification', $1, '[]'::jsonb)`,
      [JSON.stringify(CONTENT)],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM sms_templates WHERE tenant_id IS NULL AND template_id = 'keyword_start_kept'`);
  }
}
