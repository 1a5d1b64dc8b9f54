import { MigrationInterface, QueryRunner } from 'typeorm';

const CLAIM_RETURNS = `id uuid, tenant_id integer, phone_number varchar, body text, body_ciphertext text,
                     message_type varchar, attempts smallint, created_at timestamptz,
                     attempt_providers varchar[], expires_at timestamptz, sender varchar,
                     test_mode boolean`;

const RECORD_AND_CLAIM_ARGS =
  'uuid[], varchar[], varchar[], varchar[], numeric[], varchar[], text[], text[], int[], varchar[], timestamptz, varchar[], uuid[], varchar[]';

/**
 * What issue 22 (delivery quality) needs on the ledger, in one place:
 * - `expires_at`: the validity period's end (a message not handed to a provider by then ends
 *   `expired`: never sent, never charged). NULL: no validity.
 * - `sender`: the sender identity chosen at accept (an alphanumeric sender ID, a number, or a
 *   Messaging Service SID), shown in status and history and handed to the provider. NULL: the
 *   provider's configured default.
 * - `test_mode`: accepted with a test-mode token or for a test-mode tenant: the worker hands it to
 *   the sandbox provider, never to a real one, and it costs nothing.
 * - `converted_at`: when a verification check succeeded on the code this message carried.
 * - the status `expired`, terminal.
 *
 * The claim (`sms_claim_messages(ids, at, providers)`) ends a due row whose `expires_at` has
 * passed as `expired` (error_code `validity_expired`) with its event, in the claiming statement,
 * and returns the three new columns; the hand-over (`sms_record_outcomes_and_claim`, 14
 * arguments) returns them too. Their return types change, so both are dropped and created again
 * (same arguments). The previous release's forms (2 and 13 arguments) call these and pick their
 * own columns, so they keep working during a rolling deploy (an old worker never sees `expired`
 * rows: the claim it calls ends them first).
 *
 * The callbacks outbox trigger now also reports `message.expired`, and its payload carries
 * `sender` and `test_mode`.
 *
 * New nullable columns and a constant default: no table rewrite.
 */
