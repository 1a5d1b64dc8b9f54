import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_record_outcomes_and_claim(...)`: a worker slot's hand-over in one round trip.
 *
 * A slot is held from a message's claim until its outcome is written (at most
 * SMS_WORKER_CONCURRENCY rows 'sending'). When a message's outcome is known and another message
 * waits for that slot, the slot records the one and claims the other in this single call instead
 * of two statements one after the other: the first leaves 'sending' and the second enters it in
 * the same transaction, so the bound holds, with one round trip (and one wait for a batch) less
 * per message.
 *
 * It calls the two functions that do each half (migrations 1764001800000 and 1764002000000),
 * unchanged: the outcomes first (their receipt locks, then the recording statement), then the
 * claim, each statement with its own snapshot. Rows of the claim come back with `claimed` true,
 * the recorded ids with `claimed` false.
 */
export class RecordAndClaimFunction1764002100000 implements MigrationInterface {
  name = 'RecordAndClaimFunction1764002100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sms_record_outcomes_and_claim(
        p_ids uuid[], p_statuses varchar[], p_providers varchar[], p_provider_message_ids varchar[],
        p_costs numeric[], p_error_codes varchar[], p_error_messages text[], p_tried text[],
        p_give_back int[], p_currencies varchar[], p_at timestamptz, p_parked_moves varchar[],
        p_claim_ids uuid[]
      ) RETURNS TABLE (id uuid, claimed boolean, tenant_id integer, phone_number varchar, body text,
                       body_ciphertext text, message_type varchar, attempts smallint,
                       created_at timestamptz)
      LANGUAGE plpgsql VOLATILE AS $$
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
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION sms_record_outcomes_and_claim(uuid[], varchar[], varchar[], varchar[], numeric[], varchar[], text[], text[], int[], varchar[], timestamptz, varchar[], uuid[])',
    );
  }
}
