import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTenants1764000000000 implements MigrationInterface {
  name = 'CreateTenants1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id integer PRIMARY KEY CHECK (id > 0),
        name varchar(200) NOT NULL,
        active boolean NOT NULL DEFAULT true,
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tenants');
  }
}
