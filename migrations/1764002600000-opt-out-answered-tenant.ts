import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A STOP on a shared number opts the sender out for every tenant, but it answered one tenant's
 * text: the tenant that last texted the sender. Each opt-out and each opt-out event now records
 * that tenant (`answered_tenant_id`; NULL for an admin's or a provider's opt-out, for a text from a
 * phone no tenant had texted, and for rows written before this column).
 */
export class OptOutAnsweredTenant1764002600000 implements MigrationInterface {
  name = 'OptOutAnsweredTenant1764002600000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['sms_opt_outs', 'sms_opt_out_events'])
      await q.query(
        `ALTER TABLE ${table} ADD COLUMN answered_tenant_id integer REFERENCES tenants(id) ON DELETE SET NULL`,
      );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['sms_opt_out_events', 'sms_opt_outs'])
      await q.query(`ALTER TABLE ${table} DROP COLUMN answered_tenant_id`);
  }
}
