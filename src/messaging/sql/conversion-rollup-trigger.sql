-- The conversion rollup kept by the ledger itself: a statement trigger on sms_messages appends,
-- for code messages (password_reset, 2fa_code) only, to sms_conversion_deltas (analytics folds and
-- reads them): each code message handed over (sent_at, delivered_at) or converted counts `sent`,
-- and `converted` in its time-to-convert bucket once converted_at is set; an UPDATE subtracts the
-- old rows' contributions and adds the new rows' (migration 1764003500000).
-- Fired by every UPDATE of sms_messages; the conversion itself is MessageConversions.markConverted.

-- object: function sms_conversion_rollup_on_update()
CREATE OR REPLACE FUNCTION public.sms_conversion_rollup_on_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN
        -- No code message of this statement was handed over or converted, before or after: the
        -- common case (every other type, and codes still waiting), one probe per side.
        IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.message_type IN ('password_reset', '2fa_code')
             AND (n.sent_at IS NOT NULL OR n.delivered_at IS NOT NULL OR n.converted_at IS NOT NULL))
           AND NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.message_type IN ('password_reset', '2fa_code')
             AND (o.sent_at IS NOT NULL OR o.delivered_at IS NOT NULL OR o.converted_at IS NOT NULL)) THEN
          RETURN NULL;
        END IF;
        -- Each old row's contribution out, each new row's in, grouped; unchanged rows cancel out.
        -- No join of the two transition tables: its row estimates are tiny, and a nested loop over
        -- a large statement would be quadratic.
        INSERT INTO sms_conversion_deltas (tenant_id, day, provider, country, message_type, created_by, convert_bucket, sent, converted)
        SELECT tenant_id, day, provider, country, message_type, created_by, convert_bucket, sum(sent), sum(converted)
          FROM (
            SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day, o.provider, o.country,
                   o.message_type, o.created_by,
                   CASE WHEN o.converted_at IS NOT NULL
                        THEN sms_latency_bucket('delivered',
                               CASE WHEN o.sent_at <= o.converted_at THEN o.sent_at ELSE o.created_at END,
                               o.converted_at)
                   END AS convert_bucket,
                   -1::bigint AS sent, -1 * (o.converted_at IS NOT NULL)::int::bigint AS converted FROM old_rows o WHERE o.message_type IN ('password_reset', '2fa_code')
             AND (o.sent_at IS NOT NULL OR o.delivered_at IS NOT NULL OR o.converted_at IS NOT NULL)
            UNION ALL
            SELECT n.tenant_id, (n.created_at AT TIME ZONE 'UTC')::date AS day, n.provider, n.country,
                   n.message_type, n.created_by,
                   CASE WHEN n.converted_at IS NOT NULL
                        THEN sms_latency_bucket('delivered',
                               CASE WHEN n.sent_at <= n.converted_at THEN n.sent_at ELSE n.created_at END,
                               n.converted_at)
                   END AS convert_bucket,
                   1::bigint AS sent, 1 * (n.converted_at IS NOT NULL)::int::bigint AS converted FROM new_rows n WHERE n.message_type IN ('password_reset', '2fa_code')
             AND (n.sent_at IS NOT NULL OR n.delivered_at IS NOT NULL OR n.converted_at IS NOT NULL)
          ) c
         GROUP BY tenant_id, day, provider, country, message_type, created_by, convert_bucket
        HAVING sum(sent) <> 0 OR sum(converted) <> 0;
        RETURN NULL;
      END $function$;

-- object: trigger sms_conversion_rollup
CREATE TRIGGER sms_conversion_rollup AFTER UPDATE ON public.sms_messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_conversion_rollup_on_update();
