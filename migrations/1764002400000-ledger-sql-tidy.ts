import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The row-level outbox function `sms_messages_webhook_outbox()` has been dead since 1764001700000
 * replaced it with the per-statement `sms_messages_webhook_outbox_batch()`: nothing calls it. It
 * goes, so the ledger's functions and triggers are exactly those src/messaging/sql lists.
 * `down` restores it (1764001700000's own `down` needs it).
 */
export class LedgerSqlTidy1764002400000 implements MigrationInterface {
  name = 'LedgerSqlTidy1764002400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION sms_messages_webhook_outbox()');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE OR REPLACE FUNCTION public.sms_messages_webhook_outbox()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
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
      END $function$`);
  }
}
