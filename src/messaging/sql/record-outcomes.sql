-- The worker's outcome write: takes the receipt locks of the sent messages, then records each
-- outcome on a row still 'sending', applies receipts parked for it, writes the events and deletes
-- the parked rows. Called by DeliveryStore.recordMany (src/messaging/delivery/delivery-store.ts).

-- object: function sms_record_outcomes(uuid[], character varying[], character varying[], character varying[], numeric[], character varying[], text[], text[], integer[], character varying[], timestamp with time zone, character varying[])
CREATE OR REPLACE FUNCTION public.sms_record_outcomes(p_ids uuid[], p_statuses character varying[], p_providers character varying[], p_provider_message_ids character varying[], p_costs numeric[], p_error_codes character varying[], p_error_messages text[], p_tried text[], p_give_back integer[], p_currencies character varying[], p_at timestamp with time zone, p_parked_moves character varying[])
 RETURNS SETOF uuid
 LANGUAGE plpgsql
AS $function$
      BEGIN
        -- The keys a receipt locks before it looks for its message or parks (SystemMessagesRepository).
        PERFORM pg_advisory_xact_lock(k) FROM (
          SELECT DISTINCT hashtextextended(x.p || ':' || x.i, 0) AS k
            FROM unnest(p_statuses, p_providers, p_provider_message_ids) AS x(s, p, i)
           WHERE x.s = 'sent'
           ORDER BY 1) locks;
        RETURN QUERY
        WITH v AS (
          SELECT * FROM unnest(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                               p_error_codes, p_error_messages, p_tried, p_give_back, p_currencies)
            AS v(id, status, provider, provider_message_id, cost, error_code, error_message, tried,
                 give_back, currency)
        ), parked AS (
          SELECT p.provider, p.provider_message_id, p.status, p.payload, p.received_at
            FROM sms_parked_receipts p JOIN v ON v.status = 'sent'
             AND p.provider = v.provider AND p.provider_message_id = v.provider_message_id
        ), last_parked AS (
          -- The receipt that moves the message: the latest one the machine allows from 'sent'.
          SELECT DISTINCT ON (provider, provider_message_id) *
            FROM parked WHERE status = ANY(p_parked_moves)
           ORDER BY provider, provider_message_id, received_at DESC
        ), updated AS (
          UPDATE sms_messages m SET
            status = COALESCE(lp.status, v.status),
            provider = COALESCE(v.provider, m.provider),
            provider_message_id = COALESCE(v.provider_message_id, m.provider_message_id),
            cost = COALESCE(abs((lp.payload->>'price')::numeric), v.cost, m.cost),
            currency = COALESCE(upper(left(lp.payload->>'priceUnit', 3)), v.currency, m.currency),
            attempts = m.attempts - v.give_back,
            sent_at = CASE WHEN v.status = 'sent' THEN p_at ELSE m.sent_at END,
            delivered_at = CASE WHEN lp.status = 'delivered' THEN lp.received_at ELSE m.delivered_at END,
            error_code = CASE WHEN v.status = 'sent'
              THEN CASE WHEN lp.payload->>'errorCode' IS NOT NULL
                        THEN left(lp.provider || ':' || (lp.payload->>'errorCode'), 100) END
              ELSE v.error_code END,
            error_message = CASE WHEN v.status = 'sent' THEN NULL ELSE v.error_message END,
            body_ciphertext = CASE WHEN v.status IN ('queued', 'unknown') THEN m.body_ciphertext ELSE NULL END,
            updated_at = p_at
          FROM v LEFT JOIN last_parked lp
            ON lp.provider = v.provider AND lp.provider_message_id = v.provider_message_id
          -- By key: IS NOT DISTINCT FROM keeps sms_messages_pending out of it, whose dead 'sending'
          -- entries a bitmap scan would visit on every call until a vacuum (migration 1764019400000).
          WHERE m.id = v.id AND m.status IS NOT DISTINCT FROM 'sending'
          RETURNING m.id, v.status, v.error_code, v.tried, v.provider, v.provider_message_id
        ), events AS (
          INSERT INTO sms_message_events (message_id, status, source, payload, at)
          SELECT u.id, u.status, 'worker',
                 jsonb_strip_nulls(jsonb_build_object('error_code', u.error_code, 'tried', u.tried::jsonb)), p_at
            FROM updated u
          UNION ALL
          SELECT u.id, COALESCE(p.status, 'sent'), COALESCE(p.payload->>'source', 'receipt'),
                 jsonb_strip_nulls(jsonb_build_object(
                   'provider_status', p.payload->>'providerStatus', 'parked', true,
                   'applied', p.status = ANY(p_parked_moves), 'error_code', p.payload->>'errorCode')),
                 p.received_at
            FROM updated u JOIN parked p
              ON p.provider = u.provider AND p.provider_message_id = u.provider_message_id
        ), unparked AS (
          DELETE FROM sms_parked_receipts p USING updated u
           WHERE p.provider = u.provider AND p.provider_message_id = u.provider_message_id
        )
        SELECT u.id FROM updated u;
      END $function$;

