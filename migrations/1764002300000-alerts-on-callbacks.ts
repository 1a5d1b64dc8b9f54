import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts leave their own webhook channel for the callbacks outbox (`alert.raised` events).
 *
 * - Each tenant's `alert_webhook_url` becomes a webhook endpoint subscribed to `alert.raised`,
 *   keeping the tenant's alert signing secret (a new one when none was ever generated), unless an
 *   active endpoint of the tenant at that URL already receives `alert.raised`. The setting goes.
 * - SQL cannot seal with the service's data key, so a migrated secret waits in the transitional
 *   column `secret_unsealed` (exactly one of it and `secret_ciphertext` is set) until the callbacks
 *   module seals it at start-up; the dispatcher signs with either in between.
 * - Alerts still pending delivery become outbox rows for that endpoint (the event id and payload of
 *   an earlier publish of the same alert when there is one, so receivers can deduplicate).
 * - Gone: `sms_alert_deliveries`, `sms_alert_secrets` and the webhook columns of `sms_alerts`.
 *
 * `down` restores that schema. An endpoint whose secret is still unsealed (the service never
 * started on this version) goes back to being the setting and the secret, its pending deliveries
 * pending webhooks again. An endpoint already sealed stays an endpoint: SQL cannot open its secret,
 * and the previous version delivers `alert.raised` to endpoints too. The old attempt log is not
 * restored.
 */
