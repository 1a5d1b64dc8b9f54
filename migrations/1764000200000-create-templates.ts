import { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_TEMPLATES } from '../src/templates/default-templates';

/**
 * Templates: tenant_id NULL is a built-in default every tenant sees; a tenant's row with the same
 * template_id shadows it. The defaults are seeded from src/templates/default-templates.ts.
 */
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
