import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_record_outcomes(...)`: the worker's outcome write as one call, so one round trip.
 *
 * The worker (DeliveryStore.recordMany) used to send four statements for a batch holding a `sent`
 * outcome: BEGIN, the receipt advisory locks, the recording statement, COMMIT. The locks must be
 * taken before the recording statement's snapshot starts (a receipt that parked while we waited
 * must be seen), so they cannot be a CTE of that statement. A VOLATILE PL/pgSQL function gives each
 * of its statements a fresh snapshot under READ COMMITTED: the PERFORM takes the locks (sorted,
 * so two batches never deadlock), then the recording statement starts after them and sees every
 * receipt parked before. Same guarantee, one round trip, bound parameters; a batch without a
 * `sent` outcome takes no lock.
 *
 * The recording statement is the one DeliveryStore ran before (a later change to it is a new
 * migration with CREATE OR REPLACE): records each outcome on its row while the row is still
 * 'sending', applies the receipts parked for a sent message (the latest that the status machine
 * allows from 'sent', passed as p_parked_moves), writes the events and deletes the parked rows.
 * Returns the ids of the rows it recorded.
 */
export class RecordOutcomesFunction1764001800000 implements MigrationInterface {
  name = 'RecordOutcomesFunction1764001800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sms_record_outcomes(
        p_ids uuid[], p_statuses varchar[], p_providers varchar[], p_provider_message_ids varchar[],
        p_costs numeric[], p_error_codes varchar[], p_error_messages text[], p_tried text[],
        p_give_back int[], p_currencies varchar[], p_at timestamptz, p_parked_moves varchar[]
      ) RETURNS SETOF uuid LANGUAGE plpgsql VOLATILE AS $$
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
          WHERE m.id = v.id AND m.status = 'sending'
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
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION sms_record_outcomes(uuid[], varchar[], varchar[], varchar[], numeric[], varchar[], text[], text[], int[], varchar[], timestamptz, varchar[])',
    );
  }
}