export class AlertsOnCallbacks1764002300000 implements MigrationInterface {
  name = 'AlertsOnCallbacks1764002300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sms_webhook_endpoints ALTER COLUMN secret_ciphertext DROP NOT NULL');
    await q.query('ALTER TABLE sms_webhook_endpoints ADD COLUMN secret_unsealed varchar(128)');
    await q.query(
      `ALTER TABLE sms_webhook_endpoints ADD CONSTRAINT sms_webhook_endpoints_one_secret
         CHECK (num_nonnulls(secret_ciphertext, secret_unsealed) = 1)`,
    );
    // A new secret has the shape of newSigningSecret(): whsec_ + 32 random bytes, base64url
    // (two v4 UUIDs from PostgreSQL's strong random source, 244 random bits, without pgcrypto).
    await q.query(`
      INSERT INTO sms_webhook_endpoints
        (id, tenant_id, url, description, secret_ciphertext, secret_unsealed, events, active, created_at, updated_at)
      SELECT gen_random_uuid(), t.id, t.settings->>'alert_webhook_url', 'alert_webhook_url (migrated)', NULL,
             COALESCE(s.secret, 'whsec_' || rtrim(translate(encode(decode(
               replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'),
               '+/', '-_'), '=')),
             ARRAY['alert.raised']::text[], true, now(), now()
        FROM tenants t
        LEFT JOIN sms_alert_secrets s ON s.tenant_id = t.id
       WHERE jsonb_typeof(t.settings->'alert_webhook_url') = 'string'
         AND NOT EXISTS (
           SELECT 1 FROM sms_webhook_endpoints e
            WHERE e.tenant_id = t.id AND e.url = t.settings->>'alert_webhook_url'
              AND e.active AND e.deleted_at IS NULL
              AND (e.events IS NULL OR 'alert.raised' = ANY (e.events)))`);
    // The payload is what CallbacksService.publish writes for alert.raised (AlertsService.raise).
    await q.query(`
      WITH pending AS MATERIALIZED (
        SELECT a.*, gen_random_uuid() AS ev_id, 'alert.raised:' || a.id AS ev_key,
               t.settings->>'alert_webhook_url' AS url
          FROM sms_alerts a JOIN tenants t ON t.id = a.tenant_id
         WHERE a.webhook_status = 'pending' AND jsonb_typeof(t.settings->'alert_webhook_url') = 'string'
      )
      INSERT INTO sms_webhook_deliveries
        (event_id, event_key, event_type, tenant_id, endpoint_id, url, payload, next_attempt_at, expires_at,
         created_at)
      SELECT COALESCE(prev.event_id, p.ev_id), p.ev_key, 'alert.raised', p.tenant_id, e.id, e.url,
             COALESCE(prev.payload, jsonb_build_object(
               'id', p.ev_id,
               'type', 'alert.raised',
               'created_at', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', jsonb_build_object(
                 'tenant_id', p.tenant_id,
                 'alert_id', p.id::text,
                 'kind', p.kind,
                 'period', p.period,
                 'threshold_pct', NULLIF(p.threshold_pct, 0),
                 'message', p.message,
                 'details', p.details))),
             now(), now() + interval '24 hours', now()
        FROM pending p
        JOIN LATERAL (
          SELECT e.id, e.url FROM sms_webhook_endpoints e
           WHERE e.tenant_id = p.tenant_id AND e.url = p.url AND e.active AND e.deleted_at IS NULL
             AND (e.events IS NULL OR 'alert.raised' = ANY (e.events))
           ORDER BY e.created_at, e.id LIMIT 1
        ) e ON true
        LEFT JOIN LATERAL (
          SELECT d.event_id, d.payload FROM sms_webhook_deliveries d
           WHERE d.event_key = p.ev_key ORDER BY d.id LIMIT 1
        ) prev ON true
      ON CONFLICT DO NOTHING`);
    await q.query(
      `UPDATE tenants SET settings = settings - 'alert_webhook_url' WHERE settings ? 'alert_webhook_url'`,
    );
    await q.query('DROP INDEX sms_alerts_webhook_due');
    await q.query(
      'ALTER TABLE sms_alerts DROP COLUMN webhook_status, DROP COLUMN webhook_attempts, DROP COLUMN next_attempt_at',
    );
    await q.query('DROP TABLE sms_alert_deliveries');
    await q.query('DROP TABLE sms_alert_secrets');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_alert_secrets (
        tenant_id integer PRIMARY KEY,
        secret varchar(128) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
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
      ALTER TABLE sms_alerts
        ADD COLUMN webhook_status varchar(16) NOT NULL DEFAULT 'none',
        ADD COLUMN webhook_attempts smallint NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at timestamptz NULL`);
    await q.query(
      `CREATE INDEX sms_alerts_webhook_due ON sms_alerts (next_attempt_at) WHERE webhook_status = 'pending'`,
    );
    // Only the migration writes secret_unsealed: these are the migrated endpoints never sealed.
    await q.query(`
      CREATE TEMPORARY TABLE migrated_unsealed AS
      SELECT DISTINCT ON (tenant_id) id, tenant_id, url, secret_unsealed
        FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL
       ORDER BY tenant_id, created_at, id`);
    await q.query(`
      UPDATE tenants t SET settings = jsonb_set(t.settings, '{alert_webhook_url}', to_jsonb(u.url))
        FROM migrated_unsealed u WHERE u.tenant_id = t.id`);
    await q.query(`
      INSERT INTO sms_alert_secrets (tenant_id, secret)
      SELECT tenant_id, secret_unsealed FROM migrated_unsealed ON CONFLICT (tenant_id) DO NOTHING`);
    await q.query(`
      UPDATE sms_alerts a SET webhook_status = 'pending', next_attempt_at = now()
        FROM sms_webhook_deliveries d JOIN migrated_unsealed u ON u.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.event_key = 'alert.raised:' || a.id`);
    await q.query(
      `DELETE FROM sms_webhook_deliveries WHERE endpoint_id IN (SELECT id FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL)`,
    );
    await q.query('DELETE FROM sms_webhook_endpoints WHERE secret_unsealed IS NOT NULL');
    await q.query('DROP TABLE migrated_unsealed');
    await q.query('ALTER TABLE sms_webhook_endpoints DROP CONSTRAINT sms_webhook_endpoints_one_secret');
    await q.query('ALTER TABLE sms_webhook_endpoints DROP COLUMN secret_unsealed');
    await q.query('ALTER TABLE sms_webhook_endpoints ALTER COLUMN secret_ciphertext SET NOT NULL');
  }
}
