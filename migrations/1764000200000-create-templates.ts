import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Templates: tenant_id NULL is a built-in default every tenant sees; a tenant's row with the same
 * template_id shadows it. The defaults are seeded from the data below.
 */
export interface DefaultTemplate {
  template_id: string;
  name: string;
  message_type: string;
  variables: string[];
  content: { en: string; tr: string };
}

/**
 * The built-in templates every tenant sees, frozen as they were seeded: a later change to a
 * default is a new migration, so this one replays the same on every database. English fits one GSM-7
 * segment with typical values; Turkish letters force UCS-2 (70 characters a segment), so the
 * longer Turkish texts take two.
 */
export const DEFAULT_TEMPLATES: readonly DefaultTemplate[] = [
  {
    template_id: 'appointment_reminder',
    name: 'Appointment reminder',
    message_type: 'appointment_reminder',
    variables: ['date', 'time', 'trainer_name', 'location'],
    content: {
      en: 'Reminder: your appointment with {{trainer_name}} is on {{date}} at {{time}}, {{location}}.',
      tr: 'Hatırlatma: {{trainer_name}} ile randevunuz {{date}} saat {{time}}, {{location}}.',
    },
  },
  {
    template_id: 'assessment_notification',
    name: 'Assessment notification',
    message_type: 'assessment_notification',
    variables: ['assessment_name', 'due_date'],
    content: {
      en: 'Your assessment "{{assessment_name}}" is due on {{due_date}}.',
      tr: '"{{assessment_name}}" değerlendirmenizin son tarihi {{due_date}}.',
    },
  },
  {
    template_id: 'password_reset',
    name: 'Password reset code',
    message_type: 'password_reset',
    variables: ['code'],
    content: {
      en: 'Your password reset code is {{code}}. Do not share it with anyone.',
      tr: 'Şifre sıfırlama kodunuz: {{code}}. Bu kodu kimseyle paylaşmayın.',
    },
  },
  {
    template_id: '2fa_code',
    name: 'Two-factor verification code',
    message_type: '2fa_code',
    variables: ['code'],
    content: {
      en: 'Your verification code is {{code}}. Do not share it with anyone.',
      tr: 'Doğrulama kodunuz: {{code}}. Bu kodu kimseyle paylaşmayın.',
    },
  },
  {
    template_id: 'general_notification',
    name: 'General notification',
    message_type: 'general_notification',
    variables: ['message'],
    content: { en: '{{message}}', tr: '{{message}}' },
  },
];

export class CreateTemplates1764000200000 implements MigrationInterface {
  name = 'CreateTemplates1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_templates (
        id serial PRIMARY KEY,
        tenant_id integer REFERENCES tenants(id),
        template_id varchar(100) NOT NULL,
        name varchar(200) NOT NULL,
        message_type varchar(40) NOT NULL,
        content jsonb NOT NULL,
        variables jsonb NOT NULL DEFAULT '[]'::jsonb,
        is_active boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per (tenant, template_id); NULL tenants (defaults) must be unique too.
    await q.query(
      'CREATE UNIQUE INDEX sms_templates_tenant_template ON sms_templates (COALESCE(tenant_id, 0), template_id)',
    );
    for (const t of DEFAULT_TEMPLATES) {
      await q.query(
        `INSERT INTO sms_templates (tenant_id, template_id, name, message_type, content, variables)
         VALUES (NULL, $1, $2, $3, $4, $5)`,
        [t.template_id, t.name, t.message_type, JSON.stringify(t.content), JSON.stringify(t.variables)],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_templates');
  }
}
