import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `message.*` callbacks name the message's channel (`sms`, `whatsapp`, `mms`: issue 25), so a
 * platform can tell a WhatsApp event from an SMS one. The outbox trigger's function with one more
 * field in `data`; src/messaging/sql/webhook-outbox-trigger.sql is its source.
 */
export class CallbacksNameChannel1764019200000 implements MigrationInterface {
  name = 'CallbacksNameChannel1764019200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(WITH_CHANNEL);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(WITHOUT_CHANNEL);
  }
}

const WITH_CHANNEL = `CREATE OR REPLACE FUNCTION public.sms_messages_webhook_outbox_batch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN
        -- Nobody to tell: the common case, one probe per changed row, no row-level trigger calls.
        IF NOT EXISTS (
          SELECT 1 FROM new_rows n
           WHERE n.status IN ('sent', 'delivered', 'failed', 'undelivered', 'expired')
             AND (n.status_callback_url IS NOT NULL
                  OR EXISTS (SELECT 1 FROM sms_webhook_endpoints e
                              WHERE e.tenant_id = n.tenant_id AND e.active AND e.deleted_at IS NULL))) THEN
          RETURN NULL;
        END IF;
        WITH ev AS MATERIALIZED (
          SELECT n.*, o.status AS previous_status, gen_random_uuid() AS ev_id,
                 'message.' || n.status AS ev_type, 'message:' || n.id || ':' || n.status AS ev_key
            FROM new_rows n JOIN old_rows o ON o.id = n.id
           WHERE o.status IS DISTINCT FROM n.status
             AND n.status IN ('sent', 'delivered', 'failed', 'undelivered', 'expired')
        ), body AS MATERIALIZED (
          -- Never the body: a code message's text is a secret, and the status API has the rest.
          SELECT ev.*, jsonb_build_object(
            'id', ev_id,
            'type', ev_type,
            'created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'data', jsonb_build_object(
              'message_id', id,
              'tenant_id', tenant_id,
              'status', status,
              'previous_status', previous_status,
              'phone_number', phone_number,
              'message_type', message_type,
              'user_id', user_id,
              'batch_id', batch_id,
              'campaign_id', campaign_id,
              'provider', provider,
              'provider_message_id', provider_message_id,
              'segments', segments,
              'cost', cost,
              'currency', currency,
              'error_code', error_code,
              'sent_at', sent_at,
              'delivered_at', delivered_at,
              'sender', sender,
              'test_mode', test_mode,
              'channel', channel)) AS payload
            FROM ev
        )
        INSERT INTO sms_webhook_deliveries
          (event_id, event_key, event_type, tenant_id, message_id, endpoint_id, url, payload)
        SELECT b.ev_id, b.ev_key, b.ev_type, b.tenant_id, b.id, e.id, e.url, b.payload
          FROM body b JOIN sms_webhook_endpoints e
            ON e.tenant_id = b.tenant_id AND e.active AND e.deleted_at IS NULL
           AND (e.events IS NULL OR b.ev_type = ANY (e.events))
        UNION ALL
        SELECT b.ev_id, b.ev_key, b.ev_type, b.tenant_id, b.id, NULL, b.status_callback_url, b.payload
          FROM body b WHERE b.status_callback_url IS NOT NULL
        ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $function$;`;

/** The function as `1764002900000-delivery-quality-columns` left it: the same without `channel`. */
const WITHOUT_CHANNEL = WITH_CHANNEL.replace(
  `'test_mode', test_mode,
              'channel', channel)) AS payload`,
  `'test_mode', test_mode)) AS payload`,
);
