-- The stats rollup kept by the ledger itself: statement triggers on sms_messages append each
-- statement's grouped contributions to sms_rollup_deltas (analytics folds and reads them).
-- Fired by every INSERT and UPDATE of sms_messages. sms_latency_bucket: bucket b ≥ 1 is
-- [100·2^((b-1)/4), 100·2^(b/4)) ms, 0 under 100 ms, 96 open-ended, by a lookup of each bucket's
-- first microsecond (migration 1764002800000; the same buckets as the logarithm before it).

-- object: function sms_latency_bucket(character varying, timestamp with time zone, timestamp with time zone)
CREATE OR REPLACE FUNCTION public.sms_latency_bucket(status character varying, sent_at timestamp with time zone, delivered_at timestamp with time zone)
 RETURNS smallint
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE
AS $function$
        SELECT CASE
          WHEN status <> 'delivered' OR sent_at IS NULL OR delivered_at IS NULL THEN NULL
          ELSE width_bucket((extract(epoch FROM delivered_at - sent_at) * 1000000)::bigint,
                            '{100000,118921,141422,168180,200000,237842,282843,336359,400000,475683,565686,672718,800000,951366,1131371,1345435,1600000,1902732,2262742,2690869,3200000,3805463,4525484,5381738,6400000,7610926,9050967,10763475,12800000,15221852,18101934,21526949,25600000,30443703,36203868,43053897,51200000,60887405,72407735,86107793,102400000,121774809,144815469,172215586,204800000,243549618,289630938,344431172,409600000,487099235,579261876,688862344,819200000,974198469,1158523751,1377724687,1638400000,1948396938,2317047501,2755449374,3276800000,3896793875,4634095002,5510898748,6553600000,7793587749,9268190003,11021797495,13107200000,15587175498,18536380005,22043594989,26214400000,31174350996,37072760010,44087189977,52428800000,62348701992,74145520019,88174379953,104857600000,124697403983,148291040038,176348759905,209715200000,249394807965,296582080076,352697519809,419430400000,498789615929,593164160152,705395039617,838860800000,997579231857,1186328320304,1410790079234}'::bigint[])::smallint
        END
      $function$;

-- object: function sms_rollup_on_insert()
CREATE OR REPLACE FUNCTION public.sms_rollup_on_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN
        INSERT INTO sms_rollup_deltas (tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket, messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated)
        SELECT tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket, sum(messages) AS messages, sum(segments) AS segments,
  sum(estimated_cost) AS estimated_cost, sum(actual_cost) AS actual_cost,
  sum(actual_messages) AS actual_messages, sum(actual_estimated) AS actual_estimated FROM (SELECT n.tenant_id, (n.created_at AT TIME ZONE 'UTC')::date AS day, n.provider,
    n.message_type, n.status, n.language, n.campaign_id, n.created_by,
    n.currency,
    sms_latency_bucket(n.status, n.sent_at, n.delivered_at) AS latency_bucket,
    1::bigint AS messages, 1 * n.segments::bigint AS segments,
    1 * coalesce(n.estimated_cost, 0) AS estimated_cost,
    1 * coalesce(n.cost, 0) AS actual_cost,
    1 * (n.cost IS NOT NULL)::int::bigint AS actual_messages,
    1 * CASE WHEN n.cost IS NOT NULL THEN coalesce(n.estimated_cost, 0) ELSE 0 END
      AS actual_estimated FROM new_rows n) c
        GROUP BY tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket;
        RETURN NULL;
      END $function$;

