import { MigrationInterface, QueryRunner } from 'typeorm';

const CLAIM_RETURNS = `id uuid, tenant_id integer, phone_number varchar, body text, body_ciphertext text,
                     message_type varchar, attempts smallint, created_at timestamptz,
                     attempt_providers varchar[], expires_at timestamptz, sender varchar,
                     test_mode boolean`;
const CHANNEL_RETURNS = 'channel varchar, channel_params jsonb, whatsapp_mode varchar';

const RECORD_AND_CLAIM_ARGS =
  'uuid[], varchar[], varchar[], varchar[], numeric[], varchar[], text[], text[], int[], varchar[], timestamptz, varchar[], uuid[], varchar[]';

/** The claim as migration 1764002900000 defined it, returning `extra` columns after its own. */
function claimFunction(returns: string, returning: string, selected: string): string {
  return `
      CREATE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz, p_providers varchar[])
      RETURNS TABLE (${returns})
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
                     m.attempts, m.created_at, m.attempt_providers, m.expires_at, m.sender, m.test_mode${returning}
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
               c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode${selected}
          FROM claimed c;
      END $$`;
}

function recordAndClaimFunction(returns: string, nulls: string, selected: string): string {
  return `
      CREATE FUNCTION sms_record_outcomes_and_claim(
        p_ids uuid[], p_statuses varchar[], p_providers varchar[], p_provider_message_ids varchar[],
        p_costs numeric[], p_error_codes varchar[], p_error_messages text[], p_tried text[],
        p_give_back int[], p_currencies varchar[], p_at timestamptz, p_parked_moves varchar[],
        p_claim_ids uuid[], p_claim_providers varchar[]
      ) RETURNS TABLE (id uuid, claimed boolean, tenant_id integer, phone_number varchar, body text,
                       body_ciphertext text, message_type varchar, attempts smallint,
                       created_at timestamptz, attempt_providers varchar[], expires_at timestamptz,
                       sender varchar, test_mode boolean${returns})
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT r.id, false, NULL::integer, NULL::varchar, NULL::text, NULL::text, NULL::varchar,
               NULL::smallint, NULL::timestamptz, NULL::varchar[], NULL::timestamptz, NULL::varchar,
               NULL::boolean${nulls}
          FROM sms_record_outcomes(p_ids, p_statuses, p_providers, p_provider_message_ids, p_costs,
                                   p_error_codes, p_error_messages, p_tried, p_give_back,
                                   p_currencies, p_at, p_parked_moves) AS r(id);
        RETURN QUERY
        SELECT c.id, true, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type,
               c.attempts, c.created_at, c.attempt_providers, c.expires_at, c.sender, c.test_mode${selected}
          FROM sms_claim_messages(p_claim_ids, p_at, p_claim_providers) AS c;
      END $$`;
}

/**
 * Issue 25, item 1: channels (docs/sending.md#channels).
 * - `sms_messages.channel` (`sms` | `whatsapp` | `mms`, default `sms`); `channel_params` (what
 *   the channel's wire format needs: `media_urls`, `content_sid`, `content_variables`);
 *   `whatsapp_mode` (`session` | `template`: which applied); the WhatsApp → SMS fallback:
 *   `fallback_channel` (asked for), `fallback_reason` (why it went, or why it could not: set once,
 *   by the conditional UPDATE that makes the fallback exactly once), `fallback_message_id` (the
 *   SMS sent instead) and, on that SMS, `fallback_of` (the WhatsApp message it replaces).
 *   Plain ADD COLUMN, constant defaults: no table rewrite.
 * - the claim and the slot hand-over return `channel`, `channel_params` and `whatsapp_mode` (their
 *   return types change: dropped and created again with the same arguments; the previous
 *   release's forms pick their own columns and keep working).
 * - `sms_whatsapp_sessions`: when a recipient last wrote to one of our WhatsApp senders (the
 *   24-hour customer service window).
 * - `sms_inbound_messages.channel`; `sms_templates.channel` and `content_sid`;
 *   `sms_campaigns.channel_options` (a campaign's channel fields); prices per channel
 *   (`sms_prices.channel`, the key becomes provider, channel, country).
 */
export class MessageChannels1764014000000 implements MigrationInterface {
  name = 'MessageChannels1764014000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sms_messages ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'sms'`);
    await q.query('ALTER TABLE sms_messages ADD COLUMN channel_params jsonb');
    await q.query('ALTER TABLE sms_messages ADD COLUMN whatsapp_mode varchar(16)');
    await q.query('ALTER TABLE sms_messages ADD COLUMN fallback_channel varchar(16)');
    await q.query('ALTER TABLE sms_messages ADD COLUMN fallback_reason varchar(32)');
    await q.query('ALTER TABLE sms_messages ADD COLUMN fallback_message_id uuid');
    await q.query('ALTER TABLE sms_messages ADD COLUMN fallback_of uuid');
    await q.query(`ALTER TABLE sms_messages ADD CONSTRAINT sms_messages_channel_check
      CHECK (channel IN ('sms', 'whatsapp', 'mms'))`);
    // The fallback job's scan: WhatsApp messages that asked for a fallback, have not had one and
    // may still need it (a delivered one leaves the index).
    await q.query(`CREATE INDEX sms_messages_fallback_due ON sms_messages (sent_at)
      WHERE fallback_channel IS NOT NULL AND fallback_reason IS NULL
        AND status IN ('sent', 'unknown', 'failed', 'undelivered')`);

