-- The worker's claim: queued or due scheduled rows of active tenants to 'sending' (a deactivated
-- tenant's to 'canceled', one past its validity period to 'expired'), with their events; records
-- the provider the attempt is handed to first.
-- Called by DeliveryStore.claimMany (src/messaging/delivery/delivery-store.ts). The two-argument
-- form is for a worker of the previous release during a rolling deploy: it records NULL ("not
-- recorded"), so the resolver asks every provider about such a row.

-- object: function sms_claim_messages(uuid[], timestamp with time zone, character varying[])
CREATE OR REPLACE FUNCTION public.sms_claim_messages(p_ids uuid[], p_at timestamp with time zone, p_providers character varying[])
 RETURNS TABLE(id uuid, tenant_id integer, phone_number character varying, body text, body_ciphertext text, message_type character varying, attempts smallint, created_at timestamp with time zone, attempt_providers character varying[], expires_at timestamp with time zone, sender character varying, test_mode boolean, channel character varying, channel_params jsonb, whatsapp_mode character varying)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        WITH asked AS MATERIALIZED (
          SELECT m.id, m.tenant_id, m.status, m.scheduled_at, m.expires_at
            FROM sms_messages m WHERE m.id = ANY(p_ids)
        ), due AS (
          SELECT a.id, t.active, a.expires_at IS NOT NULL AND a.expires_at <= p_at AS stale
            FROM asked a JOIN tenants t ON t.id = a.tenant_id
           WHERE a.status = 'queued'
              OR (a.status = 'scheduled' AND a.scheduled_at <= p_at + interval '5 seconds')
        ), claimed AS (
          UPDATE sms_messages m SET status = 'sending', attempts = m.attempts + 1,
              attempt_providers = p_providers, updated_at = p_at
            FROM due WHERE m.id = due.id AND due.active AND NOT due.stale
             -- Each row is found by its key. Written IS NOT DISTINCT FROM (the same test on a NOT
             -- NULL column), the status re-checks cannot use sms_messages_pending: a partition whose
             -- statistics say it holds few waiting rows would otherwise have each row found by a
             -- scan of every waiting row (migration 1764019400000).
             AND (m.status IS NOT DISTINCT FROM 'queued'
                  OR (m.status IS NOT DISTINCT FROM 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))
           RETURNING m.id, m.tenant_id, m.phone_number, m.body, m.body_ciphertext, m.message_type,
                     m.attempts, m.created_at, m.attempt_providers, m.expires_at, m.sender, m.test_mode, m.channel, m.channel_params, m.whatsapp_mode
        ), canceled AS (
          UPDATE sms_messages m SET status = 'canceled', error_code = 'tenant_deactivated',
              error_message = 'the tenant was deactivated before the message was handed to a provider',
              body_ciphertext = NULL, updated_at = p_at
            FROM due WHERE m.id = due.id AND NOT due.active AND (m.status IS NOT DISTINCT FROM 'queued' OR m.status IS NOT DISTINCT FROM 'scheduled')
           RETURNING m.id
        ), expired AS (
          UPDATE sms_messages m SET status = 'expired', error_code = 'validity_expired',
              error_message = 'not handed to a provider within its validity period',
              body_ciphertext = NULL, updated_at = p_at
            FROM due WHERE m.id = due.id AND due.active AND due.stale AND (m.status IS NOT DISTINCT FROM 'queued' OR m.status IS NOT DISTINCT FROM 'scheduled')
           RETURNING m.id
        ), events AS (
          INSERT INTO sms_message_events (message_id, status, source, payload, at)
          SELECT c.id, 'sending', 'worker', jsonb_build_object('attempt', c.attempts), p_at FROM claimed c
          UNION ALL
          SELECT x.id, 'canceled', 'worker', '{"error_code":"tenant_deactivated"}'::jsonb, p_at FROM canceled x
          UNION ALL
          SELECT e.id, 'expired', 'worker', '{"error_code":"validity_expired"}'::jsonb, p_at FROM expired e
        )
        SELECT c.id, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type, c.attempts,
               c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode, c.channel, c.channel_params, c.whatsapp_mode
          FROM claimed c;
      END $function$;

-- object: function sms_claim_messages(uuid[], timestamp with time zone)
CREATE OR REPLACE FUNCTION public.sms_claim_messages(p_ids uuid[], p_at timestamp with time zone)
 RETURNS TABLE(id uuid, tenant_id integer, phone_number character varying, body text, body_ciphertext text, message_type character varying, attempts smallint, created_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT c.id, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type, c.attempts,
               c.created_at
          FROM sms_claim_messages(p_ids, p_at, NULL::varchar[]) AS c;
      END $function$;

