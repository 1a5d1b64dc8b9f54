import { MigrationInterface, QueryRunner } from 'typeorm';

/** Numbers a tenant must not text: recorded from provider opt-out errors or by an admin. */
export class CreateOptOuts1764000400000 implements MigrationInterface {
  name = 'CreateOptOuts1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_opt_outs (
        tenant_id integer NOT NULL REFERENCES tenants(id),
        phone_number varchar(20) NOT NULL,
        source varchar(40) NOT NULL,
        reason varchar(200),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, phone_number)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_opt_outs');
  }
}
