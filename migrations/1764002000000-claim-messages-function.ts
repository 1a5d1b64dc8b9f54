import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_claim_messages(ids, at)`: the worker's claim as a function, like `sms_record_outcomes`.
 *
 * The claim is one statement of five parts, sent many times a second under load with a few dozen
 * ids each. Sent as text, PostgreSQL parsed and planned it every time (about half a millisecond,
 * as much as updating a dozen rows); inside a PL/pgSQL function its plan is cached per connection.
 *
 * The statement is the one DeliveryStore.claimMany ran before (a later change is a new migration
 * with CREATE OR REPLACE): the asked rows are looked up by primary key first (MATERIALIZED, so
 * stale statistics after a big accept cannot turn it into a scan of every queued row); queued or
 * due scheduled rows of active tenants move to 'sending' with the attempt counted, those of a
 * deactivated tenant end 'canceled', and each gets its event. Returns the claimed rows.
 */
export class ClaimMessagesFunction1764002000000 implements MigrationInterface {
  name = 'ClaimMessagesFunction1764002000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sms_claim_messages(p_ids uuid[], p_at timestamptz)
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION sms_claim_messages(uuid[], timestamptz)');
  }
}