    // Stats by channel count WhatsApp and MMS from their own rows only (SMS: the rollup less them).
    await q.query(`CREATE INDEX sms_messages_other_channels ON sms_messages (created_at, tenant_id)
      WHERE channel <> 'sms'`);
    await q.query(`
      CREATE TABLE sms_whatsapp_sessions (
        our_number varchar(64) NOT NULL,
        phone_number varchar(32) NOT NULL,
        last_inbound_at timestamptz NOT NULL,
        PRIMARY KEY (our_number, phone_number)
      )`);
    await q.query(`ALTER TABLE sms_inbound_messages ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'sms'`);
    await q.query(`ALTER TABLE sms_templates ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'sms'`);
    await q.query('ALTER TABLE sms_templates ADD COLUMN content_sid varchar(64)');
    // A campaign's channel fields, as given (channel, media_urls, content_sid, content_variables,
    // fallback_channel); null: its template's channel.
    await q.query('ALTER TABLE sms_campaigns ADD COLUMN channel_options jsonb');

    await q.query(`ALTER TABLE sms_prices ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'sms'`);
    await q.query('ALTER TABLE sms_prices DROP CONSTRAINT sms_prices_pkey');
    await q.query('ALTER TABLE sms_prices ADD PRIMARY KEY (provider, channel, country)');
    // Per message, not per segment (a WhatsApp or MMS message is one charge). Twilio's list
    // prices of 2026 (WhatsApp: Twilio's fee plus a utility conversation; MMS: US/CA).
    await q.query(`
      INSERT INTO sms_prices (provider, channel, country, price_per_segment) VALUES
        ('twilio', 'whatsapp', 'ZZ', 0.0130), ('twilio', 'mms', 'US', 0.0200),
        ('twilio', 'mms', 'CA', 0.0200), ('twilio', 'mms', 'ZZ', 0.0200),
        ('sandbox', 'whatsapp', 'ZZ', 0), ('sandbox', 'mms', 'ZZ', 0)`);

    await q.query(`DROP FUNCTION sms_record_outcomes_and_claim(${RECORD_AND_CLAIM_ARGS})`);
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz, varchar[])');
    await q.query(
      claimFunction(
        `${CLAIM_RETURNS}, ${CHANNEL_RETURNS}`,
        ', m.channel, m.channel_params, m.whatsapp_mode',
        ', c.channel, c.channel_params, c.whatsapp_mode',
      ),
    );
    await q.query(
      recordAndClaimFunction(
        `, ${CHANNEL_RETURNS}`,
        ', NULL::varchar, NULL::jsonb, NULL::varchar',
        ', c.channel, c.channel_params, c.whatsapp_mode',
      ),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION sms_record_outcomes_and_claim(${RECORD_AND_CLAIM_ARGS})`);
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz, varchar[])');
    await q.query(claimFunction(CLAIM_RETURNS, '', ''));
    await q.query(recordAndClaimFunction('', '', ''));
    await q.query(`DELETE FROM sms_prices WHERE channel <> 'sms'`);
    await q.query('ALTER TABLE sms_prices DROP CONSTRAINT sms_prices_pkey');
    await q.query('ALTER TABLE sms_prices ADD PRIMARY KEY (provider, country)');
    await q.query('ALTER TABLE sms_prices DROP COLUMN channel');
    await q.query('ALTER TABLE sms_campaigns DROP COLUMN channel_options');
    await q.query('ALTER TABLE sms_templates DROP COLUMN content_sid, DROP COLUMN channel');
    await q.query('ALTER TABLE sms_inbound_messages DROP COLUMN channel');
    await q.query('DROP TABLE sms_whatsapp_sessions');
    await q.query('DROP INDEX sms_messages_fallback_due');
    await q.query('DROP INDEX sms_messages_other_channels');
    await q.query(`ALTER TABLE sms_messages DROP CONSTRAINT sms_messages_channel_check,
      DROP COLUMN channel, DROP COLUMN channel_params, DROP COLUMN whatsapp_mode,
      DROP COLUMN fallback_channel, DROP COLUMN fallback_reason, DROP COLUMN fallback_message_id,
      DROP COLUMN fallback_of`);
  }
}
