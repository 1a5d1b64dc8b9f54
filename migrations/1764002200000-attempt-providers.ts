import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_messages.attempt_providers`: the providers the current attempt was handed to, so that a
 * worker that dies mid-attempt leaves a row the outcome resolver can settle.
 *
 * Before this, a row left in 'sending' did not say which provider the worker was about to call,
 * so with SNS configured as a fallback the resolver could not rule SNS out (SNS cannot be asked)
 * and a message Twilio never received ended 'unknown' for good. Now:
 * - the claim sets the column to the provider the router will call first (the worker peeks at the
 *   circuits just before the claim; an empty array when every circuit is open, so nothing will be
 *   called). Each claim resets it: the list is per attempt;
 * - before calling any other provider (a fallback, or circuits that changed since the claim), the
 *   worker appends it in a statement of its own and waits for it (DeliveryStore.recordProvider);
 * - NULL means not recorded (rows claimed before this migration, or by a worker still running the
 *   old code during a rolling deploy): the resolver then asks about every configured provider.
 *
 * `sms_claim_messages(ids, at, providers)` and `sms_record_outcomes_and_claim(..., claim_ids,
 * claim_providers)` are the claims of migrations 1764002000000 and 1764002100000 with the list to
 * record as a parameter (one for the whole statement) and the column among the returned rows.
 * The old `sms_claim_messages(ids, at)` stays for workers still on the old code, as a call of the
 * new one that records NULL: a row such a worker claims is not resolved on a list it did not write
 * (the old `sms_record_outcomes_and_claim` calls it, so it does the same unchanged).
 */
export class AttemptProviders1764002200000 implements MigrationInterface {
  name = 'AttemptProviders1764002200000';

  async up(q: QueryRunner): Promise<void> {
    // Nullable without a default: no table rewrite.
    await q.query('ALTER TABLE sms_messages ADD COLUMN attempt_providers varchar(20)[]');
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
      CREATE OR REPLACE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz)
      RETURNS TABLE (id uuid, tenant_id integer, phone_number varchar, body text, body_ciphertext text,
                     message_type varchar, attempts smallint, created_at timestamptz)
      LANGUAGE plpgsql VOLATILE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        SELECT c.id, c.tenant_id, c.phone_number, c.body, c.body_ciphertext, c.message_type, c.attempts,
               c.created_at
          FROM sms_claim_messages(p_ids, p_at, NULL::varchar[]) AS c;
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION sms_record_outcomes_and_claim(uuid[], varchar[], varchar[], varchar[], numeric[], varchar[], text[], text[], int[], varchar[], timestamptz, varchar[], uuid[], varchar[])',
    );
    // The two-argument claim as migration 1764002000000 wrote it.
    await q.query(`
      CREATE OR REPLACE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz)
      RETURNS TABLE (id uuid, tenant_id integer, phone_number varchar, body text, body_ciphertext text,
                     message_type varchar, attempts smallint, created_at timestamptz)
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
          UPDATE sms_messages m SET status = 'sending', attempts = m.attempts + 1, updated_at = p_at
            FROM due WHERE m.id = due.id AND due.active
             AND (m.status = 'queued'
                  OR (m.status = 'scheduled' AND m.scheduled_at <= p_at + interval '5 seconds'))
           RETURNING m.id, m.tenant_id, m.phone_number, m.body, m.body_ciphertext, m.message_type,
                     m.attempts, m.created_at
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
               c.created_at
          FROM claimed c;
      END $$`);
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz, varchar[])');
    await q.query('ALTER TABLE sms_messages DROP COLUMN attempt_providers');
  }
}
