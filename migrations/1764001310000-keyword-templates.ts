import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The built-in replies to STOP, START and HELP keywords, frozen as seeded (a later change is a new
 * migration). A tenant overrides one by creating a template with the same template_id.
 */
const KEYWORD_TEMPLATES = [
  {
    template_id: 'keyword_stop',
    name: 'Reply to a STOP keyword',
    content: {
      en: 'You are unsubscribed and will receive no more messages. Reply START to subscribe again.',
      tr: 'Aboneliğiniz iptal edildi, artık mesaj almayacaksınız. Tekrar abone olmak için BASLA yazın.',
    },
  },
  {
    template_id: 'keyword_start',
    name: 'Reply to a START keyword',
    content: {
      en: 'You are subscribed again. Reply STOP to unsubscribe, HELP for help.',
      tr: 'Aboneliğiniz yeniden başladı. Çıkmak için IPTAL, yardım için YARDIM yazın.',
    },
  },
  {
    template_id: 'keyword_help',
    name: 'Reply to a HELP keyword',
    content: {
      en: 'Reply STOP to unsubscribe. Msg&data rates may apply.',
      tr: 'Aboneliği iptal etmek için IPTAL yazın. Operatör ücretleri uygulanabilir.',
    },
  },
] as const;

export class KeywordTemplates1764001310000 implements MigrationInterface {
  name = 'KeywordTemplates1764001310000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of KEYWORD_TEMPLATES) {
      await q.query(
        `INSERT INTO sms_templates (tenant_id, template_id, name, message_type, content, variables)
         VALUES (NULL, $1, $2, 'general_notification', $3, '[]'::jsonb)`,
        [t.template_id, t.name, JSON.stringify(t.content)],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM sms_templates WHERE tenant_id IS NULL AND template_id IN ('keyword_stop','keyword_start','keyword_help')`,
    );
  }
}