-- object: function sms_rollup_on_update()
CREATE OR REPLACE FUNCTION public.sms_rollup_on_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN
        IF (SELECT count(*) FROM new_rows) = 1 THEN
          INSERT INTO sms_rollup_deltas (tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket, messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated)
          SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day, o.provider,
    o.message_type, o.status, o.language, o.campaign_id, o.created_by,
    o.currency,
    sms_latency_bucket(o.status, o.sent_at, o.delivered_at) AS latency_bucket,
    -1::bigint AS messages, -1 * o.segments::bigint AS segments,
    -1 * coalesce(o.estimated_cost, 0) AS estimated_cost,
    -1 * coalesce(o.cost, 0) AS actual_cost,
    -1 * (o.cost IS NOT NULL)::int::bigint AS actual_messages,
    -1 * CASE WHEN o.cost IS NOT NULL THEN coalesce(o.estimated_cost, 0) ELSE 0 END
      AS actual_estimated FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (o.tenant_id, o.created_at, o.provider, o.message_type, o.status, o.language, o.campaign_id, o.created_by, o.currency, o.sent_at, o.delivered_at, o.segments, o.estimated_cost, o.cost) IS DISTINCT FROM (n.tenant_id, n.created_at, n.provider, n.message_type, n.status, n.language, n.campaign_id, n.created_by, n.currency, n.sent_at, n.delivered_at, n.segments, n.estimated_cost, n.cost)
          UNION ALL
          SELECT n.tenant_id, (n.created_at AT TIME ZONE 'UTC')::date AS day, n.provider,
    n.message_type, n.status, n.language, n.campaign_id, n.created_by,
    n.currency,
    sms_latency_bucket(n.status, n.sent_at, n.delivered_at) AS latency_bucket,
    1::bigint AS messages, 1 * n.segments::bigint AS segments,
    1 * coalesce(n.estimated_cost, 0) AS estimated_cost,
    1 * coalesce(n.cost, 0) AS actual_cost,
    1 * (n.cost IS NOT NULL)::int::bigint AS actual_messages,
    1 * CASE WHEN n.cost IS NOT NULL THEN coalesce(n.estimated_cost, 0) ELSE 0 END
      AS actual_estimated FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (o.tenant_id, o.created_at, o.provider, o.message_type, o.status, o.language, o.campaign_id, o.created_by, o.currency, o.sent_at, o.delivered_at, o.segments, o.estimated_cost, o.cost) IS DISTINCT FROM (n.tenant_id, n.created_at, n.provider, n.message_type, n.status, n.language, n.campaign_id, n.created_by, n.currency, n.sent_at, n.delivered_at, n.segments, n.estimated_cost, n.cost);
          RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (o.tenant_id, o.created_at, o.provider, o.message_type, o.status, o.language, o.campaign_id, o.created_by, o.currency, o.sent_at, o.delivered_at, o.segments, o.estimated_cost, o.cost) IS DISTINCT FROM (n.tenant_id, n.created_at, n.provider, n.message_type, n.status, n.language, n.campaign_id, n.created_by, n.currency, n.sent_at, n.delivered_at, n.segments, n.estimated_cost, n.cost)) THEN
          RETURN NULL;
        END IF;
        INSERT INTO sms_rollup_deltas (tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket, messages, segments, estimated_cost, actual_cost, actual_messages, actual_estimated)
        SELECT tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket, sum(messages), sum(segments), sum(estimated_cost), sum(actual_cost),
               sum(actual_messages), sum(actual_estimated)
          FROM (
            SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day, o.provider,
    o.message_type, o.status, o.language, o.campaign_id, o.created_by,
    o.currency,
    sms_latency_bucket(o.status, o.sent_at, o.delivered_at) AS latency_bucket,
    -1::bigint AS messages, -1 * o.segments::bigint AS segments,
    -1 * coalesce(o.estimated_cost, 0) AS estimated_cost,
    -1 * coalesce(o.cost, 0) AS actual_cost,
    -1 * (o.cost IS NOT NULL)::int::bigint AS actual_messages,
    -1 * CASE WHEN o.cost IS NOT NULL THEN coalesce(o.estimated_cost, 0) ELSE 0 END
      AS actual_estimated FROM old_rows o
            UNION ALL
            SELECT n.tenant_id, (n.created_at AT TIME ZONE 'UTC')::date AS day, n.provider,
    n.message_type, n.status, n.language, n.campaign_id, n.created_by,
    n.currency,
    sms_latency_bucket(n.status, n.sent_at, n.delivered_at) AS latency_bucket,
    1::bigint AS messages, 1 * n.segments::bigint AS segments,
    1 * coalesce(n.estimated_cost, 0) AS estimated_cost,
    1 * coalesce(n.cost, 0) AS actual_cost,
    1 * (n.cost IS NOT NULL)::int::bigint AS actual_messages,
    1 * CASE WHEN n.cost IS NOT NULL THEN coalesce(n.estimated_cost, 0) ELSE 0 END
      AS actual_estimated FROM new_rows n
          ) c
         GROUP BY tenant_id, day, provider, message_type, status, language, campaign_id, created_by, currency, latency_bucket
        HAVING sum(messages) <> 0 OR sum(segments) <> 0 OR sum(estimated_cost) <> 0
            OR sum(actual_cost) <> 0 OR sum(actual_messages) <> 0 OR sum(actual_estimated) <> 0;
        RETURN NULL;
      END $function$;

-- object: trigger sms_rollup_insert
CREATE TRIGGER sms_rollup_insert AFTER INSERT ON public.sms_messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_rollup_on_insert();

-- object: trigger sms_rollup_update
CREATE TRIGGER sms_rollup_update AFTER UPDATE ON public.sms_messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sms_rollup_on_update();

