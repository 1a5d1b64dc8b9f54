import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (cost thresholds, failure rate, provider circuits), their webhook attempts and the
 * per-tenant webhook signing secret. The unique index makes an alert exist once per tenant, kind,
 * period and threshold however many workers evaluate at the same moment (INSERT ... ON CONFLICT
 * DO NOTHING: the one whose row went in raises it). `sms_messages_created` serves the windows
 * over recent messages (failure rate, /metrics message counts).
 */
export class SmsAlerts1764001200000 implements MigrationInterface {
  name = 'SmsAlerts1764001200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_alerts (
        id bigserial PRIMARY KEY,
        tenant_id integer NULL,
        kind varchar(32) NOT NULL,
        period varchar(40) NOT NULL,
        threshold_pct smallint NOT NULL DEFAULT 0,
        provider varchar(16) NOT NULL DEFAULT '',
        message text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        webhook_status varchar(16) NOT NULL DEFAULT 'none',
        webhook_attempts smallint NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX sms_alerts_once ON sms_alerts (COALESCE(tenant_id, 0), kind, period, threshold_pct, provider)`,
    );
    await q.query('CREATE INDEX sms_alerts_tenant ON sms_alerts (tenant_id, id DESC)');
    await q.query(
      `CREATE INDEX sms_alerts_webhook_due ON sms_alerts (next_attempt_at) WHERE webhook_status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE sms_alert_deliveries (
        id bigserial PRIMARY KEY,
        alert_id bigint NOT NULL REFERENCES sms_alerts(id) ON DELETE CASCADE,
        attempt smallint NOT NULL,
        status_code integer NULL,
        error text NULL,
        duration_ms integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX sms_alert_deliveries_alert ON sms_alert_deliveries (alert_id, attempt)');
    await q.query(`
      CREATE TABLE sms_alert_secrets (
        tenant_id integer PRIMARY KEY,
        secret varchar(128) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX IF NOT EXISTS sms_messages_created ON sms_messages (created_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS sms_messages_created');
    await q.query('DROP TABLE sms_alert_secrets');
    await q.query('DROP TABLE sms_alert_deliveries');
    await q.query('DROP TABLE sms_alerts');
  }
}
