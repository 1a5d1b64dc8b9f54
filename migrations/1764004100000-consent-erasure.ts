import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The consent history stays append-only, with one exception: a data-subject erasure may replace
 * the number of its rows with `erased` (the value every other table's erasure writes), changing
 * nothing else. Each change of consent (its status, source, time, actor) is kept for the tenant's
 * records; the person's number is not.
 */
export class ConsentErasure1764004100000 implements MigrationInterface {
  name = 'ConsentErasure1764004100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION sms_consent_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND NEW.phone_number = 'erased'
           AND (NEW.id, NEW.tenant_id, NEW.channel, NEW.status, NEW.source, NEW.at, NEW.recorded_at,
                NEW.actor, NEW.keyword, NEW.inbound_message_id)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.tenant_id, OLD.channel, OLD.status, OLD.source, OLD.at, OLD.recorded_at,
                OLD.actor, OLD.keyword, OLD.inbound_message_id) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'sms_consent_events is append-only';
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION sms_consent_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'sms_consent_events is append-only';
      END $$`);
  }
}
