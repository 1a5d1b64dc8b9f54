import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed callbacks to the platform (outbound webhooks).
 * - `sms_webhook_endpoints`: per tenant, a URL, its signing secret (AES-GCM with the data key,
 *   never stored in clear), an optional event filter (NULL: every event) and a soft delete.
 * - `sms_messages.status_callback_url`: an optional per-message URL.
 * - `sms_webhook_deliveries`: the durable outbox, one row per (event, target); `event_key` plus the
 *   target make an event exactly-once (`message:<id>:<status>` for status events).
 * - `sms_webhook_attempts`: every HTTP attempt (status code or error; never the response body).
 * - A trigger on `sms_messages` writes the outbox rows in the same statement as the status change,
 *   whoever changes the status (worker, receipts, sweeper, resolver, a manual UPDATE).
 */
export class WebhookCallbacks1764001400000 implements MigrationInterface {
  name = 'WebhookCallbacks1764001400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_webhook_endpoints (
        id uuid PRIMARY KEY,
        tenant_id integer NOT NULL REFERENCES tenants(id),
        url varchar(2000) NOT NULL,
        description varchar(200),
        secret_ciphertext text NOT NULL,
        events text[],
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX sms_webhook_endpoints_tenant ON sms_webhook_endpoints (tenant_id, created_at)
         WHERE deleted_at IS NULL`,
    );
    await q.query('ALTER TABLE sms_messages ADD COLUMN status_callback_url varchar(2000)');
    await q.query(`
      CREATE TABLE sms_webhook_deliveries (
        id bigserial PRIMARY KEY,
        event_id uuid NOT NULL,
        event_key varchar(200) NOT NULL,
        event_type varchar(40) NOT NULL,
        tenant_id integer NOT NULL,
        message_id uuid,
        endpoint_id uuid REFERENCES sms_webhook_endpoints(id),
        url varchar(2000) NOT NULL,
        payload jsonb NOT NULL,
        status varchar(12) NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours',
        last_attempt_at timestamptz,
        last_status_code integer,
        last_error varchar(500),
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sms_webhook_deliveries_status_check CHECK (status IN ('pending','delivered','failed'))
      )`);
    // Exactly once per (event, target): the per-message URL is the target when endpoint_id is NULL.
    await q.query(
      `CREATE UNIQUE INDEX sms_webhook_deliveries_once
         ON sms_webhook_deliveries (event_key, (COALESCE(endpoint_id::text, 'message-url')))`,
    );
    await q.query(
      `CREATE INDEX sms_webhook_deliveries_due ON sms_webhook_deliveries (next_attempt_at)
         WHERE status = 'pending'`,
    );
    await q.query(
      'CREATE INDEX sms_webhook_deliveries_tenant ON sms_webhook_deliveries (tenant_id, created_at DESC, id DESC)',
    );
    await q.query(
      'CREATE INDEX sms_webhook_deliveries_message ON sms_webhook_deliveries (message_id) WHERE message_id IS NOT NULL',
    );
    await q.query(`
      CREATE TABLE sms_webhook_attempts (
        id bigserial PRIMARY KEY,
        delivery_id bigint NOT NULL REFERENCES sms_webhook_deliveries(id) ON DELETE CASCADE,
        at timestamptz NOT NULL,
        status_code integer,
        error varchar(500),
        duration_ms integer NOT NULL
      )`);
    await q.query('CREATE INDEX sms_webhook_attempts_delivery ON sms_webhook_attempts (delivery_id, at)');
    await q.query(`
      CREATE FUNCTION sms_messages_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        ev_type text := 'message.' || NEW.status;
        ev_key text := 'message:' || NEW.id || ':' || NEW.status;
        ev_id uuid := gen_random_uuid();
        body jsonb;
      BEGIN
        IF NEW.status_callback_url IS NULL AND NOT EXISTS (
          SELECT 1 FROM sms_webhook_endpoints
           WHERE tenant_id = NEW.tenant_id AND active AND deleted_at IS NULL) THEN
          RETURN NULL;
        END IF;
        -- Never the body: a code message's text is a secret, and the status API has the rest.
        body := jsonb_build_object(
          'id', ev_id,
          'type', ev_type,
          'created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object(
            'message_id', NEW.id,
            'tenant_id', NEW.tenant_id,
            'status', NEW.status,
            'previous_status', OLD.status,
            'phone_number', NEW.phone_number,
            'message_type', NEW.message_type,
            'user_id', NEW.user_id,
            'batch_id', NEW.batch_id,
            'campaign_id', NEW.campaign_id,
            'provider', NEW.provider,
            'provider_message_id', NEW.provider_message_id,
            'segments', NEW.segments,
            'cost', NEW.cost,
            'currency', NEW.currency,
            'error_code', NEW.error_code,
            'sent_at', NEW.sent_at,
            'delivered_at', NEW.delivered_at));
        INSERT INTO sms_webhook_deliveries
          (event_id, event_key, event_type, tenant_id, message_id, endpoint_id, url, payload)
        SELECT ev_id, ev_key, ev_type, NEW.tenant_id, NEW.id, e.id, e.url, body
          FROM sms_webhook_endpoints e
         WHERE e.tenant_id = NEW.tenant_id AND e.active AND e.deleted_at IS NULL
           AND (e.events IS NULL OR ev_type = ANY (e.events))
        ON CONFLICT DO NOTHING;
        IF NEW.status_callback_url IS NOT NULL THEN
          INSERT INTO sms_webhook_deliveries
            (event_id, event_key, event_type, tenant_id, message_id, endpoint_id, url, payload)
          VALUES (ev_id, ev_key, ev_type, NEW.tenant_id, NEW.id, NULL, NEW.status_callback_url, body)
          ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER sms_messages_webhook_outbox AFTER UPDATE OF status ON sms_messages
        FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status
              AND NEW.status IN ('sent', 'delivered', 'failed', 'undelivered'))
        EXECUTE FUNCTION sms_messages_webhook_outbox()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER sms_messages_webhook_outbox ON sms_messages');
    await q.query('DROP FUNCTION sms_messages_webhook_outbox()');
    await q.query('DROP TABLE sms_webhook_attempts');
    await q.query('DROP TABLE sms_webhook_deliveries');
    await q.query('ALTER TABLE sms_messages DROP COLUMN status_callback_url');
    await q.query('DROP TABLE sms_webhook_endpoints');
  }
}