export class DeliveryQualityColumns1764002900000 implements MigrationInterface {
  name = 'DeliveryQualityColumns1764002900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sms_messages
      ADD COLUMN expires_at timestamptz,
      ADD COLUMN sender varchar(64),
      ADD COLUMN test_mode boolean NOT NULL DEFAULT false,
      ADD COLUMN converted_at timestamptz`);
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_status_check');
    await q.query(`ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
      ('scheduled','queued','sending','unknown','sent','delivered','undelivered','failed','canceled','expired'))`);

    await q.query(`DROP FUNCTION sms_record_outcomes_and_claim(${RECORD_AND_CLAIM_ARGS})`);
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz, varchar[])');
    await q.query(`
      CREATE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz, p_providers varchar[])
      RETURNS TABLE (${CLAIM_RETURNS})
      LANGUAGE plpgsql VOLATILE AS $$
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
             AND (m.status = 'queued'
                  OR (m.status = 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))
           RETURNING m.id, m.tenant_id, m.phone_number, m.body, m.body_ciphertext, m.message_type,
                     m.attempts, m.created_at, m.attempt_providers, m.expires_at, m.sender, m.test_mode
        ), canceled AS (
          UPDATE sms_messages m SET status = 'canceled', error_code = 'tenant_deactivated',
              error_message = 'the tenant was deactivated before the message was handed to a provider',
              body_ciphertext = NULL, updated_at = p_at
            FROM due WHERE m.id = due.id AND NOT due.active AND m.status IN ('queued', 'scheduled')
           RETURNING m.id
        ), expired AS (
          UPDATE sms_messages m SET status = 'expired', error_code = 'validity_expired',
              error_message = 'not handed to a provider within its validity period',
              body_ciphertext = NULL, updated_at = p_at
            FROM due WHERE m.id = due.id AND due.active AND due.stale AND m.status IN ('queued', 'scheduled')
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
               c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode
          FROM claimed c;
      END $$`);
    await q.query(`
      CREATE FUNCTION sms_record_outcomes_and_claim(
        p_ids uuid[], p_statuses varchar[], p_providers varchar[], p_provider_message_ids varchar[],
        p_costs numeric[], p_error_codes varchar[], p_error_messages text[], p_tried text[],
        p_give_back int[], p_currencies varchar[], p_at timestamptz, p_parked_moves varchar[],
        p_claim_ids uuid[], p_claim_providers varchar[]
      ) RETURNS TABLE (id uuid, claimed boolean, tenant_id integer, phone_number varchar, body text,
                       body_ciphertext text, message_type varchar, attempts smallint,
                       created_at timestamptz, attempt_providers varchar[], expires_at timestamptz,
                       sender varchar, test_mode boolean)
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT r.id, false, NULL::integer, NULL::varchar, NULL::text, NULL::text, NULL::varchar,
               NULL::smallint, NULL::timestamptz, NULL::varchar[], NULL::timestamptz, NULL::varchar,
               NULL::boolean
          FROM sms_record_outcomes(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                                   p_error_codes, p_error_messages, p_tried, p_give_back,
                                   p_currencies, p_at, p_parked_moves) AS r(id);
        RETURN QUERY
        SELECT c.id, true, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type,
               c.attempts, c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode
          FROM sms_claim_messages(p_claim_ids, p_at, p_claim_providers) AS c;
      END $$`);
    await q.query(outboxTriggerFunction(`'sent', 'delivered', 'failed', 'undelivered', 'expired'`, true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(outboxTriggerFunction(`'sent', 'delivered', 'failed', 'undelivered'`, false));
    await q.query(`DROP FUNCTION sms_record_outcomes_and_claim(${RECORD_AND_CLAIM_ARGS})`);
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz, varchar[])');
    await q.query(`
      CREATE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz, p_providers varchar[])
      RETURNS TABLE (id uuid, tenant_id integer, phone_number varchar, body text, body_ciphertext text,
                     message_type varchar, attempts smallint, created_at timestamptz,
                     attempt_providers varchar[])
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        WITH asked AS MATERIALIZED (
          SELECT m.id, m.tenant_id, m.status, m.scheduled_at FROM sms_messages m WHERE m.id = ANY(p_ids)
        ), due AS (
          SELECT a.id, t.active FROM asked a JOIN tenants t ON t.id = a.tenant_id
           WHERE a.status = 'queued'
              OR (a.status = 'scheduled' AND a.scheduled_at <= p_at + interval '5 seconds')
        ), claimed AS (
          UPDATE sms_messages m SET status = 'sending', attempts = m.attempts + 1,
              attempt_providers = p_providers, updated_at = p_at
            FROM due WHERE m.id = due.id AND due.active
             AND (m.status = 'queued'
                  OR (m.status = 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))
           RETURNING m.id, m.tenant_id, m.phone_number, m.body, m.body_ciphertext, m.message_type,
                     m.attempts, m.created_at, m.attempt_providers
        ), canceled AS (
          UPDATE sms_messages m SET status = 'canceled', error_code = 'tenant_deactivated',
              error_message = 'the tenant was deactivated before the message was handed to a provider',
              body_ciphertext = NULL, updated_at = p_at
            FROM due WHERE m.id = due.id AND NOT due.active AND m.status IN ('queued', 'scheduled')
           RETURNING m.id
        ), events AS (
          INSERT INTO sms_message_events (message_id, status, source, payload, at)
          SELECT c.id, 'sending', 'worker', jsonb_build_object('attempt', c.attempts), p_at FROM claimed c
          UNION ALL
          SELECT x.id, 'canceled', 'worker', '{"error_code":"tenant_deactivated"}'::jsonb, p_at FROM canceled x
        )
        SELECT c.id, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type, c.attempts,
               c.created_at, c.attempt_providers
          FROM claimed c;
      END $$`);
    await q.query(`
      CREATE FUNCTION sms_record_outcomes_and_claim(
        p_ids uuid[], p_statuses varchar[], p_providers varchar[], p_provider_message_ids varchar[],
        p_costs numeric[], p_error_codes varchar[], p_error_messages text[], p_tried text[],
        p_give_back int[], p_currencies varchar[], p_at timestamptz, p_parked_moves varchar[],
        p_claim_ids uuid[], p_claim_providers varchar[]
      ) RETURNS TABLE (id uuid, claimed boolean, tenant_id integer, phone_number varchar, body text,
                       body_ciphertext text, message_type varchar, attempts smallint,
                       created_at timestamptz, attempt_providers varchar[])
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT r.id, false, NULL::integer, NULL::varchar, NULL::text, NULL::text, NULL::varchar,
               NULL::smallint, NULL::timestamptz, NULL::varchar[]
          FROM sms_record_outcomes(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                                   p_error_codes, p_error_messages, p_tried, p_give_back,
                                   p_currencies, p_at, p_parked_moves) AS r(id);
        RETURN QUERY
        SELECT c.id, true, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type,
               c.attempts, c.created_at, c.attempt_providers
          FROM sms_claim_messages(p_claim_ids, p_at, p_claim_providers) AS c;
      END $$`);
    await q.query(`UPDATE sms_messages SET status = 'failed' WHERE status = 'expired'`);
    await q.query('ALTER TABLE sms_messages DROP CONSTRAINT IF EXISTS sms_messages_status_check');
    await q.query(`ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_status_check CHECK (status IN
      ('scheduled','queued','sending','unknown','sent','delivered','undelivered','failed','canceled'))`);
    await q.query(`ALTER TABLE sms_messages DROP COLUMN expires_at, DROP COLUMN sender,
      DROP COLUMN test_mode, DROP COLUMN converted_at`);
  }
}

/** The callbacks outbox trigger's function, reporting changes to `statuses`. */
function outboxTriggerFunction(statuses: string, withSender: boolean): string {
  const extra = withSender
    ? `,
              'sender', sender,
              'test_mode', test_mode`
    : '';
  return `
      CREATE OR REPLACE FUNCTION sms_messages_webhook_outbox_batch() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        -- Nobody to tell: the common case, one probe per changed row, no row-level trigger calls.
        IF NOT EXISTS (
          SELECT 1 FROM new_rows n
           WHERE n.status IN (${statuses})
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
             AND n.status IN (${statuses})
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
              'delivered_at', delivered_at${extra})) AS payload
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
      END $$`;
}
