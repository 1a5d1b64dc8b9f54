-- A worker slot's hand-over: records the outcomes as sms_record_outcomes does, then claims the next
-- messages as sms_claim_messages does, in one call. Called by DeliveryStore.recordAndClaimMany.
-- The 13-argument form is a previous release's (rolling deploy): its claims record NULL.

-- object: function sms_record_outcomes_and_claim(uuid[], character varying[], character varying[], character varying[], numeric[], character varying[], text[], text[], integer[], character varying[], timestamp with time zone, character varying[], uuid[], character varying[])
CREATE OR REPLACE FUNCTION public.sms_record_outcomes_and_claim(p_ids uuid[], p_statuses character varying[], p_providers character varying[], p_provider_message_ids character varying[], p_costs numeric[], p_error_codes character varying[], p_error_messages text[], p_tried text[], p_give_back integer[], p_currencies character varying[], p_at timestamp with time zone, p_parked_moves character varying[], p_claim_ids uuid[], p_claim_providers character varying[])
 RETURNS TABLE(id uuid, claimed boolean, tenant_id integer, phone_number character varying, body text, body_ciphertext text, message_type character varying, attempts smallint, created_at timestamp with time zone, attempt_providers character varying[], expires_at timestamp with time zone, sender character varying, test_mode boolean, channel character varying, channel_params jsonb, whatsapp_mode character varying)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT r.id, false, NULL::integer, NULL::varchar, NULL::text, NULL::text, NULL::varchar,
               NULL::smallint, NULL::timestamptz, NULL::varchar[], NULL::timestamptz, NULL::varchar,
               NULL::boolean, NULL::varchar, NULL::jsonb, NULL::varchar
          FROM sms_record_outcomes(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                                   p_error_codes, p_error_messages, p_tried, p_give_back,
                                   p_currencies, p_at, p_parked_moves) AS r(id);
        RETURN QUERY
        SELECT c.id, true, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type,
               c.attempts, c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode, c.channel, c.channel_params, c.whatsapp_mode
          FROM sms_claim_messages(p_claim_ids, p_at, p_claim_providers) AS c;
      END $function$;

-- object: function sms_record_outcomes_and_claim(uuid[], character varying[], character varying[], character varying[], numeric[], character varying[], text[], text[], integer[], character varying[], timestamp with time zone, character varying[], uuid[])
CREATE OR REPLACE FUNCTION public.sms_record_outcomes_and_claim(p_ids uuid[], p_statuses character varying[], p_providers character varying[], p_provider_message_ids character varying[], p_costs numeric[], p_error_codes character varying[], p_error_messages text[], p_tried text[], p_give_back integer[], p_currencies character varying[], p_at timestamp with time zone, p_parked_moves character varying[], p_claim_ids uuid[])
 RETURNS TABLE(id uuid, claimed boolean, tenant_id integer, phone_number character varying, body text, body_ciphertext text, message_type character varying, attempts smallint, created_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT r.id, false, NULL::integer, NULL::varchar, NULL::text, NULL::text, NULL::varchar,
               NULL::smallint, NULL::timestamptz
          FROM sms_record_outcomes(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                                   p_error_codes, p_error_messages, p_tried, p_give_back,
                                   p_currencies, p_at, p_parked_moves) AS r(id);
        RETURN QUERY
        SELECT c.id, true, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type,
               c.attempts, c.created_at
          FROM sms_claim_messages(p_claim_ids, p_at) AS c;
      END $function$;

