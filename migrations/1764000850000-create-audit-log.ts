import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Append-only record of administrative changes: who (sub, tenant, roles, request id), what
 * (before/after, redacted) and when. UPDATE is refused by a trigger; rows leave only through the
 * retention purge (SMS_AUDIT_RETENTION_DAYS). No foreign key: the trail outlives what it names.
 */
export class CreateAuditLog1764000850000 implements MigrationInterface {
  name = 'CreateAuditLog1764000850000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        tenant_id integer NOT NULL,
        actor_sub varchar(64) NOT NULL,
        actor_tenant_id integer NOT NULL,
        actor_roles text[] NOT NULL DEFAULT '{}',
        request_id varchar(100),
        action varchar(64) NOT NULL,
        target_type varchar(40) NOT NULL,
        target_id varchar(200) NOT NULL,
        before jsonb,
        after jsonb
      )`);
    await q.query('CREATE INDEX sms_audit_log_tenant_at ON sms_audit_log (tenant_id, at DESC, id DESC)');
    await q.query('CREATE INDEX sms_audit_log_at ON sms_audit_log (at DESC, id DESC)');
    await q.query(`
      CREATE FUNCTION sms_audit_log_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'sms_audit_log is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER sms_audit_log_append_only BEFORE UPDATE ON sms_audit_log
        FOR EACH ROW EXECUTE FUNCTION sms_audit_log_refuse_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_audit_log');
    await q.query('DROP FUNCTION sms_audit_log_refuse_update()');
  }
}
