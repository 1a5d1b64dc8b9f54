import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The worker's claim (`sms_claim_messages`) and outcome write (`sms_record_outcomes`) find each row
 * by its primary key whatever the statistics say. Their status re-checks (`m.status = 'queued'`,
 * `= 'sending'`) matched `sms_messages_pending` (status, updated_at), so where a partition's
 * statistics counted few waiting rows (a month of mostly delivered messages, analysed before a bulk
 * arrived) the planner found each claimed row by a scan of every waiting row of the partition:
 * 850 ms for a claim of 50 from 2,250 queued rows over 300,000 delivered ones, against 3 ms by key.
 * The outcome write's bitmap scan of the same index visited every dead 'sending' entry left since
 * the last vacuum. Written `IS NOT DISTINCT FROM` (the same test: status is NOT NULL), the
 * re-checks cannot use an index. docs/BENCHMARKS.md, "A ledger with history".
 */
export class LedgerWritesByKey1764019400000 implements MigrationInterface {
  name = 'LedgerWritesByKey1764019400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(CLAIM);
    await q.query(RECORD);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(PREVIOUS_CLAIM);
    await q.query(PREVIOUS_RECORD);
  }
}

const CLAIM = `CREATE OR REPLACE FUNCTION public.sms_claim_messages(p_ids uuid[], p_at timestamp with time zone, p_providers character varying[])
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
      END $function$`;

const RECORD = `CREATE OR REPLACE FUNCTION public.sms_record_outcomes(p_ids uuid[], p_statuses character varying[], p_providers character varying[], p_provider_message_ids character varying[], p_costs numeric[], p_error_codes character varying[], p_error_messages text[], p_tried text[], p_give_back integer[], p_currencies character varying[], p_at timestamp with time zone, p_parked_moves character varying[])
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
      END $function$`;

/**
 * The two functions as migrations 1764014000000 (the claim) and 1764001800000 (the outcome write)
 * left them: the same text with the re-checks written plainly, as `down` restores them.
 */
function previous(text: string, changes: [now: string, before: string][]): string {
  return changes.reduce((t, [now, before]) => {
    if (!t.includes(now)) throw new Error(`LedgerWritesByKey: "${now.slice(0, 60)}" not found`);
    return t.split(now).join(before);
  }, text);
}

const PREVIOUS_CLAIM = previous(CLAIM, [
  [
    `             -- Each row is found by its key. Written IS NOT DISTINCT FROM (the same test on a NOT
             -- NULL column), the status re-checks cannot use sms_messages_pending: a partition whose
             -- statistics say it holds few waiting rows would otherwise have each row found by a
             -- scan of every waiting row (migration 1764019400000).
             AND (m.status IS NOT DISTINCT FROM 'queued'
                  OR (m.status IS NOT DISTINCT FROM 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))`,
    `             AND (m.status = 'queued'
                  OR (m.status = 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))`,
  ],
  [
    `(m.status IS NOT DISTINCT FROM 'queued' OR m.status IS NOT DISTINCT FROM 'scheduled')`,
    `m.status IN ('queued', 'scheduled')`,
  ],
]);

const PREVIOUS_RECORD = previous(RECORD, [
  [
    `          -- By key: IS NOT DISTINCT FROM keeps sms_messages_pending out of it, whose dead 'sending'
          -- entries a bitmap scan would visit on every call until a vacuum (migration 1764019400000).
          WHERE m.id = v.id AND m.status IS NOT DISTINCT FROM 'sending'`,
    `          WHERE m.id = v.id AND m.status = 'sending'`,
  ],
]);
